//! Helpers shared by the simulator subcommands: loading workloads, the wall-clock
//! measurement (the only clock reads in the crate, outside the engine), replay commands and
//! trace excerpts.

use lockstudio_sim::engine::Nanos;
use lockstudio_sim::{check, studio, RunResult, Workload};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;

/// Loads `--workload FILE`, or the embedded default; a bad file is a one-line located error.
pub fn load(path: &Option<PathBuf>) -> Result<Workload, String> {
    match path {
        Some(p) => Workload::load(p).map_err(|e| e.to_string()),
        None => Ok(Workload::default_studio()),
    }
}

/// Runs one seed, timing the engine and the checkers with the wall clock, and returns the
/// result with its summary. The wall-clock figures go in the summary's `wall_clock` section,
/// the only part that differs between identical runs.
pub fn run_measured(w: &Workload, seed: u64, trace: bool) -> (RunResult, Value) {
    let start = Instant::now();
    let out = studio::World::new(w, seed, trace).run();
    let engine = start.elapsed().as_secs_f64().max(1e-9);
    let violations = check::check(&out.history);
    let total = start.elapsed().as_secs_f64().max(1e-9);
    let result = RunResult {
        metrics: out.metrics,
        violations,
        trace_digest: out.trace_digest,
        trace: out.trace,
        history: out.history,
    };
    let mut summary = result.summary(w, seed);
    let simulated = result.metrics.simulated as f64 / 1e9;
    let events = result.metrics.events as f64;
    summary["wall_clock"] = json!({
        "seconds": total,
        "engine_seconds": engine,
        "check_seconds": total - engine,
        "events_per_second": events / engine,
        "events_per_second_with_checks": events / total,
        "simulated_to_wall": simulated / total,
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

/// The summary without its wall-clock section, as the bytes determinism is judged on.
pub fn deterministic(summary: &Value) -> String {
    let mut s = summary.clone();
    if let Some(obj) = s.as_object_mut() {
        obj.remove("wall_clock");
    }
    serde_json::to_string(&s).unwrap_or_default()
}

/// The timeline lines in the `window` before `at` (at most `max`, the latest ones).
pub fn excerpt(trace: &[(Nanos, String)], at: Nanos, window: Nanos, max: usize) -> Vec<&str> {
    let from = at.saturating_sub(window);
    let lines: Vec<&str> = trace
        .iter()
        .filter(|(t, _)| *t >= from && *t <= at)
        .map(|(_, l)| l.as_str())
        .collect();
    lines[lines.len().saturating_sub(max)..].to_vec()
}

/// Explains a failing run on stderr: each violated invariant once, the replay command, and
/// the timeline just before the first violation (from a traced re-run: runs replay exactly).
pub fn explain_failure(w: &Workload, seed: u64, result: &RunResult, workload: &Option<PathBuf>) {
    eprintln!(
        "seed {seed}: {} invariant violations",
        result.violations.len()
    );
    let mut seen = std::collections::BTreeSet::new();
    for v in &result.violations {
        if seen.insert(v.invariant) {
            eprintln!(
                "  {} at {:.3} s: {}",
                v.invariant,
                v.at as f64 / 1e9,
                v.detail
            );
        }
    }
    eprintln!("replay with: {}", replay_command(seed, workload));
    let Some(first) = result.violations.first() else {
        return;
    };
    let traced = lockstudio_sim::simulate(w, seed, true);
    let at = first.at.min(result.metrics.simulated);
    eprintln!("timeline before the first violation ({}):", first.invariant);
    for line in excerpt(&traced.trace, at, 2_000_000_000, 40) {
        eprintln!("  {line}");
    }
}
