//! Flat reservation by path: LockTable, LockManager and the baselines, one thread.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use lockstudio::manager::{LockGuard, LockManager, Wait};
use lockstudio::{Level, LockModel, LockTable, Time};
use lockstudio_benches::baselines::{DashTable, Emptied, FlatTable, ScanTable};
use lockstudio_benches::config::{self, bench_p};
use lockstudio_benches::fixtures::{flat_key, MEASURED};
use lockstudio_benches::ids;
use std::hint::black_box;
use std::sync::mpsc;
use std::time::Instant;

/// Keys in rotation for the cold benches: far more than LockTable keeps vacant (1024), so
/// every acquire finds its entry gone.
const COLD_KEYS: usize = 1 << 16;

/// Guards in flight to the releasing thread before the locking thread waits for it.
const IN_FLIGHT: usize = 64;

fn table_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::FLAT);
    let key = flat_key(42);
    let mut table = LockTable::new();
    for (name, level) in [
        ("table_warm_write", Level::Write),
        ("table_warm_read", Level::Read),
    ] {
        // One acquire + release first so the node exists: that is what warm means.
        let _ = table.try_request(MEASURED, &key, level, None, Time::ZERO);
        let _ = table.release(MEASURED, &key, Some(level), Time::ZERO);
        group.bench_function(name, |b| {
            b.iter(|| {
                let grant = table.try_request(MEASURED, black_box(&key), level, None, Time::ZERO);
                let released = table.release(MEASURED, &key, Some(level), Time::ZERO);
                black_box((grant, released))
            })
        });
    }

    let cold: Vec<_> = (0..COLD_KEYS).map(flat_key).collect();
    for (name, level) in [
        ("table_cold_write", Level::Write),
        ("table_cold_read", Level::Read),
    ] {
        let mut next = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let key = &cold[next % COLD_KEYS];
                next += 1;
                let grant = table.try_request(MEASURED, black_box(key), level, None, Time::ZERO);
                let released = table.release(MEASURED, key, Some(level), Time::ZERO);
                black_box((grant, released))
            })
        });
    }

    // The owner already holds the write: the measured acquisition is a second one, counted.
    let _ = table.try_request(MEASURED, &key, Level::Write, None, Time::ZERO);
    group.bench_function("table_reentrant_write", |b| {
        b.iter(|| {
            let grant =
                table.try_request(MEASURED, black_box(&key), Level::Write, None, Time::ZERO);
            let released = table.release(MEASURED, &key, Some(Level::Write), Time::ZERO);
            black_box((grant, released))
        })
    });
    let _ = table.release(MEASURED, &key, Some(Level::Write), Time::ZERO);
    assert!(table.is_empty(), "every bench gave back what it took");
    group.finish();
}

fn manager_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::FLAT);
    let key = flat_key(42);
    let manager = LockManager::new();
    group.bench_function("manager_warm_write", |b| {
        b.iter(|| black_box(manager.lock(MEASURED, black_box(&key), Level::Write, Wait::Forever)))
    });

    // Locked on this thread, released on another: the guard travels through a channel.
    let keys: Vec<_> = (0..IN_FLIGHT).map(flat_key).collect();
    group.bench_function("manager_release_other_thread", |b| {
        b.iter_custom(|iters| {
            let (send, receive) = mpsc::sync_channel::<LockGuard>(IN_FLIGHT);
            let start = Instant::now();
            std::thread::scope(|s| {
                s.spawn(move || receive.into_iter().for_each(drop));
                for i in 0..iters as usize {
                    match manager.lock(MEASURED, &keys[i % IN_FLIGHT], Level::Write, Wait::Forever)
                    {
                        Ok(guard) => {
                            if send.send(guard).is_err() {
                                panic!("the releasing thread stopped");
                            }
                        }
                        Err(e) => panic!("uncontended lock failed: {e}"),
                    }
                }
                drop(send);
            });
            start.elapsed()
        })
    });
    assert!(manager.is_empty());
    group.finish();
}

fn baseline_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(ids::FLAT);
    let std_lock = std::sync::RwLock::new(0u64);
    group.bench_function("std_rwlock_write", |b| {
        b.iter(|| {
            if let Ok(mut held) = black_box(&std_lock).write() {
                *held += 1;
            }
        })
    });
    group.bench_function("std_rwlock_read", |b| {
        b.iter(|| black_box(black_box(&std_lock).read().map(|held| *held).ok()))
    });
    let pl_lock = parking_lot::RwLock::new(0u64);
    group.bench_function("parking_lot_read", |b| {
        b.iter(|| black_box(*black_box(&pl_lock).read()))
    });

    let key = flat_key(42);
    let text = key.as_str();
    let cold: Vec<String> = (0..COLD_KEYS)
        .map(|i| flat_key(i).as_str().to_owned())
        .collect();
    for (name, emptied) in [
        ("mutex_map_warm_write", Emptied::Keep),
        ("mutex_map_cold_write", Emptied::Remove),
    ] {
        let table = FlatTable::new(emptied);
        let mut next = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let key = if emptied == Emptied::Keep {
                    text
                } else {
                    &cold[next % COLD_KEYS]
                };
                next += 1;
                black_box(table.try_lock(black_box(key), true).is_ok() && table.unlock(key))
            })
        });
    }
    for (name, emptied) in [
        ("dashmap_warm_write", Emptied::Keep),
        ("dashmap_cold_write", Emptied::Remove),
    ] {
        let table = DashTable::new(emptied);
        let mut next = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let key = if emptied == Emptied::Keep {
                    text
                } else {
                    &cold[next % COLD_KEYS]
                };
                next += 1;
                black_box(table.try_lock(black_box(key), true).is_ok() && table.unlock(key))
            })
        });
    }
    let mut scan = ScanTable::new();
    group.bench_function("scan_write", |b| {
        b.iter(|| {
            let grant = scan.try_lock(MEASURED, black_box(&key), Level::Write);
            black_box((grant, scan.release(MEASURED, &key, Some(Level::Write))))
        })
    });
    group.finish();
}

fn flat(c: &mut Criterion) {
    bench_p(c, "flat");
    table_benches(c);
    manager_benches(c);
    baseline_benches(c);
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = flat
}
criterion_main!(benches);
