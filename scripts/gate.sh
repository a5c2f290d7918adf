#!/usr/bin/env bash
# The whole test gate: the README's test command, and exactly what .ci/run calls.
# Each stage prints its wall time; the first failing stage stops the gate with its exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "==> [$name] $*"
  "$@"
  echo "==> [$name] ok in $((SECONDS - start))s"
}

stage fmt     cargo fmt --all -- --check
stage clippy  cargo clippy --workspace --all-targets -- -D warnings
stage test    cargo test --workspace
echo "==> gate passed in ${SECONDS}s"
