//! What running scenario files produced: one [`FileReport`] per file, as a text line for
//! people and as JSON (via `serde`) for machines.

use super::runner::Failure;
use std::fmt;

/// The verdict on one scenario file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status")]
pub enum FileReport {
    /// Both models did exactly what the file says.
    #[serde(rename = "ok")]
    Passed {
        /// The file as named on the command line (or found in a folder).
        file: String,
        /// The scenario's `title`.
        title: String,
    },
    /// A model disagreed with the file or with the other model.
    #[serde(rename = "fail")]
    Failed {
        /// The file.
        file: String,
        /// The scenario's `title`.
        title: String,
        /// Where and how.
        #[serde(flatten)]
        failure: Failure,
    },
    /// The file could not be read or is not a valid scenario.
    #[serde(rename = "error")]
    Invalid {
        /// The file (or folder) named.
        file: String,
        /// The line of the offending key or value, when the file was read.
        line: Option<usize>,
        /// Its column.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileReport::Passed { file, title } => write!(f, "ok {file} — {title}"),
            FileReport::Failed { file, failure, .. } => write!(f, "FAIL {file} {failure}"),
            FileReport::Invalid {
                file,
                line: Some(line),
                column: Some(column),
                message,
            } => write!(f, "error {file}:{line}:{column}: {message}"),
            FileReport::Invalid { file, message, .. } => write!(f, "error {file}: {message}"),
        }
    }
}

/// All verdicts of one run, with counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files that passed.
    pub passed: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files (or arguments) that could not be read or parsed.
    pub invalid: usize,
    /// One verdict per file, in the order run.
    pub scenarios: Vec<FileReport>,
}

impl Summary {
    /// Adds one verdict.
    pub fn push(&mut self, report: FileReport) {
        match report {
            FileReport::Passed { .. } => self.passed += 1,
            FileReport::Failed { .. } => self.failed += 1,
            FileReport::Invalid { .. } => self.invalid += 1,
        }
        self.scenarios.push(report);
    }

    /// The process exit code: 2 if any input was unreadable or malformed, else 1 if any
    /// scenario failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.invalid > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for report in &self.scenarios {
            writeln!(f, "{report}")?;
        }
        write!(
            f,
            "{} passed, {} failed, {} invalid",
            self.passed, self.failed, self.invalid
        )
    }
}
