//! Each invariant checker fails on a hand-made bad history (the checks bite) and passes the
//! matching good one (they do not cry wolf).

use lockstudio::{Level, Owner};
use lockstudio_sim::check::history::{client_tier, owner_of, SERVER};
use lockstudio_sim::check::{
    check, check_one, names, EndState, History, Params, PathId, Record, Resource,
};
use lockstudio_sim::engine::{MS, SEC};

const A: Owner = Owner::new(1);
const B: Owner = Owner::new(2);

struct H(History);

impl H {
    fn new() -> H {
        H(History::new(Params {
            crash_cleanup: 10 * SEC,
            first_reply: 3 * SEC,
        }))
    }
    fn path(&mut self, r: Resource) -> PathId {
        self.0.paths.intern(r)
    }
    fn at(mut self, at_ms: u64, r: Record) -> H {
        self.0.push(at_ms * MS, r);
        self
    }
    fn grant(self, at: u64, owner: Owner, path: PathId, level: Level, fence: u64) -> H {
        self.at(
            at,
            Record::Granted {
                tier: SERVER,
                ticket: None,
                owner,
                path,
                level,
                fence,
            },
        )
        .at(at, Record::Settled { tier: SERVER })
    }
    fn release(self, at: u64, owner: Owner, path: PathId, level: Level) -> H {
        self.at(
            at,
            Record::Released {
                tier: SERVER,
                owner,
                path,
                level,
            },
        )
        .at(at, Record::Settled { tier: SERVER })
    }
    fn end(self, at: u64, end: EndState) -> H {
        self.at(at, Record::End(Box::new(end)))
    }
    fn only(&self, name: &str) -> Vec<String> {
        assert!(names().contains(&name), "no invariant {name}");
        check_one(&self.0, name)
            .into_iter()
            .map(|v| v.detail)
            .collect()
    }
}

fn session(h: &mut H) -> (PathId, PathId, PathId) {
    (
        h.path(Resource::Session(1)),
        h.path(Resource::Image(1, 7)),
        h.path(Resource::Image(1, 8)),
    )
}

#[test]
fn every_invariant_passes_a_clean_history() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h
        .grant(0, A, img, Level::Delete, 1)
        .at(
            1,
            Record::Acked {
                image: 7,
                session: 1,
                fence: 1,
                size: 100,
                sum: 9,
            },
        )
        .release(2, A, img, Level::Delete)
        .grant(3, B, s, Level::Write, 2)
        .at(
            4,
            Record::FencedWrite {
                path: s,
                owner: B,
                fence: 2,
            },
        )
        .release(5, B, s, Level::Write)
        .at(
            6,
            Record::Visible {
                image: 7,
                size: 100,
                sum: 9,
            },
        )
        .at(
            7,
            Record::JobSubmitted {
                job: 1,
                waited: true,
            },
        )
        .at(
            3007,
            Record::JobReply {
                job: 1,
                permille: 400,
                done: false,
            },
        )
        .at(
            3500,
            Record::JobReply {
                job: 1,
                permille: 1000,
                done: true,
            },
        )
        .end(
            9000,
            EndState {
                images: vec![(7, 100, 9)],
                ..EndState::default()
            },
        );
    assert_eq!(check(&h.0), vec![]);
}

#[test]
fn exclusion_bites_on_a_write_granted_under_a_directory_write() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h
        .grant(0, A, s, Level::Write, 1)
        .grant(1, B, img, Level::Read, 2);
    assert!(h.only("exclusion").is_empty(), "a reader may join a writer");
    let h = h.grant(2, B, img, Level::Delete, 3);
    let found = h.only("exclusion");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("holds write on /studio/s1"), "{found:?}");
}

#[test]
fn exclusion_sees_holds_below_and_other_tiers_apart() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h.grant(0, A, img, Level::Read, 1).at(
        1,
        Record::Granted {
            tier: client_tier(0),
            ticket: None,
            owner: B,
            path: s,
            level: Level::Delete,
            fence: 1,
        },
    );
    assert!(h.only("exclusion").is_empty(), "tiers are separate tables");
    let h = h.grant(2, B, s, Level::Write, 2);
    assert_eq!(
        h.only("exclusion").len(),
        1,
        "a hold below blocks a directory write"
    );
}

#[test]
fn fifo_bites_on_a_request_granted_past_an_older_waiter() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h
        .grant(0, A, img, Level::Read, 1)
        .at(
            1,
            Record::Queued {
                tier: SERVER,
                ticket: 1,
                owner: B,
                path: s,
                level: Level::Write,
            },
        )
        .at(1, Record::Settled { tier: SERVER });
    assert!(h.only("fifo").is_empty());
    let h = h.grant(2, Owner::new(3), img, Level::Read, 2);
    let found = h.only("fifo");
    assert!(
        found.len() == 1 && found[0].contains("older queued write"),
        "{found:?}"
    );
}

#[test]
fn lost_wakeup_bites_on_a_waiter_nobody_blocks() {
    let mut h = H::new();
    let (s, _, _) = session(&mut h);
    let h = h
        .grant(0, A, s, Level::Write, 1)
        .at(
            1,
            Record::Queued {
                tier: SERVER,
                ticket: 1,
                owner: B,
                path: s,
                level: Level::Write,
            },
        )
        .at(1, Record::Settled { tier: SERVER });
    assert!(h.only("lost-wakeup").is_empty(), "B waits for A");
    // A's lease expires, and the table forgets to wake B.
    let h = h
        .at(
            2,
            Record::Expired {
                tier: SERVER,
                owner: A,
                path: s,
                fence: 1,
            },
        )
        .at(2, Record::Settled { tier: SERVER });
    let found = h.only("lost-wakeup");
    assert!(
        found.len() == 1 && found[0].contains("nobody blocks it"),
        "{found:?}"
    );
}

#[test]
fn lost_wakeup_bites_on_a_request_queued_for_nothing() {
    let mut h = H::new();
    let (_, img, _) = session(&mut h);
    let h = h
        .at(
            0,
            Record::Queued {
                tier: SERVER,
                ticket: 1,
                owner: B,
                path: img,
                level: Level::Read,
            },
        )
        .at(0, Record::Settled { tier: SERVER });
    assert_eq!(h.only("lost-wakeup").len(), 1);
}

#[test]
fn hold_accounting_bites_on_releasing_what_is_not_held() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h
        .grant(0, A, s, Level::Read, 1)
        .release(1, B, s, Level::Read);
    assert_eq!(h.only("hold-accounting").len(), 1);
    let h = h.at(
        2,
        Record::Expired {
            tier: SERVER,
            owner: B,
            path: img,
            fence: 4,
        },
    );
    assert_eq!(h.only("hold-accounting").len(), 2);
    let h = h.at(
        3,
        Record::TimedOut {
            tier: SERVER,
            ticket: 9,
        },
    );
    assert_eq!(h.only("hold-accounting").len(), 3);
}

#[test]
fn fencing_bites_on_a_reused_token_a_stale_write_and_a_write_under_an_expired_lease() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let h = h
        .grant(0, A, img, Level::Delete, 5)
        .grant(1, B, s, Level::Read, 5);
    assert_eq!(h.only("fencing").len(), 1, "tokens must strictly increase");
    let mut h = H::new();
    let (s, _, _) = session(&mut h);
    let h = h
        .grant(0, A, s, Level::Write, 1)
        .at(
            1,
            Record::FencedWrite {
                path: s,
                owner: A,
                fence: 1,
            },
        )
        .at(
            2,
            Record::Expired {
                tier: SERVER,
                owner: A,
                path: s,
                fence: 1,
            },
        )
        .at(2, Record::Settled { tier: SERVER });
    assert!(h.only("fencing").is_empty());
    let h = h.at(
        3,
        Record::FencedWrite {
            path: s,
            owner: A,
            fence: 1,
        },
    );
    let found = h.only("fencing");
    assert!(
        found.len() == 1 && found[0].contains("no longer held"),
        "{found:?}"
    );
    let h = h
        .grant(4, B, s, Level::Write, 9)
        .at(
            5,
            Record::FencedWrite {
                path: s,
                owner: B,
                fence: 9,
            },
        )
        .grant(6, A, s, Level::Read, 10);
    let h = h.at(
        7,
        Record::FencedWrite {
            path: s,
            owner: A,
            fence: 8,
        },
    );
    assert!(
        h.only("fencing")
            .iter()
            .any(|d| d.contains("accepted token 8 after token 9")),
        "{:?}",
        h.only("fencing")
    );
}

#[test]
fn acked_exactly_once_bites_on_lost_doubled_and_resurrected_images() {
    let acked = |image| Record::Acked {
        image,
        session: 1,
        fence: image,
        size: 10,
        sum: image,
    };
    let visible = |image| Record::Visible {
        image,
        size: 10,
        sum: image,
    };
    let h = H::new()
        .at(0, acked(1))
        .at(0, acked(2))
        .at(1, visible(1))
        .end(
            5,
            EndState {
                images: vec![(1, 10, 1)],
                ..EndState::default()
            },
        );
    let found = h.only("acked-exactly-once");
    assert!(
        found.len() == 1 && found[0].contains("[2]"),
        "image 2 never arrived: {found:?}"
    );
    let h = H::new().at(0, acked(1)).at(1, visible(1)).at(2, visible(1));
    assert!(h.only("acked-exactly-once")[0].contains("stored 2 times"));
    let h = H::new()
        .at(0, acked(1))
        .at(1, visible(1))
        .at(2, Record::ImageDeleted { image: 1 })
        .at(3, visible(1));
    assert!(h.only("acked-exactly-once")[0].contains("after it was deleted"));
    // A session delete fenced after the shoot takes the image with it; one fenced before does not.
    let h = H::new()
        .at(0, acked(3))
        .at(0, acked(20))
        .at(
            1,
            Record::SessionDeleted {
                session: 1,
                fence: 10,
            },
        )
        .at(2, visible(20))
        .end(
            3,
            EndState {
                images: vec![(20, 10, 20)],
                ..EndState::default()
            },
        );
    assert!(
        h.only("acked-exactly-once").is_empty(),
        "{:?}",
        h.only("acked-exactly-once")
    );
    let h = H::new()
        .at(0, acked(3))
        .at(
            1,
            Record::SessionDeleted {
                session: 1,
                fence: 10,
            },
        )
        .end(
            3,
            EndState {
                images: vec![(3, 10, 3)],
                ..EndState::default()
            },
        );
    assert!(h.only("acked-exactly-once")[0].contains("deleted or never acknowledged"));
}

#[test]
fn no_partial_image_bites_on_a_short_or_corrupt_image() {
    let h = H::new()
        .at(
            0,
            Record::Acked {
                image: 1,
                session: 0,
                fence: 1,
                size: 100,
                sum: 7,
            },
        )
        .at(
            1,
            Record::Visible {
                image: 1,
                size: 100,
                sum: 7,
            },
        )
        .at(
            2,
            Record::Served {
                image: 1,
                size: 100,
                sum: 7,
            },
        );
    assert!(h.only("no-partial-image").is_empty());
    let h = h
        .at(
            3,
            Record::Served {
                image: 1,
                size: 60,
                sum: 7,
            },
        )
        .at(
            4,
            Record::Visible {
                image: 1,
                size: 100,
                sum: 8,
            },
        );
    assert_eq!(h.only("no-partial-image").len(), 2);
}

#[test]
fn crash_cleanup_bites_on_a_reservation_outliving_its_crashed_client() {
    let mut h = H::new();
    let (s, img, _) = session(&mut h);
    let crashed = owner_of(2, 0, 1);
    let h = h
        .grant(0, crashed, img, Level::Delete, 1)
        .at(
            100,
            Record::Crashed {
                ws: 2,
                incarnation: 0,
            },
        )
        .at(
            5000,
            Record::Expired {
                tier: SERVER,
                owner: crashed,
                path: img,
                fence: 1,
            },
        )
        .grant(6000, owner_of(2, 1, 1), s, Level::Write, 2);
    assert!(
        h.only("crash-cleanup").is_empty(),
        "expired in time; the new incarnation is someone else"
    );
    let mut h = H::new();
    let (_, img, _) = session(&mut h);
    let h = h
        .grant(0, crashed, img, Level::Delete, 1)
        .at(
            100,
            Record::Crashed {
                ws: 2,
                incarnation: 0,
            },
        )
        .at(20_000, Record::Settled { tier: SERVER });
    let found = h.only("crash-cleanup");
    assert!(
        found.len() == 1 && found[0].contains("outlived"),
        "{found:?}"
    );
}

#[test]
fn progress_monotonic_bites_on_progress_going_back() {
    let reply = |permille, done| Record::JobReply {
        job: 4,
        permille,
        done,
    };
    let h = H::new()
        .at(0, reply(100, false))
        .at(1, reply(500, false))
        .at(2, reply(1000, true));
    assert!(h.only("progress-monotonic").is_empty());
    let h = h.at(3, reply(300, false));
    assert_eq!(
        h.only("progress-monotonic").len(),
        2,
        "went back, and pending after done"
    );
    let h = H::new().at(0, reply(900, true));
    assert_eq!(h.only("progress-monotonic").len(), 1, "done below 100%");
}

#[test]
fn pending_status_bites_on_a_late_or_missing_first_answer() {
    let h = H::new()
        .at(
            0,
            Record::JobSubmitted {
                job: 1,
                waited: true,
            },
        )
        .at(
            3500,
            Record::JobReply {
                job: 1,
                permille: 500,
                done: false,
            },
        );
    assert_eq!(
        h.only("pending-status").len(),
        1,
        "answered after the 3-second rule"
    );
    let h = H::new()
        .at(
            0,
            Record::JobSubmitted {
                job: 1,
                waited: true,
            },
        )
        .at(
            10,
            Record::JobSubmitted {
                job: 2,
                waited: false,
            },
        );
    assert_eq!(h.only("pending-status").len(), 1, "never answered");
    let h = H::new()
        .at(
            0,
            Record::JobSubmitted {
                job: 1,
                waited: true,
            },
        )
        .at(1000, Record::ServerDown { until: 20 * SEC })
        .at(
            25_000,
            Record::JobReply {
                job: 1,
                permille: 500,
                done: false,
            },
        );
    assert!(
        h.only("pending-status").is_empty(),
        "a restart drops the waiting connection"
    );
}

#[test]
fn heal_finishes_bites_on_leftover_work() {
    let mut h = H::new();
    let (s, _, _) = session(&mut h);
    let h = h.grant(0, A, s, Level::Read, 1).end(
        10,
        EndState {
            pending_uploads: 2,
            unfinished_jobs: 1,
            busy_threads: 3,
            ..EndState::default()
        },
    );
    let found = h.only("heal-finishes");
    assert!(found.len() == 1, "{found:?}");
    for what in [
        "2 uploads pending",
        "1 jobs unfinished",
        "3 threads",
        "1 server reservations held",
    ] {
        assert!(found[0].contains(what), "{what}: {found:?}");
    }
    assert_eq!(
        H::new()
            .at(0, Record::Settled { tier: SERVER })
            .only("heal-finishes")
            .len(),
        1,
        "no end record"
    );
}
