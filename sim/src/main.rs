//! `lockstudio`: the command-line front end of the simulator and the conformance runner.
//!
//! Exit codes for every subcommand: 0 ok, 1 a check failed (invariant violation, scenario
//! failure, regression), 2 bad input (unreadable file, bad flag).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// Validate lock semantics and measure what they cost under a simulated studio load.
#[derive(Parser)]
#[command(name = "lockstudio", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seeded simulation of a studio workload (default: the embedded studio day).
    Run(cmd::run::Args),
    /// Run a range of seeds and aggregate; lists every failing seed with its replay command.
    Sweep(cmd::sweep::Args),
    /// Re-run one seed and print its event timeline.
    Replay(cmd::replay::Args),
    /// Run conformance scenarios (specs/scenarios/*.toml) against the core and the reference.
    Spec(cmd::spec::Args),
    /// Compare two simulator summary.json files and flag regressions.
    Compare(cmd::compare::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match &cli.command {
        Command::Run(args) => cmd::run::execute(args),
        Command::Sweep(args) => cmd::sweep::execute(args),
        Command::Replay(args) => cmd::replay::execute(args),
        Command::Spec(args) => cmd::spec::execute(args),
        Command::Compare(args) => cmd::compare::execute(args),
    }
}
