//! `lost-wakeup`: when a table call is over, every request still queued waits for somebody
//! (a conflicting hold, or an older conflicting queued request). Checked at each `Settled`
//! for the requests overlapping whatever the call freed or queued.

use super::history::{who, PathId, Record, Tier};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::{BTreeMap, BTreeSet};

/// See the module docs.
#[derive(Default)]
pub struct LostWakeup {
    touched: BTreeMap<Tier, BTreeSet<PathId>>,
}

impl Invariant for LostWakeup {
    fn name(&self) -> &'static str {
        "lost-wakeup"
    }

    fn before(&mut self, ctx: &Ctx, _at: Nanos, r: &Record, _found: &mut Found) {
        // A timed-out request's path is only known before the model forgets it.
        if let Record::TimedOut { tier, ticket } = *r {
            if let Some(q) = ctx.state.pending(tier, ticket) {
                self.touched.entry(tier).or_default().insert(q.path);
            }
        }
    }

    fn after(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        match *r {
            Record::Queued { tier, path, .. }
            | Record::Released { tier, path, .. }
            | Record::Expired { tier, path, .. } => {
                self.touched.entry(tier).or_default().insert(path);
            }
            Record::Settled { tier } => {
                let Some(paths) = self.touched.remove(&tier) else {
                    return;
                };
                let mut seen = BTreeSet::new();
                for p in paths {
                    for q in ctx.state.pending_overlapping(ctx.paths, tier, p) {
                        if seen.insert(q.ticket) && !ctx.state.is_blocked(ctx.paths, tier, q) {
                            found.fail(
                                at,
                                format!(
                                    "tier {tier}: {} waits for {} on {} (ticket {}, queued at {}) but nobody blocks it",
                                    who(q.owner),
                                    q.level,
                                    ctx.paths.path(q.path),
                                    q.ticket,
                                    crate::engine::fmt_time(q.since).trim()
                                ),
                            );
                        }
                    }
                }
            }
            Record::TierReset { tier } => {
                self.touched.remove(&tier);
            }
            _ => {}
        }
    }
}
