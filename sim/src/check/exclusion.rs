//! `exclusion`: no table ever grants a hold that an overlapping hold of another owner forbids
//! (levels and hierarchy: `specs/locking.md` Tables 1–3), in any tier.

use super::history::{who, Record};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;

/// See the module docs.
pub struct Exclusion;

impl Invariant for Exclusion {
    fn name(&self) -> &'static str {
        "exclusion"
    }

    fn before(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        let Record::Granted {
            tier,
            owner,
            path,
            level,
            ..
        } = *r
        else {
            return;
        };
        if let Some((p, other, held)) = ctx
            .state
            .conflicting_holds(ctx.paths, tier, path, owner, level)
            .first()
        {
            found.fail(
                at,
                format!(
                    "tier {tier}: {} got {level} on {} while {} holds {held} on {}",
                    who(owner),
                    ctx.paths.path(path),
                    who(*other),
                    ctx.paths.path(*p)
                ),
            );
        }
    }
}
