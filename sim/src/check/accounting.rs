//! `hold-accounting`: the tables only ever take back what was given. A release, an expiry,
//! a grant from the queue or a timeout must name a hold or queued request the history says
//! exists; otherwise the table lost track (and some other owner's hold may be gone).

use super::history::{who, Record};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;

/// See the module docs.
pub struct Accounting;

impl Invariant for Accounting {
    fn name(&self) -> &'static str {
        "hold-accounting"
    }

    fn before(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        let s = ctx.state;
        let problem = match *r {
            Record::Released {
                tier,
                owner,
                path,
                level,
            } => {
                let held = s
                    .hold(tier, owner, path)
                    .is_some_and(|h| h.counts[level.index()] > 0);
                (!held).then(|| {
                    format!(
                        "tier {tier}: {} released {level} on {} without holding it",
                        who(owner),
                        ctx.paths.path(path)
                    )
                })
            }
            Record::Expired {
                tier, owner, path, ..
            } => s.hold(tier, owner, path).is_none().then(|| {
                format!(
                    "tier {tier}: a lease of {} on {} expired that was not held",
                    who(owner),
                    ctx.paths.path(path)
                )
            }),
            Record::Granted {
                tier,
                ticket: Some(t),
                owner,
                path,
                level,
                ..
            } => match s.pending(tier, t) {
                Some(q) if q.owner == owner && q.path == path && q.level == level => None,
                Some(_) => Some(format!(
                    "tier {tier}: ticket {t} granted to a different request than was queued"
                )),
                None => Some(format!(
                    "tier {tier}: ticket {t} granted but it was not queued"
                )),
            },
            Record::TimedOut { tier, ticket } => s
                .pending(tier, ticket)
                .is_none()
                .then(|| format!("tier {tier}: ticket {ticket} timed out but it was not queued")),
            Record::Queued { tier, ticket, .. } => s
                .pending(tier, ticket)
                .is_some()
                .then(|| format!("tier {tier}: ticket {ticket} queued twice")),
            _ => None,
        };
        if let Some(detail) = problem {
            found.fail(at, detail);
        }
    }
}
