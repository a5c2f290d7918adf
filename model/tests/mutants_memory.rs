//! Kills mutants `cargo mutants` found surviving in `model/src/table/tree.rs` (see
//! `reports/mutation.md`): `replace Tree::list_vacant with ()` and `replace
//! Tree::maybe_vacant with ()`, which stop the table from ever pruning the nodes of paths
//! nobody holds any more, and `replace != with == in Tree::prune`, which stops it from
//! pruning a directory once its last child is gone. Nothing in the lock semantics shows
//! it; memory does. A table serving an endless stream of distinct paths (a studio creating
//! images) must stay bounded by what is live, not by every path it has ever seen.

use lockstudio::{Decision, Level, LockModel, LockPath, LockTable, Owner, RequestOptions, Time};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Live;

/// Bytes currently allocated by this test binary.
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Live = Live;

/// Takes write locks on `path(i)` for every `i` in `range`, `batch` at a time, and gives
/// each batch back before the next: with `batch` > 1 the nodes are busy while a prune
/// passes over them, so they are pruned by a later prune.
fn churn(
    table: &mut LockTable,
    range: std::ops::Range<u64>,
    batch: u64,
    path: impl Fn(u64) -> String,
) {
    let now = Time::ZERO;
    let mut start = range.start;
    while start < range.end {
        let ids = start..(start + batch).min(range.end);
        for i in ids.clone() {
            let path = LockPath::parse(&path(i)).unwrap();
            let d = table.request(
                Owner::new(i + 1),
                &path,
                Level::Write,
                RequestOptions::default(),
                now,
            );
            assert!(matches!(d, Ok(Decision::Granted(_))), "{path}: {d:?}");
        }
        for i in ids {
            let path = LockPath::parse(&path(i)).unwrap();
            table.release(Owner::new(i + 1), &path, None, now).unwrap();
        }
        start += batch;
    }
    assert!(table.is_empty());
}

/// An image in one of seven sessions: new leaves under a few directories.
fn image(i: u64) -> String {
    format!("/studio/s{}/img-{i}", i % 7)
}

/// A new session directory each time: the directories themselves must be pruned too.
fn session(i: u64) -> String {
    format!("/studio/session-{i}/img")
}

/// Bytes the table grew by while serving 40,000 new paths after a 10,000-path warm-up.
fn growth(batch: u64, path: impl Fn(u64) -> String + Copy) -> isize {
    let mut table = LockTable::new();
    churn(&mut table, 0..10_000, batch, path);
    let warm = LIVE.load(Ordering::SeqCst);
    churn(&mut table, 10_000..50_000, batch, path);
    LIVE.load(Ordering::SeqCst) - warm
}

/// One test only: the counter is global, so nothing else may allocate while it measures.
#[test]
fn idle_paths_and_directories_are_forgotten() {
    // Kept nodes would cost megabytes (a path, a child-map entry and a queue each); pruned
    // ones are reused, so the table stays at its warm size.
    for (batch, what) in [(1, "one at a time"), (2_000, "2,000 held at once")] {
        let grown = growth(batch, image);
        assert!(
            grown < 1024 * 1024,
            "the table grew by {grown} bytes over 40,000 released images ({what})"
        );
        let grown = growth(batch, session);
        assert!(
            grown < 1024 * 1024,
            "the table grew by {grown} bytes over 40,000 released session directories ({what})"
        );
    }
}
