//! `lockstudio compare` (being written).
use std::process::ExitCode;

/// Flags of `lockstudio compare`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the subcommand.
pub fn execute(_args: &Args) -> ExitCode {
    eprintln!("lockstudio compare: not implemented yet");
    ExitCode::from(2)
}
