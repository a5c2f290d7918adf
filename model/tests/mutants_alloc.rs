//! Kills a mutant `cargo mutants` found surviving in `model/src/table/tree.rs` (see
//! `reports/mutation.md`): `replace > with < in Tree::maybe_vacant`, which prunes on every
//! release instead of in batches, so a warm path loses its nodes and re-creates them each
//! time. `alloc_free.rs` did not see it: its 2,000 other holds keep the vacant list above the
//! batch size, so the mutated condition never prunes there. Here the table holds nothing else.

use lockstudio::{Decision, Level, LockModel, LockPath, LockTable, Owner, RequestOptions, Time};

mod counting;

use counting::allocations_in;

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
