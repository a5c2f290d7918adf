//! Finding scenario files and running them one by one, so that one bad file never stops
//! the others.

use super::parse::parse_scenario;
use super::report::{FileReport, Summary};
use super::runner::run_scenario;
use std::path::{Path, PathBuf};

/// Runs every scenario named by `paths`: files as given, folders searched recursively for
/// `*.toml` in name order.
pub fn run_paths(paths: &[PathBuf]) -> Summary {
    let mut summary = Summary::default();
    for path in paths {
        match scenario_files(path) {
            Ok(files) if files.is_empty() => summary.push(FileReport::Invalid {
                file: path.display().to_string(),
                line: None,
                column: None,
                message: "no *.toml scenario files found".into(),
            }),
            Ok(files) => {
                for file in files {
                    summary.push(run_file(&file));
                }
            }
            Err(message) => summary.push(FileReport::Invalid {
                file: path.display().to_string(),
                line: None,
                column: None,
                message,
            }),
        }
    }
    summary
}

/// Reads, checks and runs one scenario file.
pub fn run_file(path: &Path) -> FileReport {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return FileReport::Invalid {
                file,
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            }
        }
    };
    let scenario = match parse_scenario(&text) {
        Ok(s) => s,
        Err(e) => {
            return FileReport::Invalid {
                file,
                line: Some(e.location.line),
                column: Some(e.location.column),
                message: e.message,
            }
        }
    };
    match run_scenario(&scenario) {
        Ok(()) => FileReport::Passed {
            file,
            title: scenario.title,
        },
        Err(failure) => FileReport::Failed {
            file,
            title: scenario.title,
            failure,
        },
    }
}

/// `path` itself if it is a file, or the `*.toml` files below it, sorted.
fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| format!("cannot list {}: {e}", folder.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", folder.display()))?;
            let p = entry.path();
            if p.is_dir() {
                folders.push(p);
            } else if p.extension().is_some_and(|ext| ext == "toml") {
                found.push(p);
            }
        }
    }
    found.sort();
    Ok(found)
}
