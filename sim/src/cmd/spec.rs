//! `lockstudio spec`: run conformance scenarios (`specs/scenarios/*.toml`) against the lock
//! core and the reference model. The format is documented in `specs/scenarios/README.md`.

use lockstudio::scenario::run_paths;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where scenarios are looked for when no path is given, relative to the working directory.
const DEFAULT_DIR: &str = "specs/scenarios/";

/// Flags of `lockstudio spec`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario files or folders (searched recursively for *.toml) [default: specs/scenarios/]
    pub paths: Vec<PathBuf>,
    /// Output: one line per scenario, or one JSON document.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How results are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `ok <file> — <title>` / `FAIL <file> step N: …` / `error <file>:<line>:<col>: …`
    Text,
    /// `{"passed":…,"failed":…,"invalid":…,"scenarios":[{"status":"ok"|"fail"|"error",…}]}`
    Json,
}

/// Runs the subcommand: exit 0 all passed, 1 a scenario failed, 2 unreadable or malformed
/// input (the other files still run).
pub fn execute(args: &Args) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![default_dir()]
    } else {
        args.paths.clone()
    };
    let summary = run_paths(&paths);
    let text = match args.format {
        Format::Text => summary.to_string(),
        Format::Json => match serde_json::to_string_pretty(&summary) {
            Ok(json) => json,
            Err(e) => {
                eprintln!("lockstudio spec: cannot encode the results as JSON: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not a scenario failure; the exit code still tells the truth.
    let _ = writeln!(out, "{text}");
    ExitCode::from(summary.exit_code())
}

/// `specs/scenarios/` under the working directory, or, when run from elsewhere, the corpus of
/// the checkout this binary was built from.
fn default_dir() -> PathBuf {
    let here = PathBuf::from(DEFAULT_DIR);
    if here.is_dir() {
        return here;
    }
    let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/scenarios"));
    if built_from.is_dir() {
        built_from
    } else {
        here
    }
}
