//! One criterion configuration for every bench binary, the P reference bench they all run,
//! and where extra results (latency percentiles) are written next to criterion's own.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use serde::Serialize;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

/// Seconds of measurement per bench unless `LOCKSTUDIO_BENCH_SECS` says otherwise: with ~100
/// benches this keeps the whole suite at a few minutes on 2 cores.
pub const DEFAULT_MEASUREMENT_SECS: f64 = 1.0;

/// Name of the criterion group holding each binary's P (parking_lot write acquire+release).
pub const P_GROUP: &str = "P";

/// Sub-directory of criterion's output directory for results criterion cannot hold.
pub const EXTRA_DIR: &str = "lockstudio";

/// Short warm-up and measurement, few samples, no plots; command-line flags still override.
pub fn criterion() -> Criterion {
    let secs = std::env::var("LOCKSTUDIO_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_MEASUREMENT_SECS);
    Criterion::default()
        .warm_up_time(Duration::from_secs_f64((secs / 3.0).max(0.1)))
        .measurement_time(Duration::from_secs_f64(secs))
        .sample_size(20)
        .nresamples(10_000)
        .without_plots()
}

/// Applies [`criterion`]'s sizes to a group whose iterations are long (setups of thousands
/// of holds): 10 samples, criterion's minimum.
pub fn small_samples(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(10);
}

/// Measures P, the unit every other figure is divided by, as `P/<binary>`: each bench binary
/// measures its own so a ratio never mixes figures from different moments of the run.
pub fn bench_p(c: &mut Criterion, binary: &str) {
    let lock = parking_lot::RwLock::new(0u64);
    let mut group = c.benchmark_group(P_GROUP);
    group.bench_function(binary, |b| {
        b.iter(|| {
            let mut held = black_box(&lock).write();
            *held += 1;
        })
    });
    group.finish();
}

/// Criterion's output directory, found the way criterion finds it: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("criterion")
}

/// Writes `value` as `<criterion home>/lockstudio/<name>.json` for the report to pick up.
pub fn write_extra(name: &str, value: &impl Serialize) -> std::io::Result<PathBuf> {
    let dir = criterion_home().join(EXTRA_DIR);
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(&file, text)?;
    Ok(file)
}
