//! Release → wake latency of a waiter blocked in `LockManager::lock`, on the same path and
//! below a held directory. Percentiles come from an hdrhistogram over every iteration and are
//! written next to criterion's results for the report.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use hdrhistogram::Histogram;
use lockstudio::manager::{LockManager, Wait};
use lockstudio::{Level, LockPath, Owner};
use lockstudio_benches::config::{self, bench_p, write_extra};
use lockstudio_benches::fixtures::path;
use lockstudio_benches::ids;
use lockstudio_benches::report::LatencySummary;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const HOLDER: Owner = Owner::new(1);
const WAITER: Owner = Owner::new(2);

/// Time for a queued waiter to reach its condition-variable wait, so the bench measures a
/// wake from sleep rather than a waiter that never slept.
const FALL_ASLEEP: Duration = Duration::from_micros(50);

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// `iters` cycles of: holder locks `held`, waiter blocks on `wanted`, holder releases, waiter
/// wakes. Records each release → wake latency; returns the wall time of the cycles.
fn cycles(
    iters: u64,
    held: &LockPath,
    wanted: &LockPath,
    latencies: &mut Histogram<u64>,
) -> Duration {
    let manager = LockManager::new();
    let base = Instant::now();
    let released_at = AtomicU64::new(0);
    let (go, go_rx) = mpsc::channel::<()>();
    let (woke_tx, woke) = mpsc::channel::<u64>();
    let start = Instant::now();
    std::thread::scope(|s| {
        let (manager, released_at) = (&manager, &released_at);
        s.spawn(move || {
            for () in go_rx {
                let guard = match manager.lock(WAITER, wanted, Level::Write, Wait::Forever) {
                    Ok(guard) => guard,
                    Err(e) => panic!("waiter lock failed: {e}"),
                };
                let latency = nanos_since(base).saturating_sub(released_at.load(Ordering::SeqCst));
                drop(guard);
                if woke_tx.send(latency).is_err() {
                    return;
                }
            }
        });
        for _ in 0..iters {
            let guard = match manager.lock(HOLDER, held, Level::Write, Wait::Forever) {
                Ok(guard) => guard,
                Err(e) => panic!("holder lock failed: {e}"),
            };
            if go.send(()).is_err() {
                panic!("the waiter thread stopped");
            }
            while manager.queue(wanted).is_empty() {
                std::thread::yield_now();
            }
            std::thread::sleep(FALL_ASLEEP);
            released_at.store(nanos_since(base), Ordering::SeqCst);
            drop(guard);
            match woke.recv() {
                Ok(latency) => {
                    let _ = latencies.record(latency.max(1));
                }
                Err(_) => panic!("the waiter thread stopped"),
            }
        }
        drop(go);
    });
    start.elapsed()
}

fn summary(h: &Histogram<u64>) -> LatencySummary {
    LatencySummary {
        samples: h.len(),
        p50_ns: h.value_at_quantile(0.50),
        p99_ns: h.value_at_quantile(0.99),
        max_ns: h.max(),
    }
}

fn wake(c: &mut Criterion) {
    bench_p(c, "wake");
    let mut group = c.benchmark_group(ids::WAKE);
    let cases = [
        ("same_path", path("/w/file"), path("/w/file")),
        ("ancestor", path("/w/dir"), path("/w/dir/sub/file")),
    ];
    for (name, held, wanted) in &cases {
        // 1 ns to 10 s, 3 significant digits.
        let mut latencies = match Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3) {
            Ok(h) => h,
            Err(e) => panic!("histogram bounds: {e}"),
        };
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| cycles(iters, held, wanted, &mut latencies))
        });
        let file = ids::wake_extra(name);
        if let Err(e) = write_extra(&file, &summary(&latencies)) {
            panic!("cannot write {file}: {e}");
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = wake
}
criterion_main!(benches);
