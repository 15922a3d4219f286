#!/usr/bin/env bash
# Runs fuzz targets for a long time, one after another, on one core.
#
#   fuzz/fuzz-long-run.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 1800 (30 minutes); the targets default to every target.
# Each target's libFuzzer output goes to fuzz/logs/TARGET.log, and one line
# per start and exit (with libFuzzer's final "Done N runs in S second(s)")
# is appended to fuzz/logs/long-run.txt. Run two of these side by side, with
# different targets, to use two cores.
set -u
cd "$(dirname "$0")"
mkdir -p logs
secs="${1:-1800}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  echo "=== $t start $(date -u +%FT%TZ)" >> logs/long-run.txt
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 > "logs/$t.log" 2>&1
  rc=$?
  echo "=== $t exit $rc $(date -u +%FT%TZ) $(grep -E '^Done' "logs/$t.log")" >> logs/long-run.txt
done
