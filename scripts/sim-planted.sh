#!/usr/bin/env bash
# Does a planted core bug make a simulator sweep fail? Builds the simulator with the core's
# planted-bug catalog (target/planted-sim, never the normal build), sweeps SEEDS (default
# 1..21) of a workload (default: the embedded studio day) once per bug with
# LOCKSTUDIO_BUG=<bug>, and prints a markdown table: failing seeds and the first violation.
# Exits 1 if the sweep fails with no bug planted.
#
#   bash scripts/sim-planted.sh [SEEDS] [WORKLOAD_FILE]
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-1..21}
WORKLOAD=${2:-}
BIN=target/planted-sim/release/lockstudio
CARGO_TARGET_DIR=target/planted-sim cargo build -q --release -p lockstudio-sim \
  --features planted-bugs || exit 2
args=(sweep --seeds "$SEEDS")
[ -n "$WORKLOAD" ] && args+=(--workload "$WORKLOAD")

mapfile -t BUGS < <(sed -n '/pub const ALL/,/];/p' model/src/planted.rs |
  sed -n 's/^ *Bug::\([A-Za-z]*\),$/\1/p' |
  sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

if ! LOCKSTUDIO_BUG= "$BIN" "${args[@]}" >/dev/null 2>&1; then
  echo "the sweep fails with no bug planted: run $BIN ${args[*]}" >&2
  exit 1
fi
echo "| planted bug | failing seeds ($SEEDS) | first violation of the first failing seed |"
echo "|---|---|---|"
for bug in "${BUGS[@]}"; do
  out=$(LOCKSTUDIO_BUG=$bug "$BIN" "${args[@]}" 2>&1)
  n=$(grep -c '^FAIL seed' <<<"$out")
  first=$(grep -m1 '^FAIL seed' <<<"$out" | sed -E 's/^FAIL seed [0-9]+: //; s/ — replay:.*//' | cut -c1-110)
  echo "| \`$bug\` | $n | ${first:-—} |"
done
