//! shuttle models of the shells over the lock core, scaled up: many optimistic clients,
//! three workstations reserving through two tiers, and a joinable stream with five readers.
//! Random and PCT schedulers with pinned seeds.
//!
//! Run: `CARGO_TARGET_DIR=target/shuttle cargo test --release -p lockstudio \
//!       --features shuttle --test shuttle_services`
#![cfg(feature = "shuttle")]

mod shadow;

use lockstudio::joinable::{JoinableStream, TransferError};
use lockstudio::manager::{LockManager, Wait};
use lockstudio::reservation::{InProcessServer, ReservationClient, ReservationKind, ReserveError};
use lockstudio::versioned::{RetryPolicy, UpdateError, Version, VersionedStore};
use lockstudio::{LockError, Owner};
use shadow::{p, shuttle_check as check, Coverage, Explore, Frozen, Shadow};
use shuttle::rand::{thread_rng, Rng};
use shuttle::thread;
use std::sync::Arc;
use std::time::Duration;

const RETRIED: usize = 0;
const GAVE_UP: usize = 1;

/// Six clients, two increments each, three attempts per increment: every success counted
/// exactly once, the version counts commits.
fn optimistic(cov: &'static Coverage, how: Explore) {
    check(cov, how, move || {
        let store = VersionedStore::new();
        store.insert("count", 0u32).unwrap();
        let policy = RetryPolicy::new(3).unwrap();
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                thread::spawn(move || {
                    let mut ok = 0u32;
                    for _ in 0..2 {
                        let mut pause = |_: Duration| cov.mark(RETRIED);
                        match store.update_with("count", |n| *n += 1, &policy, &mut pause) {
                            Ok(_) => ok += 1,
                            Err(UpdateError::OptimisticLock(e)) => {
                                assert_eq!(e.attempts, 3);
                                cov.mark(GAVE_UP);
                            }
                            Err(e) => panic!("unexpected {e}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let ok: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            store.read("count"),
            Some((ok, Version(u64::from(ok) + 1))),
            "lost update"
        );
    });
    cov.finish(
        1000,
        &[(RETRIED, "a client retried"), (GAVE_UP, "a client gave up")],
    );
}

#[test]
fn optimistic_clients_random() {
    static COV: Coverage = Coverage::new("shuttle optimistic(random, 6 clients x 2)");
    optimistic(
        &COV,
        Explore::Random {
            seed: 0x5eed_0101,
            iterations: 5000,
        },
    );
}

#[test]
fn optimistic_clients_pct() {
    static COV: Coverage = Coverage::new("shuttle optimistic(pct depth 8, 6 clients x 2)");
    optimistic(
        &COV,
        Explore::Pct {
            seed: 0x5eed_0102,
            iterations: 5000,
            depth: 8,
        },
    );
}

const REFUSED: usize = 0;
const QUEUED_LOCALLY: usize = 1;

/// Three workstations with two owners each, reserving random paths of one session for
/// reading or writing: server reservations obey the lock rules across workstations, a server
/// refusal leaves nothing behind, and all is given back at the end.
fn reservations(cov: &'static Coverage, how: Explore) {
    check(cov, how, move || {
        let server = InProcessServer::new(Frozen);
        let ttl = Duration::from_secs(30);
        let shadow = Arc::new(Shadow::new());
        let stations: Vec<_> = (0..3)
            .map(|_| {
                ReservationClient::new(LockManager::with_clock(Frozen), server.clone(), ttl)
                    .unwrap()
            })
            .collect();
        let mut handles = Vec::new();
        for (w, ws) in stations.iter().enumerate() {
            for k in 0..2u64 {
                let (ws, shadow) = (ws.clone(), Arc::clone(&shadow));
                let owner = Owner::new(((w as u64) << 32) | (k + 1));
                handles.push(thread::spawn(move || {
                    let mut rng = thread_rng();
                    let mut refused = 0u64;
                    for _ in 0..2 {
                        let path = p(["/s", "/s/a", "/s/b"][rng.gen_range(0..3)]);
                        let kind = if rng.gen_bool(0.5) {
                            ReservationKind::Read
                        } else {
                            ReservationKind::Write
                        };
                        match ws.reserve(owner, &path, kind, Wait::Forever) {
                            Ok(r) => {
                                shadow.acquired(owner, &path, kind.level(), r.fence());
                                if !ws.local().queue(&path).is_empty() {
                                    cov.mark(QUEUED_LOCALLY);
                                }
                                shadow.releasing(owner, &path, kind.level(), r.fence());
                                r.release().unwrap();
                            }
                            Err(ReserveError::Server(LockError::WouldBlock { .. })) => {
                                cov.mark(REFUSED);
                                refused += 1;
                            }
                            Err(e) => panic!("unexpected {e}"),
                        }
                    }
                    refused
                }));
            }
        }
        let refused: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let window: u64 = stations.iter().map(|ws| ws.stats().window()).sum();
        let reserved: u64 = stations.iter().map(|ws| ws.stats().reserved).sum();
        assert_eq!(window, refused);
        assert_eq!(reserved + refused, 12);
        assert!(stations
            .iter()
            .all(|ws| ws.local().is_empty() && ws.held() == 0));
        assert!(
            server.with(|s, _| s.is_empty()),
            "server kept a reservation"
        );
    });
    cov.finish(
        1000,
        &[
            (REFUSED, "the server refused a workstation"),
            (QUEUED_LOCALLY, "an owner queued on its local tier"),
        ],
    );
}

#[test]
fn reservations_three_workstations_random() {
    static COV: Coverage = Coverage::new("shuttle reservations(random, 3 stations x 2 owners)");
    reservations(
        &COV,
        Explore::Random {
            seed: 0x5eed_0201,
            iterations: 3000,
        },
    );
}

#[test]
fn reservations_three_workstations_pct() {
    static COV: Coverage =
        Coverage::new("shuttle reservations(pct depth 3, 3 stations x 2 owners)");
    reservations(
        &COV,
        Explore::Pct {
            seed: 0x5eed_0202,
            iterations: 3000,
            depth: 3,
        },
    );
}

const FAILED_WHILE_WAITING: usize = 0;
const FINISHED: usize = 1;

/// One writer publishing three chunks and then finishing, failing or vanishing (chosen at
/// random per execution), five readers joining at random moments: a failure reaches every
/// reader as an error, a finish gives every reader every byte, nobody hangs.
fn joinable(cov: &'static Coverage, how: Explore) {
    check(cov, how, move || {
        let (mut writer, stream) = JoinableStream::new(64);
        let readers: Vec<_> = (0..5)
            .map(|_| {
                let stream = stream.clone();
                thread::spawn(move || {
                    let mut rng = thread_rng();
                    for _ in 0..rng.gen_range(0..3) {
                        thread::yield_now();
                    }
                    stream.join().read_to_end()
                })
            })
            .collect();
        let mut rng = thread_rng();
        for chunk in [&b"img"[..], b"-7", b".jpg"] {
            writer.write(chunk).unwrap();
        }
        let end = rng.gen_range(0..3);
        let waiting = stream.readers();
        let expected = match end {
            0 => {
                writer.finish().unwrap();
                cov.mark(FINISHED);
                Ok(b"img-7.jpg".to_vec())
            }
            1 => {
                writer.fail("network").unwrap();
                Err(TransferError::Failed("network".into()))
            }
            _ => {
                drop(writer);
                Err(TransferError::WriterDropped)
            }
        };
        if end != 0 && waiting > 0 {
            cov.mark(FAILED_WHILE_WAITING);
        }
        for r in readers {
            assert_eq!(r.join().unwrap(), expected, "a reader saw the wrong ending");
        }
        assert_eq!(stream.readers(), 0);
    });
    cov.finish(
        1000,
        &[
            (
                FAILED_WHILE_WAITING,
                "the writer failed with readers joined",
            ),
            (FINISHED, "the writer finished"),
        ],
    );
}

#[test]
fn joinable_five_readers_random() {
    static COV: Coverage = Coverage::new("shuttle joinable(random, 1 writer 5 readers)");
    joinable(
        &COV,
        Explore::Random {
            seed: 0x5eed_0301,
            iterations: 5000,
        },
    );
}

#[test]
fn joinable_five_readers_pct() {
    static COV: Coverage = Coverage::new("shuttle joinable(pct depth 3, 1 writer 5 readers)");
    joinable(
        &COV,
        Explore::Pct {
            seed: 0x5eed_0302,
            iterations: 5000,
            depth: 3,
        },
    );
}
