//! Kills the `Display` mutants `cargo mutants` found surviving in `model/src/owner.rs` and
//! `model/src/time.rs` (see `reports/mutation.md`): owners and times as users read them in
//! error messages, traces and reports.

use lockstudio::{Level, LockError, LockPath, Owner, Time};
use std::time::Duration;

#[test]
fn owners_read_as_owner_hash_id_in_errors() {
    assert_eq!(Owner::new(42).to_string(), "owner#42");
    let err = LockError::NotHeld {
        owner: Owner::new(7),
        path: LockPath::parse("/studio/s1").unwrap(),
        level: Some(Level::Write),
    };
    assert!(err.to_string().starts_with("owner#7 holds no "), "{err}");
}

#[test]
fn times_read_as_a_duration_since_the_epoch() {
    assert_eq!(Time::ZERO.to_string(), "t=0ns");
    let t = Time::ZERO.saturating_add(Duration::from_millis(1500));
    assert_eq!(t.to_string(), "t=1.5s");
}
