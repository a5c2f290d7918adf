//! `progress-monotonic`: the progress a job reports never goes down (not even across a server
//! restart), and a job reported done stays done at 100%.

use super::history::Record;
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(Default)]
pub struct ProgressMonotonic {
    last: BTreeMap<u64, (u16, bool)>,
}

impl Invariant for ProgressMonotonic {
    fn name(&self) -> &'static str {
        "progress-monotonic"
    }

    fn after(&mut self, _ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        let Record::JobReply {
            job,
            permille,
            done,
        } = *r
        else {
            return;
        };
        if done && permille != 1000 {
            found.fail(at, format!("job {job} reported done at {permille}‰"));
        }
        if let Some(&(before, was_done)) = self.last.get(&job) {
            if permille < before {
                found.fail(
                    at,
                    format!("job {job} progress went back from {before}‰ to {permille}‰"),
                );
            }
            if was_done && !done {
                found.fail(at, format!("job {job} reported pending after it was done"));
            }
        }
        self.last.insert(job, (permille, done));
    }
}
