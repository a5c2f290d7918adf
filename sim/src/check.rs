//! Invariants checked from what the run records. Each check is a small method; any violation
//! fails the run and is reported with the time and the parties involved.

use crate::engine::Nanos;
use lockstudio::{Level, LockModel, LockPath, LockTable, Owner};
use serde::Serialize;
use std::collections::BTreeMap;

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

/// The checkers' memory of the run.
#[derive(Debug, Default)]
pub struct Checker {
    /// Violations found so far.
    pub violations: Vec<Violation>,
    acked: BTreeMap<u64, (u32, u64)>,
    deleted: BTreeMap<u64, ()>,
    stored: BTreeMap<u64, u32>,
    expiries: BTreeMap<(Owner, LockPath), Vec<(u64, Nanos)>>,
    last_token: BTreeMap<u32, u64>,
}

impl Checker {
    fn fail(&mut self, at: Nanos, invariant: &'static str, detail: String) {
        self.violations.push(Violation {
            at,
            invariant,
            detail,
        });
    }

    /// Mutual exclusion by level and hierarchy: the new hold and every other owner's hold
    /// on an overlapping path must be compatible in at least one order.
    pub fn granted(
        &mut self,
        table: &LockTable,
        owner: Owner,
        path: &LockPath,
        level: Level,
        at: Nanos,
    ) {
        for (p, h) in table.holds() {
            if h.owner == owner || !p.overlaps(path) {
                continue;
            }
            if level.blocked_by_hold(h.level) && h.level.blocked_by_hold(level) {
                let detail = format!(
                    "{owner} got {level} on {path} while {} holds {} on {p}",
                    h.owner, h.level
                );
                self.fail(at, "exclusion", detail);
            }
        }
    }

    /// No lost wake-up: after every step, each queued request still waits for somebody.
    pub fn no_lost_wakeup(&mut self, table: &LockTable, at: Nanos) {
        for q in table.queued() {
            if table.blockers_of(q.ticket).is_empty() {
                let detail = format!(
                    "{} waits for {} on {} but nobody blocks it",
                    q.owner, q.level, q.path
                );
                self.fail(at, "lost-wakeup", detail);
            }
        }
    }

    /// Notes a lease expiry (for the fencing check).
    pub fn expired(&mut self, owner: Owner, path: &LockPath, fence: u64, at: Nanos) {
        self.expiries
            .entry((owner, path.clone()))
            .or_default()
            .push((fence, at));
    }

    /// Fencing: tokens accepted for a session never go down, and no write is accepted under a
    /// lease that had already expired.
    pub fn fenced_write(&mut self, session: u32, owner: Owner, token: u64, at: Nanos) {
        let last = self.last_token.insert(session, token).unwrap_or(0);
        if token < last {
            self.fail(
                at,
                "fencing",
                format!("session s{session} accepted token {token} after {last}"),
            );
        }
        let expired = self.expiries.iter().any(|((o, p), list)| {
            *o == owner
                && p.as_str().ends_with(&format!("/s{session}"))
                && list
                    .iter()
                    .any(|&(fence, when)| fence >= token && when <= at)
        });
        if expired {
            self.fail(
                at,
                "fencing",
                format!("write by {owner} with token {token} accepted after its lease expired"),
            );
        }
    }

    /// An image acknowledged to a photographer.
    pub fn acked(&mut self, image: u64, session: u32, sum: u64) {
        self.acked.insert(image, (session, sum));
    }

    /// The session an acknowledged image belongs to.
    pub fn session_of(&self, image: u64) -> Option<u32> {
        self.acked.get(&image).map(|(s, _)| *s)
    }

    /// An image deleted on purpose (it is then not expected on the server).
    pub fn deleted(&mut self, image: u64) {
        self.deleted.insert(image, ());
    }

    /// The server made an upload visible; it must be whole (its checksum) and the first copy.
    pub fn stored(&mut self, image: u64, sum: u64) {
        let copies = self.stored.entry(image).or_default();
        *copies += 1;
        let copies = *copies;
        if copies > 1 {
            self.fail(
                0,
                "exactly-once",
                format!("image {image} stored {copies} times"),
            );
        }
        if self.acked.get(&image).is_some_and(|(_, want)| *want != sum) {
            self.fail(
                0,
                "no-partial-image",
                format!("image {image} visible with a wrong checksum"),
            );
        }
    }

    /// Every reservation of a crashed client is gone within TTL + grace.
    pub fn crashed_reservations(&mut self, at: Nanos, ws: usize, stale: &[Owner]) {
        if !stale.is_empty() {
            self.fail(
                at,
                "crash-cleanup",
                format!(
                    "workstation {ws}: {} holds outlived TTL + grace: {stale:?}",
                    stale.len()
                ),
            );
        }
    }

    /// End of the heal phase: every acknowledged, undeleted image is on the server once and
    /// whole, and no upload is left undone.
    pub fn end_of_run(&mut self, images: &BTreeMap<u64, (u32, u64)>, pending_uploads: usize) {
        let missing: Vec<u64> = self
            .acked
            .keys()
            .filter(|i| !self.deleted.contains_key(i) && !images.contains_key(i))
            .copied()
            .collect();
        if !missing.is_empty() {
            let detail = format!(
                "{} acknowledged images never reached the server: {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            );
            self.fail(u64::MAX, "acked-on-server", detail);
        }
        for (image, (_, sum)) in images {
            if self.acked.get(image).is_some_and(|(_, want)| want != sum) {
                self.fail(
                    u64::MAX,
                    "no-partial-image",
                    format!("image {image} has a wrong checksum"),
                );
            }
        }
        if pending_uploads > 0 {
            self.fail(
                u64::MAX,
                "heal-finishes",
                format!("{pending_uploads} uploads still queued after the heal phase"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstudio::{RequestOptions, Time};

    fn p(s: &str) -> LockPath {
        LockPath::parse(s).unwrap()
    }

    #[test]
    fn exclusion_check_bites() {
        let mut table = LockTable::new();
        table
            .request(
                Owner::new(1),
                &p("/s"),
                Level::Write,
                RequestOptions::default(),
                Time::ZERO,
            )
            .unwrap();
        let mut c = Checker::default();
        c.granted(&table, Owner::new(2), &p("/s/img"), Level::Read, 0);
        assert!(c.violations.is_empty(), "a reader may join a writer");
        c.granted(&table, Owner::new(2), &p("/s/img"), Level::Write, 0);
        assert_eq!(c.violations[0].invariant, "exclusion");
    }

    #[test]
    fn lost_wakeup_check_passes_on_a_correct_table() {
        let mut table = LockTable::new();
        let o = RequestOptions::default();
        table
            .request(Owner::new(1), &p("/s"), Level::Write, o, Time::ZERO)
            .unwrap();
        table
            .request(Owner::new(2), &p("/s"), Level::Write, o, Time::ZERO)
            .unwrap();
        let mut c = Checker::default();
        c.no_lost_wakeup(&table, 0);
        assert!(c.violations.is_empty());
    }

    #[test]
    fn fencing_check_bites() {
        let mut c = Checker::default();
        c.fenced_write(1, Owner::new(1), 10, 5);
        c.fenced_write(1, Owner::new(2), 7, 6);
        assert_eq!(c.violations.len(), 1);
        c.expired(Owner::new(3), &p("/studio/s2"), 20, 100);
        c.fenced_write(2, Owner::new(3), 20, 150);
        assert_eq!(c.violations.len(), 2);
        assert_eq!(c.violations[1].invariant, "fencing");
    }

    #[test]
    fn end_of_run_checks_bite() {
        let mut c = Checker::default();
        c.acked(1, 0, 11);
        c.acked(2, 0, 22);
        c.deleted(2);
        let mut images = BTreeMap::new();
        c.end_of_run(&images, 0);
        assert_eq!(c.violations[0].invariant, "acked-on-server");
        images.insert(1, (0, 99));
        c.end_of_run(&images, 3);
        let kinds: Vec<_> = c.violations.iter().map(|v| v.invariant).collect();
        assert!(kinds.contains(&"no-partial-image") && kinds.contains(&"heal-finishes"));
        c.stored(1, 11);
        c.stored(1, 11);
        assert!(c.violations.iter().any(|v| v.invariant == "exactly-once"));
        c.crashed_reservations(9, 0, &[Owner::new(4)]);
        assert_eq!(
            c.violations.last().map(|v| v.invariant),
            Some("crash-cleanup")
        );
    }
}
