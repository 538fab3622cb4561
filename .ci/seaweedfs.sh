#!/usr/bin/env bash
# Builds the SeaweedFS server ("weed") that ferry's S3 tests start on loopback,
# outside the repository, and reuses a binary built before. Prints the binary's path.
#
# go install refuses the module (its go.mod has replace directives), so the module
# is downloaded from the Go module proxy, copied to a writable folder and built there.
# From cold module and build caches it takes about 14 CPU-minutes (measured: 745 s user +
# 120 s system, 2.6 GB peak memory, 2.1 GB of modules downloaded) and gives a binary of
# about 230 MB.
#
# Tests find the binary at FERRY_WEED or at the path printed here.
set -euo pipefail

version="v0.0.0-20261109003541-7506e5f91cd6"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ferry"
bin="$cache/weed-$version"

if [ -n "${FERRY_WEED:-}" ] && [ -x "$FERRY_WEED" ]; then
  echo "$FERRY_WEED"
  exit 0
fi
if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache"
echo "building SeaweedFS $version into $bin (several minutes)" >&2
empty=$(mktemp -d) # outside any module, so go.mod files nearby do not matter
dir=$(cd "$empty" && go mod download -json "github.com/seaweedfs/seaweedfs@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
rmdir "$empty"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "seaweedfs.sh: go mod download did not give a module folder" >&2
  exit 1
fi
src="$cache/seaweedfs-src-$version"
rm -rf "$src.tmp"
cp -r "$dir" "$src.tmp"
chmod -R u+w "$src.tmp"
rm -rf "$src"
mv "$src.tmp" "$src"
# GOFLAGS from the caller (e.g. -mod=vendor) must not reach this foreign module.
(cd "$src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$bin.tmp" ./weed)
mv "$bin.tmp" "$bin"
rm -rf "$src"
echo "$bin"
