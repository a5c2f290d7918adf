//! Findings the figures of a run point to beyond the goals, each shown only when the run
//! shows it (so a fixed problem drops out of the next report by itself).

use super::results::Results;
use crate::ids;

/// A finding: what the figures show and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// One-line summary with the figures.
    pub title: String,
    /// Cause and remedy.
    pub detail: &'static str,
}

/// The findings `results` supports.
pub fn observe(results: &Results) -> Vec<Observation> {
    let mut out = Vec::new();
    let f = |id: String| results.fresh(&id);
    let refused = f(ids::id(ids::HIER_DIR, "table_others_refused"));
    let granted = f(ids::id(ids::HIER_DIR, "table_own_granted"));
    if let (Some(refused), Some(granted)) = (refused, granted) {
        if refused > 20.0 * granted {
            out.push(Observation {
                title: format!(
                    "A refused try-lock on a directory with 10k held descendants costs {} (a \
                     granted one {}).",
                    super::render::ns_text(refused),
                    super::render::ns_text(granted)
                ),
                detail: REFUSED_DIR,
            });
        }
    }
    let same = |n: usize| f(ids::param_id(ids::THREADS, "manager_same_key", n));
    if let (Some(one), Some(two)) = (same(1), same(2)) {
        // Per operation: a 2-thread iteration is two operations.
        if two / 2.0 > 10.0 * one {
            out.push(Observation {
                title: format!(
                    "Two threads on one key run at {} per operation, one thread at {}.",
                    super::render::ns_text(two / 2.0),
                    super::render::ns_text(one)
                ),
                detail: CONVOY,
            });
        }
    }
    let empty = f(ids::param_id(
        ids::HIER,
        &ids::hier_table(0),
        ids::SCAN_DEPTH,
    ));
    let hundred = f(ids::param_id(
        ids::HIER,
        &ids::hier_table(100),
        ids::SCAN_DEPTH,
    ));
    if let (Some(empty), Some(hundred)) = (empty, hundred) {
        if empty > 1.15 * hundred {
            out.push(Observation {
                title: format!(
                    "At depth {} LockTable is slower with no other holds ({}) than with 100 \
                     ({}).",
                    ids::SCAN_DEPTH,
                    super::render::ns_text(empty),
                    super::render::ns_text(hundred)
                ),
                detail: EMPTY_SLOWER,
            });
        }
    }
    let table = f(ids::id(ids::FLAT, "table_warm_write"));
    let manager = f(ids::id(ids::FLAT, "manager_warm_write"));
    if let (Some(table), Some(manager)) = (table, manager) {
        if manager > 1.5 * table {
            out.push(Observation {
                title: format!(
                    "LockManager adds {} to an uncontended lock + release over the bare table.",
                    super::render::ns_text(manager - table)
                ),
                detail: MANAGER,
            });
        }
    }
    out
}

const REFUSED_DIR: &str = "`LockTable::decide` computes the full, sorted list of blockers \
(every conflicting holder below the directory, collected into a `BTreeSet`) for the \
`WouldBlock` error, although the census check already knew the answer in O(depth). The list \
is part of the error (callers are told who blocks them), so a refusal costs O(blockers); \
capping it, or computing it lazily for callers that ask, would make refusals O(depth).";

const EMPTY_SLOWER: &str = "Before 81fa35a profiles put `Tree::count` at 47% of the time with \
no other holds: it inserted and removed the owner's share at each ancestor in a hash map, and \
in an otherwise empty table that churn (most likely) left the map's probe sequences long. A \
node now keeps its first owner's share inline, so this case does no hash-map work at all; \
the same code runs with 0 and with 100 other holds, so a difference that remains is \
measurement noise (wall-clock time on this shared VM drifts by tens of percent within a \
minute: compare instruction counts, e.g. with callgrind, to judge a code change).";

const CONVOY: &str = "The queue is strictly FIFO and a release hands the lock to the oldest \
waiter, which is asleep on its condition variable: every operation becomes a kernel wake-up \
and a context switch (the lock convoy every fair lock has). parking_lot lets the running \
thread barge and stays in nanoseconds. This is the price of the no-starvation rule, not a \
bug; a short spin before sleeping would let hand-offs that finish quickly skip the kernel.";

const MANAGER: &str = "Inside the facade mutex the manager reads the system clock and, on an \
immediate grant, builds the guard, which clones the path (an allocation) and the shared `Arc`; \
the guard's drop takes the mutex again and reads the clock again. Building the guard after \
unlocking and keeping the path in the table's node (a handle in the guard instead of a clone) \
would remove the allocation and shorten the critical section.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_appear_only_when_the_figures_show_them() {
        let mut r = Results::default();
        assert!(observe(&r).is_empty());
        r.insert(
            &ids::id(ids::HIER_DIR, "table_others_refused"),
            1_000_000.0,
            true,
        );
        r.insert(&ids::id(ids::HIER_DIR, "table_own_granted"), 150.0, true);
        r.insert(
            &ids::param_id(ids::THREADS, "manager_same_key", 1),
            400.0,
            true,
        );
        r.insert(
            &ids::param_id(ids::THREADS, "manager_same_key", 2),
            1_000.0,
            true,
        );
        let titles: Vec<String> = observe(&r).into_iter().map(|o| o.title).collect();
        assert_eq!(titles.len(), 1, "{titles:?}");
        assert!(titles[0].contains("1.00 ms"));
        r.insert(
            &ids::param_id(ids::THREADS, "manager_same_key", 2),
            16_000.0,
            true,
        );
        assert_eq!(observe(&r).len(), 2);
    }
}
