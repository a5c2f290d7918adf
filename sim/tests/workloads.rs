//! Workload files: the shipped ones parse and are documented; broken ones get located,
//! one-line errors.

mod common;

use common::{root, shipped, SHIPPED};
use lockstudio_sim::workload::DEFAULT_WORKLOAD;
use lockstudio_sim::{Workload, WorkloadError};

fn located(text: &str) -> (usize, usize, String) {
    match Workload::parse(text, "w.toml") {
        Err(e @ WorkloadError::Invalid { .. }) => {
            let shown = e.to_string();
            assert!(
                shown.starts_with("w.toml:") && !shown.contains('\n'),
                "{shown}"
            );
            let WorkloadError::Invalid {
                line, col, message, ..
            } = e
            else {
                unreachable!()
            };
            (line, col, message)
        }
        other => panic!("expected a located error, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_embedded_default_is_the_shipped_file() {
    assert_eq!(Workload::default_studio(), shipped("studio-default"));
    for name in SHIPPED {
        assert_eq!(shipped(name).name, name);
    }
}

#[test]
fn an_unknown_key_is_rejected_where_it_is() {
    let text = DEFAULT_WORKLOAD.replace("sessions = 12", "sessions = 12\nsesions = 3");
    let (line, col, message) = located(&text);
    assert_eq!((line, col), (line_of(&text, "sesions = 3"), 1));
    assert!(message.contains("sesions"), "{message}");
    let text = DEFAULT_WORKLOAD.replace("chunks = 4", "chunks = 4\nchunk_size = 9");
    let (line, _, message) = located(&text);
    assert_eq!(line, line_of(&text, "chunk_size"));
    assert!(message.contains("chunk_size"), "{message}");
}

#[test]
fn a_wrong_type_a_missing_key_and_bad_syntax_are_located() {
    let text = DEFAULT_WORKLOAD.replace("workstations = 4", "workstations = \"four\"");
    assert_eq!(located(&text).0, line_of(&text, "\"four\""));
    let text = DEFAULT_WORKLOAD.replace("think_ms = 2000", "think_ms = -5");
    assert_eq!(located(&text).0, line_of(&text, "think_ms"));
    let text = DEFAULT_WORKLOAD.replace("network_ms = 2\n", "");
    assert!(located(&text).2.contains("network_ms"));
    let text = DEFAULT_WORKLOAD.replace("[faults]", "[faults");
    assert_eq!(located(&text).0, line_of(&text, "[faults"));
}

#[test]
fn meaningless_values_name_the_key_and_its_line() {
    for (from, to, key) in [
        ("workstations = 4", "workstations = 0", "workstations"),
        ("half_open = 0.005", "half_open = 1.5", "faults.half_open"),
        ("pause_ms = 12000", "pause_ms = 100", "pause_ms"),
        ("heal_seconds = 300", "heal_seconds = 5", "heal_seconds"),
        ("handlers = 4", "handlers = 0", "server.handlers"),
        (
            "client_crash_per_hour = 0.5",
            "client_crash_per_hour = -1.0",
            "faults.client_crash_per_hour",
        ),
    ] {
        let text = DEFAULT_WORKLOAD.replace(from, to);
        let (line, col, message) = located(&text);
        assert!(message.starts_with(key), "{key}: {message}");
        assert_eq!(line, line_of(&text, to), "{key}");
        assert!(col > 1, "{key}: the column points at the value");
    }
}

#[test]
fn an_unreadable_file_is_an_io_error() {
    assert!(matches!(
        Workload::load(&root().join("no/such/file.toml")),
        Err(WorkloadError::Io { .. })
    ));
}

#[test]
fn every_key_is_documented() {
    let readme = std::fs::read_to_string(root().join("specs/workloads/README.md")).unwrap();
    let mut keys = Vec::new();
    let mut table = String::new();
    for line in DEFAULT_WORKLOAD.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix('[') {
            table = t.trim_end_matches(']').to_string();
        } else if let Some((key, _)) = line.split_once('=') {
            if !line.starts_with('#') {
                keys.push(if table.is_empty() {
                    key.trim().to_string()
                } else {
                    format!("{table}.{}", key.trim())
                });
            }
        }
    }
    assert!(keys.len() > 40, "{keys:?}");
    for key in keys {
        assert!(
            readme.contains(&format!("`{key}`")),
            "specs/workloads/README.md does not document `{key}`"
        );
    }
}
