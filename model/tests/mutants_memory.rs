//! Kills a mutant `cargo mutants` found surviving in `model/src/table/tree.rs` (see
//! `reports/mutation.md`): `replace Tree::list_vacant with ()`, which stops the table from
//! ever pruning the nodes of paths nobody holds any more. Nothing in the lock semantics shows
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

/// Takes and gives back a write lock on `/studio/s<i % 7>/img-<i>` for every `i` in `range`.
fn churn(table: &mut LockTable, range: std::ops::Range<u64>) {
    let now = Time::ZERO;
    for i in range {
        let path = LockPath::parse(&format!("/studio/s{}/img-{i}", i % 7)).unwrap();
        let owner = Owner::new(i + 1);
        let d = table.request(owner, &path, Level::Write, RequestOptions::default(), now);
        assert!(matches!(d, Ok(Decision::Granted(_))), "{path}: {d:?}");
        table.release(owner, &path, None, now).unwrap();
    }
    assert!(table.is_empty());
}

#[test]
fn idle_paths_are_forgotten() {
    let mut table = LockTable::new();
    // Warm up: every vector and map reaches its working size.
    churn(&mut table, 0..10_000);
    let warm = LIVE.load(Ordering::SeqCst);
    // Four times as many new paths: kept nodes would cost megabytes (a path, a child map
    // entry and a queue each); pruned ones are reused.
    churn(&mut table, 10_000..50_000);
    let grown = LIVE.load(Ordering::SeqCst) - warm;
    assert!(
        grown < 256 * 1024,
        "the table grew by {grown} bytes over 40,000 released paths (warm size {warm})"
    );
}
