//! `Versions` against a reference model (every committed value kept in order), interleaved
//! optimistic clients driven through the pure `Retry` driver (no lost update), and the
//! retry policy's arithmetic.

use lockstudio::versioned::{
    CommitError, Retry, RetryPolicy, RetryStep, Version, VersionedStore, Versions,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Op {
    Commit { key: u8, expected: u64, value: u16 },
    Read { key: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u8, 0..6u64, any::<u16>())
            .prop_map(|(key, expected, value)| Op::Commit { key, expected, value }),
        1 => (0..3u8).prop_map(|key| Op::Read { key }),
    ]
}

/// The obvious model: the version of a key is the number of values committed to it.
#[derive(Default)]
struct Reference {
    history: HashMap<u8, Vec<u16>>,
}

impl Reference {
    fn commit(&mut self, key: u8, expected: u64, value: u16) -> Result<Version, CommitError> {
        let values = self.history.entry(key).or_default();
        let current = Version(values.len() as u64);
        let expected = Version(expected);
        if expected < current {
            return Err(CommitError::Conflict { expected, current });
        }
        if expected > current {
            return Err(CommitError::FutureVersion { expected, current });
        }
        values.push(value);
        Ok(Version(values.len() as u64))
    }

    fn read(&self, key: u8) -> Option<(u16, Version)> {
        let values = self.history.get(&key)?;
        values.last().map(|&v| (v, Version(values.len() as u64)))
    }
}

proptest! {
    #[test]
    fn versions_match_reference(ops in prop::collection::vec(op(), 0..100)) {
        let mut core = Versions::new();
        let mut reference = Reference::default();
        for op in ops {
            match op {
                Op::Commit { key, expected, value } => {
                    let got = core.commit(key, Version(expected), value);
                    prop_assert_eq!(got, reference.commit(key, expected, value));
                }
                Op::Read { key } => {
                    prop_assert_eq!(core.read(&key).map(|(v, ver)| (*v, ver)), reference.read(key));
                }
            }
            for key in 0..3u8 {
                let expected = reference.read(key).map_or(Version::ABSENT, |(_, v)| v);
                prop_assert_eq!(core.version(&key), expected);
            }
        }
        prop_assert_eq!(core.len(), reference.history.values().filter(|h| !h.is_empty()).count());
    }

    /// The shell's commit is the core's commit.
    #[test]
    fn store_matches_core(ops in prop::collection::vec(op(), 0..60)) {
        let store = VersionedStore::new();
        let mut core = Versions::new();
        for op in ops {
            match op {
                Op::Commit { key, expected, value } => prop_assert_eq!(
                    store.commit(key, Version(expected), value),
                    core.commit(key, Version(expected), value)
                ),
                Op::Read { key } => {
                    prop_assert_eq!(store.read(&key), core.read(&key).map(|(v, ver)| (*v, ver)));
                }
            }
        }
    }
}

/// One simulated client of an optimistic counter: reads, then (at some later step of the
/// schedule) commits read + 1, retrying through the pure driver.
#[derive(Clone, Debug)]
struct Client {
    retry: Retry,
    seen: Option<(u64, Version)>,
    remaining: u32,
    succeeded: u32,
    gave_up: u32,
    conflicts_this_update: u32,
}

proptest! {
    /// Interleavings of read and commit steps from several clients never lose an update:
    /// the counter equals the number of successful commits, and a client gives up exactly
    /// after the policy's number of conflicting attempts.
    #[test]
    fn interleaved_clients_lose_no_update(
        attempts in 1..5u32,
        schedule in prop::collection::vec(0..3usize, 0..200),
    ) {
        let policy = RetryPolicy::new(attempts).unwrap();
        let mut core = Versions::new();
        core.insert("counter", 0u64).unwrap();
        let mut clients = vec![
            Client {
                retry: Retry::new(policy),
                seen: None,
                remaining: 5,
                succeeded: 0,
                gave_up: 0,
                conflicts_this_update: 0,
            };
            3
        ];
        for who in schedule {
            let c = &mut clients[who];
            if c.remaining == 0 {
                continue;
            }
            match c.seen.take() {
                None => {
                    let (v, ver) = core.read("counter").unwrap();
                    c.seen = Some((*v, ver));
                }
                Some((v, ver)) => match core.commit("counter", ver, v + 1) {
                    Ok(new) => {
                        prop_assert_eq!(new, ver.next().unwrap());
                        c.succeeded += 1;
                        c.remaining -= 1;
                        c.retry = Retry::new(policy);
                        c.conflicts_this_update = 0;
                    }
                    Err(CommitError::Conflict { current, expected }) => {
                        prop_assert!(current > expected);
                        c.conflicts_this_update += 1;
                        match c.retry.on_conflict(current) {
                            RetryStep::Again { attempt, .. } => {
                                prop_assert_eq!(attempt, c.conflicts_this_update + 1);
                            }
                            RetryStep::GiveUp(err) => {
                                prop_assert_eq!(err.attempts, attempts);
                                prop_assert_eq!(c.conflicts_this_update, attempts);
                                prop_assert_eq!(err.last_seen, current);
                                c.gave_up += 1;
                                c.remaining -= 1;
                                c.retry = Retry::new(policy);
                                c.conflicts_this_update = 0;
                            }
                        }
                    }
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                },
            }
        }
        let total: u32 = clients.iter().map(|c| c.succeeded).sum();
        let (value, version) = core.read("counter").unwrap();
        prop_assert_eq!(*value, u64::from(total));
        prop_assert_eq!(version, Version(1 + u64::from(total)));
    }

    #[test]
    fn backoff_delays_grow_and_stay_capped(
        attempts in 1..20u32,
        first_ms in 0..50u64,
        extra_ms in 0..500u64,
    ) {
        let first = Duration::from_millis(first_ms);
        let max = first + Duration::from_millis(extra_ms);
        let policy = RetryPolicy::new(attempts).unwrap().with_backoff(first, max).unwrap();
        let mut retry = Retry::new(policy);
        let mut last = Duration::ZERO;
        for n in 1..=attempts {
            match retry.on_conflict(Version(u64::from(n))) {
                RetryStep::Again { attempt, delay } => {
                    prop_assert!(n < attempts);
                    prop_assert_eq!(attempt, n + 1);
                    prop_assert!(delay >= last && delay <= max);
                    prop_assert!(n > 1 || delay == first);
                    last = delay;
                }
                RetryStep::GiveUp(err) => {
                    prop_assert_eq!(n, attempts);
                    prop_assert_eq!(err.attempts, attempts);
                    prop_assert_eq!(err.last_seen, Version(u64::from(n)));
                }
            }
        }
        prop_assert_eq!(retry.failed(), attempts);
    }
}

#[test]
fn commit_from_the_future_is_typed_and_changes_nothing() {
    let store = VersionedStore::new();
    store.insert("k", 1).unwrap();
    assert_eq!(
        store.commit("k", Version(9), 2),
        Err(CommitError::FutureVersion {
            expected: Version(9),
            current: Version(1)
        })
    );
    assert_eq!(
        store.commit("absent", Version(1), 2),
        Err(CommitError::FutureVersion {
            expected: Version(1),
            current: Version::ABSENT
        })
    );
    assert_eq!(store.read("k"), Some((1, Version(1))));
    assert_eq!(store.len(), 1);
    assert_eq!(
        store.insert("k", 5),
        Err(CommitError::Conflict {
            expected: Version::ABSENT,
            current: Version(1)
        })
    );
}
