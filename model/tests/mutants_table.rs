//! Tests written to kill mutants that `cargo mutants` found surviving in `model/src/table/`
//! and `model/src/reference.rs` (see `reports/mutation.md`). Each test names the mutant it
//! kills; all of them go through the public API only.

use lockstudio::table::{check_duration, EXPIRED_MEMORY, MAX_DURATION};
use lockstudio::{
    Decision, Level, LockError, LockModel, LockPath, LockTable, Owner, ReferenceTable,
    RequestOptions, Ticket, Time,
};
use std::time::Duration;

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

/// Takes `EXPIRED_MEMORY + 1` leases with distinct lifetimes, lets them all expire in order
/// and returns each one's fencing token. The table must then remember exactly the newest
/// `EXPIRED_MEMORY` expiries: the oldest one's token is merely stale, the next one's is
/// reported as an expired lease.
fn expire_past_memory(t: &mut impl LockModel) -> Vec<u64> {
    let n = EXPIRED_MEMORY + 1;
    let mut fences = Vec::with_capacity(n);
    for i in 0..n {
        let ttl = Duration::from_millis(i as u64 + 1);
        let opts = RequestOptions {
            timeout: None,
            ttl: Some(ttl),
        };
        let path = p(&format!("/f{i}"));
        match t.request(
            Owner::new(i as u64 + 1),
            &path,
            Level::Write,
            opts,
            Time::ZERO,
        ) {
            Ok(Decision::Granted(g)) => fences.push(g.fence),
            other => panic!("lease {i}: {other:?}"),
        }
    }
    t.advance(Time::ZERO.saturating_add(Duration::from_millis(n as u64 + 1)));
    assert!(t.holds().is_empty(), "every lease expired");
    fences
}

fn assert_memory_is_exactly_expired_memory(t: &mut impl LockModel, name: &str) {
    let fences = expire_past_memory(t);
    let oldest = t.check_fence(Owner::new(1), &p("/f0"), fences[0]);
    assert!(
        matches!(oldest, Err(LockError::StaleFence { .. })),
        "{name}: the oldest of {} expiries should be forgotten, got {oldest:?}",
        EXPIRED_MEMORY + 1
    );
    let kept = t.check_fence(Owner::new(2), &p("/f1"), fences[1]);
    assert!(
        matches!(kept, Err(LockError::LeaseExpired { .. })),
        "{name}: the {}th newest expiry should still be remembered, got {kept:?}",
        EXPIRED_MEMORY
    );
}

/// Kills `reference.rs: replace > with == in ReferenceTable::expire` (the reference would
/// remember one expiry fewer than `EXPIRED_MEMORY`) and the same mutant in `LockTable`.
#[test]
fn expired_lease_memory_holds_exactly_expired_memory_entries() {
    assert_memory_is_exactly_expired_memory(&mut ReferenceTable::new(), "reference");
    assert_memory_is_exactly_expired_memory(&mut LockTable::new(), "table");
}

/// Kills `table/types.rs: replace * with + in MAX_DURATION` (365 * 24 + 3600 seconds, about
/// 3.4 hours): durations up to a year are valid timeouts and lease lifetimes.
#[test]
fn max_duration_is_a_year() {
    let year = Duration::from_secs(365 * 24 * 3600);
    assert_eq!(MAX_DURATION, year);
    let month = Duration::from_secs(30 * 24 * 3600);
    assert_eq!(check_duration(month).unwrap(), month);
    assert_eq!(check_duration(year).unwrap(), year);
    assert!(check_duration(year + Duration::from_secs(1)).is_err());

    let mut t = LockTable::new();
    let opts = RequestOptions {
        timeout: None,
        ttl: Some(month),
    };
    let d = t
        .request(Owner::new(1), &p("/s"), Level::Write, opts, Time::ZERO)
        .expect("a month-long lease is valid");
    assert!(
        matches!(d, Decision::Granted(g) if g.expires == Some(Time::ZERO.saturating_add(month)))
    );
}

/// Kills `table/types.rs: replace <impl Display for Ticket>::fmt with Ok(Default::default())`.
#[test]
fn ticket_displays_its_number() {
    assert_eq!(Ticket(7).to_string(), "ticket#7");
    assert_eq!(format!("waiting as {}", Ticket(42)), "waiting as ticket#42");
}

/// Kills `table/lock_table.rs: replace LockTable::is_empty -> bool with true`: a table with a
/// hold or a queued request is not empty.
#[test]
fn is_empty_only_when_nothing_is_held_or_queued() {
    let mut t = LockTable::new();
    let (a, b, s) = (Owner::new(1), Owner::new(2), p("/s"));
    let now = Time::ZERO;
    let opts = RequestOptions::default();
    assert!(t.is_empty());
    assert!(matches!(
        t.request(a, &s, Level::Write, opts, now),
        Ok(Decision::Granted(_))
    ));
    assert!(!t.is_empty(), "a hold");
    assert!(matches!(
        t.request(b, &s, Level::Write, opts, now),
        Ok(Decision::Queued(_))
    ));
    assert!(!t.is_empty(), "a hold and a queued request");
    t.release(a, &s, None, now).unwrap();
    assert!(!t.is_empty(), "the queued request was granted");
    t.release(b, &s, None, now).unwrap();
    assert!(t.is_empty());
}

/// Kills `table/tree.rs: replace || with && in Tree::prune`, which prunes a node that was
/// listed as vacant but is in use again by the time the batch prune runs: the hold on it
/// would vanish from the tree and a second writer would be let in.
#[test]
fn a_path_taken_again_before_the_prune_keeps_its_hold() {
    let mut t = LockTable::new();
    let (a, b) = (Owner::new(1), Owner::new(2));
    let keep = p("/studio/keep");
    let now = Time::ZERO;
    let opts = RequestOptions::default();
    let write = |t: &mut LockTable, o: Owner, path: &LockPath| {
        t.request(o, path, Level::Write, opts, now).unwrap()
    };
    // Released: the node is vacant and waits on the prune list; then taken again.
    assert!(matches!(write(&mut t, a, &keep), Decision::Granted(_)));
    t.release(a, &keep, None, now).unwrap();
    assert!(matches!(write(&mut t, a, &keep), Decision::Granted(_)));
    // Thousands of other released paths: the prune list overflows and is pruned (often).
    for i in 0..5_000u64 {
        let other = p(&format!("/studio/tmp-{i}"));
        let o = Owner::new(10 + i);
        assert!(matches!(write(&mut t, o, &other), Decision::Granted(_)));
        t.release(o, &other, None, now).unwrap();
    }
    let holders: Vec<Owner> = t.holders(&keep).iter().map(|h| h.owner).collect();
    assert_eq!(holders, vec![a], "the hold on {keep} survives the prunes");
    assert!(
        matches!(write(&mut t, b, &keep), Decision::Queued(_)),
        "a second writer got in while {a} holds {keep}"
    );
    t.release(a, &keep, None, now).unwrap();
    let holders: Vec<Owner> = t.holders(&keep).iter().map(|h| h.owner).collect();
    assert_eq!(holders, vec![b], "the waiting writer is granted on release");
    t.release(b, &keep, None, now).unwrap();
    assert!(t.is_empty());
}

fn lease(t: &mut impl LockModel, owner: u64, path: &str, ttl_ms: u64, now: Time) -> u64 {
    let opts = RequestOptions {
        timeout: None,
        ttl: Some(Duration::from_millis(ttl_ms)),
    };
    match t.request(Owner::new(owner), &p(path), Level::Write, opts, now) {
        Ok(Decision::Granted(g)) => g.fence,
        other => panic!("lease {owner} on {path}: {other:?}"),
    }
}

/// An expiry reported to its owner is forgotten at once; the others stay remembered until
/// `EXPIRED_MEMORY` newer expiries push them out, oldest first.
fn reported_expiry_leaves_the_rest_in_order(t: &mut impl LockModel, name: &str) {
    let ms = |n: u64| Time::ZERO.saturating_add(Duration::from_millis(n));
    let fence_a = lease(t, 1, "/a", 1, Time::ZERO);
    lease(t, 2, "/b", 2, Time::ZERO);
    t.advance(ms(3));
    let b = Owner::new(2);
    assert!(
        matches!(
            t.release(b, &p("/b"), None, ms(3)),
            Err(LockError::LeaseExpired { .. })
        ),
        "{name}: the first release after expiry reports it"
    );
    assert!(
        matches!(
            t.release(b, &p("/b"), None, ms(3)),
            Err(LockError::NotHeld { .. })
        ),
        "{name}: and only once"
    );
    let a = Owner::new(1);
    assert!(matches!(
        t.check_fence(a, &p("/a"), fence_a),
        Err(LockError::LeaseExpired { .. })
    ));
    for i in 0..EXPIRED_MEMORY as u64 {
        lease(t, 100 + i, &format!("/f{i}"), 1, ms(3));
    }
    t.advance(ms(10));
    let forgotten = t.check_fence(a, &p("/a"), fence_a);
    assert!(
        matches!(forgotten, Err(LockError::StaleFence { .. })),
        "{name}: {} newer expiries should push /a out of the memory, got {forgotten:?}",
        EXPIRED_MEMORY
    );
}

/// Kills `reference.rs: replace != with == in ReferenceTable::missing` (reporting one expiry
/// dropped every other from the eviction order, so they were remembered forever), and checks
/// `LockTable` the same way.
#[test]
fn reporting_an_expiry_keeps_the_eviction_order_of_the_others() {
    reported_expiry_leaves_the_rest_in_order(&mut ReferenceTable::new(), "reference");
    reported_expiry_leaves_the_rest_in_order(&mut LockTable::new(), "table");
}

/// Holds `path` for each `(owner, path)` in `holds`, queues each `(owner, path)` of `waits`,
/// then asks for `last` and returns the `Deadlock` cycle it is refused with.
fn deadlock_cycle(
    t: &mut impl LockModel,
    holds: &[(u64, &str)],
    waits: &[(u64, &str)],
    last: (u64, &str),
) -> Vec<Owner> {
    let now = Time::ZERO;
    let opts = RequestOptions::default();
    for &(o, path) in holds {
        let d = t.request(Owner::new(o), &p(path), Level::Write, opts, now);
        assert!(
            matches!(d, Ok(Decision::Granted(_))),
            "{o} on {path}: {d:?}"
        );
    }
    for &(o, path) in waits {
        let d = t.request(Owner::new(o), &p(path), Level::Write, opts, now);
        assert!(matches!(d, Ok(Decision::Queued(_))), "{o} on {path}: {d:?}");
    }
    match t.request(Owner::new(last.0), &p(last.1), Level::Write, opts, now) {
        Err(LockError::Deadlock { cycle }) => cycle,
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// Kills `reference.rs: replace == with != in ReferenceTable::closes_cycle` (the cycle was
/// cut short or repeated the requester): a refused request names the whole wait-for cycle,
/// starting at the requester, each owner once, in both tables.
#[test]
fn deadlock_names_the_whole_cycle_from_the_requester() {
    let o = Owner::new;
    for (name, two, three) in [
        (
            "reference",
            deadlock_cycle(
                &mut ReferenceTable::new(),
                &[(1, "/a"), (2, "/b")],
                &[(1, "/b")],
                (2, "/a"),
            ),
            deadlock_cycle(
                &mut ReferenceTable::new(),
                &[(1, "/a"), (2, "/b"), (3, "/c")],
                &[(1, "/b"), (2, "/c")],
                (3, "/a"),
            ),
        ),
        (
            "table",
            deadlock_cycle(
                &mut LockTable::new(),
                &[(1, "/a"), (2, "/b")],
                &[(1, "/b")],
                (2, "/a"),
            ),
            deadlock_cycle(
                &mut LockTable::new(),
                &[(1, "/a"), (2, "/b"), (3, "/c")],
                &[(1, "/b"), (2, "/c")],
                (3, "/a"),
            ),
        ),
    ] {
        assert_eq!(two, vec![o(2), o(1)], "{name}: two-cycle");
        assert_eq!(three, vec![o(3), o(1), o(2)], "{name}: three-cycle");
    }
}

/// Kills `table/tree.rs: replace && with || in Node::is_vacant` (before `queue`): a node
/// with nothing held but a request queued on it counted as vacant, was pruned, and the
/// request was later granted on a node no longer in the tree, invisible to everyone else.
#[test]
fn a_node_with_only_a_queued_request_survives_the_prunes() {
    let mut t = LockTable::new();
    let (a, b, c) = (Owner::new(1), Owner::new(2), Owner::new(3));
    let (dir, img) = (p("/studio/s"), p("/studio/s/img"));
    let now = Time::ZERO;
    let opts = RequestOptions::default();
    assert!(matches!(
        t.request(a, &dir, Level::Write, opts, now),
        Ok(Decision::Granted(_))
    ));
    assert!(matches!(
        t.request(b, &img, Level::Write, opts, now),
        Ok(Decision::Queued(_))
    ));
    for i in 0..5_000u64 {
        let other = p(&format!("/studio/tmp-{i}"));
        let o = Owner::new(10 + i);
        assert!(matches!(
            t.request(o, &other, Level::Write, opts, now),
            Ok(Decision::Granted(_))
        ));
        t.release(o, &other, None, now).unwrap();
    }
    assert_eq!(
        t.queue(&img).len(),
        1,
        "the queued request survives the prunes"
    );
    t.release(a, &dir, None, now).unwrap();
    let holders: Vec<Owner> = t.holders(&img).iter().map(|h| h.owner).collect();
    assert_eq!(holders, vec![b], "the queued writer is granted on {img}");
    assert!(
        matches!(
            t.request(c, &img, Level::Write, opts, now),
            Ok(Decision::Queued(_))
        ),
        "a second writer got in while {b} holds {img}"
    );
}

/// Kills `table/lock_table.rs: replace LockTable::waiting -> Option<QueuedInfo> with None`:
/// a queued request can be looked up by its ticket until it is granted.
#[test]
fn waiting_describes_a_queued_ticket() {
    let mut t = LockTable::new();
    let (a, b, s) = (Owner::new(1), Owner::new(2), p("/s"));
    let now = Time::ZERO;
    let opts = RequestOptions::default();
    assert!(matches!(
        t.request(a, &s, Level::Write, opts, now),
        Ok(Decision::Granted(_))
    ));
    let d = t.request(b, &s, Level::Write, opts, now);
    let Ok(Decision::Queued(ticket)) = d else {
        panic!("the second writer should queue: {d:?}");
    };
    let info = t.waiting(ticket).expect("a queued ticket is waiting");
    assert_eq!((info.owner, info.level), (b, Level::Write));
    assert_eq!(t.queue(&s), vec![info]);
    t.release(a, &s, None, now).unwrap();
    assert_eq!(t.waiting(ticket), None, "granted: no longer waiting");
}

fn expired_memory_covers_only_expired_tokens(t: &mut impl LockModel, name: &str) {
    let fence = lease(t, 1, "/a", 1, Time::ZERO);
    t.advance(Time::ZERO.saturating_add(Duration::from_millis(2)));
    let a = Owner::new(1);
    assert!(
        matches!(
            t.check_fence(a, &p("/a"), fence),
            Err(LockError::LeaseExpired { .. })
        ),
        "{name}: the expired token"
    );
    let later = t.check_fence(a, &p("/a"), fence + 1_000);
    assert!(
        matches!(later, Err(LockError::StaleFence { .. })),
        "{name}: a token the lease never had, got {later:?}"
    );
}

/// Kills `reference.rs: replace match guard token <= fence with true in check_fence`: the
/// memory of an expired lease covers only the tokens that lease was granted; a higher token
/// is merely stale, in both tables.
#[test]
fn expired_memory_covers_only_the_expired_tokens() {
    expired_memory_covers_only_expired_tokens(&mut ReferenceTable::new(), "reference");
    expired_memory_covers_only_expired_tokens(&mut LockTable::new(), "table");
}
