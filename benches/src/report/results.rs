//! Reading criterion's output directory.

use super::ReportError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One bench's median, and whether it comes from the run being reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    /// Median time per iteration, in nanoseconds.
    pub median_ns: f64,
    /// False when the result is older than the run (left over from an earlier run).
    pub fresh: bool,
}

/// Latency percentiles a bench recorded itself (criterion only keeps per-sample means).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of latencies recorded.
    pub samples: u64,
    /// Median, in nanoseconds.
    pub p50_ns: u64,
    /// 99th percentile, in nanoseconds.
    pub p99_ns: u64,
    /// Largest, in nanoseconds.
    pub max_ns: u64,
}

/// Every result of a bench run, by criterion id (`group/function[/param]`).
#[derive(Clone, Debug, Default)]
pub struct Results {
    medians: BTreeMap<String, Measurement>,
    extras: BTreeMap<String, (serde_json::Value, bool)>,
}

/// How many events one simulator run processed, written by the simulator bench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCount {
    /// Events per run.
    pub events: u64,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    full_id: String,
}

impl Results {
    /// Reads every `new/estimates.json` under `home` (criterion's output directory) and the
    /// latency files under `home/lockstudio/`. Files modified before `since` are marked stale.
    pub fn load(home: &Path, since: Option<SystemTime>) -> Result<Results, ReportError> {
        let mut results = Results::default();
        let mut dirs = vec![home.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in read_dir(&dir)? {
                if entry.is_dir() {
                    if entry.file_name().is_some_and(|n| n == "new") {
                        results.load_bench(&entry, since)?;
                    } else {
                        dirs.push(entry);
                    }
                }
            }
        }
        let extra = home.join(crate::config::EXTRA_DIR);
        if extra.is_dir() {
            for file in read_dir(&extra)? {
                let Some(name) = file.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                if file.extension().is_some_and(|e| e == "json") {
                    let value: serde_json::Value = read_json(&file)?;
                    let fresh = is_fresh(&file, since)?;
                    results.extras.insert(name.to_owned(), (value, fresh));
                }
            }
        }
        if results.medians.is_empty() {
            return Err(ReportError::NoResults(home.to_path_buf()));
        }
        Ok(results)
    }

    fn load_bench(&mut self, new: &Path, since: Option<SystemTime>) -> Result<(), ReportError> {
        let estimates = new.join("estimates.json");
        let benchmark = new.join("benchmark.json");
        if !estimates.is_file() || !benchmark.is_file() {
            return Ok(());
        }
        let id: BenchmarkJson = read_json(&benchmark)?;
        let e: Estimates = read_json(&estimates)?;
        let fresh = is_fresh(&estimates, since)?;
        self.insert(&id.full_id, e.median.point_estimate, fresh);
        Ok(())
    }

    /// Records a median (for tests, and for results measured outside criterion).
    pub fn insert(&mut self, id: &str, median_ns: f64, fresh: bool) {
        self.medians
            .insert(id.to_owned(), Measurement { median_ns, fresh });
    }

    /// Records an extra result (latency percentiles, event counts) under `name`.
    pub fn insert_extra(&mut self, name: &str, value: &impl Serialize, fresh: bool) {
        if let Ok(value) = serde_json::to_value(value) {
            self.extras.insert(name.to_owned(), (value, fresh));
        }
    }

    /// The result of `id`, fresh or stale.
    pub fn get(&self, id: &str) -> Option<Measurement> {
        self.medians.get(id).copied()
    }

    /// The median of `id` if it comes from this run: goals are judged on fresh results only.
    pub fn fresh(&self, id: &str) -> Option<f64> {
        self.get(id).filter(|m| m.fresh).map(|m| m.median_ns)
    }

    /// The latency percentiles recorded under `name`, with their freshness.
    pub fn latency(&self, name: &str) -> Option<(LatencySummary, bool)> {
        self.extra(name)
    }

    /// The event count recorded under `name`, with its freshness.
    pub fn events(&self, name: &str) -> Option<(EventCount, bool)> {
        self.extra(name)
    }

    fn extra<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<(T, bool)> {
        let (value, fresh) = self.extras.get(name)?;
        let typed = serde_json::from_value(value.clone()).ok()?;
        Some((typed, *fresh))
    }

    /// Every id with a result, for listing results the report does not know.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.medians.keys().map(String::as_str)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let io = |source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

fn read_json<T: for<'de> Deserialize<'de>>(file: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(file).map_err(|source| ReportError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: file.to_path_buf(),
        source,
    })
}

fn is_fresh(file: &Path, since: Option<SystemTime>) -> Result<bool, ReportError> {
    let Some(since) = since else {
        return Ok(true);
    };
    let modified = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(|source| ReportError::Io {
            path: file.to_path_buf(),
            source,
        })?;
    Ok(modified >= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("lockstudio-benches-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{parent:?}: {e}"));
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }

    #[test]
    fn reads_medians_by_full_id_and_latency_extras() {
        let home = scratch("load");
        let new = home.join("hier").join("table_h0").join("8").join("new");
        write(
            &new.join("benchmark.json"),
            r#"{"group_id":"hier","function_id":"table_h0","value_str":"8","throughput":null,"full_id":"hier/table_h0/8","directory_name":"hier/table_h0/8","title":"hier/table_h0/8"}"#,
        );
        write(
            &new.join("estimates.json"),
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":42.5,"standard_error":0.1},"median_abs_dev":null,"slope":null,"std_dev":null}"#,
        );
        // A "base" directory (the previous run) must not be read.
        write(
            &home.join("hier/table_h0/8/base/estimates.json"),
            "not json",
        );
        write(
            &home.join("lockstudio/wake_same_path.json"),
            r#"{"samples":10,"p50_ns":1000,"p99_ns":5000,"max_ns":9000}"#,
        );
        let results = Results::load(&home, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(results.fresh("hier/table_h0/8"), Some(42.5));
        let (latency, fresh) = results.latency("wake_same_path").unwrap_or_default();
        assert!(fresh);
        assert_eq!(latency.p99_ns, 5000);

        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        let stale = Results::load(&home, Some(later)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stale.fresh("hier/table_h0/8"),
            None,
            "older than the run: stale"
        );
        assert_eq!(
            stale.get("hier/table_h0/8").map(|m| m.median_ns),
            Some(42.5)
        );
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn an_empty_directory_is_an_error_naming_it() {
        let home = scratch("empty");
        std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("{e}"));
        let err = Results::load(&home, None).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("no criterion results")));
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn a_broken_estimates_file_is_an_error_naming_the_file() {
        let home = scratch("broken");
        let new = home.join("flat/x/new");
        write(&new.join("benchmark.json"), r#"{"full_id":"flat/x"}"#);
        write(&new.join("estimates.json"), "{");
        let err = Results::load(&home, None).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("estimates.json")));
        let _ = std::fs::remove_dir_all(&home);
    }
}
