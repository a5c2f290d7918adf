//! What the report shows: its groups, their rows, and which bench binary's P each divides by.

use crate::fixtures::{DEPTHS, HOLD_COUNTS};
use crate::ids::{self, DIR_DESCENDANTS, SCAN_DEPTH, SWEEP_LEASES, THREAD_COUNTS};

/// How a group's rows are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Time per operation.
    Time,
    /// Operations per second across threads, and scaling against one thread.
    Throughput,
    /// Latency percentiles recorded by the bench.
    Latency,
    /// Whole simulator runs: events per run and events per second.
    Events,
}

/// One line of a group's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Criterion id.
    pub id: String,
    /// What it measures, for the reader.
    pub label: String,
    /// Operations per criterion iteration (threads × ops, leases swept, …).
    pub ops: f64,
    /// A row this one is compared with ("vs" column): scaling base or slower baseline.
    pub base: Option<String>,
    /// Name of the extra latency file, for [`Kind::Latency`] rows.
    pub latency: Option<String>,
    /// Name of the extra event-count file giving the operations per iteration, for
    /// [`Kind::Events`] rows.
    pub events: Option<String>,
}

impl Row {
    fn new(id: String, label: impl Into<String>) -> Row {
        Row {
            id,
            label: label.into(),
            ops: 1.0,
            base: None,
            latency: None,
            events: None,
        }
    }

    fn ops(mut self, ops: usize) -> Row {
        self.ops = ops as f64;
        self
    }

    fn base(mut self, base: String) -> Row {
        self.base = Some(base);
        self
    }
}

/// One table of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Heading.
    pub title: &'static str,
    /// What the group measures and how.
    pub about: &'static str,
    /// The bench binary that measures it, whose P its ratios use.
    pub binary: &'static str,
    /// How to read its rows.
    pub kind: Kind,
    /// Its rows, in order.
    pub rows: Vec<Row>,
}

/// Every group of the report, in order.
pub fn groups() -> Vec<Group> {
    vec![
        flat(),
        hierarchy(),
        directory(),
        leases(),
        threads(),
        wake(),
        sim(),
    ]
}

fn flat() -> Group {
    let f = |name: &str, label: &str| Row::new(ids::id(ids::FLAT, name), label);
    Group {
        title: "Flat reservation by path",
        about: "One acquire + release of a depth-1 path `/key-42` (or of a key string for the \
                baselines) by one thread, no contention. Warm: the entry already exists. Cold: \
                65,536 keys in rotation, so every acquire creates the entry and release drops it \
                (LockTable prunes vacant nodes in batches of 1024). Table rows go through \
                `LockModel::try_request`/`release` at a fixed `Time`; manager rows through \
                `LockManager` (facade mutex, guard, system clock).",
        binary: "flat",
        kind: Kind::Time,
        rows: vec![
            f("table_warm_write", "LockTable write, warm"),
            f("table_warm_read", "LockTable read, warm"),
            f("table_cold_write", "LockTable write, cold"),
            f("table_cold_read", "LockTable read, cold"),
            f(
                "table_reentrant_write",
                "LockTable write, re-entrant (owner already holds it)",
            ),
            f("manager_warm_write", "LockManager lock + guard drop, warm"),
            f(
                "manager_release_other_thread",
                "LockManager lock here, guard dropped on another thread",
            ),
            f("std_rwlock_write", "baseline: std RwLock write"),
            f("std_rwlock_read", "baseline: std RwLock read"),
            f("parking_lot_read", "baseline: parking_lot RwLock read"),
            f(
                "mutex_map_warm_write",
                "baseline: Mutex<FxHashMap<String, count>> write, warm",
            ),
            f(
                "mutex_map_cold_write",
                "baseline: Mutex<FxHashMap<String, count>> write, cold",
            ),
            f("dashmap_warm_write", "baseline: DashMap table write, warm"),
            f("dashmap_cold_write", "baseline: DashMap table write, cold"),
            f("scan_write", "baseline: scan table write, empty table"),
        ],
    }
}

fn hierarchy() -> Group {
    let mut rows = Vec::new();
    for holds in HOLD_COUNTS {
        for depth in DEPTHS {
            rows.push(Row::new(
                ids::param_id(ids::HIER, &ids::hier_table(holds), depth),
                format!("LockTable depth {depth}, {} other holds", count(holds)),
            ));
        }
    }
    for holds in HOLD_COUNTS {
        let id = ids::param_id(ids::HIER, &ids::hier_scan(holds), SCAN_DEPTH);
        let table = ids::param_id(ids::HIER, &ids::hier_table(holds), SCAN_DEPTH);
        rows.push(
            Row::new(
                id,
                format!(
                    "scan table depth {SCAN_DEPTH}, {} other holds",
                    count(holds)
                ),
            )
            .base(table),
        );
    }
    Group {
        title: "Hierarchical write by depth and other holds",
        about: "Write acquire + release of `/w/l1/…` at the given depth, warm, while other owners \
                hold 0 to 100k paths under `/o` (none overlapping). The scan table is Partyline's \
                design: a list of held (path, level, owner) scanned with segment-prefix checks; \
                its \"vs\" column is how many times slower it is than LockTable at the same \
                depth and holds.",
        binary: "hierarchy",
        kind: Kind::Time,
        rows,
    }
}

fn directory() -> Group {
    let f = |name: &str, label: String| Row::new(ids::id(ids::HIER_DIR, name), label);
    let n = count(DIR_DESCENDANTS);
    Group {
        title: "Directory write over held descendants",
        about: "A write on `/dir` while 10k paths below it are held. Held by other owners the \
                write is refused (try-lock); held by the requesting owner itself it is granted and \
                released. The scan table stops at the first conflict, so its refusal is cheap; \
                its grant scans every hold.",
        binary: "hierarchy",
        kind: Kind::Time,
        rows: vec![
            f(
                "table_others_refused",
                format!("LockTable, {n} descendants of other owners: refused"),
            ),
            f(
                "table_own_granted",
                format!("LockTable, {n} own descendants: granted + release"),
            ),
            f(
                "scan_others_refused",
                format!("scan table, {n} descendants of other owners: refused"),
            )
            .base(ids::id(ids::HIER_DIR, "table_others_refused")),
            f(
                "scan_own_granted",
                format!("scan table, {n} own descendants: granted + release"),
            )
            .base(ids::id(ids::HIER_DIR, "table_own_granted")),
        ],
    }
}

fn leases() -> Group {
    let f = |name: &str, label: String| Row::new(ids::id(ids::LEASES, name), label);
    Group {
        title: "Leases",
        about: "LockTable leases: a write lease granted and released; a renew (the clock moves \
                1 ns per renew) alone and among 10k other leases; and one `advance` that expires \
                10k leases at once (setup not timed; \"per op\" is per lease).",
        binary: "leases",
        kind: Kind::Time,
        rows: vec![
            f("grant_release", "lease grant + release".into()),
            f("renew", "renew, only lease".into()),
            f("renew_among_10k", "renew among 10k leases".into()),
            f(
                "expiry_sweep_10k",
                format!("expiry sweep of {} leases", count(SWEEP_LEASES)),
            )
            .ops(SWEEP_LEASES),
        ],
    }
}

/// The scenarios of the throughput group: function name and label.
pub const THREAD_SCENARIOS: [(&str, &str); 6] = [
    ("manager_same_key", "LockManager, same key"),
    ("manager_disjoint", "LockManager, disjoint keys"),
    (
        "manager_subtree_leaves",
        "LockManager, different leaves of one subtree",
    ),
    (
        "parking_lot_same_key",
        "baseline: parking_lot RwLock, same lock",
    ),
    (
        "parking_lot_disjoint",
        "baseline: parking_lot RwLock, one lock per thread",
    ),
    ("dashmap_disjoint", "baseline: DashMap table, disjoint keys"),
];

fn threads() -> Group {
    let mut rows = Vec::new();
    for (name, label) in THREAD_SCENARIOS {
        let one = ids::param_id(ids::THREADS, name, 1);
        for n in THREAD_COUNTS {
            let id = ids::param_id(ids::THREADS, name, n);
            rows.push(
                Row::new(
                    id,
                    format!("{label}, {n} thread{}", if n == 1 { "" } else { "s" }),
                )
                .ops(n)
                .base(one.clone()),
            );
        }
    }
    Group {
        title: "Threads: throughput",
        about: "Each thread, as its own owner, loops write lock + release (LockManager: \
                `lock(.., Wait::Forever)` and guard drop). One iteration is one operation per \
                thread, so \"per op\" is wall time / operations. \"vs\" is throughput relative \
                to one thread of the same scenario. The machine has the cores listed below; \
                4 threads on 2 cores oversubscribe on purpose.",
        binary: "threads",
        kind: Kind::Throughput,
        rows,
    }
}

fn wake() -> Group {
    let f = |name: &str, label: &str| {
        let mut row = Row::new(ids::id(ids::WAKE, name), label);
        row.latency = Some(ids::wake_extra(name));
        row
    };
    Group {
        title: "Release → wake latency",
        about: "A waiter thread blocks in `LockManager::lock`; once it is queued (and has had 50 µs \
                to fall asleep) the holder records the time and drops its guard; the waiter records \
                the time it returns. Percentiles over every iteration (hdrhistogram); \"median\" \
                is criterion's time for a whole cycle (lock, hand-off, wake, release).",
        binary: "wake",
        kind: Kind::Latency,
        rows: vec![
            f("same_path", "blocked on the same path"),
            f("ancestor", "blocked by a write on an ancestor directory"),
        ],
    }
}

fn sim() -> Group {
    let mut row = Row::new(
        ids::id(ids::SIM, ids::SIM_DEFAULT),
        "default studio workload, seed 1",
    );
    row.events = Some(ids::SIM_EVENTS.into());
    Group {
        title: "Simulator throughput",
        about: "`lockstudio_sim::simulate` on the embedded default workload, the same seed every \
                iteration (so every run processes the same events), tracing off. Wall-clock \
                speed of the simulator only; its simulated-time metrics are in the simulator's \
                own reports.",
        binary: "sim",
        kind: Kind::Events,
        rows: vec![row],
    }
}

/// `10k`, `100k`, or the plain number.
pub fn count(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for group in groups() {
            for row in group.rows {
                assert!(seen.insert(row.id.clone()), "duplicate row {}", row.id);
            }
        }
        assert!(seen.len() > 60);
    }

    #[test]
    fn counts_are_short() {
        assert_eq!(count(0), "0");
        assert_eq!(count(100), "100");
        assert_eq!(count(10_000), "10k");
        assert_eq!(count(100_000), "100k");
    }
}
