//! `reports/perf.md` from criterion's results: a table per group with median, ratio to P and
//! goals, a goal summary with notes on what is missed, and the machine line.
//!
//! - [`results`] reads `target/criterion/**/new/{estimates,benchmark}.json` and the extra
//!   latency files the wake benches write.
//! - [`spec`] lists the groups and rows the report shows (ids from [`crate::ids`]).
//! - [`goals`] evaluates the goals against the results.
//! - [`render`] writes the markdown; [`machine`] describes the machine.

pub mod goals;
pub mod machine;
pub mod observations;
pub mod render;
pub mod results;
pub mod spec;

pub use results::{EventCount, LatencySummary, Measurement, Results};

use std::path::PathBuf;

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A criterion or extra-results file is not the JSON expected.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: serde_json::Error,
    },
    /// The criterion directory holds no results at all: the benches have not been run.
    #[error("no criterion results under {0}; run the benches first (scripts/perf-report.sh)")]
    NoResults(PathBuf),
}
