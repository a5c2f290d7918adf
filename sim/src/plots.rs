//! SVG plots of one run, drawn with plotters: latency percentiles per operation, throughput
//! over simulated time, and server-tier lock contention by subtree.

use crate::metrics::{Contention, Metrics, BUCKET};
use plotters::prelude::*;
use std::path::Path;

/// Result of drawing one plot.
pub type PlotResult = Result<(), Box<dyn std::error::Error>>;

/// Latency percentiles per operation kind.
pub fn latency(path: &Path, m: &Metrics) -> PlotResult {
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

/// Operations completed per bucket of simulated time.
pub fn throughput(path: &Path, m: &Metrics) -> PlotResult {
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

/// The `n` subtrees with the most lock waits (then timeouts, then name), most contended first.
pub fn most_contended(m: &Metrics, n: usize) -> Vec<(&str, Contention)> {
    let mut rows: Vec<(&str, Contention)> =
        m.contention.iter().map(|(k, c)| (k.as_str(), *c)).collect();
    rows.sort_by(|a, b| {
        (b.1.waits, b.1.timeouts)
            .cmp(&(a.1.waits, a.1.timeouts))
            .then(a.0.cmp(b.0))
    });
    rows.truncate(n);
    rows
}

/// Lock waits and timeouts of the most contended subtrees, as bars.
pub fn contention(path: &Path, m: &Metrics) -> PlotResult {
    let rows = most_contended(m, 12);
    let root = SVGBackend::new(path, (800, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = rows
        .iter()
        .map(|(_, c)| c.waits.max(c.timeouts))
        .max()
        .unwrap_or(1)
        .max(1);
    let names: Vec<String> = rows.iter().map(|(k, _)| k.to_string()).collect();
    let slots = rows.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption("server lock waits by subtree", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((0..slots).into_segmented(), 0u64..top + top / 10 + 1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(slots)
        .x_label_formatter(&|v| match v {
            SegmentValue::Exact(i) | SegmentValue::CenterOf(i) => {
                names.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_desc("requests")
        .draw()?;
    // Two bars per subtree: waits on the left half of its slot, timeouts on the right.
    let bars = |pick: fn(&Contention) -> u64, color: RGBColor, left: bool| {
        rows.iter().enumerate().map(move |(i, (_, c))| {
            let corners = [
                (SegmentValue::Exact(i), 0),
                (SegmentValue::Exact(i + 1), pick(c)),
            ];
            let mut bar = Rectangle::new(corners, color.filled());
            let (l, r) = if left { (6, 30) } else { (30, 6) };
            bar.set_margin(0, 0, l, r);
            bar
        })
    };
    chart
        .draw_series(bars(|c| c.waits, BLUE, true))?
        .label("waits")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BLUE.filled()));
    chart
        .draw_series(bars(|c| c.timeouts, RED, false))?
        .label("timeouts")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], RED.filled()));
    chart.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
