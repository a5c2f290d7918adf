//! Simulator throughput: wall-clock events per second of `lockstudio_sim::simulate` on the
//! embedded default workload.

// criterion_group! generates a public, undocumented entry function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use lockstudio_benches::config::{self, bench_p, small_samples, write_extra};
use lockstudio_benches::ids;
use lockstudio_benches::report::EventCount;
use lockstudio_sim::{simulate, Workload};
use std::hint::black_box;

/// One seed for every iteration, so every run processes exactly the same events.
const SEED: u64 = 1;

fn sim(c: &mut Criterion) {
    bench_p(c, "sim");
    let workload = Workload::default_studio();
    let events = simulate(&workload, SEED, false).metrics.events;
    let mut group = c.benchmark_group(ids::SIM);
    small_samples(&mut group);
    // A run takes long enough that criterion's linear sampling would need dozens of them.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(ids::SIM_DEFAULT, |b| {
        b.iter(|| black_box(simulate(black_box(&workload), SEED, false).metrics.events))
    });
    group.finish();
    if let Err(e) = write_extra(ids::SIM_EVENTS, &EventCount { events }) {
        panic!("cannot write {}: {e}", ids::SIM_EVENTS);
    }
}

criterion_group! {
    name = benches;
    config = config::criterion();
    targets = sim
}
criterion_main!(benches);
