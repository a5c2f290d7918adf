//! Real-thread tests of the blocking APIs outside the lock manager: `VersionedStore::update`
//! under contention, `SharedFencedStore`, `JoinableStream` (blocking readers, late joiners,
//! early leavers, fail / drop reaching every reader), `TransferRegistry` and the
//! reservation renewer thread. No timed assertions: waits are bounded polls of a condition.

use lockstudio::fence::SharedFencedStore;
use lockstudio::joinable::{JoinableStream, Joined, Status, TransferError, TransferRegistry};
use lockstudio::manager::{LockManager, Wait};
use lockstudio::reservation::{InProcessServer, ReservationClient, ReservationKind};
use lockstudio::versioned::{RetryPolicy, UpdateError, VersionedStore};
use lockstudio::{LockPath, ManualClock, Owner, Time};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

mod waiting;

use waiting::eventually;

// ----- optimistic versioning -----

#[test]
fn contended_updates_lose_nothing_with_enough_attempts() {
    let store = VersionedStore::new();
    store.insert("counter", 0u64).unwrap();
    let policy = RetryPolicy::new(RetryPolicy::MAX_ATTEMPTS).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            thread::spawn(move || {
                for _ in 0..200 {
                    store
                        .update("counter", |n| *n += 1, &policy)
                        .expect("10 000 attempts suffice for 4 threads");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (value, version) = store.read("counter").unwrap();
    assert_eq!(value, 800);
    assert_eq!(version.0, 801);
}

#[test]
fn single_attempt_updates_either_commit_or_report_the_conflict() {
    let store = VersionedStore::new();
    store.insert("counter", 0u64).unwrap();
    let policy = RetryPolicy::new(1).unwrap();
    let ok = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, ok, barrier) = (store.clone(), Arc::clone(&ok), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..300 {
                    // A slow `f` widens the window between read and commit.
                    let slow = |n: &mut u64| {
                        thread::yield_now();
                        *n += 1;
                    };
                    match store.update("counter", slow, &policy) {
                        Ok(_) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(UpdateError::OptimisticLock(err)) => {
                            assert_eq!(err.attempts, 1);
                            assert!(err.last_seen.0 >= 2, "someone else committed");
                        }
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (value, _) = store.read("counter").unwrap();
    assert_eq!(
        value,
        ok.load(Ordering::SeqCst),
        "every success counted exactly once"
    );
}

// ----- fencing -----

#[test]
fn shared_fenced_store_accepts_only_non_decreasing_tokens() {
    let store = SharedFencedStore::new();
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (store, accepted) = (store.clone(), Arc::clone(&accepted));
            thread::spawn(move || {
                for i in 0..500u64 {
                    let token = (i * 7 + t * 13) % 97;
                    // Record inside the store's critical section, so the log order is the
                    // acceptance order.
                    store.with(|s| {
                        if s.write("res", token, t).is_ok() {
                            accepted.lock().unwrap().push(token);
                        }
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let log = accepted.lock().unwrap();
    assert!(!log.is_empty());
    assert!(
        log.windows(2).all(|w| w[0] <= w[1]),
        "tokens went down: {log:?}"
    );
    assert_eq!(store.fence("res").highest(), log.last().copied());
}

// ----- joinable transfers -----

#[test]
fn a_reader_blocks_until_bytes_are_published() {
    let (mut writer, stream) = JoinableStream::new(1024);
    let mut reader = stream.join();
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let mut buf = [0u8; 16];
        let n = reader.read(&mut buf).unwrap();
        tx.send(buf[..n].to_vec()).unwrap();
        reader
    });
    assert!(rx.try_recv().is_err(), "nothing published yet");
    writer.write(b"abc").unwrap();
    assert_eq!(rx.recv().unwrap(), b"abc");
    let mut reader = t.join().unwrap();
    writer.finish().unwrap();
    assert_eq!(
        reader.read_to_end(),
        Ok(Vec::new()),
        "EOF after the last byte"
    );
    assert_eq!(reader.position(), 3);
}

#[test]
fn many_readers_join_at_any_time_and_all_see_every_byte() {
    let (mut writer, stream) = JoinableStream::new(1 << 20);
    let expected: Vec<u8> = (0..64u32).flat_map(|i| [i as u8; 100]).collect();
    let mut readers = Vec::new();
    let spawn_reader = |stream: &JoinableStream| {
        let mut r = stream.join();
        thread::spawn(move || r.read_to_end())
    };
    for chunk in 0..64usize {
        if chunk % 16 == 0 {
            readers.push(spawn_reader(&stream)); // joins mid-transfer
        }
        writer
            .write(&expected[chunk * 100..(chunk + 1) * 100])
            .unwrap();
    }
    writer.finish().unwrap();
    readers.push(spawn_reader(&stream)); // joins after the end
    for r in readers {
        assert_eq!(r.join().unwrap().as_deref(), Ok(&expected[..]));
    }
    assert_eq!(stream.readers(), 0, "finished readers left");
    assert_eq!(stream.status(), Status::Finished);
}

#[test]
fn fail_reaches_every_blocked_reader() {
    let (mut writer, stream) = JoinableStream::new(1024);
    writer.write(b"partial").unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let mut r = stream.join();
            thread::spawn(move || r.read_to_end())
        })
        .collect();
    // Every reader has consumed what there is and is waiting for more.
    eventually(|| stream.caught_up() == 4);
    writer.fail("network reset").unwrap();
    for r in readers {
        assert_eq!(
            r.join().unwrap(),
            Err(TransferError::Failed("network reset".into()))
        );
    }
}

#[test]
fn dropping_the_writer_fails_readers_instead_of_hanging_them() {
    let (writer, stream) = JoinableStream::new(1024);
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let mut r = stream.join();
            thread::spawn(move || r.read_to_end())
        })
        .collect();
    eventually(|| stream.caught_up() == 3);
    // The writer dies on another thread (a crashed download).
    thread::spawn(move || drop(writer)).join().unwrap();
    for r in readers {
        assert_eq!(r.join().unwrap(), Err(TransferError::WriterDropped));
    }
    assert!(matches!(stream.status(), Status::Failed(_)));
}

#[test]
fn a_reader_leaving_early_disturbs_nobody() {
    let (mut writer, stream) = JoinableStream::new(1024);
    let mut stays = stream.join();
    let leaves = stream.join();
    writer.write(b"one").unwrap();
    drop(leaves);
    assert_eq!(stream.readers(), 1);
    let t = thread::spawn(move || stays.read_to_end());
    writer.write(b"two").unwrap();
    writer.finish().unwrap();
    assert_eq!(t.join().unwrap(), Ok(b"onetwo".to_vec()));
}

#[test]
fn concurrent_requests_for_one_key_start_exactly_one_transfer() {
    let cache: TransferRegistry<&str> = TransferRegistry::new(1024);
    let barrier = Arc::new(Barrier::new(6));
    let started = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (cache, barrier, started) =
                (cache.clone(), Arc::clone(&barrier), Arc::clone(&started));
            thread::spawn(move || {
                barrier.wait();
                match cache.join_or_start("img-7") {
                    Joined::Started {
                        mut writer,
                        mut reader,
                    } => {
                        started.fetch_add(1, Ordering::SeqCst);
                        writer.write(b"pixels").unwrap();
                        writer.finish().unwrap();
                        reader.read_to_end()
                    }
                    Joined::Joined(mut reader) => reader.read_to_end(),
                }
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Ok(b"pixels".to_vec()));
    }
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(cache.len(), 1);
}

#[test]
fn a_failed_transfer_is_restarted_not_joined() {
    let cache: TransferRegistry<&str> = TransferRegistry::new(1024);
    let Joined::Started { writer, .. } = cache.join_or_start("img") else {
        panic!("first request starts")
    };
    writer.fail("timeout").unwrap();
    assert!(matches!(cache.join_or_start("img"), Joined::Started { .. }));
    assert!(cache.forget("img"));
    assert!(cache.is_empty());
}

// ----- reservations -----

#[test]
fn renewer_thread_keeps_server_leases_alive() {
    let ttl = Duration::from_secs(30);
    let server = InProcessServer::new(ManualClock::new(Time::ZERO));
    let local = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let ws = ReservationClient::new(local, server.clone(), ttl).unwrap();
    let path = LockPath::parse("/studio/s1").unwrap();
    let r = ws
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    let renewer = ws.spawn_renewer(Duration::from_millis(1));
    for round in 1..=3u32 {
        ws.local().clock().advance(ttl / 2);
        server.clock().advance(ttl / 2);
        eventually(|| ws.stats().renewed >= u64::from(round));
        assert!(server.advance().is_empty(), "round {round}: lease kept");
    }
    drop(renewer); // stops and joins the thread
    server.clock().advance(ttl);
    assert_eq!(server.advance().len(), 1, "without renewals the lease ends");
    drop(r);
}

#[test]
fn two_workstations_never_hold_one_write_reservation_together() {
    let server = InProcessServer::new(lockstudio::SystemClock::new());
    let inside = Arc::new(AtomicBool::new(false));
    let granted = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2u64)
        .map(|ws_id| {
            let ws =
                ReservationClient::new(LockManager::new(), server.clone(), Duration::from_secs(60))
                    .unwrap();
            let (inside, granted) = (Arc::clone(&inside), Arc::clone(&granted));
            thread::spawn(move || {
                let path = LockPath::parse("/studio/s1/img.jpg").unwrap();
                for i in 0..200u64 {
                    let owner = Owner::new((ws_id << 32) | i);
                    let reserved = ws.reserve(owner, &path, ReservationKind::Write, Wait::Forever);
                    if let Ok(r) = reserved {
                        assert!(!inside.swap(true, Ordering::SeqCst), "two writers at once");
                        granted.fetch_add(1, Ordering::SeqCst);
                        thread::yield_now();
                        inside.store(false, Ordering::SeqCst);
                        r.release().unwrap();
                    }
                }
                ws.stats()
            })
        })
        .collect();
    let mut window = 0;
    for t in threads {
        let stats = t.join().unwrap();
        assert_eq!(stats.reserved + stats.window(), 200);
        window += stats.window();
    }
    assert_eq!(granted.load(Ordering::SeqCst) + window, 400);
    assert!(server.with(|s, _| s.is_empty()));
}
