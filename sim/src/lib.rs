//! The deterministic studio simulator behind the `lockstudio` CLI.
//!
//! A single-threaded discrete-event simulation in virtual nanoseconds ([`engine`]): no OS
//! threads, no clock reads, no hash-order iteration. Every lock decision is made by the
//! library's pure `LockTable` (the server's leased reservation table and one client-tier table
//! per workstation), so what the simulator exercises and measures is the code that ships.
//! A run is a pure function of (workload, seed): [`simulate`] returns its figures and its
//! recorded history, which [`check`] judges against the invariants.

pub mod check;
pub mod engine;
pub mod faults;
pub mod report;
pub mod studio;
pub mod workload;

pub use check::Violation;
pub use report::metrics::Metrics;
pub use workload::{Workload, WorkloadError};

use check::History;

/// What one seeded run produced and what the checkers found.
#[derive(Debug)]
pub struct RunResult {
    /// Figures for the summary.
    pub metrics: Metrics,
    /// Invariant violations, in time order.
    pub violations: Vec<Violation>,
    /// FNV-1a digest of every processed event and record: equal digests, equal histories.
    pub trace_digest: u64,
    /// The human-readable timeline, when tracing was asked for: (simulated ns, line).
    pub trace: Vec<(engine::Nanos, String)>,
    /// The recorded history the checkers read.
    pub history: History,
}

impl RunResult {
    /// The deterministic `summary.json` of this run.
    pub fn summary(&self, w: &Workload, seed: u64) -> serde_json::Value {
        report::summary(w, seed, &self.metrics, &self.violations, self.trace_digest)
    }
}

/// Runs `workload` with `seed` and checks every invariant; `trace` also records a timeline.
pub fn simulate(workload: &Workload, seed: u64, trace: bool) -> RunResult {
    let out = studio::World::new(workload, seed, trace).run();
    let violations = check::check(&out.history);
    RunResult {
        metrics: out.metrics,
        violations,
        trace_digest: out.trace_digest,
        trace: out.trace,
        history: out.history,
    }
}
