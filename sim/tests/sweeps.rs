//! Modest sweeps of every shipped workload: no violations, and every fault kind fires.
//! (The 1,000-seed sweeps are run by hand in release; see reports/simulator.md.)

mod common;

use common::{shipped, short, SHIPPED};
use lockstudio_sim::report::metrics::Counter;
use lockstudio_sim::simulate;
use std::collections::BTreeMap;

#[test]
fn shipped_workloads_sweep_clean() {
    for name in SHIPPED {
        let w = short(shipped(name));
        for seed in 1..=3 {
            let r = simulate(&w, seed, false);
            assert!(
                r.violations.is_empty(),
                "{name} seed {seed}: {:#?}",
                r.violations
            );
            assert!(
                r.metrics.done.iter().sum::<u64>() > 100,
                "{name} seed {seed} did little work"
            );
        }
    }
}

#[test]
fn every_fault_kind_fires_and_the_studio_does_what_it_claims() {
    let w = short(shipped("crashy-network"));
    let mut total: BTreeMap<&'static str, u64> = BTreeMap::new();
    for seed in 1..=4 {
        let r = simulate(&w, seed, false);
        assert!(r.violations.is_empty(), "seed {seed}: {:#?}", r.violations);
        for (k, v) in r.metrics.counters() {
            *total.entry(k).or_default() += v;
        }
    }
    let fault_kinds: Vec<&str> = Counter::ALL
        .iter()
        .map(|c| c.name())
        .filter(|n| n.starts_with("fault."))
        .collect();
    assert_eq!(fault_kinds.len(), 8);
    for f in fault_kinds {
        assert!(total[f] > 0, "{f} never fired: {total:?}");
    }
    // The mechanisms the faults exercise are visible in the counters.
    for c in [
        "transfer.retries",
        "upload.duplicates",
        "download.joined",
        "transfer.backlog_waits",
        "transfer.half_open_reaped",
        "transfer.client_gone",
        "jobs.pending",
        "jobs.resumed",
        "lease.expiries",
        "reservation.window_conflicts",
        "optimistic.retries",
        "server.lock_waits",
        "cache.hits",
        "images.deleted",
    ] {
        assert!(total[c] > 0, "{c} is zero: {total:?}");
    }
}

#[test]
fn the_hot_session_is_hot() {
    let w = short(shipped("hot-session"));
    let r = simulate(&w, 1, false);
    let s0 = r.metrics.contention.get(&0).copied().unwrap_or_default();
    let others: u64 = r
        .metrics
        .contention
        .iter()
        .filter(|(s, _)| **s != 0)
        .map(|(_, c)| c.waits)
        .sum();
    assert!(
        s0.waits > others,
        "session 0 should see most waits: {:?}",
        r.metrics.contention
    );
    assert!(
        s0.optimistic_conflicts > 0 && s0.window_conflicts > 0,
        "{s0:?}"
    );
}
