//! The machine line of the report: cores, CPU model, compiler, OS and commit.

use std::process::Command;

/// What the figures were measured on.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// Logical cores available to the process.
    pub cores: usize,
    /// CPU model name.
    pub cpu: String,
    /// `rustc --version`.
    pub rustc: String,
    /// OS and architecture.
    pub os: String,
    /// Short git commit of the checkout, with `+dirty` when it has local changes.
    pub commit: String,
    /// Load averages over 1, 5 and 15 minutes when the report was written (just after the
    /// benches), if known: other work on the same cores distorts every figure.
    pub load: Option<[f64; 3]>,
}

impl Machine {
    /// Detects the machine this process runs on; anything unknown reads "unknown".
    pub fn detect() -> Machine {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown CPU".into());
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let rustc = run(&rustc, &["--version"]).unwrap_or_else(|| "rustc unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!(" {}", s.trim()))
            .unwrap_or_default();
        let os = format!(
            "{}{kernel} {}",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        let commit = run("git", &["rev-parse", "--short", "HEAD"]).map_or_else(
            || "unknown".into(),
            |c| match run("git", &["status", "--porcelain", "--untracked-files=no"]) {
                Some(s) if !s.is_empty() => format!("{c}+dirty"),
                _ => c,
            },
        );
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| load_average(&text));
        Machine {
            cores,
            cpu,
            rustc,
            os,
            commit,
            load,
        }
    }

    /// Whether other work competed for the cores during the run: a 5-minute load average
    /// above the benches' own share (they run one or two busy threads at a time).
    pub fn was_busy(&self) -> bool {
        self.load.is_some_and(|[_, five, _]| five > 2.5)
    }

    /// One line for the report.
    pub fn line(&self) -> String {
        let load = self.load.map_or(String::new(), |[one, five, fifteen]| {
            format!(
                ", load average {one:.2} / {five:.2} / {fifteen:.2} (1 / 5 / 15 min) at the end"
            )
        });
        format!(
            "nproc {}, {}, {}, {}, commit {}{load}",
            self.cores, self.cpu, self.rustc, self.os, self.commit
        )
    }
}

/// The first `model name` of a `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The three load averages of a `/proc/loadavg` text.
pub fn load_average(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_the_first_model_name_with_spaces_collapsed() {
        let text =
            "processor\t: 0\nmodel name\t: AMD  EPYC 7B13\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(text).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor: 0\n"), None);
    }

    #[test]
    fn line_names_every_part() {
        let m = Machine {
            cores: 2,
            cpu: "cpu".into(),
            rustc: "rustc 1.0".into(),
            os: "linux".into(),
            commit: "abc".into(),
            load: None,
        };
        assert_eq!(m.line(), "nproc 2, cpu, rustc 1.0, linux, commit abc");
        assert!(!m.was_busy());
        let busy = Machine {
            load: Some([4.0, 3.5, 2.0]),
            ..m
        };
        assert!(busy
            .line()
            .ends_with("load average 4.00 / 3.50 / 2.00 (1 / 5 / 15 min) at the end"));
        assert!(busy.was_busy());
    }

    #[test]
    fn load_average_reads_the_first_three_fields() {
        assert_eq!(
            load_average("0.52 1.10 2.00 1/234 5678\n"),
            Some([0.52, 1.10, 2.00])
        );
        assert_eq!(load_average("0.52 x"), None);
    }
}
