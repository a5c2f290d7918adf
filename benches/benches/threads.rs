//! Throughput with 1, 2 and 4 threads: LockManager on one key, disjoint keys and leaves of one
//! subtree, against parking_lot and DashMap on the same patterns.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockPath, Owner};
use lockstudio_benches::baselines::{DashTable, Emptied};
use lockstudio_benches::config::{self, bench_p};
use lockstudio_benches::fixtures::{flat_key, path};
use lockstudio_benches::ids::{self, THREAD_COUNTS};
use parking_lot::RwLock;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Runs `op(thread, i)` for `i in 0..iters` on each of `threads` threads started together;
/// returns the wall time until the last one finishes.
fn run_threads(threads: usize, iters: u64, op: &(impl Fn(usize, u64) + Sync)) -> Duration {
    let start_line = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let start_line = &start_line;
                s.spawn(move || {
                    start_line.wait();
                    for i in 0..iters {
                        op(t, i);
                    }
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        for handle in handles {
            if handle.join().is_err() {
                panic!("a bench thread panicked");
            }
        }
        start.elapsed()
    })
}

/// A lock alone on its cache line, so "one lock per thread" does not share lines.
#[repr(align(128))]
struct Padded(RwLock<u64>);

fn manager_lock(manager: &LockManager, owner: Owner, p: &LockPath) {
    match manager.lock(owner, p, Level::Write, Wait::Forever) {
        Ok(guard) => drop(black_box(guard)),
        Err(e) => panic!("lock {p} failed: {e}"),
    }
}

fn threads(c: &mut Criterion) {
    bench_p(c, "threads");
    let mut group = c.benchmark_group(ids::THREADS);
    let hot = path("/hot");
    let disjoint: Vec<LockPath> = (0..4).map(flat_key).collect();
    let leaves: Vec<LockPath> = (0..4).map(|i| path(&format!("/t/sub/leaf{i}"))).collect();
    let owner = |t: usize| Owner::new(10 + t as u64);

    for n in THREAD_COUNTS {
        group.throughput(Throughput::Elements(n as u64));
        let manager = LockManager::new();
        group.bench_function(BenchmarkId::new("manager_same_key", n), |b| {
            b.iter_custom(|iters| {
                run_threads(n, iters, &|t, _| manager_lock(&manager, owner(t), &hot))
            })
        });
        group.bench_function(BenchmarkId::new("manager_disjoint", n), |b| {
            b.iter_custom(|iters| {
                run_threads(n, iters, &|t, _| {
                    manager_lock(&manager, owner(t), &disjoint[t])
                })
            })
        });
        group.bench_function(BenchmarkId::new("manager_subtree_leaves", n), |b| {
            b.iter_custom(|iters| {
                run_threads(n, iters, &|t, _| {
                    manager_lock(&manager, owner(t), &leaves[t])
                })
            })
        });
        assert!(manager.is_empty());

        let one = RwLock::new(0u64);
        group.bench_function(BenchmarkId::new("parking_lot_same_key", n), |b| {
            b.iter_custom(|iters| run_threads(n, iters, &|_, _| *one.write() += 1))
        });
        let own: Vec<Padded> = (0..n).map(|_| Padded(RwLock::new(0))).collect();
        group.bench_function(BenchmarkId::new("parking_lot_disjoint", n), |b| {
            b.iter_custom(|iters| run_threads(n, iters, &|t, _| *own[t].0.write() += 1))
        });
        let dash = DashTable::new(Emptied::Keep);
        let keys: Vec<&str> = disjoint.iter().map(LockPath::as_str).collect();
        group.bench_function(BenchmarkId::new("dashmap_disjoint", n), |b| {
            b.iter_custom(|iters| {
                run_threads(n, iters, &|t, _| {
                    if dash.try_lock(keys[t], true).is_err() || !dash.unlock(keys[t]) {
                        panic!("disjoint key {} was contended", keys[t]);
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = threads
}
criterion_main!(benches);
