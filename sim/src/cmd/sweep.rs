//! `lockstudio sweep`: many seeds, one aggregate, every failing seed with its replay command.

use super::common;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockstudio_sim::report::metrics::OpKind;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::IsTerminal;
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

/// Min, mean and max of one figure over the seeds.
#[derive(Default)]
struct Spread {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn add(&mut self, v: f64) {
        if self.n == 0 || v < self.min {
            self.min = v;
        }
        if self.n == 0 || v > self.max {
            self.max = v;
        }
        self.n += 1;
        self.sum += v;
    }

    fn json(&self) -> Value {
        let mean = if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        };
        json!({ "min": self.min, "mean": mean, "max": self.max })
    }
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
    // Drawn only on a terminal: a redirected sweep logs no escape codes.
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(b - a), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {msg} {eta} left")
    {
        bar.set_style(style);
    }
    let mut failing = Vec::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut ops = Spread::default();
    let mut p99: BTreeMap<&'static str, Spread> = BTreeMap::new();
    let (mut events, mut engine, mut wall, mut simulated) = (0u64, 0f64, 0f64, 0f64);
    for seed in a..b {
        let (result, summary) = common::run_measured(&w, seed, false);
        events += result.metrics.events;
        engine += summary["wall_clock"]["engine_seconds"]
            .as_f64()
            .unwrap_or(0.0);
        wall += summary["wall_clock"]["seconds"].as_f64().unwrap_or(0.0);
        simulated += result.metrics.simulated as f64 / 1e9;
        ops.add(
            summary["throughput"]["ops_per_second"]
                .as_f64()
                .unwrap_or(0.0),
        );
        for kind in OpKind::ALL {
            if let Some(v) = summary["latency_ms"][kind.name()]["p99"].as_f64() {
                p99.entry(kind.name()).or_default().add(v);
            }
        }
        for (k, v) in result.metrics.counters() {
            *counters.entry(k.to_string()).or_default() += v;
        }
        if !result.violations.is_empty() {
            let first = &result.violations[0];
            let invariants: std::collections::BTreeSet<&str> =
                result.violations.iter().map(|v| v.invariant).collect();
            failing.push(json!({
                "seed": seed,
                "violations": result.violations.len(),
                "invariants": invariants,
                "first": format!("{} at {:.3} s: {}", first.invariant, first.at as f64 / 1e9, first.detail),
                "replay": common::replay_command(seed, &args.workload),
            }));
            bar.set_message(format!("{} failing,", failing.len()));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let faults: Map<String, Value> = counters
        .iter()
        .filter(|(k, _)| k.starts_with("fault."))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let never: Vec<&String> = faults
        .iter()
        .filter(|(_, v)| v.as_u64() == Some(0))
        .map(|(k, _)| k)
        .collect();
    let aggregate = json!({
        "workload": { "name": w.name, "hash": w.digest() },
        "seeds": format!("{a}..{b}"),
        "runs": b - a,
        "failing_seeds": failing,
        "ops_per_second": ops.json(),
        "latency_p99_ms": p99.iter().map(|(k, s)| (k.to_string(), s.json())).collect::<Map<_, _>>(),
        "faults_fired": faults,
        "faults_never_fired": never,
        "counters": counters,
        "events": events,
        "wall_clock": {
            "seconds": wall,
            "engine_events_per_second": events as f64 / engine.max(1e-9),
            "simulated_to_wall": simulated / wall.max(1e-9),
        },
    });
    let text = text(&aggregate);
    print!("{text}");
    if let Some(dir) = &args.out {
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| {
                std::fs::write(
                    dir.join("sweep.json"),
                    serde_json::to_string_pretty(&aggregate).unwrap_or_default() + "\n",
                )
            })
            .and_then(|_| std::fs::write(dir.join("sweep.md"), markdown(&aggregate, &text)));
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

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn text(agg: &Value) -> String {
    let failing = agg["failing_seeds"].as_array().map_or(0, Vec::len);
    let mut out = format!(
        "sweep {} of {}: {} runs, {failing} failing seeds; ops/s mean {:.3} (min {:.3}, max {:.3}); {} events, engine {:.0} events/s, {:.0}x real time\n",
        agg["seeds"].as_str().unwrap_or("?"),
        agg["workload"]["name"].as_str().unwrap_or("?"),
        agg["runs"],
        f(&agg["ops_per_second"]["mean"]),
        f(&agg["ops_per_second"]["min"]),
        f(&agg["ops_per_second"]["max"]),
        agg["events"],
        f(&agg["wall_clock"]["engine_events_per_second"]),
        f(&agg["wall_clock"]["simulated_to_wall"]),
    );
    if let Some(faults) = agg["faults_fired"].as_object() {
        let list: Vec<String> = faults
            .iter()
            .map(|(k, v)| format!("{}={v}", &k[6..]))
            .collect();
        out.push_str(&format!("faults fired: {}\n", list.join(" ")));
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

fn markdown(agg: &Value, text: &str) -> String {
    let mut md = format!("# Sweep {} of {}\n\n```\n{text}```\n\n## p99 latency across seeds (simulated ms)\n\n| operation | min | mean | max |\n|---|---|---|---|\n", agg["seeds"].as_str().unwrap_or("?"), agg["workload"]["name"].as_str().unwrap_or("?"));
    if let Some(p) = agg["latency_p99_ms"].as_object() {
        for (k, v) in p {
            md.push_str(&format!(
                "| {k} | {:.1} | {:.1} | {:.1} |\n",
                f(&v["min"]),
                f(&v["mean"]),
                f(&v["max"])
            ));
        }
    }
    md.push_str("\n## Counters summed over all seeds\n\n| counter | total |\n|---|---|\n");
    if let Some(c) = agg["counters"].as_object() {
        for (k, v) in c {
            md.push_str(&format!("| `{k}` | {v} |\n"));
        }
    }
    md
}
