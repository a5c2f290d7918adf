#!/usr/bin/env bash
# The whole test gate: the README's test command, and exactly what .ci/run calls.
# Each stage prints its wall time and a summary closes the run; the first failing stage stops
# the gate with its exit code. Model-checking modes build in their own target dirs
# (target/loom, target/shuttle, target/planted) so switching modes rebuilds nothing.
# Measured budget on a 2-core machine: see reports/model-checking.md (must stay < 25 min).
set -euo pipefail
cd "$(dirname "$0")/.."

TIMES=()
stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "==> [$name] $*"
  "$@"
  local took=$((SECONDS - start))
  TIMES+=("$(printf '%-14s %5ss' "$name" "$took")")
  echo "==> [$name] ok in ${took}s"
}

loom_env() {
  RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom "$@"
}

# The loom and shuttle test files compile to nothing in the normal build, so lint them in
# their own modes too.
clippy_models() {
  loom_env cargo clippy -q -p lockstudio --release \
    --test loom_locks --test loom_leases --test loom_services -- -D warnings
  CARGO_TARGET_DIR=target/shuttle cargo clippy -q -p lockstudio --release --features shuttle \
    --test shuttle_locks --test shuttle_services -- -D warnings
}

# Release mode: loom's search is CPU-bound; every model prints "MODEL <name> executions=N".
loom() {
  loom_env cargo test --release -p lockstudio \
    --test loom_locks --test loom_leases --test loom_services -- --nocapture --test-threads=2
}

# Pinned seeds (in the tests); LOCKSTUDIO_SHUTTLE_SEED / _SCALE are for scripts/soak.sh only.
shuttle() {
  env -u LOCKSTUDIO_SHUTTLE_SEED -u LOCKSTUDIO_SHUTTLE_SCALE -u SHUTTLE_RANDOM_SEED \
    CARGO_TARGET_DIR=target/shuttle cargo test --release -p lockstudio --features shuttle \
    --test shuttle_locks --test shuttle_services -- --nocapture --test-threads=2
}

# The simulator as a correctness gate: a short sweep of every shipped workload (release build;
# any invariant violation fails the stage and prints the failing seed's replay command).
sim_sweeps() {
  cargo build -q --release -p lockstudio-sim
  for w in specs/workloads/*.toml; do
    ./target/release/lockstudio sweep --seeds 1..21 --workload "$w"
  done
}

stage fmt           cargo fmt --all -- --check
stage clippy        cargo clippy --workspace --all-targets -- -D warnings
stage clippy-models clippy_models
stage test          cargo test --workspace
stage sim-sweeps   sim_sweeps
stage shuttle       shuttle
stage loom          loom
# Every planted bug must be caught by some checker. --first stops at the first checker that
# catches each bug (minutes); the full matrix (`--write`) is the committed report. First, the
# switch itself: LOCKSTUDIO_BUG plants exactly the named bug (a unit test that only exists
# with the planted-bugs feature).
planted() {
  CARGO_TARGET_DIR=target/planted cargo test -q -p lockstudio --features planted-bugs \
    --lib planted::tests
  bash scripts/planted-bugs.sh --first
}

stage planted       planted
echo "==> stage times"
printf '    %s\n' "${TIMES[@]}"
echo "==> gate passed in ${SECONDS}s"
