//! The performance goals, evaluated on one run. Goals are tracked, not asserted: a
//! missed goal is reported with why it is missed and what would close it.

use super::results::Results;
use crate::fixtures::DEPTHS;
use crate::ids::{self, SCAN_DEPTH};

/// Which way a goal points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The measured value must be at most this.
    AtMost(f64),
    /// The measured value must be at least this.
    AtLeast(f64),
}

/// The unit a goal's value is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Multiples of P.
    TimesP,
    /// Nanoseconds.
    Nanos,
    /// A plain factor.
    Factor,
}

/// Whether a goal is met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Met in this run.
    Met,
    /// Missed in this run.
    NotMet,
    /// A result it needs is missing or stale.
    NotMeasured,
}

/// One goal and its outcome in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Short name.
    pub name: &'static str,
    /// The row its value is computed from (its goal column shows it), if a single row.
    pub row: Option<String>,
    /// The measured value.
    pub value: Option<f64>,
    /// The goal.
    pub target: Target,
    /// The unit of value and target.
    pub unit: Unit,
    /// Met or not.
    pub status: Status,
    /// How the value is computed.
    pub how: &'static str,
    /// Why it is missed and what would close it; shown only when missed.
    pub if_missed: &'static str,
}

/// Parts of a goal that do not depend on the run.
struct Goal {
    name: &'static str,
    row: Option<String>,
    target: Target,
    unit: Unit,
    how: &'static str,
    if_missed: &'static str,
}

impl Goal {
    fn judge(self, value: Option<f64>) -> Outcome {
        let status = match (value, self.target) {
            (None, _) => Status::NotMeasured,
            (Some(v), Target::AtMost(t)) if v <= t => Status::Met,
            (Some(v), Target::AtLeast(t)) if v >= t => Status::Met,
            (Some(_), _) => Status::NotMet,
        };
        Outcome {
            name: self.name,
            row: self.row,
            value,
            target: self.target,
            unit: self.unit,
            status,
            how: self.how,
            if_missed: self.if_missed,
        }
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Least-squares slope of `(x, y)` points, `None` with fewer than two distinct x.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Evaluates every goal on `results`.
pub fn evaluate(results: &Results) -> Vec<Outcome> {
    let p = |binary: &str| results.fresh(&ids::p(binary));
    let hier = |holds: usize, depth: usize| {
        results.fresh(&ids::param_id(ids::HIER, &ids::hier_table(holds), depth))
    };
    let flat_warm = ids::id(ids::FLAT, "table_warm_write");
    let depth8 = ids::param_id(ids::HIER, &ids::hier_table(0), SCAN_DEPTH);
    let depth8_10k = ids::param_id(ids::HIER, &ids::hier_table(10_000), SCAN_DEPTH);
    let scan_10k = ids::param_id(ids::HIER, &ids::hier_scan(10_000), SCAN_DEPTH);
    let disjoint = |n: usize| results.fresh(&ids::param_id(ids::THREADS, "manager_disjoint", n));
    let points: Vec<(f64, f64)> = DEPTHS
        .iter()
        .filter_map(|&d| hier(0, d).map(|ns| (d as f64, ns)))
        .collect();
    let wake_p99 = |name: &str| {
        results
            .latency(&ids::wake_extra(name))
            .filter(|(_, fresh)| *fresh)
            .map(|(l, _)| l.p99_ns as f64)
    };

    vec![
        Goal {
            name: "flat warm by path ≤ 3×P",
            row: Some(flat_warm.clone()),
            target: Target::AtMost(3.0),
            unit: Unit::TimesP,
            how: "LockTable write acquire + release of a warm depth-1 path / P",
            if_missed: FLAT_MISSED,
        }
        .judge(ratio(results.fresh(&flat_warm), p("flat"))),
        Goal {
            name: "hierarchical depth 8 warm ≤ 15×P",
            row: Some(depth8.clone()),
            target: Target::AtMost(15.0),
            unit: Unit::TimesP,
            how: "LockTable write at depth 8, no other holds / P",
            if_missed: DEPTH8_MISSED,
        }
        .judge(ratio(results.fresh(&depth8), p("hierarchy"))),
        Goal {
            name: "≤ 35 ns per extra level",
            row: None,
            target: Target::AtMost(35.0),
            unit: Unit::Nanos,
            how: "least-squares slope of LockTable write time over depths 1–32, no other holds",
            if_missed: SLOPE_MISSED,
        }
        .judge(slope(&points)),
        Goal {
            name: "10k held vs 0 held ≤ 1.3×",
            row: Some(depth8_10k.clone()),
            target: Target::AtMost(1.3),
            unit: Unit::Factor,
            how: "LockTable write at depth 8 with 10k other holds / with none",
            if_missed: HELD_MISSED,
        }
        .judge(ratio(results.fresh(&depth8_10k), results.fresh(&depth8))),
        Goal {
            name: "≥ 100× faster than the scan table at 10k held",
            row: Some(scan_10k.clone()),
            target: Target::AtLeast(100.0),
            unit: Unit::Factor,
            how: "scan table / LockTable, write at depth 8 with 10k other holds",
            if_missed: SCAN_MISSED,
        }
        .judge(ratio(results.fresh(&scan_10k), results.fresh(&depth8_10k))),
        Goal {
            name: "2 threads on disjoint keys ≥ 1.8× one thread",
            row: Some(ids::param_id(ids::THREADS, "manager_disjoint", 2)),
            target: Target::AtLeast(1.8),
            unit: Unit::Factor,
            how: "LockManager throughput with 2 threads on disjoint keys / with 1",
            if_missed: THREADS_MISSED,
        }
        // Throughput is ops / time: 2 ops per 2-thread iteration, 1 per 1-thread iteration.
        .judge(ratio(disjoint(1).map(|t| 2.0 * t), disjoint(2))),
        Goal {
            name: "wake p99 ≤ 50 µs, same path",
            row: Some(ids::id(ids::WAKE, "same_path")),
            target: Target::AtMost(50_000.0),
            unit: Unit::Nanos,
            how: "99th percentile of release → waiter running, same path",
            if_missed: WAKE_MISSED,
        }
        .judge(wake_p99("same_path")),
        Goal {
            name: "wake p99 ≤ 50 µs, blocked by an ancestor",
            row: Some(ids::id(ids::WAKE, "ancestor")),
            target: Target::AtMost(50_000.0),
            unit: Unit::Nanos,
            how: "99th percentile of release → waiter running, waiter below the held directory",
            if_missed: WAKE_MISSED,
        }
        .judge(wake_p99("ancestor")),
    ]
}

const FLAT_MISSED: &str = "P is an uncontended compare-exchange to take and a store to give \
back. A LockTable acquire + release does far more: about 1,850 instructions at depth 1 \
(callgrind, 81fa35a), spread over walking the path twice (`ensure` on acquire, `find` on \
release: segment split, hash, string compare), `Tree::count` and `relist` updating the \
intention counts and active-child lists of the node and every ancestor, the held and waiting \
conflict walks, deadline bookkeeping and `wake_from` on release. The owner-share hash map that \
used to dominate `count` is gone from the common case (a node keeps its first owner's share \
inline since 81fa35a: 2,014 → 1,848 instructions at depth 1). What would close it: let \
release use the node the grant found instead of walking the path again, and skip the \
active-list and wake bookkeeping when a count does not cross zero.";

const DEPTH8_MISSED: &str = "Every extra level adds work to both halves: one segment \
split/hash/string compare in `ensure` and in `find` (now the largest share: `Split::next`, \
`memcmp`, `memchr` and the child-map hash are about 30% of the depth-8 profile), one census \
update and active-list check per ancestor in `count`/`relist` (about 25%), and one step of the \
conflict and wake walks. The inline owner share (81fa35a) took the depth-8 acquire + release \
from 7,696 to 6,717 instructions. What would close it: release by node (no second path walk) \
and resolving a path to its node once (lock by a pre-resolved handle) for callers that lock \
the same deep path repeatedly.";

const SLOPE_MISSED: &str = "Same cause as the depth-8 goal: per level, a segment hash and \
string compare in each of the two path walks and a census update plus active-list check on \
acquire and again on release (about 700 instructions per level in all, 81fa35a). Release by \
node handle would remove one of the two path walks.";

const HELD_MISSED: &str = "Holds elsewhere cost an O(depth) table nothing but cache \
misses: with 10k holds the nodes and hash maps no longer fit in L1/L2. What would close it: a \
denser node layout (counts apart from the children map, nodes in one arena slice).";

const SCAN_MISSED: &str = "The scan table is O(holds) and LockTable O(depth); a factor \
under 100 at 10k holds means LockTable's constant is too high. What would close it: the \
per-level fixes of the depth goals.";

const THREADS_MISSED: &str = "LockManager serialises every call on one facade mutex around \
one LockTable (on purpose: the table is a pure single-threaded state machine, so it can be \
model-checked), so two threads on disjoint keys take turns at that mutex and bounce its cache \
line and the table's between the two cores: together they do less than one thread alone. The \
critical section is also longer than it needs to be (clock read, guard construction with a \
path clone). What would close it: shard the manager, one table and mutex per shard chosen by \
the first path segment, with requests on `/` taking every shard in index order (the DashMap \
rows show what a sharded table does on the same machine). Shortening the critical section \
helps only a little while there is one mutex.";

const WAKE_MISSED: &str = "The waiter sleeps on a condition variable; its wake-up is a \
futex wake plus the scheduler putting the thread back on a core. On a loaded 2-core machine \
the p99 is scheduling delay, not the lock. What would close it: spin briefly before sleeping, \
and measure on an idle machine.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::LatencySummary;

    #[test]
    fn slope_of_a_line_is_its_gradient() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&x| (x, 10.0 + 30.0 * x))
            .collect();
        let s = slope(&points).unwrap_or(f64::NAN);
        assert!((s - 30.0).abs() < 1e-9, "{s}");
        assert_eq!(slope(&[(1.0, 2.0)]), None);
        assert_eq!(slope(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    fn full_run() -> Results {
        let mut r = Results::default();
        for bin in ["flat", "hierarchy", "threads"] {
            r.insert(&ids::p(bin), 10.0, true);
        }
        r.insert(&ids::id(ids::FLAT, "table_warm_write"), 25.0, true);
        for d in DEPTHS {
            r.insert(
                &ids::param_id(ids::HIER, &ids::hier_table(0), d),
                40.0 + 20.0 * d as f64,
                true,
            );
        }
        r.insert(
            &ids::param_id(ids::HIER, &ids::hier_table(10_000), 8),
            250.0,
            true,
        );
        r.insert(
            &ids::param_id(ids::HIER, &ids::hier_scan(10_000), 8),
            50_000.0,
            true,
        );
        r.insert(
            &ids::param_id(ids::THREADS, "manager_disjoint", 1),
            100.0,
            true,
        );
        r.insert(
            &ids::param_id(ids::THREADS, "manager_disjoint", 2),
            150.0,
            true,
        );
        let wake = LatencySummary {
            samples: 100,
            p50_ns: 10_000,
            p99_ns: 40_000,
            max_ns: 90_000,
        };
        r.insert_extra(&ids::wake_extra("same_path"), &wake, true);
        r.insert_extra(
            &ids::wake_extra("ancestor"),
            &LatencySummary {
                p99_ns: 60_000,
                ..wake
            },
            true,
        );
        r
    }

    #[test]
    fn goals_are_judged_in_their_direction() {
        let outcomes = evaluate(&full_run());
        let status: Vec<(&str, Status)> = outcomes.iter().map(|o| (o.name, o.status)).collect();
        assert_eq!(
            status,
            vec![
                ("flat warm by path ≤ 3×P", Status::Met), // 2.5×P
                ("hierarchical depth 8 warm ≤ 15×P", Status::NotMet), // 20×P
                ("≤ 35 ns per extra level", Status::Met), // 20 ns
                ("10k held vs 0 held ≤ 1.3×", Status::Met), // 1.25×
                ("≥ 100× faster than the scan table at 10k held", Status::Met), // 200×
                (
                    "2 threads on disjoint keys ≥ 1.8× one thread",
                    Status::NotMet
                ), // 1.33×
                ("wake p99 ≤ 50 µs, same path", Status::Met),
                ("wake p99 ≤ 50 µs, blocked by an ancestor", Status::NotMet),
            ]
        );
        let slope = outcomes[2].value.unwrap_or(f64::NAN);
        assert!((slope - 20.0).abs() < 1e-9);
    }

    #[test]
    fn stale_or_missing_results_are_not_measured() {
        let mut r = full_run();
        r.insert(&ids::id(ids::FLAT, "table_warm_write"), 25.0, false);
        let outcomes = evaluate(&r);
        assert_eq!(outcomes[0].status, Status::NotMeasured);
        let outcomes = evaluate(&Results::default());
        assert!(outcomes.iter().all(|o| o.status == Status::NotMeasured));
    }
}
