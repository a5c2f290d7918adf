//! `LockTable` against `ReferenceTable`: random sequences of request / try / release /
//! cancel / renew / advance on a small path universe, compared at every step, plus the
//! global invariants of `specs/locking.md`.

use lockstudio::{
    Decision, Effect, Level, LockError, LockModel, LockPath, LockTable, Owner, ReferenceTable,
    RequestOptions, Ticket, Time,
};
use proptest::prelude::*;
use std::time::Duration;

const PATHS: [&str; 10] = [
    "/", "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/bc", "/a/x", "/a/x/y", "/z", "/z/q",
];

#[derive(Clone, Debug)]
enum Op {
    Request {
        owner: u64,
        path: usize,
        level: Level,
        timeout: Option<u64>,
        ttl: Option<u64>,
    },
    Try {
        owner: u64,
        path: usize,
        level: Level,
        ttl: Option<u64>,
    },
    Release {
        owner: u64,
        path: usize,
        level: Option<Level>,
    },
    Cancel {
        nth: usize,
    },
    Renew {
        owner: u64,
        path: usize,
        ttl: u64,
    },
    Advance {
        by: u64,
    },
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Read), Just(Level::Write), Just(Level::Delete)]
}

fn op() -> impl Strategy<Value = Op> {
    let owner = 0..4u64;
    let path = 0..PATHS.len();
    let ms = prop::option::weighted(0.3, 1..50u64);
    prop_oneof![
        4 => (owner.clone(), path.clone(), level(), ms.clone(), ms.clone())
            .prop_map(|(owner, path, level, timeout, ttl)| Op::Request { owner, path, level, timeout, ttl }),
        1 => (owner.clone(), path.clone(), level(), ms)
            .prop_map(|(owner, path, level, ttl)| Op::Try { owner, path, level, ttl }),
        4 => (owner.clone(), path.clone(), prop::option::of(level()))
            .prop_map(|(owner, path, level)| Op::Release { owner, path, level }),
        1 => (0..16usize).prop_map(|nth| Op::Cancel { nth }),
        1 => (owner, path, 1..50u64).prop_map(|(owner, path, ttl)| Op::Renew { owner, path, ttl }),
        2 => (0..40u64).prop_map(|by| Op::Advance { by }),
    ]
}

/// Errors compared by kind for deadlocks (either valid cycle is fine), exactly otherwise.
fn same_result<T: PartialEq + std::fmt::Debug>(
    a: &Result<T, LockError>,
    b: &Result<T, LockError>,
) -> bool {
    match (a, b) {
        (Err(LockError::Deadlock { .. }), Err(LockError::Deadlock { .. })) => true,
        _ => a == b,
    }
}

struct Pair {
    fast: LockTable,
    slow: ReferenceTable,
    now: Time,
    tickets: Vec<Ticket>,
}

impl Pair {
    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let p = |i: usize| LockPath::parse(PATHS[i]).unwrap();
        let ms = |v: Option<u64>| v.map(Duration::from_millis);
        let now = self.now;
        match *op {
            Op::Request {
                owner,
                path,
                level,
                timeout,
                ttl,
            } => {
                let opts = RequestOptions {
                    timeout: ms(timeout),
                    ttl: ms(ttl),
                };
                let a = self
                    .fast
                    .request(Owner::new(owner), &p(path), level, opts, now);
                let b = self
                    .slow
                    .request(Owner::new(owner), &p(path), level, opts, now);
                prop_assert!(
                    same_result(&a, &b),
                    "request: fast {a:?} vs reference {b:?}"
                );
                if let Ok(Decision::Queued(t)) = a {
                    self.tickets.push(t);
                }
                if let Err(LockError::Deadlock { cycle }) = &a {
                    prop_assert_eq!(cycle.first(), Some(&Owner::new(owner)));
                }
            }
            Op::Try {
                owner,
                path,
                level,
                ttl,
            } => {
                let a = self
                    .fast
                    .try_request(Owner::new(owner), &p(path), level, ms(ttl), now);
                let b = self
                    .slow
                    .try_request(Owner::new(owner), &p(path), level, ms(ttl), now);
                prop_assert_eq!(a, b, "try_request");
            }
            Op::Release { owner, path, level } => {
                let a = self.fast.release(Owner::new(owner), &p(path), level, now);
                let b = self.slow.release(Owner::new(owner), &p(path), level, now);
                prop_assert_eq!(a, b, "release");
            }
            Op::Cancel { nth } => {
                let t = self.tickets.get(nth).copied().unwrap_or(Ticket(999));
                prop_assert_eq!(self.fast.cancel(t, now), self.slow.cancel(t, now), "cancel");
            }
            Op::Renew { owner, path, ttl } => {
                let ttl = Duration::from_millis(ttl);
                let a = self.fast.renew(Owner::new(owner), &p(path), ttl, now);
                let b = self.slow.renew(Owner::new(owner), &p(path), ttl, now);
                prop_assert_eq!(a, b, "renew");
            }
            Op::Advance { by } => {
                self.now = now.saturating_add(Duration::from_millis(by));
                self.fast.advance(self.now);
                self.slow.advance(self.now);
            }
        }
        prop_assert_eq!(
            self.fast.effects(),
            self.slow.effects(),
            "effects after {:?}",
            op
        );
        prop_assert_eq!(self.fast.holds(), self.slow.holds(), "holds after {:?}", op);
        prop_assert_eq!(
            self.fast.queued(),
            self.slow.queued(),
            "queue after {:?}",
            op
        );
        prop_assert_eq!(self.fast.next_deadline(), self.slow.next_deadline());
        for i in 0..PATHS.len() {
            prop_assert_eq!(self.fast.holders(&p(i)), self.slow.holders(&p(i)));
            prop_assert_eq!(self.fast.queue(&p(i)), self.slow.queue(&p(i)));
        }
        self.check_invariants()
    }

    fn check_invariants(&self) -> Result<(), TestCaseError> {
        let holds = self.fast.holds();
        for (i, (pa, a)) in holds.iter().enumerate() {
            for (pb, b) in &holds[i + 1..] {
                if a.owner != b.owner && pa.overlaps(pb) {
                    let both_ok =
                        !a.level.blocked_by_hold(b.level) || !b.level.blocked_by_hold(a.level);
                    prop_assert!(both_ok, "incompatible holds {pa}:{a:?} and {pb}:{b:?}");
                }
            }
        }
        for q in self.fast.queued() {
            prop_assert!(
                !self.slow.grantable(q.owner, &q.path, q.level, q.ticket.0),
                "lost wake-up: {q:?} is grantable but still queued"
            );
            prop_assert!(
                !self.fast.blockers_of(q.ticket).is_empty(),
                "{q:?} waits for nobody"
            );
            prop_assert_eq!(
                self.fast.blockers_of(q.ticket),
                self.slow.blockers(q.owner, &q.path, q.level, q.ticket.0)
            );
        }
        for e in self.fast.effects() {
            if let Effect::Granted { grant, .. } = e {
                prop_assert!(grant.fence > 0);
            }
        }
        prop_assert_eq!(self.fast.counts().holds, holds.len());
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 4096, ..ProptestConfig::default() })]

    #[test]
    fn table_matches_reference(ops in prop::collection::vec(op(), 1..60)) {
        let mut pair = Pair { fast: LockTable::new(), slow: ReferenceTable::new(), now: Time::ZERO, tickets: Vec::new() };
        for op in &ops {
            pair.step(op)?;
        }
    }

    #[test]
    fn fencing_tokens_strictly_increase(ops in prop::collection::vec(op(), 1..60)) {
        let mut pair = Pair { fast: LockTable::new(), slow: ReferenceTable::new(), now: Time::ZERO, tickets: Vec::new() };
        let mut last = 0;
        for op in &ops {
            pair.step(op)?;
            for e in pair.fast.effects() {
                if let Effect::Granted { grant, .. } = e {
                    prop_assert!(grant.fence > last, "token {} after {}", grant.fence, last);
                    last = grant.fence;
                }
            }
            if let Some((_, h)) = pair.fast.holds().iter().max_by_key(|(_, h)| h.fence) {
                prop_assert!(h.fence <= last.max(h.fence));
                last = last.max(h.fence);
            }
        }
    }
}
