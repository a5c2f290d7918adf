//! loom models of time in the blocking `LockManager`: timeouts and lease expiry. loom has no
//! time model, so a model thread moves a `ManualClock` and calls `LockManager::advance`, the
//! same path a real waiter takes when its timed sleep ends.
//!
//! Run: `RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
//!       cargo test --release -p lockstudio --test loom_leases`
#![cfg(lockstudio_loom)]

mod shadow;

use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockError, ManualClock, Owner, Time};
use loom::thread;
use shadow::{gate_bound, loom_check as check, p, Coverage, Shadow};
use std::sync::Arc;
use std::time::Duration;

const MS10: Duration = Duration::from_millis(10);

/// A bounded wait racing the release it waits for and the clock passing its deadline: it
/// ends granted or timed out, never both, never hung, and a timed-out request leaves nothing
/// behind. Three threads (waiter, releaser = main, clock), exhaustive.
#[test]
fn timeout_races_release() {
    static COV: Coverage = Coverage::new("loom timeout_races_release");
    const GRANTED: usize = 0;
    const TIMED_OUT: usize = 1;
    check(&COV, None, || {
        let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
        let shadow = Arc::new(Shadow::new());
        let path = p("/s");
        let (a, b) = (Owner::new(1), Owner::new(2));
        let g = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Write, g.fence());
        let waiter = {
            let (locks, shadow, path) = (locks.clone(), Arc::clone(&shadow), path.clone());
            thread::spawn(
                move || match locks.lock(b, &path, Level::Write, Wait::For(MS10)) {
                    Ok(g) => {
                        shadow.acquired(b, &path, Level::Write, g.fence());
                        shadow.releasing(b, &path, Level::Write, g.fence());
                        COV.mark(GRANTED);
                    }
                    Err(LockError::Timeout { blockers, .. }) => {
                        assert_eq!(blockers, vec![a], "timed out behind {blockers:?}");
                        COV.mark(TIMED_OUT);
                    }
                    Err(e) => panic!("unexpected {e}"),
                },
            )
        };
        let ticker = {
            let locks = locks.clone();
            thread::spawn(move || {
                locks.clock().advance(MS10);
                locks.advance();
            })
        };
        shadow.releasing(a, &path, Level::Write, g.fence());
        drop(g);
        waiter.join().unwrap();
        ticker.join().unwrap();
        assert!(locks.is_empty(), "left behind: {:?}", locks.counts());
    });
    COV.finish(
        50,
        &[
            (GRANTED, "granted before the deadline"),
            (TIMED_OUT, "timed out"),
        ],
    );
}

/// A lease renewal racing its expiry, with a writer waiting for the lease: a renewal before
/// expiry keeps the hold until its release; after expiry it fails with `LeaseExpired`, the
/// expiry wakes the waiter, and the old fencing token is refused once the waiter holds.
/// Four threads (main holds the lease and joins; renewer, clock, waiter); preemption bound
/// 3 in the gate (`LOCKSTUDIO_LOOM_EXHAUSTIVE=1` for the full search).
#[test]
fn lease_renew_races_expiry() {
    static COV: Coverage = Coverage::new("loom lease_renew_races_expiry");
    const RENEWED: usize = 0;
    const EXPIRED: usize = 1;
    const EXPIRY_WOKE_WAITER: usize = 2;
    check(&COV, gate_bound(3), || {
        let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
        let path = p("/s");
        let (a, b) = (Owner::new(1), Owner::new(2));
        let mut lease = locks
            .lock_lease(a, &path, Level::Write, Wait::Forever, MS10)
            .unwrap();
        let fence_a = lease.fence();
        let renewer = {
            let path = path.clone();
            thread::spawn(move || match lease.renew(2 * MS10) {
                Ok(until) => {
                    assert_eq!(until, Time::ZERO.saturating_add(2 * MS10));
                    lease.unlock().unwrap();
                    true
                }
                Err(LockError::LeaseExpired { owner, path: at }) => {
                    assert_eq!((owner, &at), (a, &path));
                    lease.detach();
                    false
                }
                Err(e) => panic!("unexpected {e}"),
            })
        };
        let ticker = {
            let locks = locks.clone();
            thread::spawn(move || {
                let waiting = !locks.queue(&p("/s")).is_empty();
                locks.clock().advance(MS10);
                locks.advance();
                waiting
            })
        };
        let waiter = {
            let (locks, path) = (locks.clone(), path.clone());
            thread::spawn(move || {
                let g = locks.lock(b, &path, Level::Write, Wait::Forever).unwrap();
                assert!(g.fence() > fence_a, "fence went backwards");
                assert!(
                    locks.check_fence(a, &path, fence_a).is_err(),
                    "old lease still accepted while {b} holds write"
                );
            })
        };
        let renewed = renewer.join().unwrap();
        let waiting_at_expiry = ticker.join().unwrap();
        waiter.join().unwrap();
        COV.mark(if renewed { RENEWED } else { EXPIRED });
        if !renewed && waiting_at_expiry {
            COV.mark(EXPIRY_WOKE_WAITER);
        }
        assert!(locks.is_empty(), "left behind: {:?}", locks.counts());
    });
    COV.finish(
        100,
        &[
            (RENEWED, "renewal won"),
            (EXPIRED, "expiry won"),
            (EXPIRY_WOKE_WAITER, "an expiry woke the waiter"),
        ],
    );
}

/// A lease expiring while a reader below waits behind it and a second writer queues behind
/// the reader: expiry must wake the reader, and the queue drains in order. Three threads
/// plus main, preemption bound 3 in the gate.
#[test]
fn expiry_wakes_a_queue() {
    static COV: Coverage = Coverage::new("loom expiry_wakes_a_queue");
    const BOTH_QUEUED: usize = 0;
    check(&COV, gate_bound(3), || {
        let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
        let shadow = Arc::new(Shadow::new());
        let (dir, img) = (p("/s"), p("/s/img"));
        // Taken and abandoned like a crashed client: only expiry can end it.
        locks
            .lock_lease(Owner::new(1), &dir, Level::Delete, Wait::Forever, MS10)
            .unwrap()
            .detach();
        let spawn = |owner: u64, level: Level| {
            let (locks, shadow, img) = (locks.clone(), Arc::clone(&shadow), img.clone());
            thread::spawn(move || {
                let owner = Owner::new(owner);
                let g = locks.lock(owner, &img, level, Wait::Forever).unwrap();
                shadow.acquired(owner, &img, level, g.fence());
                shadow.releasing(owner, &img, level, g.fence());
            })
        };
        let reader = spawn(2, Level::Read);
        let writer = spawn(3, Level::Write);
        if locks.queue(&img).len() == 2 {
            COV.mark(BOTH_QUEUED);
        }
        locks.clock().advance(MS10);
        locks.advance();
        reader.join().unwrap();
        writer.join().unwrap();
        assert!(locks.is_empty(), "left behind: {:?}", locks.counts());
    });
    COV.finish(20, &[(BOTH_QUEUED, "both queued behind the lease")]);
}
