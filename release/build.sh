#!/usr/bin/env bash
# Builds ferry for every release platform into DIR, reproducibly, and signs
# the checksum list with the publisher key KEY (docs/release.md).
#   release/build.sh KEY.key DIR [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: release/build.sh KEY.key DIR [VERSION]" >&2
  exit 2
fi
exec go run ./cmd/ferry release -k "$1" -o "$2" ${3:+--version "$3"}
