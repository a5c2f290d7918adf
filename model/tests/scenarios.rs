//! The conformance corpus (`specs/scenarios/*.toml`) run against `LockTable` and
//! `ReferenceTable`, and checks that the runner itself bites: malformed files are reported
//! with a location, and a wrong expectation is a failure.

use lockstudio::scenario::{parse_scenario, run_paths, run_scenario, FileReport, Summary};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("specs")
        .join("scenarios")
}

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "lockstudio-scenarios-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn report_for<'s>(summary: &'s Summary, file_name: &str) -> &'s FileReport {
    summary
        .scenarios
        .iter()
        .find(|r| {
            let file = match r {
                FileReport::Passed { file, .. }
                | FileReport::Failed { file, .. }
                | FileReport::Invalid { file, .. } => file,
            };
            file.ends_with(file_name)
        })
        .unwrap_or_else(|| panic!("no report for {file_name}: {summary}"))
}

const GOOD: &str = r#"
title = "A reader joins a writer"
[[step]]
do = "lock"
owner = "A"
path = "/s1"
level = "write"
expect = "granted"
[[step]]
do = "lock"
owner = "B"
path = "/s1"
level = "read"
expect = "granted"
"#;

#[test]
fn the_whole_corpus_passes_on_both_models() {
    let summary = run_paths(&[corpus()]);
    let failures: Vec<String> = summary
        .scenarios
        .iter()
        .filter(|r| !matches!(r, FileReport::Passed { .. }))
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        summary.passed >= 60,
        "the corpus must hold at least 60 scenarios, found {}",
        summary.passed
    );
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn corpus_covers_every_partyline_divergence_and_level_pair() {
    let names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for held in ["read", "write", "delete"] {
        for req in ["read", "write", "delete"] {
            for suffix in ["", "-try"] {
                let name = format!("levels-{held}-then-{req}{suffix}.toml");
                assert!(names.contains(&name), "missing {name}");
            }
        }
    }
    let partyline = names.iter().filter(|n| n.starts_with("partyline-")).count();
    assert_eq!(
        partyline, 5,
        "one scenario per divergence in specs/locking.md"
    );
}

#[test]
fn malformed_files_are_located_and_the_rest_still_run() {
    let dir = TempDir::new("malformed");
    dir.write("a-good.toml", GOOD);
    dir.write(
        "b-unknown-key.toml",
        "title = \"t\"\n[[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\nexpekt = \"granted\"\n",
    );
    dir.write(
        "c-bad-duration.toml",
        "title = \"t\"\n[[step]]\ndo = \"advance\"\nby =   \"3 hours\"\n",
    );
    dir.write(
        "d-bad-level.toml",
        "title = \"t\"\n[[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"exclusive\"\nexpect = \"granted\"\n",
    );
    dir.write("e-not-toml.toml", "title = \"t\"\n[[step]\n");
    dir.write(
        "f-unknown-expect.toml",
        "title = \"t\"\n[[step]]\ndo = \"unlock\"\nowner = \"A\"\npath = \"/x\"\nexpect = \"error:nonsense\"\n",
    );
    dir.write("notes.txt", "not a scenario; ignored");

    let summary = run_paths(std::slice::from_ref(&dir.0));
    assert_eq!(summary.passed, 1, "{summary}");
    assert_eq!(summary.invalid, 5, "{summary}");
    assert_eq!(summary.exit_code(), 2);

    let expect_at =
        |name: &str, line: usize, column: usize, needle: &str| match report_for(&summary, name) {
            FileReport::Invalid {
                line: l,
                column: c,
                message,
                ..
            } => {
                assert_eq!((*l, *c), (Some(line), Some(column)), "{name}: {message}");
                assert!(message.contains(needle), "{name}: {message}");
            }
            other => panic!("{name}: expected a located error, got {other}"),
        };
    expect_at("b-unknown-key.toml", 7, 1, "expekt");
    expect_at("c-bad-duration.toml", 4, 8, "3 hours");
    expect_at("d-bad-level.toml", 6, 9, "exclusive");
    expect_at("e-not-toml.toml", 2, 7, "");
    expect_at("f-unknown-expect.toml", 6, 10, "nonsense");

    let line = report_for(&summary, "b-unknown-key.toml").to_string();
    assert!(
        line.starts_with("error ") && line.contains("b-unknown-key.toml:7:1: "),
        "{line}"
    );
}

#[test]
fn a_wrong_expectation_fails_at_its_step() {
    let dir = TempDir::new("wrong");
    let wrong = GOOD.replace(
        "level = \"read\"\nexpect = \"granted\"",
        "level = \"write\"\nexpect = \"granted\"",
    );
    let file = dir.write("wrong.toml", &wrong);
    let summary = run_paths(&[file]);
    assert_eq!(summary.failed, 1, "{summary}");
    assert_eq!(summary.exit_code(), 1);
    match &summary.scenarios[0] {
        FileReport::Failed { failure, .. } => {
            assert_eq!(failure.step, 2);
            assert_eq!(failure.expected, "granted");
            assert!(failure.got.starts_with("blocked"), "{failure}");
            assert!(
                failure.state.contains("/s1: A write") && failure.state.contains("B:/s1"),
                "{failure}"
            );
        }
        other => panic!("expected a failure, got {other}"),
    }
    let line = summary.scenarios[0].to_string();
    assert!(
        line.starts_with("FAIL ")
            && line.contains("wrong.toml step 2: expected granted, got blocked"),
        "{line}"
    );
}

#[test]
fn wrong_effects_and_state_fail() {
    let base = "title = \"t\"\n\
        [[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"write\"\nexpect = \"granted\"\n\
        [[step]]\ndo = \"lock\"\nowner = \"B\"\npath = \"/x\"\nlevel = \"write\"\nexpect = \"blocked\"\n";
    let cases = [
        // the waiter is granted, but the file says nobody wakes
        (
            "[[step]]\ndo = \"unlock\"\nowner = \"A\"\npath = \"/x\"\nexpect = \"released\"\n",
            3,
            "wakes []",
        ),
        // the file claims a wake that does not happen
        (
            "[[step]]\ndo = \"advance\"\nby = \"1s\"\nwakes = [\"B:/x\"]\n",
            3,
            "wakes [\"B:/x\"]",
        ),
        // wrong holders
        (
            "[[step]]\ndo = \"expect_state\"\npath = \"/x\"\nholders = [{ owner = \"B\", level = \"write\" }]\n",
            3,
            "holders of /x [B write]",
        ),
        // wrong queue
        (
            "[[step]]\ndo = \"expect_state\"\npath = \"/x\"\nholders = [{ owner = \"A\", level = \"write\" }]\nqueue = []\n",
            3,
            "queue of /x []",
        ),
        // a lease that is not there does not expire
        (
            "[[step]]\ndo = \"advance\"\nby = \"1m\"\nexpires = [\"A:/x\"]\n",
            3,
            "expires [\"A:/x\"]",
        ),
    ];
    for (tail, step, expected) in cases {
        let scenario = parse_scenario(&format!("{base}{tail}")).unwrap();
        let failure = run_scenario(&scenario).expect_err(tail);
        assert_eq!(failure.step, step, "{failure}");
        assert_eq!(failure.expected, expected, "{failure}");
    }
}

#[test]
fn expect_timeout_bites_when_the_request_is_granted_or_never_times_out() {
    let head = "title = \"t\"\n\
        [[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"write\"\nexpect = \"granted\"\n\
        [[step]]\ndo = \"lock\"\nowner = \"B\"\npath = \"/x\"\nlevel = \"write\"\ntimeout = \"5s\"\nexpect = \"timeout\"\n";
    let granted = format!(
        "{head}[[step]]\ndo = \"unlock\"\nowner = \"A\"\npath = \"/x\"\nexpect = \"released\"\nwakes = [\"B:/x\"]\n"
    );
    let failure = run_scenario(&parse_scenario(&granted).unwrap()).unwrap_err();
    assert_eq!(
        (failure.step, failure.got.as_str()),
        (3, "granted"),
        "{failure}"
    );

    let failure = run_scenario(&parse_scenario(head).unwrap()).unwrap_err();
    assert_eq!(failure.step, 2, "{failure}");
    assert!(failure.got.contains("still queued"), "{failure}");

    let timed_out =
        format!("{head}[[step]]\ndo = \"advance\"\nby = \"5s\"\ntimeouts = [\"B:/x\"]\n");
    assert_eq!(run_scenario(&parse_scenario(&timed_out).unwrap()), Ok(()));
}

#[test]
fn missing_paths_are_bad_input() {
    let dir = TempDir::new("missing");
    let summary = run_paths(&[dir.0.join("nope.toml"), dir.0.clone()]);
    assert_eq!(summary.invalid, 2, "{summary}");
    assert_eq!(summary.exit_code(), 2);
    assert!(summary
        .to_string()
        .contains("no *.toml scenario files found"));
}

#[test]
fn owners_are_numbered_in_order_of_first_appearance() {
    let s = parse_scenario(
        "title = \"t\"\n\
         [[step]]\ndo = \"expect_state\"\npath = \"/x\"\nholders = [{ owner = \"zed\", level = \"read\" }]\n\
         [[step]]\ndo = \"lock\"\nowner = \"amy\"\npath = \"/x\"\nlevel = \"read\"\nexpect = \"granted\"\n",
    )
    .unwrap();
    assert_eq!(s.owners, ["zed", "amy"]);
}

#[test]
fn every_rule_reference_names_a_spec_anchor() {
    let specs = corpus().join("..");
    let mut files = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files += 1;
        let scenario = parse_scenario(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(!scenario.rules.is_empty(), "{}: no `rules`", path.display());
        for rule in &scenario.rules {
            let (doc, anchor) = rule.split_once('#').unwrap_or_else(|| {
                panic!("{}: rule {rule:?} is not doc.md#anchor", path.display())
            });
            let text = std::fs::read_to_string(specs.join(doc))
                .unwrap_or_else(|e| panic!("{}: rule {rule:?}: {e}", path.display()));
            assert!(
                text.contains(&format!("{{#{anchor}}}")),
                "{}: rule {rule:?} names no anchor in specs/{doc}",
                path.display()
            );
        }
    }
    assert!(files >= 60);
}
