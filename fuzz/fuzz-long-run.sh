#!/usr/bin/env bash
# Runs every fuzz target for 30 minutes, one after another, on one core.
cd /work/main/fuzz
for t in $(cargo +nightly fuzz list); do
  echo "=== $t start $(date -u +%FT%TZ)" >> logs/long-run.txt
  cargo +nightly fuzz run "$t" -- -max_total_time=1800 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 > "logs/$t.log" 2>&1
  echo "=== $t exit $? $(date -u +%FT%TZ) $(grep -E '^Done' logs/$t.log)" >> logs/long-run.txt
done
echo "=== all done $(date -u +%FT%TZ)" >> logs/long-run.txt
