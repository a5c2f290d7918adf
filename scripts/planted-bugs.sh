#!/usr/bin/env bash
# The planted-bug matrix: runs every checker against every bug of model/src/planted.rs, each
# bug in its own process (a loom deadlock aborts the whole test binary, so only the exit
# status can say "caught"), and prints bug x checker -> caught / missed, with how many
# executions / cases the checker needed. Exits non-zero if a checker fails with no bug
# planted, or if any bug is missed by every checker.
#
#   bash scripts/planted-bugs.sh [--write | --report FILE] [--only BUG] [--first]
#
# --first (what the gate runs, to stay within its time budget): per bug, run the checkers
# cheapest first and stop at the first that catches it; cells not run show "-". The full
# matrix (default) runs every cell and is what reports/planted-bugs.md records.
# --write updates the committed report reports/planted-bugs.md (--report FILE writes
# elsewhere). Build dirs: target/loom (loom), target/shuttle (shuttle), target/planted (std
# checkers with the planted-bugs feature), so normal builds are untouched.
set -uo pipefail
cd "$(dirname "$0")/.."

REPORT=""
ONLY=""
FIRST=0
while [ $# -gt 0 ]; do
  case $1 in
    --write) REPORT=reports/planted-bugs.md; shift ;;
    --report) REPORT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --first) FIRST=1; shift ;;
    *) echo "usage: $0 [--write | --report FILE] [--only BUG] [--first]" >&2; exit 2 ;;
  esac
done

LOG=target/planted-logs
mkdir -p "$LOG"
# Bounded per run: a hang past the limit counts as caught ("hang"). The real-thread tests show
# a lost wake-up or a missed deadlock exactly so (their baseline takes ~15 s, hence 60 s); the
# model checkers detect deadlocks themselves, their limits only guard the gate.
declare -A LIMIT=([loom]=300 [shuttle]=300 [proptest]=180 [threads]=60 [scenarios]=120)
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1 # never write into the committed regression files
export PROPTEST_RNG_SEED=${PROPTEST_RNG_SEED:-20260101}

# Bug names in kebab case, straight from the catalog's `Bug::ALL`.
mapfile -t BUGS < <(sed -n '/pub const ALL/,/];/p' model/src/planted.rs |
  sed -n 's/^ *Bug::\([A-Za-z]*\),$/\1/p' |
  sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')
if [ -n "$ONLY" ]; then BUGS=("$ONLY"); fi

CHECKERS=(loom shuttle proptest threads scenarios)
# Cheapest first, for --first; the real-thread tests last, since a bug that hangs them costs
# their whole time limit.
ORDER=(scenarios proptest shuttle loom threads)

loom_cmd() {
  RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
    cargo test -q --release -p lockstudio --features planted-bugs \
    --test loom_locks --test loom_leases --test loom_services "$@"
}
shuttle_cmd() {
  CARGO_TARGET_DIR=target/shuttle cargo test -q --release -p lockstudio \
    --features shuttle,planted-bugs --test shuttle_locks --test shuttle_services "$@"
}
proptest_cmd() {
  CARGO_TARGET_DIR=target/planted cargo test -q -p lockstudio --features planted-bugs \
    --test proptest_table --test proptest_joinable --test proptest_fence \
    --test proptest_versioned "$@"
}
threads_cmd() {
  CARGO_TARGET_DIR=target/planted cargo test -q -p lockstudio --features planted-bugs \
    --test stress --test threads_manager --test threads_extras "$@"
}
scenarios_cmd() {
  CARGO_TARGET_DIR=target/planted cargo test -q -p lockstudio --features planted-bugs \
    --test scenarios "$@"
}

declare -A USABLE
echo "==> building the checkers with the planted-bugs feature"
for c in "${CHECKERS[@]}"; do
  if "${c}_cmd" --no-run >"$LOG/build-$c.log" 2>&1; then
    USABLE[$c]=1
  else
    USABLE[$c]=0
    echo "    $c: does not build (see $LOG/build-$c.log); column marked n/a"
  fi
done

# Runs checker $1 with bug $2 (empty: none); sets RC, SECS, DETAIL.
run_one() {
  local c=$1 bug=$2 log="$LOG/$1-${2:-baseline}.log" start=$SECONDS
  LOCKSTUDIO_BUG=$bug timeout "${LIMIT[$c]}" bash -c "$(declare -f "${c}_cmd"); ${c}_cmd -- --test-threads=2" >"$log" 2>&1
  RC=$?
  SECS=$((SECONDS - start))
  DETAIL=""
  local caught
  # Every model that failed, the first one first (a vacuity failure names what it missed).
  caught=$(grep '^CAUGHT ' "$log" | sed 's/^CAUGHT //' | awk '!seen[$0]++' |
    sed -E 's/model=(.*) executions=([0-9]+)/\1 @ execution \2/' | head -3 | paste -sd ';' - |
    sed 's/;/; /g')
  if [ -n "$caught" ]; then
    DETAIL=$caught
  elif [ "$c" = proptest ]; then
    local succ test
    succ=$(grep -m1 -o 'successes: [0-9]*' "$log" | grep -o '[0-9]*')
    test=$(grep -m1 -oE '^---- [a-z_0-9:]+ stdout ----' "$log" | awk '{print $2}')
    [ -n "$succ" ] && DETAIL="$test @ case $((succ + 1))"
  elif [ "$c" = scenarios ]; then
    local n
    n=$(grep -c '^FAIL ' "$log")
    [ "$n" -gt 0 ] && DETAIL="$n scenario steps disagree with the spec"
  elif [ "$c" = threads ]; then
    DETAIL=$(grep -m1 -oE '(mutual exclusion broken|fence not monotonic|fence [0-9]+ handed out twice|got fence 0|left behind|too few grants|unexpected [A-Za-z]+|release failed)' "$log" | head -1)
    local t
    t=$(grep -m1 -oE '^---- [a-z_0-9:]+ stdout ----' "$log" | awk '{print $2}')
    [ -n "$t" ] && DETAIL="$t${DETAIL:+: $DETAIL}"
    if grep -q '^STRESS FAILED' "$log"; then
      DETAIL="stress: $(grep -m1 -A1 '^STRESS FAILED' "$log" | tail -1 | cut -c1-80)"
    fi
  fi
  [ $RC -eq 124 ] && DETAIL="hang: still running after ${LIMIT[$c]}s${DETAIL:+; $DETAIL}"
}

FAILED=0
declare -A BASE
echo "==> baseline (no bug planted): every checker must pass"
for c in "${CHECKERS[@]}"; do
  [ "${USABLE[$c]}" = 1 ] || continue
  run_one "$c" ""
  if [ $RC -eq 0 ]; then BASE[$c]=ok; else
    BASE[$c]=FAILS
    FAILED=1
    echo "    $c fails with no bug planted (exit $RC, $LOG/$c-baseline.log)"
  fi
  echo "    $c: exit $RC in ${SECS}s"
done

declare -A CELL
MISSED_ALL=()
for bug in "${BUGS[@]}"; do
  any=0
  for c in "${CHECKERS[@]}"; do CELL[$bug,$c]="-"; done
  for c in "${ORDER[@]}"; do
    if [ $FIRST = 1 ] && [ $any = 1 ]; then break; fi
    if [ "${USABLE[$c]}" != 1 ]; then CELL[$bug,$c]="n/a (does not build)"; continue; fi
    if [ "${BASE[$c]}" != ok ]; then CELL[$bug,$c]="n/a (baseline fails)"; continue; fi
    run_one "$c" "$bug"
    if [ $RC -ne 0 ]; then
      any=1
      CELL[$bug,$c]="caught${DETAIL:+: $DETAIL} (${SECS}s)"
    else
      CELL[$bug,$c]="missed (${SECS}s)"
    fi
    echo "    $bug / $c: ${CELL[$bug,$c]}"
  done
  [ $any = 1 ] || MISSED_ALL+=("$bug")
done

{
  printf '| bug |'; printf ' %s |' "${CHECKERS[@]}"; echo
  printf '|---|'; for _ in "${CHECKERS[@]}"; do printf -- '---|'; done; echo
  for bug in "${BUGS[@]}"; do
    printf '| `%s` |' "$bug"
    for c in "${CHECKERS[@]}"; do printf ' %s |' "${CELL[$bug,$c]}"; done
    echo
  done
} >"$LOG/matrix.md"

echo
cat "$LOG/matrix.md"
echo
if [ -n "$REPORT" ]; then
  {
    echo "# Planted bugs: do the checks bite?"
    echo
    echo "Generated by \`bash scripts/planted-bugs.sh --report $REPORT\` on $(date -u +%Y-%m-%d)"
    echo "(commit $(git rev-parse --short HEAD)). Each cell is one process with"
    echo "\`LOCKSTUDIO_BUG=<bug>\` and the \`planted-bugs\` feature; \"caught\" means a non-zero exit,"
    echo "followed by the first model that failed and after how many of its executions (loom,"
    echo "shuttle), or the proptest and after how many cases, and the wall time of the run."
    echo "With no bug planted every checker passes (baseline: $(for c in "${CHECKERS[@]}"; do printf '%s %s, ' "$c" "${BASE[$c]:-n/a}"; done | sed 's/, $//'))."
    echo
    cat "$LOG/matrix.md"
    echo
    if [ ${#MISSED_ALL[@]} -eq 0 ]; then echo "Every bug is caught by at least one checker."; else
      echo "Missed by every checker: ${MISSED_ALL[*]}"; fi
  } >"$REPORT.tmp" && mv "$REPORT.tmp" "$REPORT"
  echo "wrote $REPORT"
fi

if [ ${#MISSED_ALL[@]} -gt 0 ]; then
  echo "MISSED BY EVERY CHECKER: ${MISSED_ALL[*]}"
  FAILED=1
fi
exit $FAILED
