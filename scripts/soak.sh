#!/usr/bin/env bash
# Soak: the gate's model checks, longer and with fresh randomness. Not part of the gate.
#
#   bash scripts/soak.sh [ROUNDS]        # default 5 rounds
#
# Each round runs the shuttle suite with a fresh seed and LOCKSTUDIO_SHUTTLE_SCALE times the
# gate's iterations (default 20), and the real-thread stress test. Once per soak: the loom
# suite with every preemption bound lifted (LOCKSTUDIO_LOOM_EXHAUSTIVE=1) and the proptests
# with PROPTEST_CASES (default 20000). The first failure stops the soak and prints the
# command that reproduces it; replay a shuttle schedule as reports/model-checking.md says.
set -uo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
export LOCKSTUDIO_SHUTTLE_SCALE=${LOCKSTUDIO_SHUTTLE_SCALE:-20}
CASES=${PROPTEST_CASES:-20000}

fail() {
  echo "SOAK FAILED: $1"
  echo "reproduce with: $2"
  exit 1
}

for round in $(seq 1 "$ROUNDS"); do
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  echo "==> round $round/$ROUNDS: shuttle with LOCKSTUDIO_SHUTTLE_SEED=$seed x$LOCKSTUDIO_SHUTTLE_SCALE"
  cmd="LOCKSTUDIO_SHUTTLE_SEED=$seed LOCKSTUDIO_SHUTTLE_SCALE=$LOCKSTUDIO_SHUTTLE_SCALE CARGO_TARGET_DIR=target/shuttle cargo test --release -p lockstudio --features shuttle --test shuttle_locks --test shuttle_services"
  LOCKSTUDIO_SHUTTLE_SEED=$seed CARGO_TARGET_DIR=target/shuttle \
    cargo test --release -p lockstudio --features shuttle --test shuttle_locks --test shuttle_services \
    -- --nocapture 2>&1 | grep -E '^MODEL|FAILED|panicked|failing' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail "shuttle round $round" "$cmd"
  echo "==> round $round/$ROUNDS: stress"
  cargo test --release -p lockstudio --test stress -- --nocapture 2>&1 | grep -E '^STRESS|FAILED|panicked' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail "stress round $round" "cargo test --release -p lockstudio --test stress"
done

echo "==> loom with every preemption bound lifted (minutes)"
cmd='LOCKSTUDIO_LOOM_EXHAUSTIVE=1 RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom cargo test --release -p lockstudio --test loom_locks --test loom_leases --test loom_services'
LOCKSTUDIO_LOOM_EXHAUSTIVE=1 RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
  cargo test --release -p lockstudio --test loom_locks --test loom_leases --test loom_services \
  -- --nocapture 2>&1 | grep -E '^MODEL|FAILED|panicked' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "loom (exhaustive)" "$cmd"

echo "==> proptests with PROPTEST_CASES=$CASES"
PROPTEST_CASES=$CASES cargo test --release -p lockstudio --test proptest_table --test proptest_joinable \
  --test proptest_fence --test proptest_versioned ||
  fail "proptest" "PROPTEST_CASES=$CASES cargo test --release -p lockstudio --test 'proptest_*'"
echo "==> soak passed ($ROUNDS rounds)"
