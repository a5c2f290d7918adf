//! A run is a pure function of (workload, seed).

mod common;

use common::{shipped, short};
use lockstudio_sim::{simulate, Workload};

fn summary_text(w: &Workload, seed: u64) -> (String, u64) {
    let r = simulate(w, seed, false);
    (
        serde_json::to_string(&r.summary(w, seed)).unwrap(),
        r.trace_digest,
    )
}

#[test]
fn same_seed_gives_a_byte_identical_summary_and_digest() {
    let w = short(Workload::default_studio());
    let (a, da) = summary_text(&w, 7);
    let (b, db) = summary_text(&w, 7);
    assert_eq!(a, b);
    assert_eq!(da, db);
}

#[test]
fn different_seeds_give_different_histories() {
    let w = short(Workload::default_studio());
    let (a, da) = summary_text(&w, 7);
    let (b, db) = summary_text(&w, 8);
    assert_ne!(da, db);
    assert_ne!(a, b);
}

#[test]
fn tracing_does_not_change_the_run() {
    let w = short(shipped("crashy-network"));
    let plain = simulate(&w, 3, false);
    let traced = simulate(&w, 3, true);
    assert_eq!(plain.trace_digest, traced.trace_digest);
    assert_eq!(plain.summary(&w, 3), traced.summary(&w, 3));
    assert!(
        plain.trace.is_empty() && traced.trace.len() as u64 > traced.metrics.events,
        "every event and record is traced"
    );
}

#[test]
fn a_changed_parameter_changes_the_history() {
    let w = short(Workload::default_studio());
    let mut slower = w.clone();
    slower.transfer.chunk_ms += 1;
    assert_ne!(w.digest(), slower.digest());
    assert_ne!(
        simulate(&w, 1, false).trace_digest,
        simulate(&slower, 1, false).trace_digest
    );
}
