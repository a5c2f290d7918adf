//! Real-thread stress of the blocking `LockManager`: 64 OS threads, a fixed number of
//! operations each (never "run for N seconds"), on the system clock so timed waits, leases
//! and expiries use real sleeps. Invariants are checked continuously: every grant against the
//! shadow registry (mutual exclusion by level and hierarchy, fences unique and increasing),
//! and a checker thread sampling `LockManager::holders` on every path while the workers run.
//! At the end the table must be empty.

mod shadow;

use lockstudio::manager::{LockGuard, LockManager, Wait};
use lockstudio::{Level, LockError, LockPath, Owner};
use shadow::{exclusive, p, Shadow};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const THREADS: u64 = 64;
const OPS: usize = 150;
const TREE: [&str; 9] = [
    "/", "/s", "/s/a", "/s/a/x", "/s/a/y", "/s/b", "/t", "/t/u", "/t/u/v",
];

/// A tiny deterministic generator per thread (xorshift64*): the workload is fixed by the
/// thread's id, only the interleaving varies.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 33) as usize % n
    }

    fn path(&mut self) -> LockPath {
        p(TREE[self.below(TREE.len())])
    }

    fn level(&mut self) -> Level {
        match self.below(10) {
            0..=4 => Level::Read,
            5..=8 => Level::Write,
            _ => Level::Delete,
        }
    }
}

#[derive(Default)]
struct Tally {
    granted: AtomicUsize,
    deadlocks: AtomicUsize,
    timeouts: AtomicUsize,
    crashes: AtomicUsize,
}

struct World {
    locks: LockManager,
    shadow: Shadow,
    tally: Tally,
    /// The latest expiry of a crashed (detached) lease, so the end can wait for it.
    last_expiry: Mutex<Option<lockstudio::Time>>,
}

impl World {
    fn lock(&self, owner: Owner, path: &LockPath, level: Level, wait: Wait) -> Option<LockGuard> {
        match self.locks.lock(owner, path, level, wait) {
            Ok(g) => {
                self.shadow.acquired(owner, path, level, g.fence());
                self.tally.granted.fetch_add(1, Ordering::Relaxed);
                Some(g)
            }
            Err(LockError::Deadlock { cycle }) => {
                assert_eq!(cycle.first(), Some(&owner), "cycle {cycle:?}");
                self.tally.deadlocks.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(LockError::Timeout { .. }) if wait != Wait::Forever => {
                self.tally.timeouts.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(e) => panic!("{owner} {level} {path}: unexpected {e}"),
        }
    }

    fn release(&self, g: LockGuard) {
        self.shadow
            .releasing(g.owner(), g.path(), g.level(), g.fence());
        if let Err(e) = g.unlock() {
            panic!("release failed: {e}");
        }
    }

    fn worker(&self, id: u64) {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ id.wrapping_mul(0x1000_0000_01b3));
        let mut owner = Owner::new(id);
        for op in 0..OPS {
            let (path, level) = (rng.path(), rng.level());
            let short = Wait::For(Duration::from_micros(200 + rng.below(800) as u64));
            match rng.below(12) {
                0..=3 => {
                    if let Some(g) = self.lock(owner, &path, level, Wait::Forever) {
                        thread::yield_now();
                        self.release(g);
                    }
                }
                4..=5 => {
                    let Some(first) = self.lock(owner, &path, level, Wait::Forever) else {
                        continue;
                    };
                    let (next, l2) = (rng.path(), rng.level());
                    if let Some(second) = self.lock(owner, &next, l2, Wait::Forever) {
                        self.release(second);
                    }
                    self.release(first);
                }
                6..=8 => {
                    if let Some(g) = self.lock(owner, &path, level, short) {
                        self.release(g);
                    }
                }
                9 => {
                    let Some(read) = self.lock(owner, &path, Level::Read, Wait::Forever) else {
                        continue;
                    };
                    if let Some(write) = self.lock(owner, &path, Level::Write, short) {
                        self.release(write);
                    }
                    self.release(read);
                }
                10 => {
                    let ttl = Duration::from_secs(3600);
                    let mut g = self
                        .locks
                        .lock_lease(owner, &path, level, Wait::Forever, ttl)
                        .unwrap_or_else(|e| panic!("lease: {e}"));
                    self.shadow.acquired(owner, &path, level, g.fence());
                    g.renew(ttl).unwrap_or_else(|e| panic!("renew: {e}"));
                    self.release(g);
                }
                _ => {
                    // Crash holding a short lease (only expiry ends it), then come back as a
                    // new owner, as a restarted client would.
                    let ttl = Duration::from_millis(2);
                    let g = self
                        .locks
                        .lock_lease(owner, &path, level, Wait::Forever, ttl)
                        .unwrap_or_else(|e| panic!("lease: {e}"));
                    // Not in the shadow: the lease may expire (and a conflicting grant be
                    // recorded) before this thread gets to record it.
                    assert!(g.fence() > 0);
                    let mut last = self.last_expiry.lock().unwrap_or_else(|e| e.into_inner());
                    *last = (*last).max(g.expires());
                    drop(last);
                    g.detach();
                    self.tally.crashes.fetch_add(1, Ordering::Relaxed);
                    owner = Owner::new(id + THREADS * (op as u64 + 1));
                }
            }
        }
    }

    /// One sweep of the continuous check: on every path, the holders the manager reports
    /// must be pairwise compatible and carry distinct live fences.
    fn sweep(&self) {
        for path in TREE {
            let holders = self.locks.holders(&p(path));
            for (i, a) in holders.iter().enumerate() {
                assert!(a.fence > 0 && a.counts.iter().sum::<u32>() > 0, "{a:?}");
                for b in &holders[i + 1..] {
                    assert!(
                        a.owner == b.owner || !exclusive(a.level, b.level),
                        "on {path}: {a:?} and {b:?} hold at once"
                    );
                    assert_ne!(a.fence, b.fence, "on {path}: shared fence");
                }
            }
        }
    }
}

/// A worker that panics has broken an invariant, and may leave peers blocked forever behind
/// a request nobody will release: end the whole process at once with a failure instead of
/// hanging the test run.
fn fail_fast_on_worker_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        let worker = thread::current()
            .name()
            .is_some_and(|n| n.starts_with("stress-"));
        if worker {
            // Straight to the process's stderr: the test harness's capture would swallow it.
            let _ = writeln!(std::io::stderr(), "STRESS FAILED: {info}");
            std::process::exit(101);
        }
    }));
}

#[test]
fn sixty_four_threads_fixed_ops() {
    fail_fast_on_worker_panic();
    let world = Arc::new(World {
        locks: LockManager::new(),
        shadow: Shadow::new(),
        tally: Tally::default(),
        last_expiry: Mutex::new(None),
    });
    let done = Arc::new(AtomicBool::new(false));
    let checker = {
        let (world, done) = (Arc::clone(&world), Arc::clone(&done));
        thread::spawn(move || {
            let mut sweeps = 0usize;
            while !done.load(Ordering::Acquire) {
                world.sweep();
                sweeps += 1;
                thread::yield_now();
            }
            sweeps
        })
    };
    let workers: Vec<_> = (1..=THREADS)
        .map(|id| {
            let world = Arc::clone(&world);
            thread::Builder::new()
                .name(format!("stress-{id}"))
                .spawn(move || world.worker(id))
                .unwrap_or_else(|e| panic!("spawn: {e}"))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let sweeps = checker.join().unwrap();

    // Crashed leases end by expiry: wait (for a known instant, not "long enough") until the
    // last one is due, then let the manager process it.
    let last = *world.last_expiry.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = last {
        let now = lockstudio::Clock::now(world.locks.clock());
        thread::sleep(at.saturating_since(now) + Duration::from_millis(1));
        world.locks.advance();
    }
    let t = &world.tally;
    let granted = t.granted.load(Ordering::Relaxed);
    println!(
        "STRESS threads={THREADS} ops={} granted={granted} deadlocks={} timeouts={} crashes={} sweeps={sweeps}",
        THREADS as usize * OPS,
        t.deadlocks.load(Ordering::Relaxed),
        t.timeouts.load(Ordering::Relaxed),
        t.crashes.load(Ordering::Relaxed),
    );
    assert_eq!(world.shadow.live(), 0);
    assert!(
        granted >= THREADS as usize * OPS / 4,
        "too few grants: {granted}"
    );
    assert!(sweeps > 0, "the checker never ran");
    assert!(
        world.locks.is_empty(),
        "left behind: {:?}",
        world.locks.counts()
    );
}
