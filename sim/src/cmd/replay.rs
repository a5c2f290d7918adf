//! `lockstudio replay`: re-run one seed and print its timeline.

use super::common;
use lockstudio_sim::engine::SEC;
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
    /// Print every event and every recorded decision, in order, with its simulated time.
    #[arg(long)]
    trace: bool,
    /// Only print the timeline from this simulated second on.
    #[arg(long)]
    from: Option<u64>,
    /// Only print the timeline up to this simulated second.
    #[arg(long)]
    to: Option<u64>,
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
    let (from, to) = (
        args.from.map_or(0, |s| s * SEC),
        args.to.map_or(u64::MAX, |s| s.saturating_mul(SEC)),
    );
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (at, line) in &result.trace {
        if (from..=to).contains(at)
            && std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes()).is_err()
        {
            // A closed pipe (`| head`) ends the listing, not the command.
            break;
        }
    }
    let _ = std::io::Write::write_all(&mut out, lockstudio_sim::report::text(&summary).as_bytes());
    drop(out);
    if result.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
