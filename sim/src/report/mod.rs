//! What a run leaves behind: `summary.json` (for machines, baselines and `compare`),
//! `report.md` (for a person) and SVG plots.

pub mod metrics;
mod plots;

use crate::check::Violation;
use crate::workload::Workload;
use hdrhistogram::Histogram;
use lockstudio::Level;
use metrics::{Metrics, OpKind};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Version of the `summary.json` layout; bump on any incompatible change.
pub const SCHEMA_VERSION: u64 = 2;

/// Percentiles of a µs histogram, in ms.
fn percentiles(h: &Histogram<u64>) -> Value {
    let ms = |v: u64| v as f64 / 1000.0;
    if h.is_empty() {
        return json!({ "count": 0 });
    }
    json!({
        "count": h.len(),
        "p50": ms(h.value_at_quantile(0.5)),
        "p90": ms(h.value_at_quantile(0.9)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p999": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
    })
}

fn by_level(hs: &[Histogram<u64>; 3]) -> Value {
    Level::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), percentiles(&hs[l.index()])))
        .collect::<Map<_, _>>()
        .into()
}

/// The deterministic summary of a run: equal for equal seed and workload, byte for byte.
/// The CLI adds a separate `wall_clock` section (simulator speed), which is not.
pub fn summary(
    w: &Workload,
    seed: u64,
    m: &Metrics,
    violations: &[Violation],
    trace_digest: u64,
) -> Value {
    let secs = m.simulated as f64 / 1e9;
    let done: u64 = m.done.iter().sum();
    let per_kind = |v: &[u64; 6]| -> Value {
        OpKind::ALL
            .iter()
            .map(|k| (k.name().to_string(), json!(v[k.index()])))
            .collect::<Map<_, _>>()
            .into()
    };
    let latency: Map<String, Value> = OpKind::ALL
        .iter()
        .map(|k| (k.name().to_string(), percentiles(&m.latency[k.index()])))
        .collect();
    let counters: Map<String, Value> = m
        .counters()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let contention: Map<String, Value> = m
        .contention
        .iter()
        .map(|(s, c)| {
            (
                format!("s{s}"),
                json!({ "waits": c.waits, "timeouts": c.timeouts, "window_conflicts": c.window_conflicts, "optimistic_conflicts": c.optimistic_conflicts }),
            )
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "seed": seed,
        "workload": { "name": w.name, "hash": w.digest() },
        "invariants": {
            "checked": crate::check::names(),
            "violations": violations.len(),
            "list": violations.iter().take(20).collect::<Vec<_>>(),
        },
        "simulated_seconds": secs,
        "events": m.events,
        "trace_digest": format!("{trace_digest:016x}"),
        "throughput": {
            "ops_per_second": if secs > 0.0 { done as f64 / secs } else { 0.0 },
            "done": per_kind(&m.done),
            "failed": per_kind(&m.failed),
            "per_minute": m.throughput,
        },
        "latency_ms": latency,
        "lock_wait_ms": { "server": by_level(&m.server_wait), "client": by_level(&m.client_wait) },
        "transfer_ms": { "backlog_wait": percentiles(&m.backlog_wait), "upload_lag": percentiles(&m.upload_lag) },
        "job_wait_ms": { "short": percentiles(&m.job_wait[0]), "long": percentiles(&m.job_wait[1]) },
        "counters": counters,
        "contention": contention,
    })
}

/// Writes `summary.json`, `report.md` and the plots into `dir`.
pub fn write(dir: &Path, summary: &Value, m: &Metrics) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    write_file(&dir.join("summary.json"), &(json + "\n"))?;
    write_file(&dir.join("report.md"), &markdown(summary))?;
    plots::latency(&dir.join("latency.svg"), m).map_err(|e| format!("latency.svg: {e}"))?;
    plots::throughput(&dir.join("throughput.svg"), m)
        .map_err(|e| format!("throughput.svg: {e}"))?;
    plots::contention(&dir.join("contention.svg"), m)
        .map_err(|e| format!("contention.svg: {e}"))?;
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// A short human summary (what `run` prints).
pub fn text(summary: &Value) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "workload {} seed {}: {:.0} simulated s, {} events, {} invariant violations (trace {})\n",
        summary["workload"]["name"].as_str().unwrap_or("?"),
        summary["seed"],
        f(&summary["simulated_seconds"]),
        summary["events"],
        summary["invariants"]["violations"],
        summary["trace_digest"].as_str().unwrap_or("?"),
    ));
    out.push_str(&format!(
        "throughput {:.2} ops/s\n",
        f(&summary["throughput"]["ops_per_second"])
    ));
    if let Some(lat) = summary["latency_ms"].as_object() {
        for (op, v) in lat {
            let failed = &summary["throughput"]["failed"][op];
            out.push_str(&format!(
                "  {op:<14} done {:<6} failed {:<5} p50 {:>9.1} ms  p99 {:>9.1} ms  max {:>9.1} ms\n",
                v["count"],
                failed,
                f(&v["p50"]),
                f(&v["p99"]),
                f(&v["max"])
            ));
        }
    }
    let c = &summary["counters"];
    out.push_str(&format!(
        "  waits {} timeouts {} window conflicts {} optimistic retries {} / failures {} fence rejections {} transfer retries {} pending jobs {}\n",
        c["server.lock_waits"], c["server.lock_timeouts"], c["reservation.window_conflicts"], c["optimistic.retries"],
        c["optimistic.failures"], c["fence.rejections"], c["transfer.retries"], c["jobs.pending"]
    ));
    if let Some(counters) = c.as_object() {
        let faults: Vec<String> = counters
            .iter()
            .filter(|(k, _)| k.starts_with("fault."))
            .map(|(k, v)| format!("{}={v}", &k[6..]))
            .collect();
        out.push_str(&format!("  faults: {}\n", faults.join(" ")));
    }
    if let Some(wall) = summary.get("wall_clock") {
        out.push_str(&format!(
            "  speed: {:.0} events/s, {:.0}x real time ({:.3} s wall)\n",
            f(&wall["events_per_second"]),
            f(&wall["simulated_to_wall"]),
            f(&wall["seconds"])
        ));
    }
    for v in summary["invariants"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "  VIOLATION {} at {:.3} s: {}\n",
            v["invariant"].as_str().unwrap_or("?"),
            f(&v["at"]) / 1e9,
            v["detail"].as_str().unwrap_or("")
        ));
    }
    out
}

fn row(md: &mut String, name: &str, v: &Value) {
    if v["count"].as_u64().unwrap_or(0) == 0 {
        md.push_str(&format!("| {name} | 0 | | | | | |\n"));
    } else {
        md.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} |\n",
            v["count"], v["p50"], v["p90"], v["p99"], v["p999"], v["max"]
        ));
    }
}

/// The report a person reads.
pub fn markdown(s: &Value) -> String {
    let mut md = format!(
        "# Simulation report: {} seed {}\n\nWorkload hash `{}`, trace digest `{}`, {:.0} simulated seconds, {} events.\n\n",
        s["workload"]["name"].as_str().unwrap_or("?"),
        s["seed"],
        s["workload"]["hash"].as_str().unwrap_or("?"),
        s["trace_digest"].as_str().unwrap_or("?"),
        f(&s["simulated_seconds"]),
        s["events"]
    );
    md.push_str("## Invariants\n\n");
    let n = s["invariants"]["violations"].as_u64().unwrap_or(0);
    let checked: Vec<String> = s["invariants"]["checked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|n| format!("`{n}`"))
        .collect();
    md.push_str(&format!(
        "Checked from the recorded history: {}.\n\n",
        checked.join(", ")
    ));
    if n == 0 {
        md.push_str("**No violations.**\n\n");
    } else {
        md.push_str(&format!("**{n} violations.** The first ones:\n\n"));
        for v in s["invariants"]["list"].as_array().into_iter().flatten() {
            md.push_str(&format!(
                "- `{}` at {:.3} s: {}\n",
                v["invariant"].as_str().unwrap_or("?"),
                f(&v["at"]) / 1e9,
                v["detail"].as_str().unwrap_or("")
            ));
        }
        md.push('\n');
    }
    md.push_str(&format!("## Throughput\n\n{:.3} completed operations per simulated second (`throughput.svg` per minute).\n\n", f(&s["throughput"]["ops_per_second"])));
    md.push_str("## Latency from intended start (simulated ms)\n\nMeasured from when the thread meant to start, so time spent waiting behind a paused or busy workstation counts (no coordinated omission). Plot: `latency.svg`.\n\n| operation | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n");
    if let Some(lat) = s["latency_ms"].as_object() {
        for (op, v) in lat {
            row(&mut md, op, v);
        }
    }
    md.push_str("\n## Lock waits by level (simulated ms, granted requests; immediate grants count as 0)\n\n| tier / level | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n");
    for tier in ["server", "client"] {
        if let Some(levels) = s["lock_wait_ms"][tier].as_object() {
            for (level, v) in levels {
                row(&mut md, &format!("{tier} {level}"), v);
            }
        }
    }
    md.push_str("\n## Transfers and jobs (simulated ms)\n\n| figure | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n");
    row(
        &mut md,
        "wait for a transfer handler",
        &s["transfer_ms"]["backlog_wait"],
    );
    row(
        &mut md,
        "write-behind lag (acked → stored)",
        &s["transfer_ms"]["upload_lag"],
    );
    row(&mut md, "short job queue wait", &s["job_wait_ms"]["short"]);
    row(&mut md, "long job queue wait", &s["job_wait_ms"]["long"]);
    md.push_str("\n## Contention by session (subtree `/studio/s<N>`)\n\nPlot: `contention.svg`.\n\n| session | server waits | timeouts | window conflicts | optimistic conflicts |\n|---|---|---|---|---|\n");
    if let Some(c) = s["contention"].as_object() {
        for (session, v) in c {
            md.push_str(&format!(
                "| {session} | {} | {} | {} | {} |\n",
                v["waits"], v["timeouts"], v["window_conflicts"], v["optimistic_conflicts"]
            ));
        }
    }
    md.push_str("\n## Counters\n\n| counter | value |\n|---|---|\n");
    if let Some(c) = s["counters"].as_object() {
        for (k, v) in c {
            md.push_str(&format!("| `{k}` | {v} |\n"));
        }
    }
    if let Some(wall) = s.get("wall_clock") {
        md.push_str(&format!(
            "\n## Simulator speed (wall clock: machine-dependent, not part of the deterministic summary)\n\n{:.0} events/s, {:.0}× real time, {:.3} s.\n",
            f(&wall["events_per_second"]),
            f(&wall["simulated_to_wall"]),
            f(&wall["seconds"])
        ));
    }
    md
}
