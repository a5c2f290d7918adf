//! Tests written to kill mutants that `cargo mutants` found surviving in
//! `model/src/versioned.rs` (see `reports/mutation.md`). Public API only.

use lockstudio::versioned::{RetryPolicy, Version, VersionedStore, Versions};
use std::time::{Duration, Instant};

/// Kills `versioned.rs: replace VersionedStore::version -> Version with Default::default()`
/// and the `is_empty` / `len` mutants: the shared store reports each key's current version,
/// not `ABSENT`, and counts its keys.
#[test]
fn shared_store_reports_current_versions() {
    let store = VersionedStore::new();
    assert_eq!(store.version("job"), Version::ABSENT);
    assert!(store.is_empty());
    assert_eq!(store.len(), 0);
    let v1 = store.insert("job", 1u32).unwrap();
    assert!(!store.is_empty());
    assert_eq!(store.len(), 1);
    assert_eq!(v1, Version(1));
    assert_eq!(store.version("job"), v1);
    let v2 = store.commit("job", v1, 2).unwrap();
    assert_eq!(store.version("job"), v2);
    assert!(v2 > v1);
    assert_eq!(store.version("other"), Version::ABSENT);
    store.insert("other", 7).unwrap();
    assert_eq!(store.len(), 2);
    let clone = store.clone();
    assert_eq!(clone.version("job"), v2, "a clone shares the versions");
}

/// Kills `versioned.rs: replace <impl Backoff for ThreadSleep>::pause with ()`: `update`
/// really waits the policy's delay between a conflicting attempt and the next one.
#[test]
fn update_sleeps_the_backoff_between_attempts() {
    const DELAY: Duration = Duration::from_millis(40);
    let store = VersionedStore::new();
    store.insert("job", 0u32).unwrap();
    let policy = RetryPolicy::new(3)
        .unwrap()
        .with_backoff(DELAY, DELAY)
        .unwrap();
    let rival = store.clone();
    let mut attempts = Vec::new();
    let started = Instant::now();
    let version = store
        .update(
            "job",
            |n| {
                attempts.push(started.elapsed());
                if attempts.len() == 1 {
                    // Another client commits between our read and our commit: a conflict.
                    let (_, seen) = rival.read("job").unwrap();
                    rival.commit("job", seen, 100).unwrap();
                }
                *n += 1;
            },
            &policy,
        )
        .unwrap();
    assert_eq!(version, Version(3));
    assert_eq!(store.read("job"), Some((101, Version(3))));
    assert_eq!(attempts.len(), 2, "one conflict, one retry");
    let gap = attempts[1] - attempts[0];
    assert!(
        gap >= DELAY,
        "the retry came {gap:?} after the conflicting attempt, before the {DELAY:?} backoff"
    );
}

/// Kills `versioned.rs: replace <impl Debug for VersionedStore>::fmt with
/// Ok(Default::default())`: the store names itself in debug output (it holds no `Debug`
/// bound on its values, so it prints no contents).
#[test]
fn versioned_store_debug_names_the_type() {
    let store = VersionedStore::<&str, u32>::new();
    assert_eq!(format!("{store:?}"), "VersionedStore { .. }");
}

/// Kills `versioned.rs: replace <impl Display for Version>::fmt with Ok(Default::default())`:
/// versions print as `v<n>` (conflict and retry messages show them).
#[test]
fn version_displays_as_v_number() {
    assert_eq!(Version(3).to_string(), "v3");
    assert_eq!(Version::ABSENT.to_string(), "v0");
}

/// Kills `versioned.rs: replace Versions::is_empty -> bool with false`.
#[test]
fn versions_is_empty_until_a_commit() {
    let mut versions = Versions::new();
    assert!(versions.is_empty());
    assert_eq!(versions.len(), 0);
    versions.insert("job", 1u32).unwrap();
    assert!(!versions.is_empty());
    assert_eq!(versions.len(), 1);
}

/// Kills `versioned.rs: replace Versions::iter with ::std::iter::empty()`.
#[test]
fn versions_iter_lists_every_key_with_its_version() {
    let mut versions = Versions::new();
    let v1 = versions.insert("a", 1u32).unwrap();
    versions.insert("b", 2u32).unwrap();
    versions.commit("a", v1, 10).unwrap();
    let mut all: Vec<(&str, u32, Version)> =
        versions.iter().map(|(k, v, ver)| (*k, *v, ver)).collect();
    all.sort();
    assert_eq!(all, vec![("a", 10, Version(2)), ("b", 2, Version(1))]);
}

/// Kills `versioned.rs: replace > with >= in RetryPolicy::with_backoff`: both limits are
/// inclusive (first delay up to the maximum, maximum up to a year).
#[test]
fn backoff_limits_are_inclusive() {
    let year = Duration::from_secs(365 * 24 * 3600);
    let policy = RetryPolicy::new(2).unwrap();
    assert!(policy.with_backoff(year, year).is_ok(), "a year is allowed");
    assert!(policy
        .with_backoff(Duration::from_secs(1), year + Duration::from_secs(1))
        .is_err());
    let same = Duration::from_millis(5);
    let p = policy.with_backoff(same, same).expect("first == max");
    assert_eq!(p.delay_after(1), same);
    assert_eq!(p.delay_after(3), same);
    assert!(policy.with_backoff(2 * same, same).is_err());
}
