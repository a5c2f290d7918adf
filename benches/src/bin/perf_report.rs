//! `perf-report`: writes `reports/perf.md` from the results of the last `cargo bench` run.
//!
//! Usage: `perf-report [--criterion-dir DIR] [--since UNIX_SECS] [--out FILE]`
//! (`scripts/perf-report.sh` runs the benches and then this). Exit codes: 0 written, 2 bad
//! arguments or unreadable results.

use lockstudio_benches::config::{criterion_home, DEFAULT_MEASUREMENT_SECS};
use lockstudio_benches::report::machine::Machine;
use lockstudio_benches::report::render::{render, Context};
use lockstudio_benches::report::Results;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

struct Args {
    criterion_dir: PathBuf,
    since: Option<SystemTime>,
    out: Option<PathBuf>,
}

const USAGE: &str = "usage: perf-report [--criterion-dir DIR] [--since UNIX_SECS] [--out FILE]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        criterion_dir: criterion_home(),
        since: None,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--criterion-dir" => args.criterion_dir = PathBuf::from(value()?),
            "--out" => args.out = Some(PathBuf::from(value()?)),
            "--since" => {
                let text = value()?;
                let secs: u64 = text
                    .parse()
                    .map_err(|_| format!("--since {text:?}: expected seconds since the epoch"))?;
                args.since = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let results = match Results::load(&args.criterion_dir, args.since) {
        Ok(results) => results,
        Err(e) => {
            eprintln!("perf-report: {e}");
            return ExitCode::from(2);
        }
    };
    let measurement_secs = std::env::var("LOCKSTUDIO_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MEASUREMENT_SECS);
    let ctx = Context {
        command: "scripts/perf-report.sh".into(),
        measurement_secs,
        sim_note: SIM_NOTE.into(),
    };
    let markdown = render(&results, &Machine::detect(), &ctx);
    match args.out {
        None => print!("{markdown}"),
        Some(out) => {
            if let Err(e) = std::fs::write(&out, markdown) {
                eprintln!("perf-report: {}: {e}", out.display());
                return ExitCode::from(2);
            }
            eprintln!("perf-report: wrote {}", out.display());
        }
    }
    ExitCode::SUCCESS
}

const SIM_NOTE: &str = "Not measured in this run: run the `sim` bench (`bash \
scripts/perf-report.sh sim`, or the whole suite).";
