//! Helpers shared by the simulator subcommands.

use lockstudio::{Clock, SystemClock};
use lockstudio_sim::{report, simulate, RunResult, Workload};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Loads `--workload FILE`, or the embedded default; a bad file is a one-line error.
pub fn load(path: &Option<PathBuf>) -> Result<Workload, String> {
    match path {
        Some(p) => Workload::load(p).map_err(|e| e.to_string()),
        None => Ok(Workload::default_studio()),
    }
}

/// Runs one seed and returns the result with its summary, the wall-clock section added under
/// `wall_clock` (the only part that differs between identical runs).
pub fn run_measured(w: &Workload, seed: u64, trace: bool) -> (RunResult, Value) {
    let clock = SystemClock::new();
    let start = clock.now();
    let result = simulate(w, seed, trace);
    let wall = clock.now().saturating_since(start).as_secs_f64().max(1e-9);
    let mut summary = report::summary(w, seed, &result);
    let sim = result.metrics.simulated as f64 / 1e9;
    summary["wall_clock"] = json!({
        "seconds": wall,
        "events_per_second": result.metrics.events as f64 / wall,
        "simulated_to_wall": sim / wall,
    });
    (result, summary)
}

/// The command that replays `seed`.
pub fn replay_command(seed: u64, workload: &Option<PathBuf>) -> String {
    match workload {
        Some(p) => format!(
            "lockstudio replay --seed {seed} --workload {} --trace",
            p.display()
        ),
        None => format!("lockstudio replay --seed {seed} --trace"),
    }
}

/// The summary without its wall-clock section, for determinism comparisons.
pub fn deterministic(summary: &Value) -> Value {
    let mut s = summary.clone();
    if let Some(obj) = s.as_object_mut() {
        obj.remove("wall_clock");
    }
    s
}
