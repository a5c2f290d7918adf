//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use lockstudio_sim::Workload;
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A shipped workload by name.
pub fn shipped(name: &str) -> Workload {
    Workload::load(&root().join("specs/workloads").join(format!("{name}.toml"))).unwrap()
}

/// The shipped workload names.
pub const SHIPPED: [&str; 3] = ["studio-default", "hot-session", "crashy-network"];

/// A shorter day with the same rates and shape, so debug-mode tests stay quick.
pub fn short(mut w: Workload) -> Workload {
    w.chaos_seconds = 240;
    w.heal_seconds = 120;
    w
}

/// A fresh scratch directory for one test.
pub fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstudio-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
