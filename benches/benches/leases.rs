//! Leases on the pure LockTable: grant, renew, and an expiry sweep.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use lockstudio::{Level, LockModel, LockTable, Owner, Time};
use lockstudio_benches::config::{self, bench_p, small_samples};
use lockstudio_benches::fixtures::{flat_key, path, MEASURED};
use lockstudio_benches::ids::{self, SWEEP_LEASES};
use std::hint::black_box;
use std::time::Duration;

/// Long enough that no lease expires during a bench unless the bench means it to.
const LONG: Duration = Duration::from_secs(3600);

fn table_with_leases(n: usize, ttl: Duration) -> LockTable {
    let mut table = LockTable::new();
    for i in 0..n {
        let p = path(&format!("/lease/g{}/f{i}", i % 100));
        let owner = Owner::new(1000 + i as u64);
        if let Err(e) = table.try_request(owner, &p, Level::Write, Some(ttl), Time::ZERO) {
            panic!("fixture lease {p} refused: {e}");
        }
    }
    table
}

fn leases(c: &mut Criterion) {
    bench_p(c, "leases");
    let mut group = c.benchmark_group(ids::LEASES);
    let key = flat_key(42);

    let mut table = LockTable::new();
    group.bench_function("grant_release", |b| {
        b.iter(|| {
            let grant = table.try_request(
                MEASURED,
                black_box(&key),
                Level::Write,
                Some(LONG),
                Time::ZERO,
            );
            let released = table.release(MEASURED, &key, Some(Level::Write), Time::ZERO);
            black_box((grant, released))
        })
    });
    assert!(table.is_empty());

    for (name, others) in [("renew", 0), ("renew_among_10k", 10_000)] {
        let mut table = table_with_leases(others, LONG);
        if let Err(e) = table.try_request(MEASURED, &key, Level::Write, Some(LONG), Time::ZERO) {
            panic!("measured lease refused: {e}");
        }
        // The clock moves 1 ns per renew, as it would between real renewals.
        let mut now = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                now += 1;
                black_box(table.renew(MEASURED, black_box(&key), LONG, Time::from_nanos(now)))
            })
        });
        assert_eq!(
            table.counts().leases,
            others + 1,
            "no lease expired during the bench"
        );
    }
    group.finish();

    let mut group = c.benchmark_group(ids::LEASES);
    small_samples(&mut group);
    let after = Time::ZERO.saturating_add(Duration::from_secs(2));
    group.bench_function("expiry_sweep_10k", |b| {
        b.iter_batched(
            || table_with_leases(SWEEP_LEASES, Duration::from_secs(1)),
            |mut table| {
                table.advance(after);
                // Returned so it is dropped outside the timing.
                table
            },
            BatchSize::PerIteration,
        )
    });
    let mut check = table_with_leases(SWEEP_LEASES, Duration::from_secs(1));
    check.advance(after);
    assert_eq!(
        (check.counts().leases, check.effects().len()),
        (0, SWEEP_LEASES)
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = leases
}
criterion_main!(benches);
