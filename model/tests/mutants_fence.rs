//! Tests written to kill mutants that `cargo mutants` found surviving in `model/src/fence.rs`
//! (see `reports/mutation.md`). Public API only.

use lockstudio::fence::{FencedStore, SharedFencedStore};

/// Kills `fence.rs: replace <impl Clone for SharedFencedStore>::clone with
/// Default::default()`: a clone is a second handle on the same store (same values, same
/// fences), not a fresh empty store. Also kills `replace SharedFencedStore::delete with
/// Ok(None)`: a fenced delete removes the value and returns it.
#[test]
fn shared_store_clones_share_values_and_fences() {
    let store = SharedFencedStore::new();
    store.write("img", 3, 30).unwrap();
    let other = store.clone();
    assert_eq!(
        other.get("img"),
        Some((30, 3)),
        "the clone sees earlier writes"
    );
    other.write("img", 5, 50).unwrap();
    assert_eq!(
        store.get("img"),
        Some((50, 5)),
        "the original sees the clone's write"
    );
    assert!(
        store.write("img", 4, 40).is_err(),
        "the clone's token fenced the original"
    );
    let third = other.clone();
    assert_eq!(
        third.delete("img", 6).unwrap(),
        Some(50),
        "delete returns the old value"
    );
    assert_eq!(store.get("img"), None);
    assert!(
        other.write("img", 6, 60).is_ok(),
        "token 6 is still current"
    );
    assert!(store.write("img", 5, 1).is_err());
}

/// Kills `fence.rs: replace FencedStore::is_empty -> bool with true` and `replace
/// SharedFencedStore::fence -> Fence with Default::default()`.
#[test]
fn store_emptiness_and_fences_are_reported() {
    let mut store = FencedStore::new();
    assert!(store.is_empty());
    store.write("img", 7, 70).unwrap();
    assert!(!store.is_empty());
    assert_eq!(store.len(), 1);
    store.delete("img", 8).unwrap();
    assert!(
        store.is_empty(),
        "a deleted value leaves only its fence behind"
    );
    assert_eq!(store.fence("img").highest(), Some(8));

    let shared = SharedFencedStore::new();
    assert_eq!(shared.fence("img").highest(), None);
    shared.write("img", 5, 50).unwrap();
    assert_eq!(shared.fence("img").highest(), Some(5));
    assert!(shared.fence("img").check(4).is_err());
    assert!(shared.fence("img").check(5).is_ok());
}

/// Kills `fence.rs: replace <impl Debug for SharedFencedStore>::fmt with
/// Ok(Default::default())`.
#[test]
fn shared_store_debug_names_the_type() {
    let store = SharedFencedStore::<&str, u32>::new();
    assert_eq!(format!("{store:?}"), "SharedFencedStore { .. }");
}
