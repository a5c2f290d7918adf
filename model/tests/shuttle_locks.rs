//! shuttle models of the blocking `LockManager`, scaled past what loom can search: 4–8
//! threads running random workloads over a small path tree (random and PCT schedulers with
//! pinned seeds), plus small models searched depth-first.
//!
//! Run: `CARGO_TARGET_DIR=target/shuttle cargo test --release -p lockstudio \
//!       --features shuttle --test shuttle_locks`. A failure prints the schedule; replay it with
//! `LOCKSTUDIO_SHUTTLE_REPLAY='<schedule>'` and the failing test's name.
#![cfg(feature = "shuttle")]

mod shadow;

use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockError, LockPath, ManualClock, Owner, Time};
use shadow::{exclusive, p, shuttle_check as check, Coverage, Explore, Frozen, Shadow};
use shuttle::rand::{thread_rng, Rng};
use shuttle::thread;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TREE: [&str; 7] = ["/", "/s", "/s/a", "/s/a/x", "/s/b", "/t", "/t/y"];
const MS10: Duration = Duration::from_millis(10);
/// Longer than all the time a workload can advance, so these leases never expire mid-hold.
const HOUR: Duration = Duration::from_secs(3600);

/// The shared state of one random-workload execution.
struct World {
    locks: LockManager<ManualClock>,
    shadow: Shadow,
    /// Leases whose holders "crashed" (detached): only expiry ends them, so they are not in
    /// the shadow; instead every later conflicting grant checks their token is refused.
    crashed: Mutex<Vec<(Owner, LockPath, Level, u64)>>,
}

const DEADLOCK: usize = 0;
const TIMED_OUT: usize = 1;
const EXPIRED_INTO_WAITER: usize = 2;
const WAITED: usize = 3;

impl World {
    fn new() -> Self {
        World {
            locks: LockManager::with_clock(ManualClock::new(Time::ZERO)),
            shadow: Shadow::new(),
            crashed: Mutex::new(Vec::new()),
        }
    }

    /// Records a grant: shadow checks (unless it is a short lease about to be abandoned, which
    /// other crashes' clock steps may expire at any moment), and no crashed lease that
    /// conflicts is still live.
    fn granted(&self, cov: &Coverage, owner: Owner, path: &LockPath, level: Level, fence: u64) {
        self.shadow.acquired(owner, path, level, fence);
        self.no_live_crashed_conflict(cov, owner, path, level, fence);
    }

    /// Checks that no conflicting crashed lease is live alongside `owner`'s hold granted with
    /// `fence`. Both may be short leases: one live now whose partner is still live after the
    /// check was live together with it (leases never come back).
    fn no_live_crashed_conflict(
        &self,
        cov: &Coverage,
        owner: Owner,
        path: &LockPath,
        level: Level,
        fence: u64,
    ) {
        let crashed = self
            .crashed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut live = Vec::new();
        for (o, at, l, f) in crashed {
            if o != owner && at.overlaps(path) && exclusive(l, level) {
                if self.locks.check_fence(o, &at, f).is_ok() {
                    live.push((o, at, l));
                }
                cov.mark(EXPIRED_INTO_WAITER);
            }
        }
        if let Some((o, at, l)) = live.first() {
            assert!(
                self.locks.check_fence(owner, path, fence).is_err(),
                "{owner} holds {level} on {path} while crashed {o}'s {l} lease on {at} is live"
            );
        }
        if !self.locks.queue(path).is_empty() {
            cov.mark(WAITED);
        }
    }

    fn lock(
        &self,
        cov: &Coverage,
        owner: Owner,
        path: &LockPath,
        level: Level,
        wait: Wait,
    ) -> Option<lockstudio::manager::LockGuard<ManualClock>> {
        match self.locks.lock(owner, path, level, wait) {
            Ok(g) => {
                self.granted(cov, owner, path, level, g.fence());
                Some(g)
            }
            Err(LockError::Deadlock { cycle }) => {
                assert_eq!(cycle.first(), Some(&owner), "cycle {cycle:?}");
                cov.mark(DEADLOCK);
                None
            }
            Err(LockError::Timeout { .. }) if wait != Wait::Forever => {
                cov.mark(TIMED_OUT);
                None
            }
            Err(e) => panic!("{owner} {level} {path}: unexpected {e}"),
        }
    }

    fn release(&self, g: lockstudio::manager::LockGuard<ManualClock>) {
        self.shadow
            .releasing(g.owner(), g.path(), g.level(), g.fence());
        if let Err(e) = g.unlock() {
            panic!("release failed: {e}");
        }
    }
}

fn random_level(rng: &mut impl Rng) -> Level {
    match rng.gen_range(0..10) {
        0..=4 => Level::Read,
        5..=8 => Level::Write,
        _ => Level::Delete,
    }
}

/// One worker: `ops` random operations (plain, nested, timed, lease, crash, upgrade, stray
/// release). Between operations it holds nothing.
fn worker(world: &World, cov: &Coverage, id: u64, ops: usize) {
    let mut rng = thread_rng();
    let owner = Owner::new(id);
    let pick = |rng: &mut shuttle::rand::rngs::ThreadRng| p(TREE[rng.gen_range(0..TREE.len())]);
    for _ in 0..ops {
        let path = pick(&mut rng);
        let level = random_level(&mut rng);
        match rng.gen_range(0..11) {
            10 => {
                // A stray release (double release, stale handle): it must take nothing.
                match world.locks.unlock(owner, &path, None) {
                    Err(LockError::NotHeld { .. }) => {}
                    other => panic!("{owner} released {path} it does not hold: {other:?}"),
                }
            }
            0..=2 => {
                if let Some(g) = world.lock(cov, owner, &path, level, Wait::Forever) {
                    world.release(g);
                }
            }
            3..=4 => {
                // Nested: holding one path while asking for another can close a cycle.
                let Some(first) = world.lock(cov, owner, &path, level, Wait::Forever) else {
                    continue;
                };
                let (next, l2) = (pick(&mut rng), random_level(&mut rng));
                if let Some(second) = world.lock(cov, owner, &next, l2, Wait::Forever) {
                    world.release(second);
                }
                world.release(first);
            }
            5..=6 => {
                if let Some(g) = world.lock(cov, owner, &path, level, Wait::For(MS10)) {
                    world.release(g);
                }
            }
            7 => {
                let mut g = world
                    .locks
                    .lock_lease(owner, &path, level, Wait::Forever, HOUR)
                    .unwrap_or_else(|e| panic!("lease: {e}"));
                world.granted(cov, owner, &path, level, g.fence());
                g.renew(HOUR).unwrap_or_else(|e| panic!("renew: {e}"));
                world.release(g);
            }
            8 => {
                // Crash while holding a short lease; then time passes and expiry ends it.
                let g = world
                    .locks
                    .lock_lease(owner, &path, level, Wait::Forever, MS10)
                    .unwrap_or_else(|e| panic!("lease: {e}"));
                world.no_live_crashed_conflict(cov, owner, &path, level, g.fence());
                world
                    .crashed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((owner, path.clone(), level, g.fence()));
                g.detach();
                world.locks.clock().advance(MS10);
                world.locks.advance();
                // A crashed owner is gone for good: a new incarnation would get a new id.
                return;
            }
            _ => {
                let Some(read) = world.lock(cov, owner, &path, Level::Read, Wait::Forever) else {
                    continue;
                };
                if let Some(write) = world.lock(cov, owner, &path, Level::Write, Wait::Forever) {
                    world.release(write);
                }
                world.release(read);
            }
        }
    }
}

fn random_workload(cov: &'static Coverage, how: Explore, threads: u64, ops: usize) {
    check(cov, how, move || {
        let world = Arc::new(World::new());
        let handles: Vec<_> = (1..=threads)
            .map(|id| {
                let world = Arc::clone(&world);
                thread::spawn(move || worker(&world, cov, id, ops))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(world.shadow.live(), 0);
        assert!(
            world.locks.is_empty(),
            "left behind: {:?}",
            world.locks.counts()
        );
    });
}

const MARKS: [(usize, &str); 4] = [
    (DEADLOCK, "a deadlock was reported"),
    (TIMED_OUT, "a bounded wait timed out"),
    (
        EXPIRED_INTO_WAITER,
        "a grant overlapping a crashed lease was checked",
    ),
    (WAITED, "someone queued"),
];

#[test]
fn random_workload_random_scheduler() {
    static COV: Coverage = Coverage::new("shuttle random_workload(random, 6 threads x 4 ops)");
    let how = Explore::Random {
        seed: 0x5eed_0001,
        iterations: 10_000,
    };
    random_workload(&COV, how, 6, 4);
    COV.finish(10_000, &MARKS);
}

#[test]
fn random_workload_pct_scheduler() {
    static COV: Coverage = Coverage::new("shuttle random_workload(pct depth 3, 8 threads x 3 ops)");
    let how = Explore::Pct {
        seed: 0x5eed_0002,
        iterations: 10_000,
        depth: 3,
    };
    random_workload(&COV, how, 8, 3);
    COV.finish(10_000, &MARKS);
}

/// A ring of four owners, each holding its path and asking for the next: the request that
/// closes the cycle fails with `Deadlock`, everyone else finishes. PCT finds the full ring.
#[test]
fn four_cycle_deadlock_is_reported() {
    static COV: Coverage = Coverage::new("shuttle four_cycle_deadlock(pct depth 3)");
    const RING: [&str; 4] = ["/a", "/b", "/c", "/d"];
    let how = Explore::Pct {
        seed: 0x5eed_0003,
        iterations: 2000,
        depth: 3,
    };
    check(&COV, how, || {
        let locks = LockManager::with_clock(Frozen);
        let handles: Vec<_> = (0..RING.len())
            .map(|i| {
                let locks = locks.clone();
                thread::spawn(move || {
                    let owner = Owner::new(i as u64 + 1);
                    let (mine, next) = (p(RING[i]), p(RING[(i + 1) % RING.len()]));
                    let _first = locks
                        .lock(owner, &mine, Level::Write, Wait::Forever)
                        .unwrap();
                    match locks.lock(owner, &next, Level::Write, Wait::Forever) {
                        Ok(_) => true,
                        Err(LockError::Deadlock { cycle }) => {
                            assert_eq!(cycle.len(), RING.len(), "cycle {cycle:?}");
                            false
                        }
                        Err(e) => panic!("unexpected {e}"),
                    }
                })
            })
            .collect();
        let failed = handles
            .into_iter()
            .filter(|_| true)
            .map(|h| h.join().unwrap())
            .filter(|ok| !ok)
            .count();
        assert!(
            failed <= 1,
            "{failed} requests failed: only the closing one may"
        );
        if failed == 1 {
            COV.mark(DEADLOCK);
        }
        assert!(locks.is_empty());
    });
    COV.finish(2000, &[(DEADLOCK, "the four-cycle was reported")]);
}

/// Every schedule of a directory writer and a child writer (depth-first, no partial-order
/// reduction, so it stays at two threads; three did not finish in a minute).
#[test]
fn directory_vs_child_writer_dfs() {
    static COV: Coverage = Coverage::new("shuttle directory_vs_child_writer(dfs)");
    check(&COV, Explore::Dfs { max: None }, || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let spawn = |id: u64, path: &'static str, level: Level| {
            let (locks, shadow) = (locks.clone(), Arc::clone(&shadow));
            thread::spawn(move || {
                let (owner, path) = (Owner::new(id), p(path));
                let g = locks.lock(owner, &path, level, Wait::Forever).unwrap();
                shadow.acquired(owner, &path, level, g.fence());
                if !locks.queue(&p("/s")).is_empty() || !locks.queue(&p("/s/a")).is_empty() {
                    COV.mark(WAITED);
                }
                shadow.releasing(owner, &path, level, g.fence());
            })
        };
        let hs = [spawn(1, "/s", Level::Write), spawn(2, "/s/a", Level::Write)];
        for h in hs {
            h.join().unwrap();
        }
        assert!(locks.is_empty());
    });
    COV.finish(10, &[(WAITED, "someone queued")]);
}
