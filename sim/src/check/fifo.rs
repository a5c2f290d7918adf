//! `fifo`: a request is never granted past an older queued request of another owner it must
//! wait behind (FIFO per conflict), unless its owner already holds exactly that path.

use super::history::{who, Record};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;

/// See the module docs.
pub struct Fifo;

impl Invariant for Fifo {
    fn name(&self) -> &'static str {
        "fifo"
    }

    fn before(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        let Record::Granted {
            tier,
            ticket,
            owner,
            path,
            level,
            ..
        } = *r
        else {
            return;
        };
        if ctx.state.hold(tier, owner, path).is_some() {
            return;
        }
        let older = ctx
            .state
            .earlier_conflicting_pending(ctx.paths, tier, path, owner, level, ticket);
        if let Some(q) = older.first() {
            found.fail(
                at,
                format!(
                    "tier {tier}: {} got {level} on {} past {}'s older queued {} on {} (ticket {})",
                    who(owner),
                    ctx.paths.path(path),
                    who(q.owner),
                    q.level,
                    ctx.paths.path(q.path),
                    q.ticket
                ),
            );
        }
    }
}
