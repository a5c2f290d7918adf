//! loom models of the shells built on the lock core: optimistic commits racing with
//! retries, two-tier reservations from two workstations, and joinable streams whose writer
//! finishes, fails or vanishes while readers wait.
//!
//! Run: `RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
//!       cargo test --release -p lockstudio --test loom_services`
#![cfg(lockstudio_loom)]

mod shadow;

use lockstudio::joinable::{JoinableStream, Progress, TransferError};
use lockstudio::manager::{LockManager, Wait};
use lockstudio::reservation::{
    InProcessServer, ReservationClient, ReservationKind, ReserveError, Tier,
};
use lockstudio::versioned::{CommitError, RetryPolicy, UpdateError, Version, VersionedStore};
use lockstudio::{LockError, Owner};
use loom::thread;
use shadow::{gate_bound, loom_check as check, p, Coverage, Frozen, Shadow};
use std::sync::Arc;
use std::time::Duration;

/// Two commits based on the same version: exactly one wins, and the value is the winner's.
/// Two threads, exhaustive.
#[test]
fn optimistic_commits_race() {
    static COV: Coverage = Coverage::new("loom optimistic_commits_race");
    check(&COV, None, || {
        let store = VersionedStore::new();
        let v1 = store.insert("job", 0u32).unwrap();
        let other = {
            let store = store.clone();
            thread::spawn(move || store.commit("job", v1, 1))
        };
        let mine = store.commit("job", v1, 2);
        let theirs = other.join().unwrap();
        let winner = match (mine, theirs) {
            (Ok(v), Err(CommitError::Conflict { current, .. }))
            | (Err(CommitError::Conflict { current, .. }), Ok(v)) => {
                assert_eq!((v, current), (Version(2), Version(2)));
                if mine.is_ok() {
                    2
                } else {
                    1
                }
            }
            other => panic!("two commits on {v1} ended {other:?}: exactly one may win"),
        };
        assert_eq!(store.read("job"), Some((winner, Version(2))));
    });
    COV.finish(3, &[]);
}

/// Three clients each incrementing through `update` with two attempts: every success is
/// counted exactly once (no lost update), versions count commits, and a client gives up
/// only after both attempts conflicted. Three threads; preemption bound 3 in the gate.
#[test]
fn optimistic_updates_with_retries() {
    static COV: Coverage = Coverage::new("loom optimistic_updates_with_retries");
    const RETRIED: usize = 0;
    const GAVE_UP: usize = 1;
    check(&COV, gate_bound(3), || {
        let store = VersionedStore::new();
        store.insert("count", 0u32).unwrap();
        let policy = RetryPolicy::new(2).unwrap();
        let client = move |store: VersionedStore<&'static str, u32>| {
            let mut pause = |_: Duration| COV.mark(RETRIED);
            match store.update_with("count", |n| *n += 1, &policy, &mut pause) {
                Ok(_) => 1u32,
                Err(UpdateError::OptimisticLock(e)) => {
                    assert_eq!(e.attempts, 2, "gave up after {e:?}");
                    COV.mark(GAVE_UP);
                    0
                }
                Err(e) => panic!("unexpected {e}"),
            }
        };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                thread::spawn(move || client(store))
            })
            .collect();
        let mut ok = client(store.clone());
        for h in handles {
            ok += h.join().unwrap();
        }
        assert!(ok >= 1, "somebody always wins");
        assert_eq!(
            store.read("count"),
            Some((ok, Version(u64::from(ok) + 1))),
            "lost update"
        );
    });
    COV.finish(
        50,
        &[(RETRIED, "a client retried"), (GAVE_UP, "a client gave up")],
    );
}

/// Two workstations reserving overlapping paths through their local tier and one server,
/// plus a second owner on workstation 1 queueing locally: never two conflicting server
/// reservations at once, a server refusal undoes the local hold, and everything is given
/// back at the end. Three threads; preemption bound 3 in the gate.
#[test]
fn two_tier_reservations_from_two_workstations() {
    static COV: Coverage = Coverage::new("loom two_tier_reservations");
    const REFUSED: usize = 0;
    const QUEUED_LOCALLY: usize = 1;
    check(&COV, gate_bound(3), || {
        let server = InProcessServer::new(Frozen);
        let ttl = Duration::from_secs(30);
        let ws1 =
            ReservationClient::new(LockManager::with_clock(Frozen), server.clone(), ttl).unwrap();
        let ws2 =
            ReservationClient::new(LockManager::with_clock(Frozen), server.clone(), ttl).unwrap();
        let shadow = Arc::new(Shadow::new());
        let reserve = |ws: ReservationClient<Frozen>, owner: u64, path: &'static str| {
            let shadow = Arc::clone(&shadow);
            move || {
                let (owner, path) = (Owner::new(owner), p(path));
                match ws.reserve(owner, &path, ReservationKind::Write, Wait::Forever) {
                    Ok(r) => {
                        shadow.acquired(owner, &path, ReservationKind::Write.level(), r.fence());
                        if !ws.local().queue(&path).is_empty() {
                            COV.mark(QUEUED_LOCALLY);
                        }
                        shadow.releasing(owner, &path, ReservationKind::Write.level(), r.fence());
                        r.release().unwrap();
                        true
                    }
                    Err(e @ ReserveError::Server(LockError::WouldBlock { .. })) => {
                        assert_eq!(e.tier(), Tier::Server);
                        COV.mark(REFUSED);
                        false
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        };
        let t1 = thread::spawn(reserve(ws1.clone(), 1, "/s"));
        let t2 = thread::spawn(reserve(ws2.clone(), 2, "/s/img"));
        let mine = reserve(ws1.clone(), 3, "/s")();
        let ok = [t1.join().unwrap(), t2.join().unwrap(), mine];
        let (s1, s2) = (ws1.stats(), ws2.stats());
        let reserved = ok.iter().filter(|&&x| x).count() as u64;
        assert_eq!(s1.reserved + s2.reserved, reserved);
        assert_eq!(s1.window() + s2.window(), 3 - reserved);
        assert!(ws1.local().is_empty() && ws2.local().is_empty());
        assert!(
            server.with(|s, _| s.is_empty()),
            "server kept a reservation"
        );
    });
    COV.finish(
        50,
        &[
            (REFUSED, "the server refused a workstation"),
            (QUEUED_LOCALLY, "an owner queued on its local tier"),
        ],
    );
}

#[derive(Clone, Copy, Debug)]
enum End {
    Finish,
    Fail,
    Drop,
}

/// A writer publishing two chunks, then ending as `end`, with one reader joined from the
/// start and one joining while it writes: after `finish` both read every byte, after `fail`
/// or a dropped writer both get the error (never a silent end-of-stream), and nobody hangs.
/// Three threads; preemption bound 3 in the gate (the exhaustive search did not finish in
/// 100 s: every `notify_all` wakes two readers whose re-checks interleave with each write).
fn joinable(cov: &'static Coverage, end: End) {
    const WAITED: usize = 0;
    const JOINED_LATE: usize = 1;
    check(cov, gate_bound(3), move || {
        let (mut writer, stream) = JoinableStream::new(16);
        let mut early = stream.join();
        let late_stream = stream.clone();
        let early_reader = thread::spawn(move || {
            let mut chunk = [0u8; 4];
            let mut got = Vec::new();
            match early.try_read(&mut chunk)? {
                Progress::Pending => cov.mark(WAITED),
                Progress::Data(n) => got.extend_from_slice(&chunk[..n]),
                Progress::Eof => return Ok(got),
            }
            got.extend(early.read_to_end()?);
            Ok(got)
        });
        let late_reader = thread::spawn(move || {
            let mut late = late_stream.join();
            if late_stream.published_len() > 0 {
                cov.mark(JOINED_LATE);
            }
            late.read_to_end()
        });
        writer.write(b"ab").unwrap();
        writer.write(b"c").unwrap();
        let expected = match end {
            End::Finish => {
                writer.finish().unwrap();
                Ok(b"abc".to_vec())
            }
            End::Fail => {
                writer.fail("disk full").unwrap();
                Err(TransferError::Failed("disk full".into()))
            }
            End::Drop => {
                drop(writer);
                Err(TransferError::WriterDropped)
            }
        };
        // `early` may have consumed bytes before the failure: it still must see the error.
        let got_early = early_reader.join().unwrap();
        let got_late = late_reader.join().unwrap();
        match &expected {
            Ok(bytes) => {
                assert_eq!(got_early.as_ref(), Ok(bytes));
                assert_eq!(got_late.as_ref(), Ok(bytes));
            }
            Err(e) => {
                assert_eq!(got_early.as_ref(), Err(e), "{end:?}: early reader");
                assert_eq!(got_late.as_ref(), Err(e), "{end:?}: late reader");
            }
        }
        assert_eq!(stream.readers(), 0);
    });
    cov.finish(
        20,
        &[
            (WAITED, "a reader waited for data"),
            (JOINED_LATE, "a reader joined mid-stream"),
        ],
    );
}

#[test]
fn joinable_writer_finishes_while_readers_wait() {
    static COV: Coverage = Coverage::new("loom joinable_finish");
    joinable(&COV, End::Finish);
}

#[test]
fn joinable_writer_fails_while_readers_wait() {
    static COV: Coverage = Coverage::new("loom joinable_fail");
    joinable(&COV, End::Fail);
}

#[test]
fn joinable_writer_dropped_while_readers_wait() {
    static COV: Coverage = Coverage::new("loom joinable_drop");
    joinable(&COV, End::Drop);
}
