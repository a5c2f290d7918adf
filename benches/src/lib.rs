//! Criterion benchmarks of lockstudio against real baselines, and the generator of
//! `reports/perf.md`.
//!
//! - [`baselines`]: the lock tables lockstudio is compared with (flat mutex map, DashMap,
//!   Partyline's scan-every-hold table).
//! - [`fixtures`]: paths and pre-populated tables shared by the benches in `benches/`.
//! - [`config`]: one criterion configuration for every bench, sized for a 2-core machine.
//! - [`report`]: reads criterion's results and writes the markdown report with goals.
//!
//! Wall-clock figures are noisy, so every figure is also given as a ratio to P, parking_lot's
//! `RwLock` write acquire+release, measured by each bench binary in the same run.

pub mod baselines;
pub mod config;
pub mod fixtures;
pub mod ids;
pub mod report;
