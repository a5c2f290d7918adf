//! Two-tier reservations: local then server, rollback naming the tier, the window counter,
//! lease renewal and expiry (a vanished workstation), lost replies, bad input, and a
//! proptest of the pure server tier against a reference model with a manual clock.

use lockstudio::fence::FencedStore;
use lockstudio::manager::{LockManager, Wait};
use lockstudio::reservation::{
    InProcessServer, Request, ReservationClient, ReservationKind, ReserveError, Response,
    ServerReservations, Tier, Transport, TransportError,
};
use lockstudio::{Effect, LockError, LockPath, ManualClock, Owner, Time};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(30);

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

type Server = InProcessServer<ManualClock>;

fn server() -> Server {
    InProcessServer::new(ManualClock::new(Time::ZERO))
}

fn client(transport: impl Transport + 'static) -> ReservationClient<ManualClock> {
    let local = LockManager::with_clock(ManualClock::new(Time::ZERO));
    ReservationClient::new(local, transport, TTL).unwrap()
}

/// A transport with scripted faults in front of a real server: counts calls, and can fail
/// the next calls before they arrive, or deliver them and lose the answer.
struct Faulty {
    server: Server,
    calls: AtomicUsize,
    script: Mutex<Vec<Fault>>,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    DropRequest,
    DropReply,
}

impl Faulty {
    fn new(server: Server) -> Arc<Self> {
        Arc::new(Faulty {
            server,
            calls: AtomicUsize::new(0),
            script: Mutex::new(Vec::new()),
        })
    }

    fn then(&self, fault: Fault) {
        self.script.lock().unwrap().insert(0, fault);
    }
}

impl Transport for Faulty {
    fn call(&self, request: Request) -> Result<Response, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.script.lock().unwrap().pop() {
            None => self.server.call(request),
            Some(Fault::DropRequest) => Err(TransportError::Disconnected("reset".into())),
            Some(Fault::DropReply) => {
                let _ = self.server.call(request);
                Err(TransportError::TimedOut(Duration::from_secs(5)))
            }
        }
    }
}

#[test]
fn reserve_takes_both_tiers_and_release_gives_both_back() {
    let server = server();
    let ws = client(server.clone());
    let path = p("/studio/s1/img-1.jpg");
    let r = ws
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    assert_eq!(ws.local().holders(&path).len(), 1);
    let on_server = server.with(|s, _| s.holders(&path));
    assert_eq!(on_server.len(), 1);
    assert_eq!(on_server[0].fence, r.fence());
    assert_eq!(on_server[0].expires, Some(Time::ZERO.saturating_add(TTL)));
    assert_eq!(r.server_expires(), on_server[0].expires);
    assert_eq!(
        (r.owner(), r.path(), r.kind()),
        (Owner::new(1), &path, ReservationKind::Write)
    );
    assert_eq!(ws.held(), 1);
    r.release().unwrap();
    assert!(ws.local().is_empty());
    assert!(server.with(|s, _| s.is_empty()));
    assert_eq!(ws.held(), 0);
    assert_eq!(ws.stats().reserved, 1);
}

#[test]
fn dropping_a_reservation_releases_both_tiers() {
    let server = server();
    let ws = client(server.clone());
    let r = ws
        .reserve(
            Owner::new(1),
            &p("/s"),
            ReservationKind::Read,
            Wait::Forever,
        )
        .unwrap();
    drop(r);
    assert!(ws.local().is_empty());
    assert!(server.with(|s, _| s.is_empty()));
}

#[test]
fn local_conflict_never_reaches_the_server() {
    let faulty = Faulty::new(server());
    // A bounded local wait needs a clock that passes by itself.
    let ws = ReservationClient::new(LockManager::new(), Arc::clone(&faulty), TTL).unwrap();
    let _held = ws
        .reserve(
            Owner::new(1),
            &p("/s"),
            ReservationKind::Write,
            Wait::Forever,
        )
        .unwrap();
    let err = ws
        .reserve(
            Owner::new(2),
            &p("/s/img"),
            ReservationKind::Write,
            Wait::For(Duration::from_millis(1)),
        )
        .unwrap_err();
    assert_eq!(err.tier(), Tier::Local);
    assert!(matches!(
        err,
        ReserveError::Local(LockError::Timeout { .. })
    ));
    assert_eq!(
        faulty.calls.load(Ordering::SeqCst),
        1,
        "only the first reserve was sent"
    );
    let stats = ws.stats();
    assert_eq!((stats.local_refused, stats.window()), (1, 0));
}

#[test]
fn server_refusal_undoes_the_local_tier_and_counts_the_window() {
    let server = server();
    let ws1 = client(server.clone());
    let ws2 = client(server.clone());
    let _r1 = ws1
        .reserve(
            Owner::new(1),
            &p("/studio/s1"),
            ReservationKind::Write,
            Wait::Forever,
        )
        .unwrap();
    // Another workstation: its own tier is free, the server knows better. Hierarchy counts:
    // an image inside the reserved session is refused too.
    for path in ["/studio/s1", "/studio/s1/img-3.jpg"] {
        let err = ws2
            .reserve(
                Owner::new(2),
                &p(path),
                ReservationKind::Write,
                Wait::Forever,
            )
            .unwrap_err();
        assert_eq!(err.tier(), Tier::Server);
        let ReserveError::Server(LockError::WouldBlock { blockers }) = err else {
            panic!("expected a server conflict, got {err:?}");
        };
        assert_eq!(blockers, vec![Owner::new(1)]);
        assert!(ws2.local().is_empty(), "local reservation released");
    }
    // A write reservation excludes readers too: nobody reads a half-written image.
    let err = ws2
        .reserve(
            Owner::new(2),
            &p("/studio/s1/img-3.jpg"),
            ReservationKind::Read,
            Wait::Forever,
        )
        .unwrap_err();
    assert_eq!(err.tier(), Tier::Server);
    // Readers share, across workstations.
    let _r1 = ws1
        .reserve(
            Owner::new(1),
            &p("/studio/s2"),
            ReservationKind::Read,
            Wait::Forever,
        )
        .unwrap();
    let _r2 = ws2
        .reserve(
            Owner::new(2),
            &p("/studio/s2/img.jpg"),
            ReservationKind::Read,
            Wait::Forever,
        )
        .unwrap();
    let stats = ws2.stats();
    assert_eq!(
        (stats.server_refused, stats.window(), stats.reserved),
        (3, 3, 1)
    );
}

#[test]
fn transport_failure_names_the_server_tier() {
    let faulty = Faulty::new(server());
    let ws = client(Arc::clone(&faulty));
    faulty.then(Fault::DropRequest);
    let err = ws
        .reserve(
            Owner::new(1),
            &p("/s"),
            ReservationKind::Write,
            Wait::Forever,
        )
        .unwrap_err();
    assert_eq!(
        err,
        ReserveError::Transport(TransportError::Disconnected("reset".into()))
    );
    assert_eq!(err.tier(), Tier::Server);
    assert!(ws.local().is_empty());
    assert!(faulty.server.with(|s, _| s.is_empty()));
    assert_eq!(ws.stats().server_unreachable, 1);
    assert_eq!(ws.stats().window(), 1);
}

#[test]
fn a_lost_reply_leaves_an_orphan_that_ends_by_expiry() {
    let faulty = Faulty::new(server());
    let ws1 = client(Arc::clone(&faulty));
    let ws2 = client(faulty.server.clone());
    faulty.then(Fault::DropReply);
    let err = ws1
        .reserve(
            Owner::new(1),
            &p("/s"),
            ReservationKind::Write,
            Wait::Forever,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        ReserveError::Transport(TransportError::TimedOut(_))
    ));
    assert!(ws1.local().is_empty());
    // The server did grant it; nobody will renew it.
    assert_eq!(faulty.server.with(|s, _| s.holds().len()), 1);
    let blocked = ws2.reserve(
        Owner::new(2),
        &p("/s"),
        ReservationKind::Write,
        Wait::Forever,
    );
    assert_eq!(blocked.unwrap_err().tier(), Tier::Server);
    faulty.server.clock().advance(TTL);
    assert!(ws2
        .reserve(
            Owner::new(2),
            &p("/s"),
            ReservationKind::Write,
            Wait::Forever
        )
        .is_ok());
}

#[test]
fn server_survives_a_vanished_workstation() {
    let server = server();
    let ws1 = client(server.clone());
    let ws2 = client(server.clone());
    let path = p("/studio/s9");
    let r = ws1
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    r.abandon(); // the workstation crashes: no release is ever sent
    assert!(ws1.local().is_empty());
    assert_eq!(server.with(|s, _| s.holders(&path).len()), 1);
    server.clock().advance(TTL - Duration::from_nanos(1));
    assert!(server.advance().is_empty());
    server.clock().advance(Duration::from_nanos(1));
    let expired = server.advance();
    assert!(matches!(&expired[..], [Effect::Expired { owner, .. }] if *owner == Owner::new(1)));
    assert_eq!(server.with(|s, _| s.expired_total()), 1);
    assert!(ws2
        .reserve(Owner::new(2), &path, ReservationKind::Write, Wait::Forever)
        .is_ok());
}

#[test]
fn renewal_keeps_the_lease_and_loss_is_detected() {
    let server = server();
    let ws = client(server.clone());
    let path = p("/s");
    let r = ws
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    // Not due yet: nothing is sent.
    assert_eq!(ws.renew_due().renewed, 0);
    // Half a TTL later (client clock) the pass renews; the server extends from its own now.
    for step in 1..=5u32 {
        ws.local().clock().advance(TTL / 2);
        server.clock().advance(TTL / 2);
        let report = ws.renew_due();
        assert_eq!((report.renewed, report.lost), (1, 0), "step {step}");
        assert!(r.check().is_ok());
    }
    assert_eq!(ws.stats().renewed, 5);
    let expires = server.with(|s, _| s.holders(&path)[0].expires);
    assert_eq!(expires, Some(Time::ZERO.saturating_add(TTL * 5 / 2 + TTL)));
    // A partition longer than the lease: the server expires it, the next pass finds out.
    server.clock().advance(TTL * 2);
    ws.local().clock().advance(TTL);
    let report = ws.renew_due();
    assert_eq!((report.renewed, report.lost), (0, 1));
    let lost = r.check().unwrap_err();
    assert!(matches!(
        lost,
        ReserveError::Server(LockError::LeaseExpired { .. })
    ));
    assert_eq!(ws.stats().lost, 1);
    // Lost reservations are not renewed again.
    ws.local().clock().advance(TTL);
    assert_eq!(ws.renew_due(), Default::default());
    // Releasing reports that the server lease had ended; the local tier is still released.
    let err = r.release().unwrap_err();
    assert!(matches!(
        err,
        ReserveError::Server(LockError::NotHeld { .. } | LockError::LeaseExpired { .. })
    ));
    assert!(ws.local().is_empty());
}

#[test]
fn explicit_renew_and_unreachable_renewal() {
    let faulty = Faulty::new(server());
    let ws = client(Arc::clone(&faulty));
    let mut r = ws
        .reserve(
            Owner::new(1),
            &p("/s"),
            ReservationKind::Read,
            Wait::Forever,
        )
        .unwrap();
    faulty.server.clock().advance(Duration::from_secs(10));
    let expires = r.renew().unwrap();
    assert_eq!(
        expires,
        Time::ZERO.saturating_add(Duration::from_secs(10) + TTL)
    );
    assert_eq!(r.server_expires(), Some(expires));
    faulty.then(Fault::DropRequest);
    ws.local().clock().advance(TTL);
    let report = ws.renew_due();
    assert_eq!(report.unreachable, 1);
    assert!(
        r.check().is_ok(),
        "an unanswered renewal is retried, not a loss"
    );
    assert_eq!(ws.renew_due().renewed, 1);
}

#[test]
fn bad_input_is_typed() {
    let local = || LockManager::with_clock(ManualClock::new(Time::ZERO));
    for ttl in [Duration::ZERO, Duration::from_secs(400 * 24 * 3600)] {
        let err = ReservationClient::new(local(), server(), ttl).unwrap_err();
        assert!(matches!(err, LockError::InvalidDuration { .. }), "{err:?}");
    }
    let mut s = ServerReservations::new();
    let reserve = Request::Reserve {
        owner: Owner::new(1),
        path: p("/s"),
        kind: ReservationKind::Write,
        ttl: Duration::ZERO,
    };
    assert!(matches!(
        s.handle(reserve, Time::ZERO),
        Response::Refused(LockError::InvalidDuration { .. })
    ));
    let renew = Request::Renew {
        owner: Owner::new(1),
        path: p("/s"),
        ttl: TTL,
    };
    assert!(matches!(
        s.handle(renew, Time::ZERO),
        Response::Refused(LockError::NotHeld { .. })
    ));
    let release = Request::Release {
        owner: Owner::new(1),
        path: p("/s"),
        kind: ReservationKind::Read,
    };
    assert!(matches!(
        s.handle(release, Time::ZERO),
        Response::Refused(LockError::NotHeld { .. })
    ));
    assert!(s.is_empty());
}

#[test]
fn the_server_fence_locks_out_a_zombie_workstation() {
    let server = server();
    let ws1 = client(server.clone());
    let ws2 = client(server.clone());
    let path = p("/studio/s1/img.jpg");
    let mut files = FencedStore::new();
    let zombie = ws1
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    files.write(path.clone(), zombie.fence(), "v1").unwrap();
    // Workstation 1 stalls past its lease; workstation 2 takes over and writes.
    server.clock().advance(TTL);
    let fresh = ws2
        .reserve(Owner::new(2), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    assert!(fresh.fence() > zombie.fence());
    files.write(path.clone(), fresh.fence(), "v2").unwrap();
    // Workstation 1 wakes up and writes with its old token: refused.
    assert!(files.write(path.clone(), zombie.fence(), "zombie").is_err());
    assert_eq!(files.get(&path), Some((&"v2", fresh.fence())));
}

#[test]
fn threads_of_one_workstation_queue_locally() {
    let server = server();
    let ws = client(server.clone());
    let path = p("/s");
    let first = ws
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    let ws2 = ws.clone();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let r = ws2
            .reserve(
                Owner::new(2),
                &p("/s"),
                ReservationKind::Write,
                Wait::Forever,
            )
            .unwrap();
        tx.send(r.fence()).unwrap();
        r.release().unwrap();
    });
    for _ in 0..20_000 {
        if ws.local().queue(&path).len() == 1 {
            break;
        }
        thread::sleep(Duration::from_micros(100));
    }
    assert_eq!(
        ws.local().queue(&path).len(),
        1,
        "second thread waits on the local tier"
    );
    assert!(rx.try_recv().is_err());
    let first_fence = first.fence();
    first.release().unwrap();
    assert!(rx.recv().unwrap() > first_fence);
    waiter.join().unwrap();
    assert_eq!(ws.stats().window(), 0, "the server never saw a conflict");
    assert!(server.with(|s, _| s.is_empty()));
}

// ----- the pure server tier against a reference model -----

#[derive(Clone, Debug)]
enum Op {
    Reserve {
        owner: u64,
        path: usize,
        write: bool,
        ttl: u64,
    },
    Renew {
        owner: u64,
        path: usize,
        ttl: u64,
    },
    Release {
        owner: u64,
        path: usize,
        write: bool,
    },
    Advance {
        ms: u64,
    },
}

const PATHS: [&str; 4] = ["/s", "/s/a", "/s/b", "/t"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u64, 0..4usize, any::<bool>(), 1..40u64)
            .prop_map(|(owner, path, write, ttl)| Op::Reserve { owner, path, write, ttl }),
        2 => (0..3u64, 0..4usize, 1..40u64).prop_map(|(owner, path, ttl)| Op::Renew { owner, path, ttl }),
        3 => (0..3u64, 0..4usize, any::<bool>())
            .prop_map(|(owner, path, write)| Op::Release { owner, path, write }),
        2 => (1..30u64).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// The obvious model: per (owner, path) counts of read and write reservations and one
/// expiry; expired holds are dropped whenever time is looked at.
#[derive(Default)]
struct Reference {
    holds: BTreeMap<(u64, usize), ([u32; 2], u64)>,
}

impl Reference {
    fn expire(&mut self, now: u64) {
        self.holds.retain(|_, (_, expires)| *expires > now);
    }

    fn overlaps(a: usize, b: usize) -> bool {
        let (a, b) = (PATHS[a], PATHS[b]);
        a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
    }

    fn reserve(&mut self, owner: u64, path: usize, write: bool, ttl: u64, now: u64) -> bool {
        self.expire(now);
        // Classic readers-writer: a writer excludes everyone, readers share.
        let blocked = self.holds.iter().any(|(&(o, q), (counts, _))| {
            o != owner && Self::overlaps(path, q) && (write || counts[1] > 0)
        });
        if blocked {
            return false;
        }
        let entry = self.holds.entry((owner, path)).or_insert(([0, 0], 0));
        entry.0[usize::from(write)] += 1;
        entry.1 = now + ttl;
        true
    }

    fn renew(&mut self, owner: u64, path: usize, ttl: u64, now: u64) -> bool {
        self.expire(now);
        match self.holds.get_mut(&(owner, path)) {
            Some(h) => {
                h.1 = now + ttl;
                true
            }
            None => false,
        }
    }

    fn release(&mut self, owner: u64, path: usize, write: bool, now: u64) -> bool {
        self.expire(now);
        let Some(h) = self.holds.get_mut(&(owner, path)) else {
            return false;
        };
        let count = &mut h.0[usize::from(write)];
        if *count == 0 {
            return false;
        }
        *count -= 1;
        if h.0 == [0, 0] {
            self.holds.remove(&(owner, path));
        }
        true
    }
}

proptest! {
    #[test]
    fn server_matches_reference(ops in prop::collection::vec(op(), 0..100)) {
        let mut server = ServerReservations::new();
        let mut reference = Reference::default();
        let mut now_ms = 0u64;
        let mut last_fence = 0u64;
        for op in ops {
            let now = Time::from_nanos(now_ms * 1_000_000);
            let kind = |write| if write { ReservationKind::Write } else { ReservationKind::Read };
            match op {
                Op::Reserve { owner, path, write, ttl } => {
                    let got = server.reserve(
                        Owner::new(owner), &p(PATHS[path]), kind(write),
                        Duration::from_millis(ttl), now,
                    );
                    prop_assert_eq!(got.is_ok(), reference.reserve(owner, path, write, ttl, now_ms));
                    if let Ok(grant) = got {
                        prop_assert!(grant.fence > last_fence);
                        last_fence = grant.fence;
                        prop_assert_eq!(grant.expires, Some(now.saturating_add(Duration::from_millis(ttl))));
                    }
                }
                Op::Renew { owner, path, ttl } => {
                    let got = server.renew(Owner::new(owner), &p(PATHS[path]), Duration::from_millis(ttl), now);
                    prop_assert_eq!(got.is_ok(), reference.renew(owner, path, ttl, now_ms));
                }
                Op::Release { owner, path, write } => {
                    let got = server.release(Owner::new(owner), &p(PATHS[path]), kind(write), now);
                    prop_assert_eq!(got.is_ok(), reference.release(owner, path, write, now_ms));
                }
                Op::Advance { ms } => {
                    now_ms += ms;
                    server.advance(Time::from_nanos(now_ms * 1_000_000));
                    reference.expire(now_ms);
                }
            }
            let holds: Vec<(u64, String)> = server
                .holds()
                .into_iter()
                .map(|(path, h)| (h.owner.id(), path.as_str().to_owned()))
                .collect();
            let mut want: Vec<(u64, String)> = reference
                .holds
                .keys()
                .map(|&(o, path)| (o, PATHS[path].to_owned()))
                .collect();
            want.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
            prop_assert_eq!(holds, want);
            prop_assert_eq!(server.next_deadline().is_some(), !reference.holds.is_empty());
        }
    }
}
