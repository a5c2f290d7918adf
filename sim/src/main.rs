//! `lockstudio`: the command-line front end of the simulator and the conformance runner.
use clap::Parser;

/// Validate lock semantics and measure what they cost under a simulated studio load.
#[derive(Parser)]
#[command(name = "lockstudio", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
