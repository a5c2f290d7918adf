//! Kills a mutant `cargo mutants` found surviving in `model/src/table/tree.rs` (see
//! `reports/mutation.md`): `replace > with < in Tree::maybe_vacant`, which prunes on every
//! release instead of in batches, so a warm path loses its nodes and re-creates them each
//! time. `alloc_free.rs` did not see it: its 2,000 other holds keep the vacant list above the
//! batch size, so the mutated condition never prunes there. Here the table holds nothing else.

use lockstudio::{Decision, Level, LockModel, LockPath, LockTable, Owner, RequestOptions, Time};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the test's own thread is counted: the test harness's other threads allocate when
    /// they please (seen under load in CI), and that is not the table's doing.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

/// Counts this thread's allocations made by `f`.
fn allocations_in(f: impl FnOnce()) -> usize {
    COUNTING.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(false));
    after - before
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One test only, so no other test of this binary runs on another thread meanwhile.
#[test]
fn warm_path_on_a_quiet_table_does_not_allocate() {
    let mut table = LockTable::new();
    let path = LockPath::parse("/studio/s3/img-x").unwrap();
    let me = Owner::new(1);
    let now = Time::ZERO;
    let cycle = |table: &mut LockTable| {
        for level in [Level::Read, Level::Write, Level::Delete] {
            let d = table.request(me, &path, level, RequestOptions::default(), now);
            assert!(matches!(d, Ok(Decision::Granted(_))), "{level}: {d:?}");
            assert!(table.release(me, &path, None, now).is_ok());
        }
    };
    // Warm up: create the nodes and grow every map and vector once.
    cycle(&mut table);
    let allocated = allocations_in(|| {
        for _ in 0..100 {
            cycle(&mut table);
        }
    });
    assert_eq!(
        allocated, 0,
        "300 warm request + release pairs allocated {allocated} times"
    );
    assert!(table.is_empty());
}
