//! `lockstudio compare`: two simulator summaries side by side, regressions flagged.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `lockstudio compare`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The baseline summary.json.
    base: PathBuf,
    /// The new summary.json.
    new: PathBuf,
    /// Percentage change past which a latency, throughput or bad-news counter regresses.
    #[arg(long, default_value_t = 10.0)]
    threshold: f64,
    /// Do not fail when the two runs used different workloads.
    #[arg(long)]
    allow_workload_change: bool,
}

/// Counters whose growth is bad news.
const BAD_COUNTERS: [&str; 8] = [
    "failed",
    "failures",
    "timeouts",
    "deadlocks",
    "rejections",
    "window_conflicts",
    "retries",
    "violations",
];

/// Runs the subcommand.
pub fn execute(args: &Args) -> ExitCode {
    let (base, new) = match (read(&args.base), read(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("lockstudio compare: {e}");
            return ExitCode::from(2);
        }
    };
    if base["schema_version"] != new["schema_version"] {
        eprintln!(
            "lockstudio compare: schema_version differs ({} vs {})",
            base["schema_version"], new["schema_version"]
        );
        return ExitCode::from(2);
    }
    let report = compare(&base, &new, args.threshold, args.allow_workload_change);
    print!("{}", report.markdown);
    if report.regressions.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

/// The comparison of two summaries.
pub struct Comparison {
    /// A markdown table of every metric, then the regressions.
    pub markdown: String,
    /// Why the new run regressed, one line each.
    pub regressions: Vec<String>,
}

/// Compares every numeric metric of two summaries (wall clock excluded).
pub fn compare(
    base: &Value,
    new: &Value,
    threshold: f64,
    allow_workload_change: bool,
) -> Comparison {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", base, &mut a);
    flatten("", new, &mut b);
    let mut regressions = Vec::new();
    if base["workload"]["hash"] != new["workload"]["hash"] && !allow_workload_change {
        regressions.push(format!(
            "workload changed: {} → {}",
            base["workload"]["hash"], new["workload"]["hash"]
        ));
    }
    let mut md = String::from("| metric | old | new | delta |\n|---|---|---|---|\n");
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (old, newv) = (
            a.get(key).copied().unwrap_or(0.0),
            b.get(key).copied().unwrap_or(0.0),
        );
        let delta = if old == 0.0 {
            if newv == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (newv - old) / old * 100.0
        };
        md.push_str(&format!("| {key} | {old} | {newv} | {delta:+.1}% |\n"));
        if let Some(why) = regression(key, old, newv, delta, threshold) {
            regressions.push(why);
        }
    }
    if !regressions.is_empty() {
        md.push_str("\n## Regressions\n\n");
        for r in &regressions {
            md.push_str(&format!("- {r}\n"));
        }
    }
    Comparison {
        markdown: md,
        regressions,
    }
}

fn regression(key: &str, old: f64, new: f64, delta: f64, threshold: f64) -> Option<String> {
    if key == "invariants.violations" && new > old {
        return Some(format!("invariant violations rose from {old} to {new}"));
    }
    let worse = if key.ends_with("_ms") && key.starts_with("latency.") {
        delta > threshold
    } else if key == "throughput.ops_per_second" {
        -delta > threshold
    } else if key.starts_with("counters.") && BAD_COUNTERS.iter().any(|b| key.contains(b)) {
        new > old && delta > threshold
    } else {
        false
    };
    worse.then(|| format!("{key}: {old} → {new} ({delta:+.1}%, threshold {threshold}%)"))
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(prefix.to_string(), f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() && (k == "wall_clock" || k == "seed") {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) if prefix.ends_with("per_minute") => {
            out.insert(
                format!("{prefix}.total"),
                items.iter().filter_map(Value::as_f64).sum(),
            );
        }
        _ => {}
    }
}
