//! Directories with thousands of children, most of them idle: the subtree walks behind
//! directory conflicts and blocker lists must see exactly the busy descendants, before and
//! after idle nodes are pruned and their slots reused.

use lockstudio::{
    Decision, Level, LockError, LockModel, LockPath, LockTable, Owner, RequestOptions, Time,
};
use std::collections::BTreeSet;

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

fn request(t: &mut LockTable, owner: u64, path: &str, level: Level) -> Decision {
    t.request(
        Owner::new(owner),
        &p(path),
        level,
        RequestOptions::default(),
        Time::ZERO,
    )
    .unwrap()
}

fn blockers_of_directory_write(t: &mut LockTable) -> BTreeSet<u64> {
    match t.try_request(Owner::new(0), &p("/d"), Level::Write, None, Time::ZERO) {
        Err(LockError::WouldBlock { blockers }) => blockers.iter().map(|o| o.id()).collect(),
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

#[test]
fn directory_conflicts_see_exactly_the_busy_children_across_prunes() {
    let mut t = LockTable::new();
    // 3,000 children (more than the 1,024 idle nodes kept before a prune), each held by its
    // own owner; then all but every 97th are released, in an order that shuffles the lists.
    for i in 1..=3000u64 {
        assert!(matches!(
            request(&mut t, i, &format!("/d/c{i}/f"), Level::Write),
            Decision::Granted(_)
        ));
    }
    let kept: BTreeSet<u64> = (1..=3000).filter(|i| i % 97 == 0).collect();
    for i in (1..=3000u64).rev().filter(|i| !kept.contains(i)) {
        t.release(Owner::new(i), &p(&format!("/d/c{i}/f")), None, Time::ZERO)
            .unwrap();
    }
    assert_eq!(blockers_of_directory_write(&mut t), kept);
    // Reuse the pruned slots for new busy children, queued behind the directory's readers.
    request(&mut t, 5000, "/d", Level::Read);
    for i in 0..50u64 {
        let d = request(&mut t, 6000 + i, &format!("/d/n{i}"), Level::Delete);
        assert!(
            matches!(d, Decision::Queued(_)),
            "a delete below a read-held directory waits"
        );
    }
    let mut expected = kept.clone();
    expected.insert(5000);
    expected.extend(6000..6050);
    assert_eq!(blockers_of_directory_write(&mut t), expected);
    // Once every hold is gone, the queued deletes are granted and the directory is free.
    for i in &kept {
        t.release(Owner::new(*i), &p(&format!("/d/c{i}/f")), None, Time::ZERO)
            .unwrap();
    }
    t.release(Owner::new(5000), &p("/d"), None, Time::ZERO)
        .unwrap();
    assert_eq!(
        t.holders(&p("/d/n7")).len(),
        1,
        "queued deletes were granted"
    );
    for i in 0..50u64 {
        t.release(
            Owner::new(6000 + i),
            &p(&format!("/d/n{i}")),
            None,
            Time::ZERO,
        )
        .unwrap();
    }
    assert!(matches!(
        request(&mut t, 1, "/d", Level::Delete),
        Decision::Granted(_)
    ));
    assert!(t.queued().is_empty());
}
