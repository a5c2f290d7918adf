//! What a run leaves behind: `summary.json` (for machines and `compare`), `report.md` (for a
//! person) and SVG plots.

use crate::metrics::{Metrics, BUCKET};
use crate::workload::Workload;
use crate::world::RunResult;
use hdrhistogram::Histogram;
use plotters::prelude::*;
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
        "counters": m.counters,
    })
}

/// Writes `summary.json`, `report.md` and the plots into `dir`.
pub fn write(dir: &Path, summary: &Value, r: &RunResult) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    write_file(&dir.join("summary.json"), &json)?;
    write_file(&dir.join("report.md"), &markdown(summary))?;
    plot_latency(&dir.join("latency.svg"), &r.metrics).map_err(|e| format!("latency.svg: {e}"))?;
    plot_throughput(&dir.join("throughput.svg"), &r.metrics)
        .map_err(|e| format!("throughput.svg: {e}"))?;
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
                "  {op:<7} n={:<6} p50 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms\n",
                v["count"],
                v["p50_ms"].as_f64().unwrap_or(0.0),
                v["p99_ms"].as_f64().unwrap_or(0.0),
                v["max_ms"].as_f64().unwrap_or(0.0)
            ));
        }
    }
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
    md.push_str("\nPlots: `latency.svg` (percentiles per operation), `throughput.svg` (operations per minute).\n");
    md
}

type PlotResult = Result<(), Box<dyn std::error::Error>>;

fn plot_latency(path: &Path, m: &Metrics) -> PlotResult {
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let quantiles = [0.5, 0.9, 0.99, 0.999, 1.0];
    let top = m
        .latency
        .values()
        .map(|h| h.max() as f64 / 1000.0)
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption("latency by percentile (simulated ms)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0usize..quantiles.len() - 1, (0.1f64..top * 1.2).log_scale())?;
    chart
        .configure_mesh()
        .x_label_formatter(&|i| format!("p{}", quantiles[*i] * 100.0))
        .draw()?;
    for (i, (op, h)) in m.latency.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points = quantiles
            .iter()
            .enumerate()
            .map(|(x, q)| (x, (h.value_at_quantile(*q) as f64 / 1000.0).max(0.1)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(*op)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn plot_throughput(path: &Path, m: &Metrics) -> PlotResult {
    let root = SVGBackend::new(path, (800, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = m.throughput.iter().copied().max().unwrap_or(1).max(1);
    let minutes = m.throughput.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "operations per {} s of simulated time",
                BUCKET / 1_000_000_000
            ),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0usize..minutes, 0u64..top + top / 10 + 1)?;
    chart.configure_mesh().x_desc("minute").draw()?;
    chart.draw_series(LineSeries::new(
        m.throughput.iter().enumerate().map(|(i, v)| (i, *v)),
        BLUE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}
