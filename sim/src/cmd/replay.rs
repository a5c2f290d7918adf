//! `lockstudio replay` (being written).
use std::process::ExitCode;

/// Flags of `lockstudio replay`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the subcommand.
pub fn execute(_args: &Args) -> ExitCode {
    eprintln!("lockstudio replay: not implemented yet");
    ExitCode::from(2)
}
