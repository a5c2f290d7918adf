use super::*;
use lockstudio::{LockModel, LockTable, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn p(text: &str) -> LockPath {
    match LockPath::parse(text) {
        Ok(path) => path,
        Err(e) => panic!("bad test path {text}: {e}"),
    }
}

const A: Owner = Owner::new(1);
const B: Owner = Owner::new(2);

#[test]
fn directory_hold_covers_descendants_but_not_segment_prefixes() {
    let mut t = ScanTable::new();
    assert_eq!(t.try_lock(A, &p("/a/b"), Level::Write), Ok(()));
    assert_eq!(
        t.try_lock(B, &p("/a/b/c"), Level::Write),
        Err(ScanRefused::Blocked(A))
    );
    assert_eq!(
        t.try_lock(B, &p("/a"), Level::Write),
        Err(ScanRefused::Blocked(A))
    );
    assert_eq!(t.try_lock(B, &p("/a/bc"), Level::Write), Ok(()));
    assert_eq!(
        t.try_lock(B, &p("/a/b/c"), Level::Read),
        Ok(()),
        "reads join a write"
    );
}

#[test]
fn delete_below_blocks_a_read_on_the_ancestor() {
    let mut t = ScanTable::new();
    assert_eq!(t.try_lock(A, &p("/d/x"), Level::Delete), Ok(()));
    assert_eq!(
        t.try_lock(B, &p("/d"), Level::Read),
        Err(ScanRefused::Blocked(A))
    );
    assert_eq!(
        t.try_lock(B, &p("/d/y"), Level::Delete),
        Ok(()),
        "siblings are independent"
    );
}

#[test]
fn reentrant_holds_are_counted_and_released_strongest_first() {
    let mut t = ScanTable::new();
    let x = p("/x");
    assert_eq!(t.try_lock(A, &x, Level::Read), Ok(()));
    assert_eq!(
        t.try_lock(A, &x, Level::Write),
        Ok(()),
        "an owner never blocks itself"
    );
    assert_eq!(t.try_lock(A, &x, Level::Write), Ok(()));
    assert_eq!(t.holds(), vec![(x.clone(), A, [1, 2, 0])]);
    assert_eq!(
        t.release(A, &x, None),
        Ok((Level::Write, Some(Level::Write)))
    );
    assert_eq!(
        t.release(A, &x, None),
        Ok((Level::Write, Some(Level::Read)))
    );
    assert_eq!(
        t.release(A, &x, Some(Level::Write)),
        Err(ScanRefused::NotHeld)
    );
    assert_eq!(t.release(A, &x, None), Ok((Level::Read, None)));
    assert_eq!(t.release(B, &x, None), Err(ScanRefused::NotHeld));
    assert!(t.is_empty());
}

/// Paths chosen so that workloads hit same-path, ancestor, descendant, sibling and
/// segment-prefix (`/a/b` vs `/a/bc`) cases.
const PATHS: [&str; 8] = ["/", "/a", "/a/b", "/a/b/c", "/a/bc", "/a/d", "/e", "/e/f"];

fn table_holds(table: &LockTable) -> Vec<(LockPath, Owner, [u32; 3])> {
    table
        .holds()
        .into_iter()
        .map(|(path, h)| (path, h.owner, h.counts))
        .collect()
}

/// The scan table and lockstudio's LockTable grant and refuse the same try-locks, release the
/// same levels, and end every step with the same holds.
#[test]
fn agrees_with_lock_table_on_random_try_lock_workloads() {
    let paths: Vec<LockPath> = PATHS.iter().map(|s| p(s)).collect();
    let (mut granted, mut refused) = (0, 0);
    for seed in 0..300u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut scan = ScanTable::new();
        let mut table = LockTable::new();
        for step in 0..60 {
            let owner = Owner::new(rng.gen_range(1..=3));
            let path = &paths[rng.gen_range(0..paths.len())];
            let level = Level::ALL[rng.gen_range(0..3)];
            if rng.gen_bool(0.65) {
                let fast = table.try_request(owner, path, level, None, Time::ZERO);
                let slow = scan.try_lock(owner, path, level);
                assert_eq!(
                    fast.is_ok(),
                    slow.is_ok(),
                    "seed {seed} step {step}: try {owner} {path} {level}: table {fast:?}, scan {slow:?}"
                );
                if slow.is_ok() {
                    granted += 1;
                } else {
                    refused += 1;
                }
            } else {
                let named = rng.gen_bool(0.5).then_some(level);
                let fast = table
                    .release(owner, path, named, Time::ZERO)
                    .map(|r| (r.level, r.remaining))
                    .ok();
                let slow = scan.release(owner, path, named).ok();
                assert_eq!(
                    fast, slow,
                    "seed {seed} step {step}: release {owner} {path} {named:?}"
                );
            }
            assert_eq!(table_holds(&table), scan.holds(), "seed {seed} step {step}");
        }
    }
    // The workload must exercise both answers, or the comparison proves nothing.
    assert!(
        granted > 1000 && refused > 1000,
        "granted {granted}, refused {refused}"
    );
}
