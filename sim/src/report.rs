//! What a run leaves behind: `summary.json` (for machines and `compare`), `report.md` (for a
//! person) and SVG plots.

use crate::metrics::Metrics;
use crate::plots;
use crate::workload::Workload;
use crate::world::RunResult;
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Version of the `summary.json` layout; bump on any incompatible change.
pub const SCHEMA_VERSION: u64 = 1;

fn percentiles(h: &Histogram<u64>) -> Value {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    json!({ "count": h.len(), "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "max_ms": h.max() as f64 / 1000.0 })
}

/// The deterministic part of the summary: equal for equal seed and workload.
pub fn summary(w: &Workload, seed: u64, r: &RunResult) -> Value {
    let m: &Metrics = &r.metrics;
    let latency: Map<String, Value> = m
        .latency
        .iter()
        .map(|(k, h)| (k.to_string(), percentiles(h)))
        .collect();
    let waits: Map<String, Value> = m
        .lock_wait
        .iter()
        .map(|(k, h)| (k.to_string(), percentiles(h)))
        .collect();
    let done: u64 = m
        .counters
        .iter()
        .filter(|(k, _)| k.ends_with(".done"))
        .map(|(_, v)| v)
        .sum();
    let secs = m.simulated as f64 / 1e9;
    let contention: Vec<Value> = plots::most_contended(m, 20)
        .into_iter()
        .map(|(subtree, c)| json!({ "subtree": subtree, "waits": c.waits, "timeouts": c.timeouts, "waited_ms": c.waited_ms }))
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "seed": seed,
        "workload": { "name": w.name, "hash": w.digest() },
        "invariants": { "violations": r.violations.len(), "list": r.violations.iter().take(20).collect::<Vec<_>>() },
        "simulated_seconds": secs,
        "events": m.events,
        "trace_digest": format!("{:016x}", r.trace_digest),
        "throughput": { "ops_per_second": if secs > 0.0 { done as f64 / secs } else { 0.0 }, "per_minute": m.throughput },
        "latency": latency,
        "lock_wait": waits,
        "accept_wait": percentiles(&m.accept_wait),
        "contention": contention,
        "counters": m.counters,
    })
}

/// Writes `summary.json`, `report.md` and the plots into `dir`.
pub fn write(dir: &Path, summary: &Value, r: &RunResult) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    write_file(&dir.join("summary.json"), &json)?;
    write_file(&dir.join("report.md"), &markdown(summary))?;
    let m = &r.metrics;
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

/// A short human summary (also what `run` prints).
pub fn text(summary: &Value) -> String {
    let mut out = String::new();
    let name = summary["workload"]["name"].as_str().unwrap_or("?");
    out.push_str(&format!(
        "workload {name} seed {} — {:.0} simulated s, {} events, {} invariant violations\n",
        summary["seed"],
        summary["simulated_seconds"].as_f64().unwrap_or(0.0),
        summary["events"],
        summary["invariants"]["violations"]
    ));
    out.push_str(&format!(
        "throughput {:.2} ops/s\n",
        summary["throughput"]["ops_per_second"]
            .as_f64()
            .unwrap_or(0.0)
    ));
    if let Some(lat) = summary["latency"].as_object() {
        for (op, v) in lat {
            out.push_str(&format!(
                "  {op:<14} n={:<6} p50 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms\n",
                v["count"],
                v["p50_ms"].as_f64().unwrap_or(0.0),
                v["p99_ms"].as_f64().unwrap_or(0.0),
                v["max_ms"].as_f64().unwrap_or(0.0)
            ));
        }
    }
    out.push_str(&figures(summary));
    for v in summary["invariants"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "  VIOLATION {} at {} ns: {}\n",
            v["invariant"], v["at"], v["detail"]
        ));
    }
    out
}

/// The one-line figures under the latency table: contention, jobs, transfers, faults, speed.
fn figures(summary: &Value) -> String {
    let c = &summary["counters"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    let mut out = String::new();
    let hottest: Vec<String> = summary["contention"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .map(|r| {
            format!(
                "{} {} waits / {} timeouts",
                r["subtree"].as_str().unwrap_or("?"),
                r["waits"],
                r["timeouts"]
            )
        })
        .collect();
    if !hottest.is_empty() {
        out.push_str(&format!("contention: {}\n", hottest.join("; ")));
    }
    out.push_str(&format!(
        "server: {} lock waits, {} timeouts, {} lease expiries, {} fencing rejections; jobs {} done, {} pending replies; transfers {} retried, {} waited for a handler (p99 {} ms)\n",
        n("server.waits"),
        n("server.timeouts"),
        n("lease.expiries"),
        n("fence.rejections"),
        n("jobs.done"),
        n("jobs.pending"),
        n("transfer.retries"),
        n("transfer.backlog_waits"),
        summary["accept_wait"]["p99_ms"]
    ));
    let faults: Vec<String> = c
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(format!("{}={v}", k.strip_prefix("fault.")?)))
        .collect();
    if !faults.is_empty() {
        out.push_str(&format!("faults: {}\n", faults.join(" ")));
    }
    if let Some(eps) = summary["wall_clock"]["events_per_second"].as_f64() {
        let ratio = summary["wall_clock"]["simulated_to_wall"]
            .as_f64()
            .unwrap_or(0.0);
        out.push_str(&format!(
            "speed: {eps:.0} events/s, {ratio:.0}x real time\n"
        ));
    }
    out
}

fn markdown(summary: &Value) -> String {
    let mut md = format!(
        "# Simulation report\n\n```\n{}```\n\n## Counters\n\n| counter | value |\n|---|---|\n",
        text(summary)
    );
    if let Some(c) = summary["counters"].as_object() {
        for (k, v) in c {
            md.push_str(&format!("| {k} | {v} |\n"));
        }
    }
    md.push_str("\n## Lock wait at the server, by level\n\n| level | count | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
    if let Some(w) = summary["lock_wait"].as_object() {
        for (k, v) in w {
            md.push_str(&format!(
                "| {k} | {} | {} | {} | {} |\n",
                v["count"], v["p50_ms"], v["p99_ms"], v["max_ms"]
            ));
        }
    }
    if let Some(rows) = summary["contention"].as_array().filter(|r| !r.is_empty()) {
        md.push_str("\n## Contention by subtree (server tier)\n\n| subtree | waits | timeouts | waited ms |\n|---|---|---|---|\n");
        for r in rows.iter().take(10) {
            md.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                r["subtree"].as_str().unwrap_or("?"),
                r["waits"],
                r["timeouts"],
                r["waited_ms"]
            ));
        }
    }
    md.push_str("\nPlots: `latency.svg` (percentiles per operation), `throughput.svg` (operations per minute), `contention.svg` (lock waits by subtree).\n");
    md
}
