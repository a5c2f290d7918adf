//! Pending deadlines (request timeouts and lease expiries), ordered so the earliest is found
//! in O(log n) and processing order is deterministic.

use crate::time::Time;
use std::collections::BTreeSet;

/// What falls due. At the same instant expiries are processed before timeouts, so a waiter
/// whose deadline coincides with the expiry of its blocker is granted rather than refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Deadline {
    /// A lease ends; the id is the lease's first fencing token.
    Expiry,
    /// A queued request gives up; the id is its ticket.
    Timeout,
}

#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    set: BTreeSet<(Time, Deadline, u64)>,
}

impl Deadlines {
    pub(crate) fn insert(&mut self, at: Time, kind: Deadline, id: u64) {
        self.set.insert((at, kind, id));
    }

    pub(crate) fn remove(&mut self, at: Time, kind: Deadline, id: u64) {
        self.set.remove(&(at, kind, id));
    }

    pub(crate) fn next(&self) -> Option<Time> {
        self.set.first().map(|e| e.0)
    }

    /// Removes and returns the earliest deadline at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Time) -> Option<(Deadline, u64)> {
        let &(at, kind, id) = self.set.first()?;
        if at > now {
            return None;
        }
        self.set.pop_first();
        Some((kind, id))
    }
}
