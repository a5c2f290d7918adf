#!/usr/bin/env bash
# Runs every criterion bench of lockstudio-benches (release) and writes reports/perf.md.
#
#   bash scripts/perf-report.sh                 # whole suite, ~1 s of measurement per bench
#   LOCKSTUDIO_BENCH_SECS=3 bash scripts/perf-report.sh   # longer, steadier measurements
#   bash scripts/perf-report.sh hier            # only benches whose id matches "hier"
#
# Results older than this run are marked stale in the report and never judged against goals.
set -euo pipefail
cd "$(dirname "$0")/.."
since=$(date +%s)
cargo bench -p lockstudio-benches --benches -- "$@"
cargo run --quiet --release -p lockstudio-benches --bin perf-report -- \
  --since "$since" --out reports/perf.md
