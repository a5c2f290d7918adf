//! The deterministic studio simulator behind the `lockstudio` CLI.
//!
//! A single-threaded discrete-event simulation in virtual nanoseconds: no OS threads, no
//! wall clock, no hash-order iteration. Every lock decision is made by the library's pure
//! `LockTable` (server tier with leases, and one client tier per workstation), so what the
//! simulator measures is the code that ships. A run is a pure function of (workload, seed).

pub mod check;
pub mod engine;
pub mod handlers;
pub mod jobs;
pub mod metrics;
pub mod plots;
pub mod report;
pub mod workload;
pub mod world;

pub use workload::{Workload, WorkloadError};
pub use world::{RunResult, World};

/// Runs `workload` with `seed`; `trace` also records a readable timeline.
pub fn simulate(workload: &Workload, seed: u64, trace: bool) -> RunResult {
    World::new(workload, seed, trace).run()
}
