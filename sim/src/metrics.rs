//! Figures of one run, all in simulated time: latency histograms measured from each
//! operation's intended start (no coordinated omission), counters, throughput over time.

use crate::engine::{Nanos, SEC};
use crate::world::OpKind;
use hdrhistogram::Histogram;
use lockstudio::Level;
use std::collections::BTreeMap;

/// Width of a throughput bucket.
pub const BUCKET: Nanos = 60 * SEC;

/// Everything a run measures.
#[derive(Debug)]
pub struct Metrics {
    /// Events processed.
    pub events: u64,
    /// Named counters (faults, waits, retries, …).
    pub counters: BTreeMap<String, u64>,
    /// Latency in µs per operation kind.
    pub latency: BTreeMap<&'static str, Histogram<u64>>,
    /// Server-tier lock wait in µs per level.
    pub lock_wait: BTreeMap<&'static str, Histogram<u64>>,
    /// Operations completed per bucket.
    pub throughput: Vec<u64>,
    /// Simulated duration, ns.
    pub simulated: Nanos,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 7 * 24 * 3600 * 1_000_000, 3)
        .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
}

impl Metrics {
    /// Empty figures.
    pub fn new() -> Metrics {
        Metrics {
            events: 0,
            counters: BTreeMap::new(),
            latency: BTreeMap::new(),
            lock_wait: BTreeMap::new(),
            throughput: Vec::new(),
            simulated: 0,
        }
    }

    /// Adds one to `name`.
    pub fn count(&mut self, name: &str) {
        *self.counters.entry(name.to_string()).or_default() += 1;
    }

    /// Sets `name`.
    pub fn set(&mut self, name: &str, value: u64) {
        self.counters.insert(name.to_string(), value);
    }

    /// Counts moved bytes.
    pub fn bytes(&mut self, n: u64) {
        *self.counters.entry("bytes.moved".to_string()).or_default() += n;
    }

    /// An operation finished `latency` after it was meant to start.
    pub fn op_done(&mut self, kind: OpKind, latency: Nanos, now: Nanos) {
        let h = self.latency.entry(kind.name()).or_insert_with(histogram);
        let _ = h.record((latency / 1000).max(1));
        self.count(&format!("ops.{}.done", kind.name()));
        let bucket = (now / BUCKET) as usize;
        if self.throughput.len() <= bucket {
            self.throughput.resize(bucket + 1, 0);
        }
        self.throughput[bucket] += 1;
    }

    /// An operation gave up.
    pub fn op_failed(&mut self, kind: OpKind) {
        self.count(&format!("ops.{}.failed", kind.name()));
    }

    /// A server-tier request was granted after waiting `waited`.
    pub fn lock_wait(&mut self, level: Level, waited: Nanos) {
        let h = self
            .lock_wait
            .entry(level.as_str())
            .or_insert_with(histogram);
        let _ = h.record((waited / 1000).max(1));
    }

    /// Closes the run at `end`.
    pub fn finish(&mut self, end: Nanos) {
        self.simulated = end;
        let buckets = end.div_ceil(BUCKET) as usize;
        self.throughput
            .resize(buckets.max(self.throughput.len()), 0);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
