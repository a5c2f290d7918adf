//! Paths and pre-populated tables shared by the benches, so every bench (and the baselines)
//! measures exactly the same workload.

use crate::baselines::ScanTable;
use lockstudio::{Level, LockModel, LockPath, LockTable, Owner, Time};

/// The owner whose requests are measured; fixture holds belong to other owners.
pub const MEASURED: Owner = Owner::new(1);

/// Hold counts of the hierarchical benches ("other holds" elsewhere in the tree).
pub const HOLD_COUNTS: [usize; 4] = [0, 100, 10_000, 100_000];

/// Path depths of the hierarchical benches.
pub const DEPTHS: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// Parses a fixture path.
///
/// # Panics
/// If `text` is not a valid path: fixture paths are built by this module, never read from
/// input, so that is a bug in the bench.
pub fn path(text: &str) -> LockPath {
    match LockPath::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("fixture path {text:?} is invalid: {e}"),
    }
}

/// `/w` at depth 1, `/w/l1` at depth 2, … `/w/l1/…/l{depth-1}`: the measured path.
pub fn deep_path(depth: usize) -> LockPath {
    let mut text = String::from("/w");
    for level in 1..depth {
        text.push_str(&format!("/l{level}"));
    }
    path(&text)
}

/// The `i`-th flat key, `/key-{i}`.
pub fn flat_key(i: usize) -> LockPath {
    path(&format!("/key-{i}"))
}

/// `n` holds of other owners, spread over 256 directories under `/o`, cycling through the
/// three levels: none of them overlaps the measured paths under `/w`, so they cost a good
/// table nothing and a scan table a full scan.
pub fn other_holds(n: usize) -> impl Iterator<Item = (Owner, LockPath, Level)> {
    (0..n).map(|i| {
        let owner = Owner::new(1000 + (i % 997) as u64);
        let level = Level::ALL[i % 3];
        (owner, path(&format!("/o/g{}/f{i}", i % 256)), level)
    })
}

/// `n` holds of other owners strictly below `dir`, in 100 sub-directories.
pub fn descendant_holds(dir: &LockPath, n: usize) -> impl Iterator<Item = (Owner, LockPath)> + '_ {
    (0..n).map(move |i| {
        let owner = Owner::new(1000 + (i % 997) as u64);
        (owner, path(&format!("{dir}/s{}/f{i}", i % 100)))
    })
}

/// Takes every hold of `holds` in `table` at time zero.
///
/// # Panics
/// If the table refuses one: the fixture holds never conflict, so a refusal is a bug.
pub fn fill_table(
    table: &mut LockTable,
    holds: impl IntoIterator<Item = (Owner, LockPath, Level)>,
) {
    for (owner, p, level) in holds {
        if let Err(e) = table.try_request(owner, &p, level, None, Time::ZERO) {
            panic!("fixture hold {owner} {p} {level} refused: {e}");
        }
    }
}

/// A [`LockTable`] holding [`other_holds`]`(n)`.
pub fn table_with_holds(n: usize) -> LockTable {
    let mut table = LockTable::new();
    fill_table(&mut table, other_holds(n));
    table
}

/// A [`ScanTable`] holding [`other_holds`]`(n)`.
pub fn scan_with_holds(n: usize) -> ScanTable {
    let mut table = ScanTable::new();
    for (owner, p, level) in other_holds(n) {
        table.hold_unchecked(owner, p, level);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_paths_have_the_requested_depth() {
        for depth in DEPTHS {
            assert_eq!(deep_path(depth).depth(), depth);
        }
    }

    #[test]
    fn other_holds_never_overlap_the_measured_paths() {
        let deepest = deep_path(32);
        let mut table = table_with_holds(1000);
        assert_eq!(table.counts().holds, 1000);
        for depth in DEPTHS {
            let p = deep_path(depth);
            assert!(other_holds(1000).all(|(_, o, _)| !o.overlaps(&p)));
            assert!(table
                .try_request(MEASURED, &p, Level::Delete, None, Time::ZERO)
                .is_ok());
            assert!(table.release(MEASURED, &p, None, Time::ZERO).is_ok());
        }
        assert!(deepest.depth() == 32);
        assert_eq!(scan_with_holds(1000).len(), 1000);
    }

    #[test]
    fn descendant_holds_are_strictly_below_the_directory() {
        let dir = path("/dir");
        assert!(descendant_holds(&dir, 500).all(|(_, p)| dir.is_ancestor_of(&p)));
    }
}
