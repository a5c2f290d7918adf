//! The `lockstudio` binary: exit codes, located errors, compare catching a change.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstudio"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstudio-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn short_workload(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("specs/workloads/studio-default.toml")).unwrap();
    let text = edit(
        text.replace("chaos_seconds = 1800", "chaos_seconds = 200")
            .replace("heal_seconds = 300", "heal_seconds = 120"),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn run_writes_reports_and_compare_flags_a_changed_parameter() {
    let dir = temp("compare");
    let base_w = short_workload(&dir, "base.toml", |t| t);
    let slow_w = short_workload(&dir, "slow.toml", |t| {
        t.replace("transfer_ms = 120", "transfer_ms = 900")
    });
    for (w, out) in [(&base_w, "base"), (&slow_w, "slow")] {
        let status = bin()
            .args(["run", "--seed", "3", "--workload"])
            .arg(w)
            .arg("--out")
            .arg(dir.join(out))
            .status()
            .unwrap();
        assert!(status.success());
        for f in [
            "summary.json",
            "report.md",
            "latency.svg",
            "throughput.svg",
            "contention.svg",
        ] {
            assert!(dir.join(out).join(f).exists(), "{out}/{f}");
        }
    }
    let same = bin()
        .arg("compare")
        .arg(dir.join("base/summary.json"))
        .arg(dir.join("base/summary.json"))
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
    let changed = bin()
        .arg("compare")
        .arg(dir.join("base/summary.json"))
        .arg(dir.join("slow/summary.json"))
        .arg("--allow-workload-change")
        .output()
        .unwrap();
    assert_eq!(
        changed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&changed.stdout)
    );
    let text = String::from_utf8_lossy(&changed.stdout);
    assert!(
        text.contains("## Regressions") && text.contains("latency."),
        "{text}"
    );
    let strict = bin()
        .arg("compare")
        .arg(dir.join("base/summary.json"))
        .arg(dir.join("slow/summary.json"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&strict.stdout).contains("workload changed"));
}

#[test]
fn bad_input_exits_2_with_a_located_one_line_message() {
    let dir = temp("bad");
    let broken = short_workload(&dir, "broken.toml", |t| {
        t.lines()
            .map(|l| {
                if l.starts_with("think_ms") {
                    "think_ms = -5"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let out = bin()
        .arg("run")
        .arg("--workload")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml:") && err.lines().count() == 1,
        "{err}"
    );
    for args in [
        vec!["run", "--seed", "x"],
        vec!["sweep", "--seeds", "5..2"],
        vec!["frobnicate"],
    ] {
        assert_eq!(
            bin().args(&args).output().unwrap().status.code(),
            Some(2),
            "{args:?}"
        );
    }
    let missing = bin()
        .args(["compare", "/no/such/a.json", "/no/such/b.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn determinism_check_and_replay_trace() {
    let dir = temp("det");
    let w = short_workload(&dir, "w.toml", |t| t);
    let out = bin()
        .args([
            "run",
            "--seed",
            "5",
            "--check-determinism",
            "--format",
            "json",
            "--workload",
        ])
        .arg(&w)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["invariants"]["violations"], 0);
    let replay = bin()
        .args(["replay", "--seed", "5", "--trace", "--workload"])
        .arg(&w)
        .output()
        .unwrap();
    assert!(replay.status.success());
    assert!(String::from_utf8_lossy(&replay.stdout).lines().count() > 1000);
}

#[test]
fn sweep_reports_and_passes_on_a_few_seeds() {
    let dir = temp("sweep");
    let w = short_workload(&dir, "w.toml", |t| t);
    let out = bin()
        .args(["sweep", "--seeds", "1..4", "--workload"])
        .arg(&w)
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(dir.join("o/sweep.json").exists());
}
