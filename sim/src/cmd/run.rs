//! `lockstudio run`: one seeded simulation.

use super::common;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A short summary for a person.
    Text,
    /// The full summary.json on stdout.
    Json,
}

/// Flags of `lockstudio run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Workload file (default: the embedded studio day, specs/workloads/studio-default.toml).
    #[arg(long)]
    workload: Option<PathBuf>,
    /// Seed of every random stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write summary.json, report.md and SVG plots here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Run twice and fail unless both runs are identical (summary minus wall clock, digest).
    #[arg(long)]
    check_determinism: bool,
}

/// Runs the subcommand.
pub fn execute(args: &Args) -> ExitCode {
    let w = match common::load(&args.workload) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("lockstudio run: {e}");
            return ExitCode::from(2);
        }
    };
    let (result, summary) = common::run_measured(&w, args.seed, false);
    if args.check_determinism {
        let (_, again) = common::run_measured(&w, args.seed, false);
        if common::deterministic(&summary) != common::deterministic(&again) {
            eprintln!(
                "lockstudio run: seed {} is not deterministic: two runs differ",
                args.seed
            );
            return ExitCode::from(1);
        }
        eprintln!(
            "determinism: two runs identical (trace digest {})",
            summary["trace_digest"]
        );
    }
    match args.format {
        Format::Text => print!("{}", lockstudio_sim::report::text(&summary)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        ),
    }
    if let Some(dir) = &args.out {
        if let Err(e) = lockstudio_sim::report::write(dir, &summary, &result) {
            eprintln!("lockstudio run: {e}");
            return ExitCode::from(2);
        }
    }
    if result.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "invariant violated; replay with: {}",
            common::replay_command(args.seed, &args.workload)
        );
        ExitCode::from(1)
    }
}
