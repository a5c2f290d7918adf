//! `pending-status`: a client waiting for a job hears back within `Params::first_reply` of
//! submitting it (the 3-second rule: done, or pending with progress), unless the server was
//! restarting in between; and every waited-for job gets an answer (a server restart drops
//! the waiting connections: those clients poll again, there is no first answer to time).

use super::history::Record;
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(Default)]
pub struct PendingStatus {
    /// job → submission time, for waited jobs not yet answered
    waiting: BTreeMap<u64, Nanos>,
    /// server outages as (start, end)
    down: Vec<(Nanos, Nanos)>,
}

impl Invariant for PendingStatus {
    fn name(&self) -> &'static str {
        "pending-status"
    }

    fn after(&mut self, ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        match *r {
            Record::ServerDown { until } => {
                self.down.push((at, until));
                // Clients still waiting for a first answer lose their connection: the rule
                // is about an answer on an unbroken connection; they poll again later.
                self.waiting.clear();
            }
            Record::JobSubmitted { job, waited: true } => {
                self.waiting.insert(job, at);
            }
            Record::JobReply { job, .. } => {
                let Some(since) = self.waiting.remove(&job) else {
                    return;
                };
                let outage = self.down.iter().any(|&(a, b)| a <= at && b >= since);
                if at - since > ctx.params.first_reply && !outage {
                    found.fail(
                        at,
                        format!(
                            "job {job} answered first {} ms after submission (bound {} ms)",
                            (at - since) / 1_000_000,
                            ctx.params.first_reply / 1_000_000
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, _ctx: &Ctx, end: Nanos, found: &mut Found) {
        if let Some((job, since)) = self.waiting.first_key_value() {
            found.fail(
                end,
                format!(
                    "{} waited-for jobs never got an answer (first: job {job}, submitted at {})",
                    self.waiting.len(),
                    crate::engine::fmt_time(*since).trim()
                ),
            );
        }
    }
}
