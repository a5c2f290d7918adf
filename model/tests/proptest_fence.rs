//! Fencing properties: `FencedStore` against a reference model, and fencing driven by real
//! lease grants of a `LockTable` under a manual clock, with zombie writers whose leases
//! expired.

use lockstudio::fence::{Fence, FencedStore, StaleToken};
use lockstudio::{Effect, Level, LockModel, LockPath, LockTable, Owner, Time};
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone, Debug)]
enum StoreOp {
    Write { key: u8, token: u64, value: u32 },
    Delete { key: u8, token: u64 },
}

fn store_op() -> impl Strategy<Value = StoreOp> {
    prop_oneof![
        4 => (0..3u8, 0..30u64, any::<u32>())
            .prop_map(|(key, token, value)| StoreOp::Write { key, token, value }),
        1 => (0..3u8, 0..30u64).prop_map(|(key, token)| StoreOp::Delete { key, token }),
    ]
}

/// The obvious model: every accepted operation per key, in order.
#[derive(Default)]
struct Reference {
    accepted: HashMap<u8, Vec<(u64, Option<u32>)>>,
}

impl Reference {
    fn apply(&mut self, key: u8, token: u64, value: Option<u32>) -> Result<(), StaleToken> {
        let history = self.accepted.entry(key).or_default();
        if let Some(highest) = history.iter().map(|&(t, _)| t).max() {
            if token < highest {
                return Err(StaleToken {
                    presented: token,
                    highest,
                });
            }
        }
        history.push((token, value));
        Ok(())
    }

    fn current(&self, key: u8) -> Option<(u32, u64)> {
        let &(token, value) = self.accepted.get(&key)?.last()?;
        value.map(|v| (v, token))
    }
}

proptest! {
    #[test]
    fn store_matches_reference(ops in prop::collection::vec(store_op(), 0..80)) {
        let mut store = FencedStore::new();
        let mut reference = Reference::default();
        for op in ops {
            match op {
                StoreOp::Write { key, token, value } => {
                    let got = store.write(key, token, value).map(|_| ());
                    prop_assert_eq!(got, reference.apply(key, token, Some(value)));
                }
                StoreOp::Delete { key, token } => {
                    let got = store.delete(key, token).map(|_| ());
                    prop_assert_eq!(got, reference.apply(key, token, None));
                }
            }
            for key in 0..3u8 {
                prop_assert_eq!(store.get(&key).map(|(v, t)| (*v, t)), reference.current(key));
            }
        }
        // The property of the issue: accepted tokens never go down, per resource.
        for history in reference.accepted.values() {
            prop_assert!(history.windows(2).all(|w| w[0].0 <= w[1].0));
        }
    }

    #[test]
    fn check_agrees_with_accept(tokens in prop::collection::vec(0..20u64, 0..40)) {
        let mut fence = Fence::new();
        for t in tokens {
            let checked = fence.check(t);
            let before = fence;
            prop_assert_eq!(fence.accept(t), checked);
            if checked.is_err() {
                prop_assert_eq!(fence, before);
            } else {
                prop_assert_eq!(fence.highest(), Some(t));
            }
        }
    }
}

// ----- fencing with real leases -----

const RESOURCE: &str = "/s/img";
const COVERS: [&str; 2] = ["/s", "/s/img"];

#[derive(Clone, Debug)]
enum LeaseOp {
    Lock { owner: u64, dir: bool, ttl: u64 },
    Unlock { owner: u64 },
    Renew { owner: u64, ttl: u64 },
    Advance { ms: u64 },
    Write { owner: u64 },
}

fn lease_op() -> impl Strategy<Value = LeaseOp> {
    prop_oneof![
        3 => (0..4u64, any::<bool>(), 1..40u64)
            .prop_map(|(owner, dir, ttl)| LeaseOp::Lock { owner, dir, ttl }),
        1 => (0..4u64).prop_map(|owner| LeaseOp::Unlock { owner }),
        1 => (0..4u64, 1..40u64).prop_map(|(owner, ttl)| LeaseOp::Renew { owner, ttl }),
        2 => (1..30u64).prop_map(|ms| LeaseOp::Advance { ms }),
        4 => (0..4u64).prop_map(|owner| LeaseOp::Write { owner }),
    ]
}

/// What a client believes: its current hold (path, token) if any, and the last token it was
/// ever granted, which a zombie keeps using after its lease is gone.
#[derive(Clone, Default)]
struct Client {
    holding: Option<(LockPath, u64)>,
    last_token: Option<u64>,
}

fn forget_expired(table: &LockTable, clients: &mut [Client]) {
    for effect in table.effects() {
        if let Effect::Expired { owner, .. } = effect {
            clients[owner.id() as usize].holding = None;
        }
    }
}

proptest! {
    /// No accepted write ever carries a token lower than an earlier accepted one, and a
    /// writer whose lease is live is never refused.
    #[test]
    fn fenced_writes_under_expiring_leases(ops in prop::collection::vec(lease_op(), 0..120)) {
        let mut table = LockTable::new();
        let mut store = FencedStore::new();
        let mut clients = vec![Client::default(); 4];
        let mut now = Time::ZERO;
        let mut accepted: Vec<u64> = Vec::new();
        let resource = LockPath::parse(RESOURCE).unwrap();
        for op in ops {
            match op {
                LeaseOp::Lock { owner, dir, ttl } => {
                    if clients[owner as usize].holding.is_some() {
                        continue;
                    }
                    let path = LockPath::parse(COVERS[usize::from(dir)]).unwrap();
                    let ttl = Some(Duration::from_millis(ttl));
                    let got = table.try_request(Owner::new(owner), &path, Level::Write, ttl, now);
                    forget_expired(&table, &mut clients);
                    if let Ok(grant) = got {
                        let c = &mut clients[owner as usize];
                        c.holding = Some((path, grant.fence));
                        c.last_token = Some(grant.fence);
                    }
                }
                LeaseOp::Unlock { owner } => {
                    if let Some((path, _)) = clients[owner as usize].holding.take() {
                        let _ = table.release(Owner::new(owner), &path, None, now);
                        forget_expired(&table, &mut clients);
                    }
                }
                LeaseOp::Renew { owner, ttl } => {
                    if let Some((path, _)) = clients[owner as usize].holding.clone() {
                        let ttl = Duration::from_millis(ttl);
                        let _ = table.renew(Owner::new(owner), &path, ttl, now);
                        forget_expired(&table, &mut clients);
                    }
                }
                LeaseOp::Advance { ms } => {
                    now = now.saturating_add(Duration::from_millis(ms));
                    table.advance(now);
                    forget_expired(&table, &mut clients);
                }
                LeaseOp::Write { owner } => {
                    let c = &clients[owner as usize];
                    let Some(token) = c.last_token else { continue };
                    // The resource would process deadlines before judging liveness too.
                    table.advance(now);
                    forget_expired(&table, &mut clients);
                    let c = &clients[owner as usize];
                    let live = c.holding.as_ref().is_some_and(|(path, t)| {
                        table.check_fence(Owner::new(owner), path, *t).is_ok()
                    });
                    let result = store.write(resource.clone(), token, owner);
                    if live {
                        prop_assert!(result.is_ok(), "live holder refused: {result:?}");
                    }
                    if result.is_ok() {
                        if let Some(&last) = accepted.last() {
                            prop_assert!(token >= last, "token {token} accepted after {last}");
                        }
                        accepted.push(token);
                    }
                }
            }
        }
    }
}
