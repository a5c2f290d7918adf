//! loom models of the blocking `LockManager` (the shipped code, built on loom's primitives
//! through the sync facade): every interleaving of 2–3 threads, exhaustive unless a
//! preemption bound is stated at the model. Every model checks the shadow registry
//! (mutual exclusion by level and hierarchy, fences unique and increasing across
//! conflicting holds), ends with an empty table (a lost wake-up shows as a loom deadlock),
//! asserts a floor on its execution count and that its interesting interleaving happened.
//!
//! Run: `RUSTFLAGS="--cfg lockstudio_loom" CARGO_TARGET_DIR=target/loom \
//!       cargo test --release -p lockstudio --test loom_locks`
#![cfg(lockstudio_loom)]

mod shadow;

use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockError, LockPath, Owner};
use loom::thread;
use shadow::{gate_bound, loom_check as check, p, Coverage, Frozen, Shadow};
use std::sync::Arc;

type Locks = LockManager<Frozen>;

const WAITED: usize = 0;
const OTHER: usize = 1;

/// Takes `level` on `path`, records it in the shadow, notes whether anyone queued on
/// `watch` meanwhile, and gives it back.
fn hold(
    locks: &Locks,
    shadow: &Shadow,
    cov: &Coverage,
    owner: u64,
    path: &LockPath,
    level: Level,
    watch: &LockPath,
) {
    let owner = Owner::new(owner);
    let g = locks
        .lock(owner, path, level, Wait::Forever)
        .unwrap_or_else(|e| panic!("{owner} {level} {path}: {e}"));
    shadow.acquired(owner, path, level, g.fence());
    if !locks.queue(watch).is_empty() {
        cov.mark(WAITED);
    }
    shadow.releasing(owner, path, level, g.fence());
    drop(g);
}

/// Two owners, one model each, both taking and releasing a hold; the table must be empty at
/// the end (no lost wake-up: loom reports a deadlock if a waiter is never woken).
fn pair(cov: &'static Coverage, a: (&'static str, Level), b: (&'static str, Level)) {
    check(cov, None, move || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let (pa, pb) = (p(a.0), p(b.0));
        let t = {
            let (locks, shadow, pa, pb) =
                (locks.clone(), Arc::clone(&shadow), pa.clone(), pb.clone());
            thread::spawn(move || hold(&locks, &shadow, cov, 1, &pa, a.1, &pb))
        };
        hold(&locks, &shadow, cov, 2, &pb, b.1, &pa);
        t.join().unwrap();
        assert!(locks.is_empty(), "table not empty: {:?}", locks.counts());
        assert_eq!(shadow.live(), 0);
    });
}

#[test]
fn writer_vs_writer_same_path() {
    static COV: Coverage = Coverage::new("loom writer_vs_writer");
    pair(&COV, ("/s", Level::Write), ("/s", Level::Write));
    COV.finish(10, &[(WAITED, "a writer waited")]);
}

#[test]
fn delete_vs_reader_below() {
    static COV: Coverage = Coverage::new("loom delete_vs_reader");
    pair(&COV, ("/s", Level::Delete), ("/s/img", Level::Read));
    COV.finish(10, &[(WAITED, "one waited for the other")]);
}

#[test]
fn directory_write_vs_child_write() {
    static COV: Coverage = Coverage::new("loom directory_write_vs_child_write");
    pair(&COV, ("/s", Level::Write), ("/s/a/img", Level::Write));
    COV.finish(10, &[(WAITED, "one waited for the other")]);
}

/// A writer and a reader below it may hold at once; a second writer on the reader's path
/// must wait for both. Three threads: preemption bound 3 in the gate (exhaustive is 478,918
/// executions, about 30 s here; `LOCKSTUDIO_LOOM_EXHAUSTIVE=1` runs it).
#[test]
fn reader_joins_writer() {
    static COV: Coverage = Coverage::new("loom reader_joins_writer");
    check(&COV, gate_bound(3), || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let (dir, img) = (p("/s"), p("/s/img"));
        let w = {
            let (locks, shadow, dir, img) =
                (locks.clone(), Arc::clone(&shadow), dir.clone(), img.clone());
            thread::spawn(move || {
                let owner = Owner::new(1);
                let g = locks
                    .lock(owner, &dir, Level::Write, Wait::Forever)
                    .unwrap();
                shadow.acquired(owner, &dir, Level::Write, g.fence());
                if !locks.holders(&img).is_empty() {
                    COV.mark(OTHER);
                }
                shadow.releasing(owner, &dir, Level::Write, g.fence());
            })
        };
        let w2 = {
            let (locks, shadow, img) = (locks.clone(), Arc::clone(&shadow), img.clone());
            thread::spawn(move || {
                let watch = img.clone();
                hold(&locks, &shadow, &COV, 3, &img, Level::Write, &watch);
            })
        };
        let owner = Owner::new(2);
        let g = locks.lock(owner, &img, Level::Read, Wait::Forever).unwrap();
        shadow.acquired(owner, &img, Level::Read, g.fence());
        shadow.releasing(owner, &img, Level::Read, g.fence());
        drop(g);
        w.join().unwrap();
        w2.join().unwrap();
        assert!(locks.is_empty());
    });
    COV.finish(
        100,
        &[
            (OTHER, "reader held alongside the writer"),
            (WAITED, "the second writer waited"),
        ],
    );
}

/// Two sibling writers below a directory and a writer on the directory itself: the siblings
/// may overlap in time, the directory writer excludes both. Three threads: preemption
/// bound 3 in the gate (exhaustive is 848,046 executions, about 60 s here;
/// `LOCKSTUDIO_LOOM_EXHAUSTIVE=1` runs it).
#[test]
fn child_writes_vs_ancestor_write() {
    static COV: Coverage = Coverage::new("loom child_writes_vs_ancestor_write");
    check(&COV, gate_bound(3), || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let spawn = |owner: u64, path: &'static str| {
            let (locks, shadow) = (locks.clone(), Arc::clone(&shadow));
            thread::spawn(move || {
                let path = p(path);
                let watch = p("/s");
                hold(&locks, &shadow, &COV, owner, &path, Level::Write, &watch);
            })
        };
        let a = spawn(1, "/s/a");
        let b = spawn(2, "/s/b");
        let dir = p("/s");
        let owner = Owner::new(3);
        let g = locks
            .lock(owner, &dir, Level::Write, Wait::Forever)
            .unwrap();
        shadow.acquired(owner, &dir, Level::Write, g.fence());
        shadow.releasing(owner, &dir, Level::Write, g.fence());
        drop(g);
        a.join().unwrap();
        b.join().unwrap();
        assert!(locks.is_empty());
    });
    COV.finish(100, &[(WAITED, "the ancestor writer waited")]);
}

/// A guard taken on one thread and dropped on another wakes a writer waiting on a third.
#[test]
fn release_on_another_thread() {
    static COV: Coverage = Coverage::new("loom release_on_another_thread");
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let path = p("/s");
        let (a, b) = (Owner::new(1), Owner::new(2));
        let g = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Write, g.fence());
        let releaser = {
            let (shadow, path, locks) = (Arc::clone(&shadow), path.clone(), locks.clone());
            thread::spawn(move || {
                if !locks.queue(&path).is_empty() {
                    COV.mark(WAITED);
                }
                shadow.releasing(a, &path, Level::Write, g.fence());
                drop(g);
            })
        };
        let waiter = {
            let (shadow, path, locks) = (Arc::clone(&shadow), path.clone(), locks.clone());
            thread::spawn(move || {
                let g = locks.lock(b, &path, Level::Write, Wait::Forever).unwrap();
                shadow.acquired(b, &path, Level::Write, g.fence());
                shadow.releasing(b, &path, Level::Write, g.fence());
            })
        };
        releaser.join().unwrap();
        waiter.join().unwrap();
        assert!(locks.is_empty());
    });
    COV.finish(
        10,
        &[(WAITED, "the waiter queued before the foreign release")],
    );
}

/// A reader upgrading to write while another reader holds: the upgrade waits (it bypasses
/// the queue, not the other reader) and is granted once that reader leaves.
#[test]
fn upgrade_vs_reader() {
    static COV: Coverage = Coverage::new("loom upgrade_vs_reader");
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let path = p("/s");
        let reader = {
            let (locks, shadow, path) = (locks.clone(), Arc::clone(&shadow), path.clone());
            thread::spawn(move || {
                let watch = path.clone();
                hold(&locks, &shadow, &COV, 2, &path, Level::Read, &watch);
            })
        };
        let a = Owner::new(1);
        let r = locks.lock(a, &path, Level::Read, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Read, r.fence());
        let w = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Write, w.fence());
        assert!(w.fence() > r.fence());
        shadow.releasing(a, &path, Level::Write, w.fence());
        drop(w);
        shadow.releasing(a, &path, Level::Read, r.fence());
        drop(r);
        reader.join().unwrap();
        assert!(locks.is_empty());
    });
    COV.finish(10, &[(WAITED, "the upgrade waited for the reader")]);
}

/// Two readers both upgrading: the second upgrade would close a cycle and must fail with
/// `Deadlock` at once (never hang); after it backs off, the first upgrade goes through.
#[test]
fn two_upgraders_deadlock_is_reported() {
    static COV: Coverage = Coverage::new("loom two_upgraders_deadlock");
    const DEADLOCK: usize = 0;
    const BOTH_UPGRADED: usize = 1;
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let path = p("/s");
        let upgrader = |owner: u64| {
            let (locks, shadow, path) = (locks.clone(), Arc::clone(&shadow), path.clone());
            move || -> bool {
                let owner = Owner::new(owner);
                let r = locks
                    .lock(owner, &path, Level::Read, Wait::Forever)
                    .unwrap();
                shadow.acquired(owner, &path, Level::Read, r.fence());
                let upgraded = match locks.lock(owner, &path, Level::Write, Wait::Forever) {
                    Ok(w) => {
                        shadow.acquired(owner, &path, Level::Write, w.fence());
                        shadow.releasing(owner, &path, Level::Write, w.fence());
                        true
                    }
                    Err(LockError::Deadlock { cycle }) => {
                        assert!(cycle.contains(&owner), "cycle {cycle:?} without {owner}");
                        false
                    }
                    Err(e) => panic!("unexpected {e}"),
                };
                shadow.releasing(owner, &path, Level::Read, r.fence());
                drop(r);
                upgraded
            }
        };
        let t = thread::spawn(upgrader(1));
        let mine = upgrader(2)();
        let theirs = t.join().unwrap();
        assert!(
            mine || theirs,
            "both upgrades failed: only the closing request may fail"
        );
        if !(mine && theirs) {
            COV.mark(DEADLOCK);
        } else {
            COV.mark(BOTH_UPGRADED);
        }
        assert!(locks.is_empty());
    });
    COV.finish(
        10,
        &[
            (DEADLOCK, "deadlock reported"),
            (BOTH_UPGRADED, "serial upgrades"),
        ],
    );
}

#[test]
fn delete_vs_reader_same_path() {
    static COV: Coverage = Coverage::new("loom delete_vs_reader_same_path");
    pair(&COV, ("/s", Level::Delete), ("/s", Level::Read));
    COV.finish(10, &[(WAITED, "one waited for the other")]);
}

/// An owner shared by two threads (one session, two workers) holds a path twice; one
/// worker's release must leave the other's acquisition in force, so a second owner waits
/// for both. Three threads, exhaustive.
#[test]
fn reentrant_holds_released_on_two_threads() {
    static COV: Coverage = Coverage::new("loom reentrant_holds_on_two_threads");
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let shadow = Arc::new(Shadow::new());
        let path = p("/s");
        let (a, b) = (Owner::new(1), Owner::new(2));
        let g1 = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Write, g1.fence());
        let g2 = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        shadow.acquired(a, &path, Level::Write, g2.fence());
        let worker = {
            let (shadow, path) = (Arc::clone(&shadow), path.clone());
            thread::spawn(move || {
                shadow.releasing(a, &path, Level::Write, g1.fence());
                drop(g1);
            })
        };
        let other = {
            let (locks, shadow, path) = (locks.clone(), Arc::clone(&shadow), path.clone());
            thread::spawn(move || {
                let watch = path.clone();
                hold(&locks, &shadow, &COV, b.id(), &path, Level::Write, &watch);
            })
        };
        if !locks.queue(&path).is_empty() {
            COV.mark(WAITED);
        }
        shadow.releasing(a, &path, Level::Write, g2.fence());
        drop(g2);
        worker.join().unwrap();
        other.join().unwrap();
        assert!(locks.is_empty());
    });
    COV.finish(20, &[(WAITED, "the other owner waited")]);
}

/// A client releasing what it does not hold (a double release, a stale handle) gets
/// `NotHeld` and takes nothing from the real holder. Two threads, exhaustive.
#[test]
fn stray_unlock_takes_nothing() {
    static COV: Coverage = Coverage::new("loom stray_unlock");
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let path = p("/s");
        let (a, b) = (Owner::new(1), Owner::new(2));
        let g = locks.lock(a, &path, Level::Write, Wait::Forever).unwrap();
        let stray = {
            let (locks, path) = (locks.clone(), path.clone());
            thread::spawn(move || locks.unlock(b, &path, None))
        };
        let holders = locks.holders(&path);
        assert_eq!(holders.len(), 1, "the holder lost its hold: {holders:?}");
        assert_eq!(holders[0].owner, a);
        g.unlock().unwrap();
        let result = stray.join().unwrap();
        assert!(
            matches!(result, Err(LockError::NotHeld { owner, .. }) if owner == b),
            "stray unlock answered {result:?}"
        );
        assert!(locks.is_empty());
    });
    COV.finish(2, &[]);
}

/// Three owners each holding one path and then asking for the next one's: whichever request
/// closes the three-cycle must fail with `Deadlock` (a missed cycle hangs all three, which
/// loom reports). Three threads; preemption bound 2 in the gate.
#[test]
fn three_cycle_deadlock_is_reported() {
    static COV: Coverage = Coverage::new("loom three_cycle_deadlock");
    const DEADLOCK: usize = 0;
    check(&COV, gate_bound(2), || {
        let locks = LockManager::with_clock(Frozen);
        let paths = ["/a", "/b", "/c"];
        let worker = |i: usize| {
            let locks = locks.clone();
            move || -> bool {
                let owner = Owner::new(i as u64 + 1);
                let (mine, next) = (p(paths[i]), p(paths[(i + 1) % 3]));
                let _first = locks
                    .lock(owner, &mine, Level::Write, Wait::Forever)
                    .unwrap();
                match locks.lock(owner, &next, Level::Write, Wait::Forever) {
                    Ok(_second) => true,
                    Err(LockError::Deadlock { cycle }) => {
                        assert_eq!(cycle.first(), Some(&owner), "cycle {cycle:?}");
                        false
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        };
        let t1 = thread::spawn(worker(1));
        let t2 = thread::spawn(worker(2));
        let ok = [worker(0)(), t1.join().unwrap(), t2.join().unwrap()];
        let failed = ok.iter().filter(|&&x| !x).count();
        assert!(
            failed <= 1,
            "{failed} requests failed: only the closing one may"
        );
        if failed == 1 {
            COV.mark(DEADLOCK);
        }
        assert!(locks.is_empty());
    });
    COV.finish(100, &[(DEADLOCK, "the three-cycle was reported")]);
}

/// FIFO: a reader arriving while a writer is queued behind another reader must queue behind
/// that writer, not join the first reader (which would starve writers). Three threads,
/// exhaustive.
#[test]
fn reader_does_not_barge_past_queued_writer() {
    static COV: Coverage = Coverage::new("loom reader_does_not_barge");
    const SAW_WRITER_QUEUED: usize = 0;
    check(&COV, None, || {
        let locks = LockManager::with_clock(Frozen);
        let path = p("/s");
        let (a, w, r) = (Owner::new(1), Owner::new(2), Owner::new(3));
        let first = locks.lock(a, &path, Level::Read, Wait::Forever).unwrap();
        let writer = {
            let (locks, path) = (locks.clone(), path.clone());
            thread::spawn(move || {
                locks
                    .lock(w, &path, Level::Write, Wait::Forever)
                    .unwrap()
                    .fence()
            })
        };
        let reader = {
            let (locks, path) = (locks.clone(), path.clone());
            thread::spawn(move || {
                let writer_queued = locks.queue(&path).iter().any(|q| q.owner == w);
                let fence = locks
                    .lock(r, &path, Level::Read, Wait::Forever)
                    .unwrap()
                    .fence();
                (writer_queued, fence)
            })
        };
        drop(first);
        let fw = writer.join().unwrap();
        let (writer_queued, fr) = reader.join().unwrap();
        if writer_queued {
            COV.mark(SAW_WRITER_QUEUED);
            assert!(
                fr > fw,
                "reader (fence {fr}) barged past the queued writer (fence {fw})"
            );
        }
        assert!(locks.is_empty());
    });
    COV.finish(
        20,
        &[(SAW_WRITER_QUEUED, "the reader found the writer queued")],
    );
}
