#!/usr/bin/env bash
# Runs fuzz targets one at a time for DURATION each (default 10m) with one
# worker, and prints a Markdown table of their execution counts (for
# docs/benchmarks.md). Not part of go test.
#   bench/fuzz/run.sh [DURATION] [PACKAGE:TARGET ...]   (default: every target)
set -uo pipefail
cd "$(dirname "$0")/../.."
dur="${1:-10m}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  while IFS= read -r line; do targets+=("$line"); done < <(
    grep -rl '^func Fuzz' --include='*_test.go' internal | while read -r f; do
      pkg="./$(dirname "$f")"
      grep -o '^func Fuzz[A-Za-z0-9]*' "$f" | sed "s|^func |$pkg:|"
    done | sort -u)
fi
echo "| target | duration | executions | per second | new inputs | result |"
echo "|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  pkg="${t%%:*}"; name="${t##*:}"
  log=$(mktemp)
  start=$(date +%s)
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" -parallel 1 -fuzzminimizetime 5s "$pkg" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  newi=$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | awk '{print $3}')
  result="ok"
  [ $rc -ne 0 ] && result="FAILED (see $(basename "$log"))" && cp "$log" "/tmp/fuzz-$name.log"
  rate="-"
  [ -n "$execs" ] && [ "$secs" -gt 0 ] && rate=$(( execs / secs ))
  echo "| $pkg $name | ${secs}s | ${execs:-?} | $rate | ${newi:-?} | $result |"
  rm -f "$log"
done
