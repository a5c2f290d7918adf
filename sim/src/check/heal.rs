//! `heal-finishes`: by the end of the heal phase (no faults, no new operations) all work is
//! done: no upload queued, no job unfinished, no thread mid-operation, no server reservation
//! held and no request queued anywhere.

use super::history::{who, Record, SERVER};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;

/// See the module docs.
#[derive(Default)]
pub struct HealFinishes {
    ended: bool,
}

impl Invariant for HealFinishes {
    fn name(&self) -> &'static str {
        "heal-finishes"
    }

    fn after(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        let Record::End(end) = r else { return };
        self.ended = true;
        let mut left = Vec::new();
        if end.pending_uploads > 0 {
            left.push(format!("{} uploads pending", end.pending_uploads));
        }
        if end.unfinished_jobs > 0 {
            left.push(format!("{} jobs unfinished", end.unfinished_jobs));
        }
        if end.busy_threads > 0 {
            left.push(format!("{} threads mid-operation", end.busy_threads));
        }
        let holds: Vec<String> = ctx
            .state
            .holds_in(SERVER)
            .map(|(p, h)| format!("{} on {}", who(h.owner), ctx.paths.path(p)))
            .collect();
        if !holds.is_empty() {
            left.push(format!(
                "{} server reservations held ({})",
                holds.len(),
                holds[..holds.len().min(5)].join(", ")
            ));
        }
        let queued = ctx.state.all_pending().count();
        if queued > 0 {
            left.push(format!("{queued} lock requests still queued"));
        }
        if !left.is_empty() {
            found.fail(at, format!("after the heal phase: {}", left.join("; ")));
        }
    }

    fn finish(&mut self, _ctx: &Ctx, end: Nanos, found: &mut Found) {
        if !self.ended {
            found.fail(
                end,
                "the history has no end record: the run did not finish".to_string(),
            );
        }
    }
}
