//! Kills mutants `cargo mutants` found surviving in `model/src/reservation/` (see
//! `reports/mutation.md`): a lost lease keeps the first reason it was lost for, the server
//! tier's counters and accessors, and the `Debug` output of the client and the server.

use lockstudio::manager::{LockManager, Wait};
use lockstudio::reservation::{
    InProcessServer, ReservationClient, ReservationKind, ReserveError, ServerReservations,
};
use lockstudio::{LockError, LockPath, ManualClock, Owner, Time};
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(30);

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

fn setup() -> (InProcessServer<ManualClock>, ReservationClient<ManualClock>) {
    let server = InProcessServer::new(ManualClock::new(Time::ZERO));
    let local = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let client = ReservationClient::new(local, server.clone(), TTL).unwrap();
    (server, client)
}

#[test]
fn a_lost_lease_keeps_the_first_reason_and_is_counted_once() {
    let (server, ws) = setup();
    let path = p("/studio/s1/session.xml");
    let mut r = ws
        .reserve(Owner::new(1), &path, ReservationKind::Write, Wait::Forever)
        .unwrap();
    server.clock().advance(TTL * 2);
    ws.local().clock().advance(TTL);
    assert_eq!(ws.renew_due().lost, 1);
    let first = r.check().unwrap_err();
    assert!(
        matches!(first, ReserveError::Server(LockError::LeaseExpired { .. })),
        "{first:?}"
    );
    // Renewing by hand now gets a different refusal (the server forgot the hold): the
    // reservation stays lost for the reason it was first lost, counted once.
    let again = r.renew().unwrap_err();
    assert!(matches!(again, ReserveError::Server(_)), "{again:?}");
    assert_ne!(again, first, "the server's second answer differs");
    assert_eq!(r.check().unwrap_err(), first);
    assert_eq!(ws.stats().lost, 1);
    r.abandon();
}

#[test]
fn a_client_reports_its_lease_length_and_describes_itself() {
    let (server, ws) = setup();
    assert_eq!(ws.ttl(), TTL);
    let shown = format!("{ws:?}");
    assert!(
        shown.starts_with("ReservationClient { ttl: 30s, stats: ReservationStats {"),
        "{shown}"
    );
    server.clock().advance(Duration::from_secs(2));
    assert_eq!(
        format!("{server:?}"),
        format!(
            "InProcessServer {{ now: {:?}, .. }}",
            Time::ZERO.saturating_add(Duration::from_secs(2))
        )
    );
}

#[test]
fn the_server_tier_counts_expiries_and_exposes_its_table() {
    let mut server = ServerReservations::new();
    assert!(server.is_empty());
    assert_eq!(server.expired_total(), 0);
    for (owner, path) in [(1, "/a"), (2, "/b")] {
        server
            .reserve(
                Owner::new(owner),
                &p(path),
                ReservationKind::Write,
                TTL,
                Time::ZERO,
            )
            .unwrap();
    }
    assert!(!server.is_empty());
    assert_eq!(server.table().counts().holds, 2);
    server.advance(Time::ZERO.saturating_add(TTL));
    assert_eq!(server.expired_total(), 2);
    assert!(server.is_empty());
    assert_eq!(server.table().counts().holds, 0);
}

#[test]
fn reservations_and_renewers_describe_themselves() {
    let (_server, ws) = setup();
    let path = p("/studio/s1");
    let r = ws
        .reserve(Owner::new(3), &path, ReservationKind::Read, Wait::Forever)
        .unwrap();
    assert_eq!(
        format!("{r:?}"),
        format!(
            "Reservation {{ owner: {:?}, path: {path:?}, kind: Read, fence: {} }}",
            Owner::new(3),
            r.fence()
        )
    );
    assert_eq!(ReservationKind::Read.to_string(), "read");
    assert_eq!(ReservationKind::Write.to_string(), "write");
    let renewer = ws.spawn_renewer(Duration::from_secs(3600));
    assert_eq!(format!("{renewer:?}"), "Renewer { .. }");
}

/// Dropping a renewer stops and joins its thread, which holds a handle on the client: once
/// both are dropped, nothing refers to the client's transport any more.
#[test]
fn dropping_the_renewer_stops_its_thread() {
    let server = InProcessServer::new(ManualClock::new(Time::ZERO));
    let transport = Arc::new(server);
    let local = LockManager::with_clock(ManualClock::new(Time::ZERO));
    let ws = ReservationClient::new(local, Arc::clone(&transport), TTL).unwrap();
    let renewer = ws.spawn_renewer(Duration::from_millis(1));
    drop(renewer);
    drop(ws);
    assert_eq!(
        Arc::strong_count(&transport),
        1,
        "the renewal thread still holds the client"
    );
}
