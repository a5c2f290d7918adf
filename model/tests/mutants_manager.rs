//! Kills mutants `cargo mutants` found surviving in `model/src/manager.rs` (see
//! `reports/mutation.md`): introspection and `Debug` of the manager and its guards, lease
//! renewal through the manager, and the deadline watch that makes a sleeping waiter process a
//! lease expiry on time.

use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockError, LockPath, ManualClock, Owner, Time};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

mod waiting;

use waiting::eventually;

#[test]
fn introspection_and_debug_show_what_is_held() {
    let locks = LockManager::new();
    assert!(locks.is_empty());
    assert_eq!(locks.watched_deadline(), None, "nobody sleeps");
    let g = locks
        .lock(Owner::new(7), &p("/s/img"), Level::Write, Wait::Forever)
        .unwrap();
    assert!(!locks.is_empty());
    assert_eq!(locks.counts().holds, 1);
    let shown = format!("{locks:?}");
    assert!(shown.contains("holds: 1"), "{shown}");
    let guard = format!("{g:?}");
    assert!(
        guard.contains("/s/img") && guard.contains("LockGuard"),
        "{guard}"
    );
    assert_eq!(g.expires(), None, "a hold without a lease never expires");
    drop(g);
    assert!(locks.is_empty());
    assert_eq!(locks.counts().holds, 0);
}

#[test]
fn renewing_through_the_manager_moves_the_expiry_until_it_passed() {
    let locks = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let clock = locks.clock();
    let (me, path) = (Owner::new(1), p("/s"));
    let ttl = Duration::from_secs(10);
    let g = locks
        .lock_lease(me, &path, Level::Write, Wait::Forever, ttl)
        .unwrap();
    assert_eq!(g.expires(), Some(Time::ZERO.saturating_add(ttl)));
    clock.advance(Duration::from_secs(4));
    let renewed = locks.renew(me, &path, ttl).unwrap();
    assert_eq!(renewed, Time::from_nanos(14_000_000_000));
    clock.advance(Duration::from_secs(11));
    locks.advance();
    assert!(matches!(
        locks.renew(me, &path, ttl),
        Err(LockError::LeaseExpired { .. })
    ));
    g.detach();
}

/// A lease granted while one waiter sleeps timed for a far deadline and another sleeps
/// untimed: the short lease must still be processed at its own expiry, not at the far one.
#[test]
fn a_short_lease_is_processed_at_its_expiry_while_a_waiter_sleeps_for_a_far_deadline() {
    let locks = LockManager::new();
    let (a, b) = (p("/a"), p("/b"));
    let hold_a = locks
        .lock(Owner::new(1), &a, Level::Write, Wait::Forever)
        .unwrap();
    let hold_b = locks
        .lock(Owner::new(2), &b, Level::Write, Wait::Forever)
        .unwrap();
    // Waits behind /a for up to 30 s: sleeps timed, far in the future.
    let patient = spawn_lock(
        &locks,
        Owner::new(3),
        &a,
        Wait::For(Duration::from_secs(30)),
    );
    eventually(|| locks.queue(&a).len() == 1);
    // A crashed client's short lease on /b, then a waiter behind it.
    let crash = spawn_crashed_lease(&locks, Owner::new(4), &b, Duration::from_millis(30));
    eventually(|| locks.queue(&b).len() == 1);
    let (rx, waiter) = spawn_waiter(&locks, Owner::new(5), &b);
    eventually(|| locks.queue(&b).len() == 2);
    let start = Instant::now();
    drop(hold_b);
    crash.join().unwrap();
    // The bound sits between the lease (30 ms) and the far deadline (30 s).
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the expiry waited for an unrelated waiter's far deadline");
    assert!(start.elapsed() < Duration::from_secs(10));
    waiter.join().unwrap();
    drop(hold_a);
    assert!(patient.join().unwrap().is_ok());
}

/// After a timed sleeper's deadline passed and it went back to sleep untimed, a deadline that
/// appears later must still be watched (the passed one must not count as watched).
#[test]
fn a_passed_deadline_does_not_count_as_watched() {
    let locks = LockManager::new();
    let (b, c, d) = (p("/b"), p("/c"), p("/d"));
    let hold_b = locks
        .lock(Owner::new(1), &b, Level::Write, Wait::Forever)
        .unwrap();
    let first = spawn_lock(&locks, Owner::new(2), &b, Wait::Forever);
    eventually(|| locks.queue(&b).len() == 1);
    // A short unrelated lease: the sleeper is woken to watch it, processes it, sleeps again.
    locks
        .lock_lease(
            Owner::new(3),
            &c,
            Level::Write,
            Wait::Forever,
            Duration::from_millis(20),
        )
        .unwrap()
        .detach();
    eventually(|| locks.holders(&c).is_empty());
    // Now the crashed-holder pattern on /d, with every other thread asleep.
    let hold_d = locks
        .lock(Owner::new(4), &d, Level::Write, Wait::Forever)
        .unwrap();
    let crash = spawn_crashed_lease(&locks, Owner::new(5), &d, Duration::from_millis(20));
    eventually(|| locks.queue(&d).len() == 1);
    let (rx, waiter) = spawn_waiter(&locks, Owner::new(6), &d);
    eventually(|| locks.queue(&d).len() == 2);
    drop(hold_d);
    crash.join().unwrap();
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the second lease was never processed");
    waiter.join().unwrap();
    drop(hold_b);
    assert!(first.join().unwrap().is_ok());
}

/// Renewing a lease to a shorter one moves the table's earliest deadline earlier than the
/// one every sleeper is timed for: one of them must be woken to watch the new deadline, or
/// the waiter behind the lease is let in only when the old, far expiry comes.
#[test]
fn shortening_a_lease_wakes_a_sleeper_to_watch_the_earlier_expiry() {
    let locks = LockManager::new();
    let (holder, path) = (Owner::new(1), p("/s/session.xml"));
    locks
        .lock_lease(
            holder,
            &path,
            Level::Write,
            Wait::Forever,
            Duration::from_secs(3600),
        )
        .unwrap()
        .detach();
    let (granted, waiter) = spawn_waiter(&locks, Owner::new(2), &path);
    eventually(|| locks.queue(&path).len() == 1);
    // The waiter now sleeps timed for the hour-long lease.
    let hour = locks.holders(&path)[0].expires;
    assert!(hour.is_some());
    assert_eq!(locks.watched_deadline(), hour);
    locks
        .renew(holder, &path, Duration::from_millis(50))
        .unwrap();
    granted
        .recv_timeout(Duration::from_secs(10))
        .expect("the shortened lease was processed at its old expiry, not its new one");
    waiter.join().unwrap();
}

/// Two waiters sleep untimed; a deadline appears and one of them is woken to watch it. When
/// that watcher leaves (its lock is granted) before the deadline, the watch must pass to the
/// other sleeper. Which sleeper is woken depends on the manager's slot order, so both
/// request orders are run: in one of them the watcher is the one that leaves.
#[test]
fn a_watcher_that_leaves_hands_the_deadline_to_another_sleeper() {
    for leaver_first in [true, false] {
        let locks = LockManager::new();
        let (l, u) = (p("/l"), p("/u"));
        let hold_l = locks
            .lock(Owner::new(1), &l, Level::Write, Wait::Forever)
            .unwrap();
        let hold_u = locks
            .lock(Owner::new(2), &u, Level::Write, Wait::Forever)
            .unwrap();
        let queue_behind = |owner: u64, path: &LockPath| {
            let waiter = spawn_waiter(&locks, Owner::new(owner), path);
            eventually(|| locks.queue(path).len() == 1);
            waiter
        };
        let (leaver, stays) = if leaver_first {
            let leaver = queue_behind(3, &l);
            (leaver, queue_behind(4, &u))
        } else {
            let stays = queue_behind(4, &u);
            (queue_behind(3, &l), stays)
        };
        // Both sleep untimed (no deadline yet). Turn the hold on /u into a lease: a deadline
        // appears and one sleeper is woken to watch it.
        locks
            .renew(Owner::new(2), &u, Duration::from_millis(500))
            .unwrap();
        hold_u.detach();
        eventually(|| locks.watched_deadline().is_some());
        drop(hold_l);
        leaver.0.recv_timeout(Duration::from_secs(10)).unwrap();
        leaver.1.join().unwrap();
        stays
            .0
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("lease never processed (leaver first: {leaver_first})"));
        stays.1.join().unwrap();
    }
}

/// A thread that takes `path` for `owner` (waiting forever), reports the grant and releases.
fn spawn_waiter(
    locks: &LockManager,
    owner: Owner,
    path: &LockPath,
) -> (mpsc::Receiver<()>, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let (locks, path) = (locks.clone(), path.clone());
    let handle = thread::spawn(move || {
        let g = locks
            .lock(owner, &path, Level::Write, Wait::Forever)
            .unwrap();
        tx.send(()).unwrap();
        drop(g);
    });
    (rx, handle)
}

/// A client that takes a write lease on `path` (waiting as long as it must) and crashes
/// holding it: the hold ends only by lease expiry.
fn spawn_crashed_lease(
    locks: &LockManager,
    owner: Owner,
    path: &LockPath,
    ttl: Duration,
) -> thread::JoinHandle<()> {
    let (locks, path) = (locks.clone(), path.clone());
    thread::spawn(move || {
        locks
            .lock_lease(owner, &path, Level::Write, Wait::Forever, ttl)
            .unwrap()
            .detach();
    })
}

/// A thread that takes a write on `path` for `owner` as `wait` allows and returns the grant's
/// fence (the guard releases when the thread ends).
fn spawn_lock(
    locks: &LockManager,
    owner: Owner,
    path: &LockPath,
    wait: Wait,
) -> thread::JoinHandle<Result<u64, LockError>> {
    let (locks, path) = (locks.clone(), path.clone());
    thread::spawn(move || {
        locks
            .lock(owner, &path, Level::Write, wait)
            .map(|g| g.fence())
    })
}
