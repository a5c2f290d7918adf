//! SVG plots (plotters): latency percentiles per operation, throughput over time, contention
//! by session.

use super::metrics::{Metrics, OpKind};
use crate::engine::MINUTE;
use plotters::prelude::*;
use std::path::Path;

type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// Latency at p50 … max per operation, log scale.
pub fn latency(path: &Path, m: &Metrics) -> PlotResult {
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let quantiles = [0.5, 0.9, 0.99, 0.999, 1.0];
    let top = m
        .latency
        .iter()
        .map(|h| h.max() as f64 / 1000.0)
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "latency from intended start, by percentile (simulated ms)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(
            0usize..quantiles.len() - 1,
            (0.01f64..top * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_labels(quantiles.len())
        .x_label_formatter(&|i| {
            quantiles.get(*i).map_or(String::new(), |q| {
                if *q >= 1.0 {
                    "max".into()
                } else {
                    format!("p{}", q * 100.0)
                }
            })
        })
        .y_desc("ms")
        .draw()?;
    for (i, kind) in OpKind::ALL.iter().enumerate() {
        let h = &m.latency[kind.index()];
        if h.is_empty() {
            continue;
        }
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(usize, f64)> = quantiles
            .iter()
            .enumerate()
            .map(|(x, q)| (x, (h.value_at_quantile(*q) as f64 / 1000.0).max(0.01)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(kind.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Completed operations per simulated minute.
pub fn throughput(path: &Path, m: &Metrics) -> PlotResult {
    let root = SVGBackend::new(path, (800, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = m.throughput.iter().copied().max().unwrap_or(1).max(1);
    let minutes = m.throughput.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "operations completed per {} s of simulated time",
                MINUTE / 1_000_000_000
            ),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0usize..minutes, 0u64..top + top / 10 + 1)?;
    chart
        .configure_mesh()
        .x_desc("minute")
        .y_desc("operations")
        .draw()?;
    chart.draw_series(LineSeries::new(
        m.throughput.iter().enumerate().map(|(i, v)| (i, *v)),
        BLUE.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

/// Server lock waits and timeouts per session: where the contention is.
pub fn contention(path: &Path, m: &Metrics) -> PlotResult {
    let root = SVGBackend::new(path, (800, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let sessions: Vec<(u32, u64, u64)> = m
        .contention
        .iter()
        .map(|(s, c)| (*s, c.waits, c.timeouts + c.window_conflicts))
        .collect();
    let n = sessions.len().max(1);
    let top = sessions
        .iter()
        .map(|(_, w, t)| (*w).max(*t))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "contention by session: server waits (blue), timeouts + window conflicts (red)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n as f64, 0u64..top + top / 10 + 1)?;
    let labels: Vec<String> = sessions.iter().map(|(s, _, _)| format!("s{s}")).collect();
    chart
        .configure_mesh()
        .x_labels(n.min(40))
        .x_label_formatter(&|x| labels.get(x.floor() as usize).cloned().unwrap_or_default())
        .draw()?;
    chart.draw_series(sessions.iter().enumerate().map(|(i, (_, w, _))| {
        Rectangle::new([(i as f64 + 0.1, 0), (i as f64 + 0.5, *w)], BLUE.filled())
    }))?;
    chart.draw_series(sessions.iter().enumerate().map(|(i, (_, _, t))| {
        Rectangle::new([(i as f64 + 0.5, 0), (i as f64 + 0.9, *t)], RED.filled())
    }))?;
    root.present()?;
    Ok(())
}
