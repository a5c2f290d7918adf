//! The `lockstudio` binary: exit codes, located errors, reports, determinism, replay, sweep,
//! and `compare` catching a deliberately changed workload parameter.

mod common;

use common::{root, temp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstudio"))
}

fn run(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = bin();
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

/// A short version of the default workload, edited by `edit`.
fn short_workload(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("specs/workloads/studio-default.toml")).unwrap();
    let text = edit(
        text.replace("chaos_seconds = 1800", "chaos_seconds = 150")
            .replace("heal_seconds = 300", "heal_seconds = 120"),
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_writes_reports_and_compare_flags_a_changed_parameter() {
    let dir = temp("compare");
    let base = short_workload(&dir, "base.toml", |t| t);
    let slow = short_workload(&dir, "slow.toml", |t| {
        t.replace("chunk_ms = 30", "chunk_ms = 90")
    });
    for (w, out) in [(&base, "base"), (&slow, "slow")] {
        let o = bin()
            .args(["run", "--seed", "3", "--workload"])
            .arg(w)
            .arg("--out")
            .arg(dir.join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        for f in [
            "summary.json",
            "report.md",
            "latency.svg",
            "throughput.svg",
            "contention.svg",
        ] {
            assert!(dir.join(out).join(f).exists(), "{out}/{f}");
        }
        let report = std::fs::read_to_string(dir.join(out).join("report.md")).unwrap();
        assert!(
            report.contains("No violations") && report.contains("## Contention by session"),
            "{report}"
        );
    }
    let (b, s) = (dir.join("base/summary.json"), dir.join("slow/summary.json"));
    let same = run(&["compare"], &[&b, &b]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).contains("No regressions"));
    let changed = run(&["compare"], &[&b, &s]);
    assert_eq!(changed.status.code(), Some(1));
    let text = stdout(&changed);
    assert!(text.contains("workload changed"), "{text}");
    let allowed = run(&["compare", "--allow-workload-change"], &[&b, &s]);
    assert_eq!(
        allowed.status.code(),
        Some(1),
        "slower transfers must regress by themselves"
    );
    let text = stdout(&allowed);
    assert!(
        text.contains("## Regressions") && text.contains("latency_ms.view"),
        "{text}"
    );
    assert!(
        !text.contains("- workload changed"),
        "allowed: not listed as a regression"
    );
}

#[test]
fn bad_input_exits_2_with_a_located_one_line_message() {
    let dir = temp("bad");
    let broken = short_workload(&dir, "broken.toml", |t| {
        t.replace("think_ms = 2000", "think_ms = -5")
    });
    let o = run(&["run", "--workload"], &[&broken]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let line = std::fs::read_to_string(&broken)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("think_ms"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("broken.toml:{line}:12:")) && err.lines().count() == 1,
        "{err}"
    );
    for args in [
        vec!["run", "--seed", "x"],
        vec!["sweep", "--seeds", "5..2"],
        vec!["frobnicate"],
        vec!["run", "--format", "xml"],
    ] {
        assert_eq!(
            bin().args(&args).output().unwrap().status.code(),
            Some(2),
            "{args:?}"
        );
    }
    let missing = run(&["compare", "/no/such/a.json", "/no/such/b.json"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    let not_json = dir.join("x.json");
    std::fs::write(&not_json, "{ nope").unwrap();
    let o = run(&["compare"], &[&not_json, &not_json]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("x.json:1:"), "{}", stderr(&o));
}

#[test]
fn determinism_check_json_output_and_replay_trace() {
    let dir = temp("det");
    let w = short_workload(&dir, "w.toml", |t| t);
    let o = bin()
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
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("two runs identical"));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["schema_version"], 2);
    assert_eq!(summary["invariants"]["violations"], 0);
    assert!(summary["wall_clock"]["events_per_second"].as_f64().unwrap() > 0.0);
    let det = bin()
        .args([
            "run",
            "--seed",
            "5",
            "--deterministic",
            "--format",
            "json",
            "--workload",
        ])
        .arg(&w)
        .output()
        .unwrap();
    let again = bin()
        .args([
            "run",
            "--seed",
            "5",
            "--deterministic",
            "--format",
            "json",
            "--workload",
        ])
        .arg(&w)
        .output()
        .unwrap();
    assert_eq!(det.stdout, again.stdout, "byte-identical");
    assert!(!stdout(&det).contains("wall_clock"));
    let replay = bin()
        .args(["replay", "--seed", "5", "--trace", "--workload"])
        .arg(&w)
        .output()
        .unwrap();
    assert!(replay.status.success());
    let text = stdout(&replay);
    assert!(
        text.lines().count() > 1000 && text.contains("server granted") && text.contains("Think"),
        "{}",
        &text[..500.min(text.len())]
    );
}

#[test]
fn sweep_reports_every_seed_and_passes_on_a_few() {
    let dir = temp("sweep");
    let w = short_workload(&dir, "w.toml", |t| t);
    let o = bin()
        .args(["sweep", "--seeds", "1..4", "--workload"])
        .arg(&w)
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("3 runs, 0 failing seeds"),
        "{}",
        stdout(&o)
    );
    assert!(
        !stderr(&o).contains('\u{1b}'),
        "no progress bar escape codes off a terminal"
    );
    let agg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("o/sweep.json")).unwrap()).unwrap();
    assert_eq!(agg["runs"], 3);
    assert!(dir.join("o/sweep.md").exists());
}
