//! Invariants checked from what the run records. Each check is a small method; any violation
//! fails the run and is reported with the time and the parties involved.

use crate::engine::Nanos;
use lockstudio::{Level, LockPath, LockTable, Owner, Ticket};
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
    /// The server holds as the history recorded them (grants minus releases and expiries),
    /// by path text, so descendants of a path are one range.
    held: BTreeMap<String, Vec<(Owner, Level)>>,
    progress: BTreeMap<u64, u32>,
}

impl Checker {
    fn fail(&mut self, at: Nanos, invariant: &'static str, detail: String) {
        self.violations.push(Violation {
            at,
            invariant,
            detail,
        });
    }

    /// Mutual exclusion by level and hierarchy: no other owner may hold, on an overlapping path
    /// (an ancestor, the path itself, or a descendant), a level the new grant is blocked by
    /// (`Level::blocked_by_hold`: a reader joins anything but a delete; a writer or deleter
    /// joins nothing). Then records the hold.
    pub fn granted(&mut self, owner: Owner, path: &LockPath, level: Level, at: Nanos) {
        let text = path.as_str();
        let clashes = |list: &Vec<(Owner, Level)>| {
            list.iter()
                .any(|&(o, l)| o != owner && level.blocked_by_hold(l))
        };
        // Allocation-free on the common path; the details are gathered only on a violation.
        let clash = self.overlapping(text).any(|(_, list)| clashes(list));
        if clash {
            let found: Vec<String> = self
                .overlapping(text)
                .flat_map(|(p, list)| list.iter().map(move |&(o, l)| (p, o, l)))
                .filter(|&(_, o, l)| o != owner && level.blocked_by_hold(l))
                .map(|(p, o, l)| {
                    format!("{owner} got {level} on {path} while {o} holds {l} on {p}")
                })
                .collect();
            for detail in found {
                self.fail(at, "exclusion", detail);
            }
        }
        self.held
            .entry(text.to_string())
            .or_default()
            .push((owner, level));
    }

    /// Recorded holds on `text`, its ancestors and its descendants. Keys are path texts, so
    /// the descendants are the contiguous run of keys that start with `text` followed by `/`.
    fn overlapping<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Vec<(Owner, Level)>)> + 'a {
        let root = text == "/";
        let ancestors = std::iter::once("/")
            .chain(
                text.char_indices()
                    .filter(|&(i, c)| c == '/' && i > 0)
                    .map(|(i, _)| &text[..i]),
            )
            .chain((!root).then_some(text))
            .filter_map(|p| self.held.get_key_value(p))
            .map(|(k, v)| (k.as_str(), v));
        let below = self
            .held
            .range::<str, _>((std::ops::Bound::Excluded(text), std::ops::Bound::Unbounded))
            .take_while(move |(k, _)| root || k.starts_with(text))
            .filter(move |(k, _)| root || k.as_bytes().get(text.len()) == Some(&b'/'))
            .map(|(k, v)| (k.as_str(), v));
        ancestors.chain(below)
    }

    /// FIFO per conflict: a grant to `owner` at `level` on `path` must not pass a request of
    /// another owner queued ahead of it (`ahead`) on an overlapping path, unless both are reads
    /// (`Level::queues_behind`) or `owner` already holds exactly `path` (re-entrance and
    /// upgrades bypass the queue). Call before [`Checker::granted`] records the grant.
    pub fn fifo<'a>(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        ahead: impl Iterator<Item = (Owner, &'a LockPath, Level)>,
        at: Nanos,
    ) {
        let reentrant = self
            .held
            .get(path.as_str())
            .is_some_and(|l| l.iter().any(|(o, _)| *o == owner));
        if reentrant {
            return;
        }
        let passed: Vec<String> = ahead
            .filter(|&(o, p, l)| o != owner && level.queues_behind(l) && p.overlaps(path))
            .map(|(o, p, l)| format!("{o} queued for {l} on {p}"))
            .collect();
        if let Some(first) = passed.first() {
            let detail = format!(
                "{owner} got {level} on {path} past {} earlier request(s): {first}",
                passed.len()
            );
            self.fail(at, "fifo", detail);
        }
    }

    /// A recorded acquisition ended: one at `level` (a release), or with `None` every one of
    /// `owner` on `path` (its lease expired).
    pub fn hold_ended(&mut self, owner: Owner, path: &LockPath, level: Option<Level>) {
        if let Some(list) = self.held.get_mut(path.as_str()) {
            match level {
                Some(l) => {
                    if let Some(i) = list.iter().position(|e| *e == (owner, l)) {
                        list.swap_remove(i);
                    }
                }
                None => list.retain(|(o, _)| *o != owner),
            }
            if list.is_empty() {
                self.held.remove(path.as_str());
            }
        }
    }

    /// Recorded holds still standing.
    pub fn holds_standing(&self) -> usize {
        self.held.values().map(Vec::len).sum()
    }

    /// No lost wake-up: after a step that released `changed`, each request queued on an
    /// overlapping path still waits for somebody. `waiting` lists the queued requests.
    pub fn no_lost_wakeup<'a>(
        &mut self,
        table: &LockTable,
        changed: &[LockPath],
        waiting: impl Iterator<Item = (Ticket, &'a LockPath)>,
        at: Nanos,
    ) {
        for (ticket, path) in waiting {
            if !changed.iter().any(|c| c.overlaps(path)) {
                continue;
            }
            let Some(q) = table.waiting(ticket) else {
                continue;
            };
            if table.blockers_of(ticket).is_empty() {
                let detail = format!(
                    "{} waits for {} on {} but nobody blocks it",
                    q.owner, q.level, q.path
                );
                self.fail(at, "lost-wakeup", detail);
            }
        }
    }

    /// Progress monotonic: what the server reports of a job never goes down (per mille; a
    /// finished job reports 1000).
    pub fn progress(&mut self, job: u64, permille: u32, at: Nanos) {
        let last = self.progress.insert(job, permille).unwrap_or(0);
        if permille < last {
            let detail = format!("job {job} reported {permille}‰ after {last}‰");
            self.fail(at, "progress-monotonic", detail);
        }
    }

    /// The transfer handlers' leader-follower invariant held after a step (see `handlers`).
    pub fn handlers(&mut self, verdict: Result<(), String>, at: Nanos) {
        if let Err(detail) = verdict {
            self.fail(at, "leader-follower", detail);
        }
    }

    /// Notes a lease expiry (for the fencing check); the hold ends.
    pub fn expired(&mut self, owner: Owner, path: &LockPath, fence: u64, at: Nanos) {
        self.hold_ended(owner, path, None);
        self.expiries
            .entry((owner, path.clone()))
            .or_default()
            .push((fence, at));
    }

    /// Fencing: write tokens accepted for a session never go down, and no write is accepted
    /// once the lease it was done under (of `owner` on `path`, granted with `lease_token`)
    /// had expired.
    pub fn fenced_write(
        &mut self,
        session: u32,
        owner: Owner,
        path: &LockPath,
        lease_token: u64,
        token: u64,
        at: Nanos,
    ) {
        let last = self.last_token.insert(session, token).unwrap_or(0);
        if token < last {
            self.fail(
                at,
                "fencing",
                format!("session s{session} accepted token {token} after {last}"),
            );
        }
        let expired = self
            .expiries
            .get(&(owner, path.clone()))
            .is_some_and(|list| {
                list.iter()
                    .any(|&(fence, when)| fence >= lease_token && when <= at)
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

    /// Every image acknowledged in `session` so far.
    pub fn acked_in(&self, session: u32) -> Vec<u64> {
        self.acked
            .iter()
            .filter(|(_, (s, _))| *s == session)
            .map(|(i, _)| *i)
            .collect()
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

    /// A viewer's download reached end-of-stream with only `got` of the image's `want` bytes:
    /// a partial image became visible.
    pub fn partial_view(&mut self, image: u64, got: usize, want: usize, at: Nanos) {
        let detail = format!("a viewer got image {image} as complete with {got} of {want} bytes");
        self.fail(at, "no-partial-image", detail);
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
    /// whole, no upload is left undone and every job finished.
    pub fn end_of_run(
        &mut self,
        images: &BTreeMap<u64, (u32, u64)>,
        pending_uploads: usize,
        unfinished_jobs: usize,
    ) {
        if unfinished_jobs > 0 {
            self.fail(
                u64::MAX,
                "heal-finishes",
                format!("{unfinished_jobs} server jobs unfinished after the heal phase"),
            );
        }
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
    use lockstudio::{LockModel, RequestOptions, Time};

    fn p(s: &str) -> LockPath {
        LockPath::parse(s).unwrap()
    }

    #[test]
    fn exclusion_check_bites_on_ancestors_descendants_and_not_after_release() {
        let mut c = Checker::default();
        c.granted(Owner::new(1), &p("/s"), Level::Write, 0);
        c.granted(Owner::new(2), &p("/s/img"), Level::Read, 0);
        assert!(c.violations.is_empty(), "a reader may join a writer");
        c.granted(Owner::new(3), &p("/s/img"), Level::Write, 1);
        assert_eq!(
            c.violations.len(),
            2,
            "a reader-first hold excludes writers too"
        );
        c.granted(Owner::new(4), &p("/"), Level::Delete, 2);
        assert_eq!(c.violations.len(), 5, "the root covers every hold below it");
        c.granted(Owner::new(5), &p("/s0"), Level::Delete, 3);
        assert_eq!(c.violations.len(), 6, "/s0 is not below /s, only below /");
        c.hold_ended(Owner::new(4), &p("/"), None);
        c.hold_ended(Owner::new(1), &p("/s"), Some(Level::Write));
        c.granted(Owner::new(6), &p("/s"), Level::Read, 4);
        assert_eq!(c.violations.len(), 6, "released holds no longer count");
        assert_eq!(c.holds_standing(), 4);
        assert!(c.violations.iter().all(|v| v.invariant == "exclusion"));
    }

    #[test]
    fn fifo_check_bites_unless_reads_or_reentrant() {
        let mut c = Checker::default();
        let (img, s) = (p("/s/img"), p("/s"));
        let queued = [(Owner::new(9), &img, Level::Write)];
        c.fifo(Owner::new(1), &s, Level::Read, queued.into_iter(), 0);
        assert_eq!(c.violations.len(), 1, "a reader passed a queued writer");
        let readers = [(Owner::new(9), &img, Level::Read)];
        c.fifo(Owner::new(1), &s, Level::Read, readers.into_iter(), 0);
        assert_eq!(c.violations.len(), 1, "reads pass reads");
        c.fifo(Owner::new(9), &s, Level::Write, queued.into_iter(), 0);
        assert_eq!(c.violations.len(), 1, "an owner never waits for itself");
        c.granted(Owner::new(2), &s, Level::Read, 0);
        c.fifo(Owner::new(2), &s, Level::Write, queued.into_iter(), 0);
        assert_eq!(c.violations.len(), 1, "an upgrade bypasses the queue");
        let elsewhere = p("/t");
        let other = [(Owner::new(9), &elsewhere, Level::Write)];
        c.fifo(Owner::new(3), &s, Level::Write, other.into_iter(), 0);
        assert_eq!(c.violations.len(), 1, "no overlap, no wait");
        assert_eq!(c.violations[0].invariant, "fifo");
    }

    #[test]
    fn progress_check_bites_on_a_drop() {
        let mut c = Checker::default();
        c.progress(7, 200, 1);
        c.progress(7, 200, 2);
        c.progress(7, 1000, 3);
        assert!(c.violations.is_empty());
        c.progress(7, 400, 4);
        assert_eq!(c.violations[0].invariant, "progress-monotonic");
    }

    #[test]
    fn handler_verdicts_become_violations() {
        let mut c = Checker::default();
        c.handlers(Ok(()), 1);
        c.handlers(Err("2 leaders".into()), 2);
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].invariant, "leader-follower");
    }

    #[test]
    fn lost_wakeup_check_passes_on_a_correct_table() {
        let mut table = LockTable::new();
        let o = RequestOptions::default();
        table
            .request(Owner::new(1), &p("/s"), Level::Write, o, Time::ZERO)
            .unwrap();
        let queued = table
            .request(Owner::new(2), &p("/s/a"), Level::Write, o, Time::ZERO)
            .unwrap();
        let lockstudio::Decision::Queued(ticket) = queued else {
            panic!("the second writer must queue");
        };
        let path = p("/s/a");
        let mut c = Checker::default();
        c.no_lost_wakeup(&table, &[p("/s")], [(ticket, &path)].into_iter(), 0);
        assert!(c.violations.is_empty());
    }

    #[test]
    fn fencing_check_bites() {
        let mut c = Checker::default();
        let meta = p("/studio/s1/session.xml");
        c.fenced_write(1, Owner::new(1), &meta, 9, 10, 5);
        c.fenced_write(1, Owner::new(2), &meta, 6, 7, 6);
        assert_eq!(c.violations.len(), 1);
        let meta = p("/studio/s2/session.xml");
        c.expired(Owner::new(3), &meta, 20, 100);
        c.fenced_write(2, Owner::new(3), &meta, 19, 19, 90);
        assert_eq!(c.violations.len(), 1, "a write before the expiry is fine");
        c.fenced_write(2, Owner::new(3), &meta, 20, 21, 150);
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
        c.end_of_run(&images, 0, 0);
        assert_eq!(c.violations[0].invariant, "acked-on-server");
        images.insert(1, (0, 99));
        c.end_of_run(&images, 3, 1);
        let kinds: Vec<_> = c.violations.iter().map(|v| v.invariant).collect();
        assert!(kinds.contains(&"no-partial-image") && kinds.contains(&"heal-finishes"));
        c.stored(1, 11);
        c.stored(1, 11);
        assert!(c.violations.iter().any(|v| v.invariant == "exactly-once"));
        c.partial_view(5, 4, 8, 3);
        assert_eq!(
            c.violations.last().map(|v| v.invariant),
            Some("no-partial-image")
        );
        c.crashed_reservations(9, 0, &[Owner::new(4)]);
        assert_eq!(
            c.violations.last().map(|v| v.invariant),
            Some("crash-cleanup")
        );
    }
}
