#!/bin/sh
# Builds the codec2 comparison harness against Debian's libcodec2-dev
# (apt-get install libcodec2-dev). The binary stays in bench/modem/bin and is
# never linked into ferry.
set -e
cd "$(dirname "$0")"
mkdir -p bin
cc -O2 -Wall -o bin/c2harness c2harness/c2harness.c -lcodec2
echo "built $(pwd)/bin/c2harness"
