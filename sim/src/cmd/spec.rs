//! `lockstudio spec` (being written).
use std::process::ExitCode;

/// Flags of `lockstudio spec`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the subcommand.
pub fn execute(_args: &Args) -> ExitCode {
    eprintln!("lockstudio spec: not implemented yet");
    ExitCode::from(2)
}
