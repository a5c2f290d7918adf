//! `lockstudio replay`: re-run one seed and print its timeline.

use super::common;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `lockstudio replay`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The seed to replay.
    #[arg(long)]
    seed: u64,
    /// Workload file (default: the embedded studio day).
    #[arg(long)]
    workload: Option<PathBuf>,
    /// Print every event, in order, with its simulated time.
    #[arg(long)]
    trace: bool,
}

/// Runs the subcommand.
pub fn execute(args: &Args) -> ExitCode {
    let w = match common::load(&args.workload) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("lockstudio replay: {e}");
            return ExitCode::from(2);
        }
    };
    let (result, summary) = common::run_measured(&w, args.seed, args.trace);
    for line in &result.trace {
        println!("{line}");
    }
    print!("{}", lockstudio_sim::report::text(&summary));
    if result.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
