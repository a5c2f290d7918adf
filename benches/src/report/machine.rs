//! The machine line of the report: cores, CPU model, compiler, OS and commit.

use std::process::Command;

/// What the figures were measured on.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        Machine {
            cores,
            cpu,
            rustc,
            os,
            commit,
        }
    }

    /// One line for the report.
    pub fn line(&self) -> String {
        format!(
            "nproc {}, {}, {}, {}, commit {}",
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
        };
        assert_eq!(m.line(), "nproc 2, cpu, rustc 1.0, linux, commit abc");
    }
}
