//! Invariants, checked from a run's recorded [`History`] after the run, one module each.
//!
//! The driver replays the records once, keeping the checkers' own model of every lock table
//! ([`LockState`]), and shows each record to every invariant before and after the model
//! applies it. Any violation fails the run.

mod accounting;
mod crash_cleanup;
mod exactly_once;
mod exclusion;
mod fencing;
mod fifo;
mod heal;
pub mod history;
mod lost_wakeup;
mod partial;
mod pending;
mod progress;
pub mod state;

pub use history::{EndState, History, Params, PathId, PathTable, Record, Resource, Tier};
pub use state::LockState;

use crate::engine::Nanos;
use serde::Serialize;

/// Most violations kept per invariant: the first ones tell the story, the rest is noise.
const MAX_PER_INVARIANT: usize = 20;

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Simulated time, ns.
    pub at: Nanos,
    /// Which invariant.
    pub invariant: &'static str,
    /// What was seen.
    pub detail: String,
}

/// What an invariant sees: the paths, the lock model (before or after the record, as the hook
/// says) and the workload's bounds.
pub struct Ctx<'a> {
    /// The history's paths.
    pub paths: &'a PathTable,
    /// The checkers' model of every lock table.
    pub state: &'a LockState,
    /// The workload's bounds.
    pub params: Params,
}

/// Where an invariant writes what it found.
pub struct Found<'a> {
    name: &'static str,
    out: &'a mut Vec<Violation>,
}

impl Found<'_> {
    /// Reports a violation at `at`.
    pub fn fail(&mut self, at: Nanos, detail: String) {
        self.out.push(Violation {
            at,
            invariant: self.name,
            detail,
        });
    }
}

/// One invariant over the history. Each hook has a default that does nothing.
pub trait Invariant {
    /// Its name in reports.
    fn name(&self) -> &'static str;
    /// Sees `r` before the lock model applies it.
    fn before(&mut self, _ctx: &Ctx, _at: Nanos, _r: &Record, _found: &mut Found) {}
    /// Sees `r` after the lock model applied it.
    fn after(&mut self, _ctx: &Ctx, _at: Nanos, _r: &Record, _found: &mut Found) {}
    /// The history is over; `end` is the time of its last record.
    fn finish(&mut self, _ctx: &Ctx, _end: Nanos, _found: &mut Found) {}
}

/// Every invariant, in report order.
pub fn all() -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(exclusion::Exclusion),
        Box::new(fifo::Fifo),
        Box::new(lost_wakeup::LostWakeup::default()),
        Box::new(accounting::Accounting),
        Box::new(fencing::Fencing::default()),
        Box::new(exactly_once::ExactlyOnce::default()),
        Box::new(partial::NoPartialImage::default()),
        Box::new(crash_cleanup::CrashCleanup::default()),
        Box::new(progress::ProgressMonotonic::default()),
        Box::new(pending::PendingStatus::default()),
        Box::new(heal::HealFinishes::default()),
    ]
}

/// The names of every invariant, in report order.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|i| i.name()).collect()
}

/// Checks `h` against every invariant.
pub fn check(h: &History) -> Vec<Violation> {
    check_with(h, all())
}

/// Checks `h` against the one invariant called `name` (none if there is no such invariant).
pub fn check_one(h: &History, name: &str) -> Vec<Violation> {
    check_with(h, all().into_iter().filter(|i| i.name() == name).collect())
}

/// Checks `h` against `invariants`; violations come back in time order (stable by invariant
/// order for equal times), at most [`MAX_PER_INVARIANT`] per invariant.
pub fn check_with(h: &History, mut invariants: Vec<Box<dyn Invariant>>) -> Vec<Violation> {
    let mut found: Vec<Vec<Violation>> = invariants.iter().map(|_| Vec::new()).collect();
    let mut state = LockState::default();
    let mut end = 0;
    for (at, r) in &h.records {
        end = *at;
        {
            let ctx = Ctx {
                paths: &h.paths,
                state: &state,
                params: h.params,
            };
            for (inv, out) in invariants.iter_mut().zip(found.iter_mut()) {
                let mut f = Found {
                    name: inv.name(),
                    out,
                };
                inv.before(&ctx, *at, r, &mut f);
            }
        }
        state.apply(&h.paths, *at, r);
        let ctx = Ctx {
            paths: &h.paths,
            state: &state,
            params: h.params,
        };
        for (inv, out) in invariants.iter_mut().zip(found.iter_mut()) {
            let mut f = Found {
                name: inv.name(),
                out,
            };
            inv.after(&ctx, *at, r, &mut f);
        }
    }
    let ctx = Ctx {
        paths: &h.paths,
        state: &state,
        params: h.params,
    };
    for (inv, out) in invariants.iter_mut().zip(found.iter_mut()) {
        let mut f = Found {
            name: inv.name(),
            out,
        };
        inv.finish(&ctx, end, &mut f);
    }
    let mut all: Vec<Violation> = found
        .into_iter()
        .flat_map(|v| v.into_iter().take(MAX_PER_INVARIANT))
        .collect();
    all.sort_by_key(|v| v.at);
    all
}
