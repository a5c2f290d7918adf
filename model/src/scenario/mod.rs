//! Conformance scenarios as data: small TOML files (`specs/scenarios/*.toml`) that state a
//! lock case step by step, run against [`LockTable`](crate::LockTable) and
//! [`ReferenceTable`](crate::ReferenceTable) side by side.
//!
//! The file format is a contract, documented in `specs/scenarios/README.md`. A file is
//! checked completely before it runs ([`parse_scenario`]), so every mistake in it is reported
//! with its line and column; a run ([`run_scenario`]) stops at the first step where either
//! model disagrees with the file or with the other model.
//!
//! ```
//! use lockstudio::scenario::{parse_scenario, run_scenario};
//!
//! let scenario = parse_scenario(r#"
//! title = "A reader joins a writer"
//! [[step]]
//! do = "lock"
//! owner = "A"
//! path = "/s1"
//! level = "write"
//! expect = "granted"
//! [[step]]
//! do = "lock"
//! owner = "B"
//! path = "/s1"
//! level = "read"
//! expect = "granted"
//! "#).unwrap();
//! assert!(run_scenario(&scenario).is_ok());
//! ```

mod duration;
mod files;
mod format;
mod lane;
mod parse;
mod report;
mod runner;

pub use files::{run_file, run_paths};
pub use parse::{
    parse_scenario, Action, Expect, Location, ParseError, Scenario, Step, ERROR_KINDS,
};
pub use report::{FileReport, Summary};
pub use runner::{run_scenario, Failure};
