#!/usr/bin/env bash
# Regenerates reports/baseline/<workload>-seed42.json for every shipped workload: the
# deterministic part of `lockstudio run --format json` (the wall_clock section removed).
# sim/tests/simulator.rs fails until the committed files match today's simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p lockstudio-sim
for file in specs/workloads/*.toml; do
  name=$(basename "$file" .toml)
  ./target/release/lockstudio run --workload "$file" --seed 42 --format json |
    python3 -c 'import json, sys; d = json.load(sys.stdin); d.pop("wall_clock", None); print(json.dumps(d, indent=2))' \
      >"reports/baseline/$name-seed42.json"
  echo "wrote reports/baseline/$name-seed42.json"
done
