//! `lockstudio compare`: two simulator summaries side by side, regressions flagged.
//!
//! Simulated-time figures are deterministic, so any difference is a behaviour change; the
//! threshold decides which changes are regressions. Wall-clock figures are never compared.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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
    /// Do not count a different workload (hash) as a regression by itself.
    #[arg(long)]
    allow_workload_change: bool,
}

/// Counters whose growth is bad news (a regression past the threshold).
const BAD_COUNTERS: [&str; 13] = [
    "counters.server.lock_timeouts",
    "counters.client.lock_timeouts",
    "counters.server.deadlocks",
    "counters.reservation.window_conflicts",
    "counters.optimistic.conflicts",
    "counters.optimistic.failures",
    "counters.lease.expiries",
    "counters.lease.renew_failures",
    "counters.download.failed",
    "counters.transfer.retries",
    "counters.upload.duplicates",
    "counters.jobs.pending",
    "counters.fence.rejections",
];

/// Runs the subcommand.
pub fn execute(args: &Args) -> ExitCode {
    if !(args.threshold.is_finite() && args.threshold >= 0.0) {
        eprintln!("lockstudio compare: --threshold must be a non-negative percentage");
        return ExitCode::from(2);
    }
    let (base, new) = match (read(&args.base), read(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("lockstudio compare: {e}");
            return ExitCode::from(2);
        }
    };
    for (path, v) in [(&args.base, &base), (&args.new, &new)] {
        if !v["schema_version"].is_u64() {
            eprintln!(
                "lockstudio compare: {}: not a simulator summary (no schema_version)",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    if base["schema_version"] != new["schema_version"] {
        eprintln!(
            "lockstudio compare: schema_version differs ({} vs {}): regenerate the baseline",
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

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

/// The comparison of two summaries.
pub struct Comparison {
    /// A markdown table of every metric (old, new, delta), then the regressions.
    pub markdown: String,
    /// Why the new run regressed, one line each.
    pub regressions: Vec<String>,
}

/// Compares every numeric figure of two summaries (wall clock excluded).
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
    let (hash_a, hash_b) = (&base["workload"]["hash"], &new["workload"]["hash"]);
    let mut md = format!(
        "# compare\n\nbase: {} seed {} (workload hash {hash_a})\nnew:  {} seed {} (workload hash {hash_b})\nthreshold: {threshold}%\n\n",
        base["workload"]["name"], base["seed"], new["workload"]["name"], new["seed"]
    );
    if hash_a != hash_b {
        let line = format!("workload changed: hash {hash_a} → {hash_b}");
        md.push_str(&format!("**{line}**\n\n"));
        if !allow_workload_change {
            regressions.push(line);
        }
    }
    md.push_str("| metric | old | new | delta |\n|---|---|---|---|\n");
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (old, newv) = (
            a.get(key).copied().unwrap_or(0.0),
            b.get(key).copied().unwrap_or(0.0),
        );
        let delta = if old == newv {
            0.0
        } else if old == 0.0 {
            f64::INFINITY.copysign(newv)
        } else {
            (newv - old) / old.abs() * 100.0
        };
        let shown = if delta.is_infinite() {
            "new".to_string()
        } else {
            format!("{delta:+.1}%")
        };
        md.push_str(&format!("| {key} | {old} | {newv} | {shown} |\n"));
        if let Some(why) = regression(key, old, newv, delta, threshold) {
            regressions.push(why);
        }
    }
    if regressions.is_empty() {
        md.push_str("\nNo regressions.\n");
    } else {
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

/// Whether one figure's change is a regression, and why.
fn regression(key: &str, old: f64, new: f64, delta: f64, threshold: f64) -> Option<String> {
    if key == "invariants.violations" {
        return (new > old).then(|| format!("invariant violations rose from {old} to {new}"));
    }
    let timing = [
        "latency_ms.",
        "lock_wait_ms.",
        "transfer_ms.",
        "job_wait_ms.",
    ]
    .iter()
    .any(|p| key.starts_with(p))
        && !key.ends_with(".count");
    let worse = if timing || BAD_COUNTERS.contains(&key) || key.starts_with("throughput.failed.") {
        delta > threshold
    } else if key == "throughput.ops_per_second" || key.starts_with("throughput.done.") {
        -delta > threshold
    } else {
        false
    };
    worse.then(|| {
        format!(
            "{key}: {old} → {new} ({}, threshold {threshold}%)",
            if delta.is_infinite() {
                "from zero".to_string()
            } else {
                format!("{delta:+.1}%")
            }
        )
    })
}

/// Every numeric leaf as `a.b.c`; arrays are summed (`…total`); `seed`, `schema_version` and
/// the `wall_clock` section are left out.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(prefix.to_string(), f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty()
                    && matches!(k.as_str(), "wall_clock" | "seed" | "schema_version")
                {
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
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => {
            out.insert(
                format!("{prefix}.total"),
                items.iter().filter_map(Value::as_f64).sum(),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary(p99: f64, ops: f64, timeouts: u64, violations: u64) -> Value {
        json!({
            "schema_version": 2, "seed": 1, "workload": { "name": "w", "hash": "h" },
            "invariants": { "violations": violations },
            "throughput": { "ops_per_second": ops, "per_minute": [1, 2] },
            "latency_ms": { "shoot": { "count": 10, "p99": p99 } },
            "counters": { "server.lock_timeouts": timeouts, "cache.hits": 5 },
            "wall_clock": { "seconds": 1.0 }
        })
    }

    #[test]
    fn identical_summaries_do_not_regress() {
        let s = summary(10.0, 5.0, 3, 0);
        assert!(compare(&s, &s, 10.0, false).regressions.is_empty());
    }

    #[test]
    fn flags_latency_throughput_counters_and_violations() {
        let base = summary(10.0, 5.0, 10, 0);
        let r = compare(&base, &summary(12.0, 5.0, 10, 0), 10.0, false).regressions;
        assert!(
            r.len() == 1 && r[0].starts_with("latency_ms.shoot.p99"),
            "{r:?}"
        );
        assert!(
            compare(&base, &summary(10.5, 5.0, 10, 0), 10.0, false)
                .regressions
                .is_empty(),
            "within threshold"
        );
        let r = compare(&base, &summary(10.0, 4.0, 10, 0), 10.0, false).regressions;
        assert!(r[0].starts_with("throughput.ops_per_second"), "{r:?}");
        let r = compare(&base, &summary(10.0, 5.0, 12, 0), 10.0, false).regressions;
        assert!(r[0].starts_with("counters.server.lock_timeouts"), "{r:?}");
        let r = compare(&base, &summary(10.0, 5.0, 10, 1), 10.0, false).regressions;
        assert!(r[0].starts_with("invariant violations"), "{r:?}");
        assert!(
            compare(&base, &summary(5.0, 9.0, 1, 0), 10.0, false)
                .regressions
                .is_empty(),
            "improvements are fine"
        );
    }

    #[test]
    fn a_changed_workload_is_flagged_unless_allowed() {
        let base = summary(10.0, 5.0, 3, 0);
        let mut other = base.clone();
        other["workload"]["hash"] = json!("other");
        assert!(compare(&base, &other, 10.0, false).regressions[0].starts_with("workload changed"));
        assert!(compare(&base, &other, 10.0, true).regressions.is_empty());
    }
}
