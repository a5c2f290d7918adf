//! `crash-cleanup`: every server reservation of a crashed workstation is gone within the
//! bound (`Params::crash_cleanup`: lease TTL + the longest queue wait + grace) after the crash.

use super::history::{station_of, who, Record, SERVER};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(Default)]
pub struct CrashCleanup {
    /// deadline → (workstation, incarnation, crash time)
    due: BTreeMap<(Nanos, u32, u32), Nanos>,
}

impl CrashCleanup {
    fn check_due(&mut self, ctx: &Ctx, now: Nanos, found: &mut Found) {
        while let Some((&(deadline, ws, inc), &crashed)) = self.due.first_key_value() {
            if deadline >= now {
                return;
            }
            self.due.pop_first();
            let left: Vec<String> = ctx
                .state
                .holds_in(SERVER)
                .filter(|(_, h)| station_of(h.owner) == (ws, inc))
                .map(|(p, h)| format!("{} on {}", who(h.owner), ctx.paths.path(p)))
                .collect();
            if !left.is_empty() {
                found.fail(
                    deadline,
                    format!(
                        "workstation {ws} crashed at {} but {} of its server reservations outlived the bound: {}",
                        crate::engine::fmt_time(crashed).trim(),
                        left.len(),
                        left.join(", ")
                    ),
                );
            }
        }
    }
}

impl Invariant for CrashCleanup {
    fn name(&self) -> &'static str {
        "crash-cleanup"
    }

    fn before(&mut self, ctx: &Ctx, at: Nanos, _r: &Record, found: &mut Found) {
        self.check_due(ctx, at, found);
    }

    fn after(&mut self, ctx: &Ctx, at: Nanos, r: &Record, _found: &mut Found) {
        if let Record::Crashed { ws, incarnation } = *r {
            self.due
                .insert((at + ctx.params.crash_cleanup, ws, incarnation), at);
        }
    }

    fn finish(&mut self, ctx: &Ctx, end: Nanos, found: &mut Found) {
        self.check_due(ctx, end.saturating_add(1), found);
    }
}
