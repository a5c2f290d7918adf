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
    pub counters: BTreeMap<&'static str, u64>,
    /// Latency in µs per operation kind.
    pub latency: BTreeMap<&'static str, Histogram<u64>>,
    /// Server-tier lock wait in µs per level.
    pub lock_wait: BTreeMap<&'static str, Histogram<u64>>,
    /// Operations completed per bucket.
    pub throughput: Vec<u64>,
    /// Simulated duration, ns.
    pub simulated: Nanos,
    /// Server-tier lock contention per subtree (`/studio/<session>`).
    pub contention: BTreeMap<String, Contention>,
    /// Wait of a transfer connection for a free handler, µs.
    pub accept_wait: Histogram<u64>,
}

/// Lock contention seen on one subtree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Contention {
    /// Requests that had to queue.
    pub waits: u64,
    /// Queued requests that timed out.
    pub timeouts: u64,
    /// Total simulated time spent queued by requests later granted, ms.
    pub waited_ms: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 7 * 24 * 3600 * 1_000_000, 3)
        .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
}

/// Counters every summary carries, zero or not, so reports and `compare` always find them.
pub const ALWAYS_REPORTED: [&str; 23] = [
    "bytes.moved",
    "fault.client_crash",
    "fault.client_pause",
    "fault.connection_reset",
    "fault.half_open",
    "fault.server_restart",
    "fault.slow_disk",
    "fault.socket_close_client",
    "fault.socket_close_server",
    "fence.rejections",
    "jobs.done",
    "jobs.pending",
    "lease.expiries",
    "lease.renewals",
    "optimistic.conflicts",
    "optimistic.failures",
    "optimistic.retries",
    "reservation.window_conflicts",
    "server.deadlocks",
    "server.timeouts",
    "server.waits",
    "transfer.backlog_waits",
    "transfer.retries",
];

impl Metrics {
    /// Empty figures.
    pub fn new() -> Metrics {
        Metrics {
            events: 0,
            counters: ALWAYS_REPORTED.iter().map(|&k| (k, 0)).collect(),
            latency: BTreeMap::new(),
            lock_wait: BTreeMap::new(),
            throughput: Vec::new(),
            simulated: 0,
            contention: BTreeMap::new(),
            accept_wait: histogram(),
        }
    }

    /// Adds one to `name`.
    pub fn count(&mut self, name: &'static str) {
        *self.counters.entry(name).or_default() += 1;
    }

    /// Sets `name`.
    pub fn set(&mut self, name: &'static str, value: u64) {
        self.counters.insert(name, value);
    }

    /// Counts moved bytes.
    pub fn bytes(&mut self, n: u64) {
        *self.counters.entry("bytes.moved").or_default() += n;
    }

    /// A server-tier request on `subtree` queued (`waited: None`), was granted after
    /// `waited`, or timed out (`timed_out`).
    pub fn contended(&mut self, subtree: &str, waited: Option<Nanos>, timed_out: bool) {
        if !self.contention.contains_key(subtree) {
            self.contention
                .insert(subtree.to_string(), Contention::default());
        }
        let Some(c) = self.contention.get_mut(subtree) else {
            return;
        };
        match (waited, timed_out) {
            (_, true) => c.timeouts += 1,
            (Some(w), false) => c.waited_ms += w / 1_000_000,
            (None, false) => c.waits += 1,
        }
    }

    /// A transfer connection waited `waited` for a handler.
    pub fn accepted(&mut self, waited: Nanos) {
        let _ = self.accept_wait.record((waited / 1000).max(1));
    }

    /// An operation finished `latency` after it was meant to start.
    pub fn op_done(&mut self, kind: OpKind, latency: Nanos, now: Nanos) {
        let h = self.latency.entry(kind.name()).or_insert_with(histogram);
        let _ = h.record((latency / 1000).max(1));
        self.count(kind.counter(true));
        let bucket = (now / BUCKET) as usize;
        if self.throughput.len() <= bucket {
            self.throughput.resize(bucket + 1, 0);
        }
        self.throughput[bucket] += 1;
    }

    /// An operation gave up.
    pub fn op_failed(&mut self, kind: OpKind) {
        self.count(kind.counter(false));
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
