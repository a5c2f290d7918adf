//! Today's simulator reproduces the committed baselines exactly (wall clock aside): a
//! behaviour change must update `reports/baseline/` in the same commit, visibly.

mod common;

use common::{root, shipped, SHIPPED};
use lockstudio_sim::simulate;
use serde_json::Value;

#[test]
fn committed_baselines_are_reproduced_exactly() {
    let dir = root().join("reports/baseline");
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let committed: Value = serde_json::from_str(&text).unwrap();
        assert!(
            committed.get("wall_clock").is_none(),
            "{}: baselines carry no wall clock",
            path.display()
        );
        let name = committed["workload"]["name"].as_str().unwrap().to_string();
        let seed = committed["seed"].as_u64().unwrap();
        let w = shipped(&name);
        // Compared as text, byte for byte: that is what `run --deterministic` prints, and it
        // avoids trusting a float parser to round-trip.
        let now = serde_json::to_string_pretty(&simulate(&w, seed, false).summary(&w, seed))
            .unwrap()
            + "\n";
        assert!(
            now == text,
            "{} no longer matches: regenerate it (reports/baseline/README.md) and commit it with the change.\nnow: {now}",
            path.display(),
        );
        checked.push(name);
    }
    for name in SHIPPED {
        assert!(checked.iter().any(|c| c == name), "no baseline for {name}");
    }
}
