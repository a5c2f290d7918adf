//! One test per rule (and per row of each compatibility table) of `specs/locking.md` and
//! `specs/leases.md`, on the pure `LockTable`.

use lockstudio::{
    Decision, Effect, Level, LockError, LockModel, LockPath, LockTable, Owner, Released,
    RequestOptions, Ticket, Time,
};
use std::time::Duration;
use Level::{Delete, Read, Write};

const A: Owner = Owner::new(1);
const B: Owner = Owner::new(2);
const C: Owner = Owner::new(3);
const T0: Time = Time::ZERO;

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

fn lock(t: &mut LockTable, o: Owner, path: &str, l: Level) -> Decision {
    t.request(o, &p(path), l, RequestOptions::default(), T0)
        .unwrap()
}

fn granted(d: Decision) -> bool {
    matches!(d, Decision::Granted(_))
}

fn ticket(d: Decision) -> Ticket {
    match d {
        Decision::Queued(t) => t,
        Decision::Granted(_) => panic!("expected the request to queue"),
    }
}

fn woken(t: &LockTable) -> Vec<Ticket> {
    t.effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Granted { ticket, .. } => Some(*ticket),
            _ => None,
        })
        .collect()
}

/// Table 1 of specs/locking.md: same path, different owners.
#[test]
fn same_path_matrix() {
    let expected = [
        (Read, [true, false, false]),
        (Write, [true, false, false]),
        (Delete, [false, false, false]),
    ];
    for (held, row) in expected {
        for (req, grant) in [Read, Write, Delete].into_iter().zip(row) {
            let mut t = LockTable::new();
            assert!(granted(lock(&mut t, A, "/f", held)));
            assert_eq!(
                granted(lock(&mut t, B, "/f", req)),
                grant,
                "held {held}, requested {req}"
            );
        }
    }
}

/// Table 2: a hold on a directory covers every descendant at its level, at any depth.
#[test]
fn directory_hold_covers_subtree() {
    for below in ["/d/f", "/d/x/f", "/d/x/y/z/f"] {
        for held in [Read, Write, Delete] {
            for req in [Read, Write, Delete] {
                let mut t = LockTable::new();
                assert!(granted(lock(&mut t, A, "/d", held)));
                let expect = !req.blocked_by_hold(held);
                assert_eq!(
                    granted(lock(&mut t, B, below, req)),
                    expect,
                    "{held} on /d, {req} on {below}"
                );
            }
        }
    }
}

/// Table 3: a hold below acts as a read on every ancestor (and a delete below keeps readers out).
#[test]
fn descendant_hold_acts_as_read_on_ancestors() {
    for ancestor in ["/", "/d", "/d/x"] {
        for held in [Read, Write, Delete] {
            for req in [Read, Write, Delete] {
                let mut t = LockTable::new();
                assert!(granted(lock(&mut t, A, "/d/x/f", held)));
                let expect = req == Read && held != Delete;
                assert_eq!(
                    granted(lock(&mut t, B, ancestor, req)),
                    expect,
                    "{held} on /d/x/f, {req} on {ancestor}"
                );
            }
        }
    }
}

#[test]
fn siblings_and_segment_prefixes_are_independent() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/d/a", Delete)));
    assert!(granted(lock(&mut t, B, "/d/b", Delete)));
    assert!(granted(lock(&mut t, B, "/d/ab", Write)));
    assert!(granted(lock(&mut t, C, "/d/a2/x", Write)));
    assert!(!granted(lock(&mut t, C, "/d/a/x", Read)));
}

#[test]
fn joinable_write_lets_readers_join_but_not_writers() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/f", Write)));
    assert!(granted(lock(&mut t, B, "/f", Read)));
    assert!(granted(lock(&mut t, C, "/f", Read)));
    assert!(!granted(lock(&mut t, Owner::new(4), "/f", Write)));
}

#[test]
fn delete_is_held_until_released() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/f", Delete)));
    let r = ticket(lock(&mut t, B, "/f", Read));
    t.advance(Time::from_nanos(10_000_000_000));
    assert_eq!(
        t.holders(&p("/f")).len(),
        1,
        "delete does not end by itself"
    );
    t.release(A, &p("/f"), None, Time::from_nanos(10_000_000_000))
        .unwrap();
    assert_eq!(woken(&t), vec![r]);
}

#[test]
fn owners_never_block_themselves_and_reentrance_is_counted() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/d", Write)));
    assert!(
        granted(lock(&mut t, A, "/d", Read)),
        "a writer may also read"
    );
    assert!(
        granted(lock(&mut t, A, "/d/f", Delete)),
        "own directory hold does not block"
    );
    assert!(granted(lock(&mut t, A, "/d", Write)));
    assert_eq!(t.holders(&p("/d"))[0].counts, [1, 2, 0]);
    assert_eq!(
        t.release(A, &p("/d"), None, T0),
        Ok(Released {
            level: Write,
            remaining: Some(Write)
        })
    );
    assert_eq!(
        t.release(A, &p("/d"), Some(Write), T0),
        Ok(Released {
            level: Write,
            remaining: Some(Read)
        })
    );
    assert_eq!(
        t.release(A, &p("/d"), Some(Write), T0),
        Err(LockError::NotHeld {
            owner: A,
            path: p("/d"),
            level: Some(Write)
        })
    );
    assert_eq!(
        t.release(A, &p("/d"), None, T0),
        Ok(Released {
            level: Read,
            remaining: None
        })
    );
}

#[test]
fn upgrade_is_immediate_for_the_only_holder_and_waits_otherwise() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/f", Read)));
    assert!(granted(lock(&mut t, A, "/f", Write)));
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/f", Read)));
    assert!(granted(lock(&mut t, B, "/f", Read)));
    let up = ticket(lock(&mut t, A, "/f", Write));
    t.release(B, &p("/f"), None, T0).unwrap();
    assert_eq!(woken(&t), vec![up]);
}

#[test]
fn fifo_reader_waits_behind_queued_writer_then_joins_it() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/f", Read)));
    let w = ticket(lock(&mut t, B, "/f", Write));
    let r = ticket(lock(&mut t, C, "/f", Read));
    assert_eq!(
        t.blockers_of(r),
        vec![B],
        "the reader waits for the queued writer, not for A"
    );
    t.release(A, &p("/f"), None, T0).unwrap();
    assert_eq!(
        woken(&t),
        vec![w, r],
        "writer first, then the reader joins it"
    );
}

#[test]
fn fifo_applies_across_the_hierarchy() {
    let mut t = LockTable::new();
    assert!(granted(lock(&mut t, A, "/d/f", Read)));
    let dir = ticket(lock(&mut t, B, "/d", Write));
    let child = ticket(lock(&mut t, C, "/d/g", Read));
    t.release(A, &p("/d/f"), None, T0).unwrap();
    assert_eq!(woken(&t), vec![dir, child]);
}

#[test]
fn two_upgraders_deadlock_is_reported() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/f", Read);
    lock(&mut t, B, "/f", Read);
    ticket(lock(&mut t, A, "/f", Write));
    let err = t
        .request(B, &p("/f"), Write, RequestOptions::default(), T0)
        .unwrap_err();
    assert_eq!(err, LockError::Deadlock { cycle: vec![B, A] });
    assert_eq!(
        t.queue(&p("/f")).len(),
        1,
        "the refused request was not queued"
    );
}

#[test]
fn three_cycle_deadlock_is_reported() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/x", Write);
    lock(&mut t, B, "/y", Write);
    lock(&mut t, C, "/z", Write);
    ticket(lock(&mut t, A, "/y", Write));
    ticket(lock(&mut t, B, "/z", Write));
    let err = t
        .request(C, &p("/x"), Write, RequestOptions::default(), T0)
        .unwrap_err();
    assert_eq!(
        err,
        LockError::Deadlock {
            cycle: vec![C, A, B]
        }
    );
}

#[test]
fn timeout_withdraws_and_names_blockers_and_unblocks_followers() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/f", Read);
    let opts = RequestOptions {
        timeout: Some(Duration::from_secs(2)),
        ttl: None,
    };
    let w = ticket(t.request(B, &p("/f"), Write, opts, T0).unwrap());
    let r = ticket(lock(&mut t, C, "/f", Read));
    t.advance(Time::from_nanos(1_999_999_999));
    assert!(t.effects().is_empty());
    t.advance(Time::from_nanos(3_000_000_000));
    assert_eq!(
        t.effects(),
        &[
            Effect::TimedOut {
                ticket: w,
                owner: B,
                waited: Duration::from_secs(3),
                blockers: vec![A]
            },
            Effect::Granted {
                ticket: r,
                owner: C,
                level: Read,
                grant: t.effects()[1].clone().grant()
            },
        ]
    );
}

trait GrantOf {
    fn grant(self) -> lockstudio::Grant;
}

impl GrantOf for Effect {
    fn grant(self) -> lockstudio::Grant {
        match self {
            Effect::Granted { grant, .. } => grant,
            other => panic!("not a grant: {other:?}"),
        }
    }
}

#[test]
fn cancel_unblocks_the_queue_behind() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/p", Write);
    let b = ticket(lock(&mut t, B, "/p", Write));
    let c = ticket(lock(&mut t, C, "/p/f", Read));
    t.cancel(b, T0).unwrap();
    assert_eq!(woken(&t), vec![c]);
    assert_eq!(t.cancel(b, T0), Err(LockError::UnknownTicket(b.0)));
}

#[test]
fn release_of_nothing_is_not_held_and_changes_nothing() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/p", Write);
    let before = t.holds();
    assert!(matches!(
        t.release(B, &p("/p"), None, T0),
        Err(LockError::NotHeld { .. })
    ));
    assert!(matches!(
        t.release(A, &p("/q"), None, T0),
        Err(LockError::NotHeld { .. })
    ));
    assert_eq!(t.holds(), before);
}

#[test]
fn try_request_never_queues() {
    let mut t = LockTable::new();
    lock(&mut t, A, "/p", Write);
    assert_eq!(
        t.try_request(B, &p("/p/f"), Write, None, T0),
        Err(LockError::WouldBlock { blockers: vec![A] })
    );
    assert!(t.queued().is_empty());
}

#[test]
fn leases_expire_wake_waiters_and_void_later_calls() {
    let mut t = LockTable::new();
    let opts = RequestOptions {
        timeout: None,
        ttl: Some(Duration::from_secs(30)),
    };
    let Decision::Granted(g) = t.request(A, &p("/s"), Write, opts, T0).unwrap() else {
        panic!()
    };
    assert_eq!(g.expires, Some(Time::from_nanos(30_000_000_000)));
    let w = ticket(lock(&mut t, B, "/s/img", Write));
    assert_eq!(t.next_deadline(), Some(Time::from_nanos(30_000_000_000)));
    t.advance(Time::from_nanos(30_000_000_000));
    assert_eq!(
        t.effects()[0],
        Effect::Expired {
            owner: A,
            path: p("/s"),
            fence: g.fence
        }
    );
    assert_eq!(woken(&t), vec![w]);
    let later = Time::from_nanos(31_000_000_000);
    assert_eq!(
        t.check_fence(A, &p("/s"), g.fence),
        Err(LockError::LeaseExpired {
            owner: A,
            path: p("/s")
        })
    );
    assert_eq!(
        t.renew(A, &p("/s"), Duration::from_secs(5), later),
        Err(LockError::LeaseExpired {
            owner: A,
            path: p("/s")
        })
    );
    assert!(
        matches!(
            t.release(A, &p("/s"), None, later),
            Err(LockError::NotHeld { .. })
        ),
        "reported once"
    );
}

#[test]
fn bad_durations_are_typed_errors() {
    let mut t = LockTable::new();
    for d in [Duration::ZERO, Duration::from_secs(400 * 24 * 3600)] {
        let opts = RequestOptions {
            timeout: None,
            ttl: Some(d),
        };
        assert!(matches!(
            t.request(A, &p("/s"), Write, opts, T0),
            Err(LockError::InvalidDuration { .. })
        ));
        let opts = RequestOptions {
            timeout: Some(d),
            ttl: None,
        };
        assert!(matches!(
            t.request(A, &p("/s"), Write, opts, T0),
            Err(LockError::InvalidDuration { .. })
        ));
    }
    assert!(t.is_empty());
}

#[test]
fn malformed_paths_are_typed_errors() {
    for bad in ["", "rel", "/a//b", "/a/", "/a/./b", "/a/../b"] {
        assert!(
            matches!(
                lockstudio::parse_path(bad),
                Err(LockError::InvalidPath { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn empty_table_after_everything_is_released_prunes_nodes() {
    let mut t = LockTable::new();
    for i in 0..5000 {
        let path = format!("/s/{i}/img");
        lock(&mut t, A, &path, Write);
        t.release(A, &p(&path), None, T0).unwrap();
    }
    assert!(t.is_empty());
    assert!(granted(lock(&mut t, B, "/", Delete)));
}
