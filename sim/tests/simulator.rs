//! The simulator: deterministic, checked, and its reports comparable.

use lockstudio_sim::report::summary;
use lockstudio_sim::{simulate, Workload, WorkloadError};
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shipped(name: &str) -> Workload {
    Workload::load(&root().join("specs/workloads").join(format!("{name}.toml"))).unwrap()
}

/// A shorter day, so debug-mode tests stay quick; same rates and shape.
fn short(mut w: Workload) -> Workload {
    w.chaos_seconds = 300;
    w.heal_seconds = 120;
    w
}

fn deterministic_summary(w: &Workload, seed: u64) -> Value {
    summary(w, seed, &simulate(w, seed, false))
}

#[test]
fn same_seed_same_history_different_seed_different_history() {
    let w = short(Workload::default_studio());
    let a = deterministic_summary(&w, 7);
    assert_eq!(a, deterministic_summary(&w, 7));
    let b = deterministic_summary(&w, 8);
    assert_ne!(a["trace_digest"], b["trace_digest"]);
}

#[test]
fn shipped_workloads_sweep_clean_and_every_fault_fires() {
    for name in ["studio-default", "hot-session", "crashy-network"] {
        let w = short(shipped(name));
        let mut faults = std::collections::BTreeSet::new();
        for seed in 1..=6 {
            let r = simulate(&w, seed, false);
            assert!(
                r.violations.is_empty(),
                "{name} seed {seed}: {:?}",
                r.violations
            );
            faults.extend(
                r.metrics
                    .counters
                    .iter()
                    .filter(|(k, v)| k.starts_with("fault.") && **v > 0)
                    .map(|(k, _)| *k),
            );
        }
        if name == "crashy-network" {
            let expected = [
                "fault.client_crash",
                "fault.client_pause",
                "fault.connection_reset",
                "fault.half_open",
                "fault.server_restart",
                "fault.slow_disk",
                "fault.socket_close_client",
                "fault.socket_close_server",
            ];
            for f in expected {
                assert!(faults.contains(f), "{f} never fired: {faults:?}");
            }
        }
    }
}

#[test]
fn embedded_default_is_the_shipped_file() {
    assert_eq!(Workload::default_studio(), shipped("studio-default"));
}

#[test]
fn broken_workload_files_get_located_errors() {
    let good = lockstudio_sim::workload::DEFAULT_WORKLOAD;
    let unknown = good.replace("sessions = 12", "sessions = 12\nsesions = 3");
    match Workload::parse(&unknown, "w.toml") {
        Err(WorkloadError::Parse { line, message, .. }) => {
            assert_eq!(line, 8);
            assert!(message.contains("sesions"), "{message}");
        }
        other => panic!("expected a located parse error, got {other:?}"),
    }
    let wrong_type = good.replace("workstations = 4", "workstations = \"four\"");
    assert!(matches!(
        Workload::parse(&wrong_type, "w.toml"),
        Err(WorkloadError::Parse { line: 4, .. })
    ));
    let zero = good.replace("workstations = 4", "workstations = 0");
    let err = Workload::parse(&zero, "w.toml").unwrap_err().to_string();
    assert!(err.contains("workstations"), "{err}");
    let bad_p = good.replace("half_open = 0.005", "half_open = 1.5");
    assert!(Workload::parse(&bad_p, "w.toml")
        .unwrap_err()
        .to_string()
        .contains("half_open"));
    assert!(Workload::parse("not toml [", "w.toml").is_err());
    assert!(matches!(
        Workload::load(&root().join("no/such/file.toml")),
        Err(WorkloadError::Io { .. })
    ));
}

#[test]
fn committed_baselines_are_reproduced_exactly() {
    let dir = root().join("reports/baseline");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = committed["workload"]["name"].as_str().unwrap().to_string();
        let seed = committed["seed"].as_u64().unwrap();
        // Through text, like the committed file: serde_json's default float parsing is not
        // always the exact inverse of its printing.
        let now = deterministic_summary(&shipped(&name), seed).to_string();
        let now: Value = serde_json::from_str(&now).unwrap();
        let changed: Vec<&String> = committed
            .as_object()
            .unwrap()
            .keys()
            .chain(now.as_object().unwrap().keys())
            .filter(|k| committed.get(k.as_str()) != now.get(k.as_str()))
            .collect();
        assert!(
            changed.is_empty(),
            "{} changed in {changed:?}: regenerate it (reports/README.md) in the same commit",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 3, "expected a baseline per shipped workload");
}

#[test]
fn long_jobs_go_pending_report_progress_and_all_finish() {
    let w = short(Workload::default_studio());
    let r = simulate(&w, 3, false);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let c = &r.metrics.counters;
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    assert!(get("jobs.long.submitted") > 0 && get("jobs.short.submitted") > 0);
    assert!(get("jobs.pending") > 0, "no job ran past pending_after_ms");
    assert!(
        get("jobs.polls") > get("jobs.pending"),
        "pending jobs are polled"
    );
    let submitted = get("jobs.long.submitted") + get("jobs.short.submitted");
    assert_eq!(get("jobs.done"), submitted, "every submitted job finishes");
}

#[test]
fn server_restarts_roll_jobs_back_without_breaking_progress() {
    let mut w = short(Workload::default_studio());
    w.faults.server_restart_per_hour = 60.0;
    w.mix.job = 20;
    let mut restarts = 0;
    for seed in 1..=3 {
        let r = simulate(&w, seed, false);
        assert!(r.violations.is_empty(), "seed {seed}: {:?}", r.violations);
        restarts += r
            .metrics
            .counters
            .get("fault.server_restart")
            .copied()
            .unwrap_or(0);
    }
    assert!(restarts > 3, "restarts must actually happen ({restarts})");
}

#[test]
fn scarce_handlers_make_connections_wait_and_hot_sessions_top_contention() {
    let mut w = short(shipped("hot-session"));
    w.server.transfer_handlers = 1;
    let r = simulate(&w, 5, false);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert!(
        r.metrics
            .counters
            .get("transfer.backlog_waits")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(r.metrics.accept_wait.max() > 0);
    let top = lockstudio_sim::plots::most_contended(&r.metrics, 3);
    assert_eq!(top.first().map(|(s, _)| *s), Some("/studio/s0"), "{top:?}");
}

#[test]
fn server_section_is_optional_and_validated() {
    let good = lockstudio_sim::workload::DEFAULT_WORKLOAD;
    let start = good.find("[server]").unwrap();
    let end = good.find("[faults]").unwrap();
    let without = format!("{}{}", &good[..start], &good[end..]);
    let w = Workload::parse(&without, "w.toml").unwrap();
    assert_eq!(w.server, lockstudio_sim::workload::ServerConfig::default());
    let zero = good.replace("transfer_handlers = 4", "transfer_handlers = 0");
    let err = Workload::parse(&zero, "w.toml").unwrap_err().to_string();
    assert!(err.contains("server.transfer_handlers"), "{err}");
    let typo = good.replace("poll_ms = 1000", "pol_ms = 1000");
    assert!(matches!(
        Workload::parse(&typo, "w.toml"),
        Err(WorkloadError::Parse { .. })
    ));
}

#[test]
fn huge_durations_are_rejected_before_any_arithmetic() {
    let good = lockstudio_sim::workload::DEFAULT_WORKLOAD;
    for (key, line) in [
        ("think_ms", "think_ms = 9223372036854775807"),
        ("lease_ttl_ms", "lease_ttl_ms = 9223372036854775807"),
        ("chaos_seconds", "chaos_seconds = 9223372036854775807"),
    ] {
        let text: String = good
            .lines()
            .map(|l| if l.starts_with(key) { line } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        match Workload::parse(&text, "w.toml") {
            Err(WorkloadError::Invalid { message, .. }) => {
                assert!(message.contains(key), "{message}")
            }
            other => panic!("{key}: expected an Invalid error, got {other:?}"),
        }
    }
}

#[test]
fn editors_saving_at_once_get_deadlock_errors_and_the_run_stays_clean() {
    let mut w = short(shipped("hot-session"));
    w.mix.edit *= 10;
    let r = simulate(&w, 2, false);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let get = |k: &str| r.metrics.counters.get(k).copied().unwrap_or(0);
    assert!(get("server.deadlocks") > 0, "two upgraders never met");
    assert!(get("ops.edit.done") > 0, "some edits must still succeed");
}
