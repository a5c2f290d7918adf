//! `lockstudio run` (being written).
use std::process::ExitCode;

/// Flags of `lockstudio run`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the subcommand.
pub fn execute(_args: &Args) -> ExitCode {
    eprintln!("lockstudio run: not implemented yet");
    ExitCode::from(2)
}
