//! The markdown of `reports/perf.md`.

use super::goals::{self, Outcome, Status, Target, Unit};
use super::machine::Machine;
use super::results::{Measurement, Results};
use super::spec::{self, Group, Kind, Row};
use crate::ids;
use std::fmt::Write as _;

/// What the report says about how it was produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    /// The command that regenerates the report.
    pub command: String,
    /// Seconds of measurement per bench.
    pub measurement_secs: f64,
    /// Shown in the simulator section when it has no rows.
    pub sim_note: String,
}

/// Renders the whole report.
pub fn render(results: &Results, machine: &Machine, ctx: &Context) -> String {
    let groups = spec::groups();
    let outcomes = goals::evaluate(results);
    let mut out = String::new();
    out.push_str("# Performance report\n\n");
    let _ = writeln!(
        out,
        "Written by `{}` from one real `cargo bench` run (release, {} s of measurement per bench); \
         regenerate it rather than editing it. See `reports/README.md`.\n",
        ctx.command, ctx.measurement_secs
    );
    let _ = writeln!(out, "**Machine:** {}\n", machine.line());
    if machine.was_busy() {
        out.push_str(
            "> **The machine was busy during this run** (other builds and tests shared the \
             cores): absolute figures are pessimistic and the multi-thread rows understate \
             scaling. Regenerate on an idle machine for figures to compare.\n\n",
        );
    }
    out.push_str(
        "Wall-clock figures are noisy: read the ratios. **P** = parking_lot `RwLock` write \
         acquire + release, uncontended, measured by each bench binary in the same run; every \
         `×P` divides by the P of the binary that measured the row.\n\n",
    );
    out.push_str("| bench binary | P |\n|---|---|\n");
    let mut binaries: Vec<&str> = groups.iter().map(|g| g.binary).collect();
    binaries.dedup();
    for binary in binaries {
        let p = results.get(&ids::p(binary));
        let _ = writeln!(out, "| {binary} | {} |", cell_ns(p));
    }
    out.push('\n');
    goals_section(&mut out, &outcomes);
    let findings = super::observations::observe(results);
    if !findings.is_empty() {
        out.push_str("## Other findings of this run\n\n");
        for o in findings {
            let _ = writeln!(out, "- **{}** {}\n", o.title, o.detail);
        }
    }
    for group in &groups {
        group_section(&mut out, results, group, &outcomes, ctx);
    }
    if results_are_partly_stale(results, &groups) {
        out.push_str("\n† left over from an earlier run, not measured in this one.\n");
    }
    out
}

fn goals_section(out: &mut String, outcomes: &[Outcome]) {
    out.push_str("## Goals\n\nTracked, not asserted in tests.\n\n");
    out.push_str("| goal | measured | target | status | how |\n|---|---|---|---|---|\n");
    for o in outcomes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            o.name,
            o.value.map_or("—".into(), |v| value(v, o.unit)),
            target(o.target, o.unit),
            status(o.status),
            o.how
        );
    }
    let missed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status == Status::NotMet)
        .collect();
    if !missed.is_empty() {
        out.push_str("\n### Missed goals: why, and what would close them\n\n");
        for o in missed {
            let _ = writeln!(out, "- **{}**: {}\n", o.name, o.if_missed);
        }
    }
    out.push('\n');
}

fn group_section(
    out: &mut String,
    results: &Results,
    group: &Group,
    outcomes: &[Outcome],
    ctx: &Context,
) {
    let _ = writeln!(out, "## {}\n\n{}\n", group.title, group.about);
    let measured = group.rows.iter().any(|r| results.get(&r.id).is_some());
    if group.kind == Kind::Events && !measured {
        let _ = writeln!(out, "{}\n", ctx.sim_note);
        return;
    }
    let p = results.get(&ids::p(group.binary)).map(|m| m.median_ns);
    let per_op = group.rows.iter().any(|r| r.ops != 1.0);
    let vs = group.rows.iter().any(|r| r.base.is_some());
    let goal_of = |row: &Row| outcomes.iter().find(|o| o.row.as_deref() == Some(&row.id));
    match group.kind {
        Kind::Time => {
            let mut head = vec!["bench", "median"];
            if per_op {
                head.push("per op");
            }
            head.push("×P");
            if vs {
                head.push("vs LockTable");
            }
            head.push("goal");
            header(out, &head);
            for row in &group.rows {
                let m = results.get(&row.id);
                let mut cells = vec![row.label.clone(), cell_ns(m)];
                if per_op {
                    cells.push(cell_ns(m.map(|m| per(m, row.ops))));
                }
                cells.push(times_p(m.map(|m| m.median_ns / row.ops), p));
                if vs {
                    let base = row.base.as_deref().and_then(|b| results.get(b));
                    cells.push(slower(m, base));
                }
                cells.push(goal_cell(goal_of(row)));
                line(out, &cells);
            }
        }
        Kind::Throughput => {
            header(
                out,
                &[
                    "bench",
                    "median per round",
                    "per op",
                    "×P",
                    "throughput",
                    "vs 1 thread",
                    "goal",
                ],
            );
            for row in &group.rows {
                let m = results.get(&row.id);
                let op = m.map(|m| per(m, row.ops));
                let base = row.base.as_deref().and_then(|b| results.get(b));
                let scaling = match (m, base) {
                    (Some(m), Some(b)) if m.median_ns > 0.0 && b.median_ns > 0.0 => {
                        format!("{:.2}×", (row.ops / m.median_ns) / (1.0 / b.median_ns))
                    }
                    _ => "—".into(),
                };
                line(
                    out,
                    &[
                        row.label.clone(),
                        cell_ns(m),
                        cell_ns(op),
                        times_p(op.map(|o| o.median_ns), p),
                        op.filter(|o| o.median_ns > 0.0)
                            .map_or("—".into(), |o| format!("{}/s", si(1e9 / o.median_ns))),
                        scaling,
                        goal_cell(goal_of(row)),
                    ],
                );
            }
        }
        Kind::Events => {
            header(
                out,
                &[
                    "bench",
                    "median per run",
                    "events per run",
                    "per event",
                    "×P",
                    "events/s",
                ],
            );
            for row in &group.rows {
                let m = results.get(&row.id);
                let events = row.events.as_deref().and_then(|n| results.events(n));
                let op = match (m, events) {
                    (Some(m), Some((e, _))) if e.events > 0 => Some(per(m, e.events as f64)),
                    _ => None,
                };
                line(
                    out,
                    &[
                        row.label.clone(),
                        cell_ns(m),
                        events.map_or("—".into(), |(e, fresh)| {
                            format!("{}{}", e.events, dagger(fresh))
                        }),
                        cell_ns(op),
                        times_p(op.map(|o| o.median_ns), p),
                        op.filter(|o| o.median_ns > 0.0)
                            .map_or("—".into(), |o| format!("{}/s", si(1e9 / o.median_ns))),
                    ],
                );
            }
        }
        Kind::Latency => {
            header(
                out,
                &[
                    "bench",
                    "p50",
                    "p99",
                    "max",
                    "samples",
                    "cycle median",
                    "goal",
                ],
            );
            for row in &group.rows {
                let lat = row.latency.as_deref().and_then(|n| results.latency(n));
                let ns = |f: fn(&super::LatencySummary) -> u64| {
                    lat.map_or("—".into(), |(l, fresh)| {
                        format!("{}{}", ns_text(f(&l) as f64), dagger(fresh))
                    })
                };
                line(
                    out,
                    &[
                        row.label.clone(),
                        ns(|l| l.p50_ns),
                        ns(|l| l.p99_ns),
                        ns(|l| l.max_ns),
                        lat.map_or("—".into(), |(l, _)| l.samples.to_string()),
                        cell_ns(results.get(&row.id)),
                        goal_cell(goal_of(row)),
                    ],
                );
            }
        }
    }
    out.push('\n');
}

fn results_are_partly_stale(results: &Results, groups: &[Group]) -> bool {
    groups
        .iter()
        .flat_map(|g| g.rows.iter())
        .any(|r| results.get(&r.id).is_some_and(|m| !m.fresh))
}

fn header(out: &mut String, cells: &[&str]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(cells.len()));
}

fn line(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn per(m: Measurement, ops: f64) -> Measurement {
    Measurement {
        median_ns: m.median_ns / ops,
        fresh: m.fresh,
    }
}

fn dagger(fresh: bool) -> &'static str {
    if fresh {
        ""
    } else {
        " †"
    }
}

fn cell_ns(m: Option<Measurement>) -> String {
    m.map_or("—".into(), |m| {
        format!("{}{}", ns_text(m.median_ns), dagger(m.fresh))
    })
}

fn times_p(ns: Option<f64>, p: Option<f64>) -> String {
    match (ns, p) {
        (Some(ns), Some(p)) if p > 0.0 => factor(ns / p),
        _ => "—".into(),
    }
}

fn slower(m: Option<Measurement>, base: Option<Measurement>) -> String {
    match (m, base) {
        (Some(m), Some(b)) if b.median_ns > 0.0 => {
            format!("{} slower", factor(m.median_ns / b.median_ns))
        }
        _ => String::new(),
    }
}

fn goal_cell(o: Option<&Outcome>) -> String {
    o.map_or(String::new(), |o| {
        format!("{}: {}", target(o.target, o.unit), status(o.status))
    })
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Met => "**met**",
        Status::NotMet => "**not met**",
        Status::NotMeasured => "not measured",
    }
}

fn target(t: Target, unit: Unit) -> String {
    match t {
        Target::AtMost(v) => format!("≤ {}", value(v, unit)),
        Target::AtLeast(v) => format!("≥ {}", value(v, unit)),
    }
}

fn value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::TimesP => format!("{}P", factor(v)),
        Unit::Nanos => ns_text(v),
        Unit::Factor => factor(v),
    }
}

/// `2.35×`, `12.3×`, `1234×`.
pub fn factor(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}×")
    } else if v < 100.0 {
        format!("{v:.1}×")
    } else {
        format!("{v:.0}×")
    }
}

/// A duration in ns with a readable unit.
pub fn ns_text(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// `12.3 M`, `456 k`.
fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::LatencySummary;

    fn ctx() -> Context {
        Context {
            command: "scripts/perf-report.sh".into(),
            measurement_secs: 1.0,
            sim_note: "simulator: not measured".into(),
        }
    }

    fn machine() -> Machine {
        Machine {
            cores: 2,
            cpu: "Test CPU".into(),
            rustc: "rustc 1.95.0".into(),
            os: "linux".into(),
            commit: "abc".into(),
            load: Some([0.5, 0.4, 0.3]),
        }
    }

    #[test]
    fn units_read_well() {
        assert_eq!(ns_text(12.345), "12.3 ns");
        assert_eq!(ns_text(12_345.0), "12.35 µs");
        assert_eq!(ns_text(12_345_678.0), "12.35 ms");
        assert_eq!(factor(2.345), "2.35×");
        assert_eq!(factor(23.45), "23.4×");
        assert_eq!(factor(2345.0), "2345×");
        assert_eq!(si(2_500_000.0), "2.50 M");
    }

    #[test]
    fn report_has_machine_p_goals_and_group_rows() {
        let mut r = Results::default();
        r.insert(&ids::p("flat"), 10.0, true);
        r.insert(&ids::id(ids::FLAT, "table_warm_write"), 45.0, true);
        r.insert(&ids::id(ids::FLAT, "table_cold_write"), 90.0, false);
        r.insert(&ids::p("threads"), 10.0, true);
        r.insert(
            &ids::param_id(ids::THREADS, "manager_disjoint", 1),
            100.0,
            true,
        );
        r.insert(
            &ids::param_id(ids::THREADS, "manager_disjoint", 2),
            100.0,
            true,
        );
        let lat = LatencySummary {
            samples: 7,
            p50_ns: 8_000,
            p99_ns: 30_000,
            max_ns: 70_000,
        };
        r.insert_extra(&ids::wake_extra("same_path"), &lat, true);
        let md = render(&r, &machine(), &ctx());
        assert!(md.contains("**Machine:** nproc 2, Test CPU, rustc 1.95.0"));
        assert!(md.contains("| flat | 10.0 ns |"));
        // 45 / 10 = 4.5×P against ≤ 3×P, in the goal table and on the row.
        assert!(
            md.contains("| flat warm by path ≤ 3×P | 4.50×P | ≤ 3.00×P | **not met** |"),
            "{md}"
        );
        assert!(
            md.contains("| LockTable write, warm | 45.0 ns | 4.50× | ≤ 3.00×P: **not met** |"),
            "{md}"
        );
        assert!(md.contains("### Missed goals"));
        // Stale rows are marked and explained.
        assert!(md.contains("| LockTable write, cold | 90.0 ns † |"));
        assert!(md.contains("† left over from an earlier run"));
        // Throughput: 2 ops per 100 ns vs 1 op per 100 ns.
        assert!(md.contains("| LockManager, disjoint keys, 2 threads | 100.0 ns | 50.0 ns | 5.00× | 20.00 M/s | 2.00× | ≥ 1.80×: **met** |"), "{md}");
        assert!(
            md.contains("| blocked on the same path | 8.00 µs | 30.00 µs | 70.00 µs | 7 |"),
            "{md}"
        );
        assert!(md.contains("simulator: not measured"));
        assert!(md.contains("| LockTable depth 8, 10k other holds | — |"));
    }
}
