//! Criterion ids of every bench, shared by the benches (which register them) and the report
//! (which looks them up), so a renamed bench cannot silently drop out of `reports/perf.md`.
//!
//! A bench registered as `group.bench_function(f, ..)` has id `group/f`; one registered with
//! `BenchmarkId::new(f, param)` has id `group/f/param`.

/// Group of flat reservation benches (one key, no hierarchy in use).
pub const FLAT: &str = "flat";
/// Group of hierarchical write benches by depth and other holds.
pub const HIER: &str = "hier";
/// Group of directory writes over held descendants.
pub const HIER_DIR: &str = "hier_dir";
/// Group of lease benches.
pub const LEASES: &str = "leases";
/// Group of multi-thread throughput benches.
pub const THREADS: &str = "threads";
/// Group of release→wake latency benches.
pub const WAKE: &str = "wake";
/// Group of simulator throughput benches.
pub const SIM: &str = "sim";

/// Directory holds counted by the directory-write benches.
pub const DIR_DESCENDANTS: usize = 10_000;
/// Leases in the expiry-sweep bench.
pub const SWEEP_LEASES: usize = 10_000;
/// Thread counts of the throughput benches.
pub const THREAD_COUNTS: [usize; 3] = [1, 2, 4];
/// Depth of the scan-table comparison (the depth of the hierarchical goals).
pub const SCAN_DEPTH: usize = 8;

/// `group/function`.
pub fn id(group: &str, function: &str) -> String {
    format!("{group}/{function}")
}

/// `group/function/param`.
pub fn param_id(group: &str, function: &str, param: impl std::fmt::Display) -> String {
    format!("{group}/{function}/{param}")
}

/// Function name of the LockTable hierarchical bench with `holds` other holds.
pub fn hier_table(holds: usize) -> String {
    format!("table_h{holds}")
}

/// Function name of the scan-table hierarchical bench with `holds` other holds.
pub fn hier_scan(holds: usize) -> String {
    format!("scan_h{holds}")
}

/// Id of the P bench of one bench binary.
pub fn p(binary: &str) -> String {
    id(crate::config::P_GROUP, binary)
}

/// Name of the extra-results file with the latency percentiles of a wake bench.
pub fn wake_extra(function: &str) -> String {
    format!("wake_{function}")
}

/// Function name of the simulator bench (default workload, one fixed seed per iteration).
pub const SIM_DEFAULT: &str = "default_workload";

/// Name of the extra-results file with the events one simulator run processes.
pub const SIM_EVENTS: &str = "sim_events";
