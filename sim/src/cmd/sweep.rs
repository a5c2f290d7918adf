//! `lockstudio sweep`: many seeds, one aggregate.

use super::common;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `lockstudio sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seeds to run, `A..B` (B excluded), e.g. `1..1001`.
    #[arg(long, value_parser = parse_range)]
    seeds: (u64, u64),
    /// Workload file (default: the embedded studio day).
    #[arg(long)]
    workload: Option<PathBuf>,
    /// Write sweep.json and sweep.md here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once("..").ok_or("expected A..B, e.g. 1..101")?;
    let a: u64 = a.trim().parse().map_err(|_| format!("bad start {a:?}"))?;
    let b: u64 = b.trim().parse().map_err(|_| format!("bad end {b:?}"))?;
    if b <= a || b - a > 1_000_000 {
        return Err("need A < B and at most a million seeds".into());
    }
    Ok((a, b))
}

/// Runs the subcommand.
pub fn execute(args: &Args) -> ExitCode {
    let w = match common::load(&args.workload) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("lockstudio sweep: {e}");
            return ExitCode::from(2);
        }
    };
    let (a, b) = args.seeds;
    let bar = ProgressBar::with_draw_target(Some(b - a), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {eta} left") {
        bar.set_style(style);
    }
    let mut failing = Vec::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let (mut events, mut wall, mut ops) = (0u64, 0f64, 0f64);
    for seed in a..b {
        let (result, summary) = common::run_measured(&w, seed, false);
        events += result.metrics.events;
        wall += summary["wall_clock"]["seconds"].as_f64().unwrap_or(0.0);
        ops += summary["throughput"]["ops_per_second"]
            .as_f64()
            .unwrap_or(0.0);
        for (k, v) in &result.metrics.counters {
            *counters.entry(k.to_string()).or_default() += v;
        }
        if !result.violations.is_empty() {
            let first = &result.violations[0];
            failing.push(json!({ "seed": seed, "violations": result.violations.len(), "first": format!("{}: {}", first.invariant, first.detail), "replay": common::replay_command(seed, &args.workload) }));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let n = (b - a) as f64;
    let aggregate = json!({
        "workload": { "name": w.name, "hash": w.digest() },
        "seeds": format!("{a}..{b}"),
        "failing_seeds": failing,
        "mean_ops_per_second": ops / n,
        "events": events,
        "events_per_wall_second": events as f64 / wall.max(1e-9),
        "counters": counters,
    });
    print!("{}", text(&aggregate));
    if let Some(dir) = &args.out {
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| {
                std::fs::write(
                    dir.join("sweep.json"),
                    serde_json::to_string_pretty(&aggregate).unwrap_or_default(),
                )
            })
            .and_then(|_| {
                std::fs::write(
                    dir.join("sweep.md"),
                    format!("# Sweep\n\n```\n{}```\n", text(&aggregate)),
                )
            });
        if let Err(e) = written {
            eprintln!("lockstudio sweep: {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    if failing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn text(agg: &Value) -> String {
    let failing = agg["failing_seeds"].as_array().map_or(0, Vec::len);
    let mut out = format!(
        "sweep {} of {}: {failing} failing seeds, mean {:.2} ops/s, {} events at {:.0} events/s\n",
        agg["seeds"].as_str().unwrap_or("?"),
        agg["workload"]["name"].as_str().unwrap_or("?"),
        agg["mean_ops_per_second"].as_f64().unwrap_or(0.0),
        agg["events"],
        agg["events_per_wall_second"].as_f64().unwrap_or(0.0)
    );
    if let Some(c) = agg["counters"].as_object() {
        let faults: Vec<String> = c
            .iter()
            .filter(|(k, _)| k.starts_with("fault."))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push_str(&format!("faults fired: {}\n", faults.join(" ")));
    }
    for f in agg["failing_seeds"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "FAIL seed {}: {} — replay: {}\n",
            f["seed"],
            f["first"].as_str().unwrap_or(""),
            f["replay"].as_str().unwrap_or("")
        ));
    }
    out
}
