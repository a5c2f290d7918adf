//! Real-thread tests of the blocking `LockManager`: blocking, timeout, wake order, guards
//! released on another thread, deadlock errors, leases under a manual clock.

use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockError, LockPath, ManualClock, Owner, Time};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

mod waiting;

use waiting::eventually;

#[test]
fn writer_blocks_writer_until_release() {
    let locks = LockManager::new();
    let g = locks
        .lock(Owner::new(1), &p("/s"), Level::Write, Wait::Forever)
        .unwrap();
    let l2 = locks.clone();
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let g2 = l2
            .lock(Owner::new(2), &p("/s/img"), Level::Write, Wait::Forever)
            .unwrap();
        tx.send(g2.fence()).unwrap();
    });
    eventually(|| locks.queue(&p("/s/img")).len() == 1);
    assert!(rx.try_recv().is_err(), "second writer must wait");
    let first = g.fence();
    drop(g);
    let second = rx.recv().unwrap();
    assert!(second > first, "fencing token increases");
    t.join().unwrap();
    assert!(locks.is_empty());
}

#[test]
fn bounded_wait_times_out_naming_the_holder() {
    let locks = LockManager::new();
    let _g = locks
        .lock(Owner::new(1), &p("/a"), Level::Delete, Wait::Forever)
        .unwrap();
    let err = locks.lock(
        Owner::new(2),
        &p("/a/b"),
        Level::Read,
        Wait::For(Duration::from_millis(30)),
    );
    match err {
        Err(LockError::Timeout { waited, blockers }) => {
            assert!(waited >= Duration::from_millis(30));
            assert_eq!(blockers, vec![Owner::new(1)]);
        }
        other => panic!("expected timeout, got {other:?}"),
    }
    assert!(
        locks.queue(&p("/a/b")).is_empty(),
        "timed-out request is withdrawn"
    );
}

#[test]
fn waiters_are_granted_in_fifo_order() {
    let locks = LockManager::new();
    let g = locks
        .lock(Owner::new(0), &p("/q"), Level::Write, Wait::Forever)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 1..=4u64 {
        let l = locks.clone();
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            let g = l
                .lock(Owner::new(i), &p("/q"), Level::Write, Wait::Forever)
                .unwrap();
            tx.send(i).unwrap();
            drop(g);
        }));
        // Queue them one at a time so their order is known.
        eventually(|| locks.queue(&p("/q")).len() == i as usize);
    }
    drop(g);
    let order: Vec<u64> = (0..4).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(order, vec![1, 2, 3, 4]);
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn guard_released_on_another_thread_wakes_waiter() {
    let locks = LockManager::new();
    let g = locks
        .lock(Owner::new(1), &p("/x"), Level::Write, Wait::Forever)
        .unwrap();
    let l2 = locks.clone();
    let waiter = thread::spawn(move || {
        l2.lock(Owner::new(2), &p("/x"), Level::Delete, Wait::Forever)
            .map(|g| g.level())
    });
    eventually(|| locks.queue(&p("/x")).len() == 1);
    thread::spawn(move || drop(g)).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(Level::Delete));
}

#[test]
fn two_upgraders_get_a_deadlock_error_not_a_hang() {
    let locks = LockManager::new();
    let path = p("/doc");
    let _ra = locks
        .lock(Owner::new(1), &path, Level::Read, Wait::Forever)
        .unwrap();
    let rb = locks
        .lock(Owner::new(2), &path, Level::Read, Wait::Forever)
        .unwrap();
    let l2 = locks.clone();
    let upgrader = thread::spawn(move || {
        l2.lock(Owner::new(1), &p("/doc"), Level::Write, Wait::Forever)
            .map(|g| g.fence())
    });
    eventually(|| locks.queue(&path).len() == 1);
    let err = locks
        .lock(Owner::new(2), &path, Level::Write, Wait::Forever)
        .unwrap_err();
    assert_eq!(
        err,
        LockError::Deadlock {
            cycle: vec![Owner::new(2), Owner::new(1)]
        }
    );
    drop(rb); // B gives up its read: A's upgrade goes through.
    assert!(upgrader.join().unwrap().is_ok());
}

#[test]
fn double_release_and_unknown_owner_are_typed_errors() {
    let locks = LockManager::new();
    let g = locks
        .lock(Owner::new(1), &p("/r"), Level::Read, Wait::Forever)
        .unwrap();
    assert!(matches!(
        locks.unlock(Owner::new(9), &p("/r"), None),
        Err(LockError::NotHeld { .. })
    ));
    g.unlock().unwrap();
    assert!(matches!(
        locks.unlock(Owner::new(1), &p("/r"), None),
        Err(LockError::NotHeld { .. })
    ));
    assert!(locks.is_empty());
    let zero = locks.lock(
        Owner::new(1),
        &p("/r"),
        Level::Read,
        Wait::For(Duration::ZERO),
    );
    assert!(matches!(zero, Err(LockError::InvalidDuration { .. })));
}

#[test]
fn lease_expiry_under_manual_clock_wakes_the_waiter() {
    let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let lease = locks
        .lock_lease(
            Owner::new(1),
            &p("/sess"),
            Level::Write,
            Wait::Forever,
            Duration::from_secs(30),
        )
        .unwrap();
    let token = lease.fence();
    lease.detach(); // the client "crashes" holding it
    let l2 = locks.clone();
    let waiter = thread::spawn(move || {
        l2.lock(Owner::new(2), &p("/sess"), Level::Write, Wait::Forever)
            .map(|g| g.fence())
    });
    eventually(|| locks.queue(&p("/sess")).len() == 1);
    locks.clock().advance(Duration::from_secs(29));
    locks.advance();
    assert_eq!(locks.queue(&p("/sess")).len(), 1, "not yet expired");
    locks.clock().advance(Duration::from_secs(1));
    locks.advance();
    let newer = waiter.join().unwrap().unwrap();
    assert!(newer > token);
    assert_eq!(
        locks.check_fence(Owner::new(1), &p("/sess"), token),
        Err(LockError::LeaseExpired {
            owner: Owner::new(1),
            path: p("/sess")
        })
    );
    assert_eq!(
        locks.unlock(Owner::new(1), &p("/sess"), None),
        Err(LockError::LeaseExpired {
            owner: Owner::new(1),
            path: p("/sess")
        })
    );
}

#[test]
fn renewed_lease_survives_and_guard_reports_expiry() {
    let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let mut g = locks
        .lock_lease(
            Owner::new(1),
            &p("/e"),
            Level::Write,
            Wait::Forever,
            Duration::from_secs(10),
        )
        .unwrap();
    locks.clock().advance(Duration::from_secs(8));
    assert_eq!(
        g.renew(Duration::from_secs(10)),
        Ok(Time::from_nanos(18_000_000_000))
    );
    locks.clock().advance(Duration::from_secs(8));
    locks.advance();
    assert_eq!(
        locks.holders(&p("/e")).len(),
        1,
        "renewed lease still held at t=16s"
    );
    locks.clock().advance(Duration::from_secs(3));
    assert!(matches!(
        g.renew(Duration::from_secs(10)),
        Err(LockError::LeaseExpired { .. })
    ));
    assert!(locks.is_empty());
}

/// A lease granted while the waiter behind it already sleeps untimed (there was no deadline
/// when it went to sleep) must still expire and wake that waiter, even though no thread ever
/// calls into the manager again. Found as a 64-thread stress hang; the bound below only turns
/// a hang into a failure.
#[test]
fn a_lease_granted_to_a_crashed_holder_expires_while_everyone_sleeps() {
    let locks = LockManager::new();
    let path = p("/s/img");
    let first = locks
        .lock(Owner::new(1), &path, Level::Write, Wait::Forever)
        .unwrap();
    let (crashed, sleeper) = (locks.clone(), locks.clone());
    let (leased, waiting) = (path.clone(), path.clone());
    let crash = thread::spawn(move || {
        let ttl = Duration::from_millis(30);
        let g = crashed
            .lock_lease(Owner::new(2), &leased, Level::Write, Wait::Forever, ttl)
            .unwrap();
        g.detach();
    });
    eventually(|| locks.queue(&path).len() == 1);
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let g = sleeper
            .lock(Owner::new(3), &waiting, Level::Write, Wait::Forever)
            .unwrap();
        tx.send(g.fence()).unwrap();
    });
    eventually(|| locks.queue(&path).len() == 2);
    drop(first);
    crash.join().unwrap();
    let fence = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the waiter behind the expired lease was never woken");
    assert!(fence > 0);
    waiter.join().unwrap();
    assert!(locks.is_empty());
}
