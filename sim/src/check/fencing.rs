//! `fencing`: every grant of a table carries a token greater than all before it; a fenced
//! write is accepted only with a token of a hold that is still live (never under an expired
//! or released lease); and the writes accepted for one resource carry non-decreasing tokens.

use super::history::{who, PathId, Record, Tier};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(Default)]
pub struct Fencing {
    last_grant: BTreeMap<Tier, u64>,
    last_write: BTreeMap<PathId, u64>,
}

impl Invariant for Fencing {
    fn name(&self) -> &'static str {
        "fencing"
    }

    fn before(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        match *r {
            Record::Granted {
                tier,
                owner,
                path,
                fence,
                ..
            } => {
                let last = self.last_grant.entry(tier).or_default();
                if fence <= *last {
                    found.fail(
                        at,
                        format!("tier {tier}: {} granted on {} with token {fence}, not above the previous grant's {last}", who(owner), ctx.paths.path(path)),
                    );
                }
                *last = (*last).max(fence);
            }
            Record::FencedWrite { path, owner, fence } => {
                let live = ctx
                    .state
                    .hold(super::history::SERVER, owner, path)
                    .is_some_and(|h| h.fences.contains(&fence));
                if !live {
                    found.fail(
                        at,
                        format!("write by {} on {} with token {fence} accepted, but that lease is no longer held (expired or released)", who(owner), ctx.paths.path(path)),
                    );
                }
                let last = self.last_write.entry(path).or_default();
                if fence < *last {
                    found.fail(
                        at,
                        format!(
                            "{} accepted token {fence} after token {last}",
                            ctx.paths.path(path)
                        ),
                    );
                }
                *last = (*last).max(fence);
            }
            Record::TierReset { tier } => {
                // A crashed workstation's table is a new table: its tokens start over.
                self.last_grant.remove(&tier);
            }
            _ => {}
        }
    }
}
