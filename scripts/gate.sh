#!/usr/bin/env bash
# The whole test gate: the README's test command, and exactly what .ci/run calls.
# Each stage prints its wall time; the first failing stage stops the gate with its exit code.
# Model-checking modes build in their own target dirs so switching modes rebuilds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "==> [$name] $*"
  "$@"
  echo "==> [$name] ok in $((SECONDS - start))s"
}

loom() {
  RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release -p lockstudio --test loom_locks --test loom_leases --test loom_services
}

shuttle() {
  CARGO_TARGET_DIR=target/shuttle \
    cargo test --release -p lockstudio --features shuttle --test shuttle_locks --test shuttle_services
}

stage fmt      cargo fmt --all -- --check
stage clippy   cargo clippy --workspace --all-targets -- -D warnings
stage test     cargo test --workspace
stage shuttle  shuttle
stage loom     loom
stage planted  bash scripts/planted-bugs.sh
echo "==> gate passed in ${SECONDS}s"
