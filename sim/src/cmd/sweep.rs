//! `lockstudio sweep` (being written).
use std::process::ExitCode;

/// Flags of `lockstudio sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the subcommand.
pub fn execute(_args: &Args) -> ExitCode {
    eprintln!("lockstudio sweep: not implemented yet");
    ExitCode::from(2)
}
