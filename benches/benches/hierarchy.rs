//! Hierarchical writes: LockTable by depth and other holds, the scan table, and directory
//! writes over held descendants.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lockstudio::{Level, LockModel, LockPath, LockTable, Owner, Time};
use lockstudio_benches::baselines::ScanTable;
use lockstudio_benches::config::{self, bench_p, small_samples};
use lockstudio_benches::fixtures::{
    deep_path, descendant_holds, fill_table, path, scan_with_holds, table_with_holds, DEPTHS,
    HOLD_COUNTS, MEASURED,
};
use lockstudio_benches::ids::{self, DIR_DESCENDANTS, SCAN_DEPTH};
use std::hint::black_box;

fn write_release(table: &mut LockTable, p: &LockPath) -> bool {
    let grant = table.try_request(MEASURED, black_box(p), Level::Write, None, Time::ZERO);
    let released = table.release(MEASURED, p, Some(Level::Write), Time::ZERO);
    grant.is_ok() && released.is_ok()
}

fn scan_write_release(table: &mut ScanTable, p: &LockPath) -> bool {
    let grant = table.try_lock(MEASURED, black_box(p), Level::Write);
    let released = table.release(MEASURED, p, Some(Level::Write));
    grant.is_ok() && released.is_ok()
}

fn table_by_depth(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::HIER);
    for holds in HOLD_COUNTS {
        // Built once per hold count, never per iteration: 100k holds take a while.
        let mut table = table_with_holds(holds);
        for depth in DEPTHS {
            let p = deep_path(depth);
            assert!(
                write_release(&mut table, &p),
                "nothing overlaps the measured path"
            );
            group.bench_with_input(
                BenchmarkId::new(ids::hier_table(holds), depth),
                &p,
                |b, p| b.iter(|| write_release(&mut table, p)),
            );
        }
        assert_eq!(table.counts().holds, holds);
    }
    group.finish();
}

fn scan_by_holds(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::HIER);
    small_samples(&mut group);
    let p = deep_path(SCAN_DEPTH);
    for holds in HOLD_COUNTS {
        let mut table = scan_with_holds(holds);
        assert!(scan_write_release(&mut table, &p));
        group.bench_with_input(
            BenchmarkId::new(ids::hier_scan(holds), SCAN_DEPTH),
            &p,
            |b, p| b.iter(|| scan_write_release(&mut table, p)),
        );
    }
    group.finish();
}

fn directory(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::HIER_DIR);
    small_samples(&mut group);
    let dir = path("/dir");
    let others: Vec<(Owner, LockPath)> = descendant_holds(&dir, DIR_DESCENDANTS).collect();

    let mut table = LockTable::new();
    fill_table(
        &mut table,
        others.iter().map(|(o, p)| (*o, p.clone(), Level::Read)),
    );
    group.bench_function("table_others_refused", |b| {
        b.iter(|| {
            table
                .try_request(MEASURED, black_box(&dir), Level::Write, None, Time::ZERO)
                .is_err()
        })
    });
    let mut own = LockTable::new();
    fill_table(
        &mut own,
        others
            .iter()
            .map(|(_, p)| (MEASURED, p.clone(), Level::Read)),
    );
    assert!(
        write_release(&mut own, &dir),
        "an owner never blocks itself"
    );
    group.bench_function("table_own_granted", |b| {
        b.iter(|| write_release(&mut own, &dir))
    });

    let mut scan = ScanTable::new();
    let mut scan_own = ScanTable::new();
    for (owner, p) in &others {
        scan.hold_unchecked(*owner, p.clone(), Level::Read);
        scan_own.hold_unchecked(MEASURED, p.clone(), Level::Read);
    }
    group.bench_function("scan_others_refused", |b| {
        b.iter(|| {
            scan.try_lock(MEASURED, black_box(&dir), Level::Write)
                .is_err()
        })
    });
    assert!(scan_write_release(&mut scan_own, &dir));
    group.bench_function("scan_own_granted", |b| {
        b.iter(|| scan_write_release(&mut scan_own, &dir))
    });
    group.finish();
}

fn hierarchy(c: &mut Criterion) {
    bench_p(c, "hierarchy");
    table_by_depth(c);
    scan_by_holds(c);
    directory(c);
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = hierarchy
}
criterion_main!(benches);
