//! The server tier: the wire protocol between the tiers and [`ServerReservations`], the pure
//! state machine a server (or the simulator) runs.

use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::table::{check_duration, Effect, Grant, HolderInfo, LockModel, LockTable};
use crate::time::Time;
use std::fmt;
use std::time::Duration;

/// A read or a write reservation (Creation Center's two kinds): a classic readers–writer
/// pair, because "no other thread is reading the image file when we issue the [write]
/// reservation" (seed 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReservationKind {
    /// Shared with other readers; excluded by a writer on an overlapping path.
    Read,
    /// Exclusive on the path and its subtree: no other reader or writer.
    Write,
}

impl ReservationKind {
    /// The lock level a reservation of this kind holds.
    ///
    /// A write reservation is [`Level::Delete`], the exclusive level: [`Level::Write`] is
    /// Partyline's *joinable* write, which readers may join, and a reader joining a
    /// half-written image file is exactly what a write reservation exists to prevent.
    /// (Reading a transfer while it is written is [`crate::joinable`]'s job.)
    pub const fn level(self) -> Level {
        match self {
            ReservationKind::Read => Level::Read,
            ReservationKind::Write => Level::Delete,
        }
    }
}

impl fmt::Display for ReservationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReservationKind::Read => "read",
            ReservationKind::Write => "write",
        })
    }
}

/// What a client asks the server. Owners are global: two workstations never use the same
/// owner id (put the workstation number in the high bits, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Take a reservation now, as a lease of `ttl`; refused at once if it would have to wait.
    Reserve {
        /// Who reserves.
        owner: Owner,
        /// What.
        path: LockPath,
        /// Read or write.
        kind: ReservationKind,
        /// The lease length.
        ttl: Duration,
    },
    /// Extend the lease of `owner` on `path` to `now + ttl` (server time).
    Renew {
        /// Whose lease.
        owner: Owner,
        /// On what.
        path: LockPath,
        /// The new lease length from now.
        ttl: Duration,
    },
    /// Give back one reservation of `kind`.
    Release {
        /// Whose reservation.
        owner: Owner,
        /// On what.
        path: LockPath,
        /// Which kind.
        kind: ReservationKind,
    },
}

/// The server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The reservation is held, as a lease, with this fencing token and (server-time) expiry.
    Granted(Grant),
    /// The lease now ends at this server time.
    Renewed(Time),
    /// The reservation is given back.
    Released,
    /// Refused: `WouldBlock` (someone else holds it), `LeaseExpired` (too late to renew or
    /// release), `NotHeld`, `InvalidDuration`.
    Refused(LockError),
}

/// The server tier as a pure state machine over a [`LockTable`]: every server reservation is
/// a lease, so a client that vanishes loses its reservations when they expire.
///
/// Requests never queue on the server: a remote waiter that vanished would keep its place in
/// line with nobody to notice, and the client already has its own queue (the local tier) and
/// its own timeout. A conflicting request is refused with `LockError::WouldBlock`.
///
/// ```
/// use lockstudio::reservation::{ReservationKind, Request, Response, ServerReservations};
/// use lockstudio::{LockError, LockPath, Owner, Time};
/// use std::time::Duration;
///
/// let mut server = ServerReservations::new();
/// let path = LockPath::parse("/studio/s1").unwrap();
/// let ttl = Duration::from_secs(30);
/// let reserve = |owner| Request::Reserve {
///     owner: Owner::new(owner),
///     path: path.clone(),
///     kind: ReservationKind::Write,
///     ttl,
/// };
/// assert!(matches!(server.handle(reserve(1), Time::ZERO), Response::Granted(_)));
/// assert!(matches!(
///     server.handle(reserve(2), Time::ZERO),
///     Response::Refused(LockError::WouldBlock { .. })
/// ));
/// // Workstation 1 crashes and never renews: at expiry its reservation is gone.
/// let later = Time::ZERO.saturating_add(ttl);
/// assert!(matches!(server.handle(reserve(2), later), Response::Granted(_)));
/// assert_eq!(server.expired_total(), 1);
/// ```
#[derive(Debug, Default)]
pub struct ServerReservations {
    table: LockTable,
    expired_total: u64,
}

impl ServerReservations {
    /// A server holding nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers one request at server time `now` (processing every deadline due first).
    pub fn handle(&mut self, request: Request, now: Time) -> Response {
        let answer = match request {
            Request::Reserve {
                owner,
                path,
                kind,
                ttl,
            } => self
                .reserve(owner, &path, kind, ttl, now)
                .map(Response::Granted),
            Request::Renew { owner, path, ttl } => {
                self.renew(owner, &path, ttl, now).map(Response::Renewed)
            }
            Request::Release { owner, path, kind } => self
                .release(owner, &path, kind, now)
                .map(|()| Response::Released),
        };
        answer.unwrap_or_else(Response::Refused)
    }

    /// Takes a reservation as a lease of `ttl`, or refuses without queueing.
    pub fn reserve(
        &mut self,
        owner: Owner,
        path: &LockPath,
        kind: ReservationKind,
        ttl: Duration,
        now: Time,
    ) -> Result<Grant, LockError> {
        let result = check_duration(ttl).and_then(|ttl| {
            self.table
                .try_request(owner, path, kind.level(), Some(ttl), now)
        });
        self.count_expiries();
        result
    }

    /// Extends the lease of `owner` on `path`; `LeaseExpired` if it already ended, `NotHeld`
    /// if there never was one.
    pub fn renew(
        &mut self,
        owner: Owner,
        path: &LockPath,
        ttl: Duration,
        now: Time,
    ) -> Result<Time, LockError> {
        let result = self.table.renew(owner, path, ttl, now);
        self.count_expiries();
        result
    }

    /// Gives back one reservation of `kind`.
    pub fn release(
        &mut self,
        owner: Owner,
        path: &LockPath,
        kind: ReservationKind,
        now: Time,
    ) -> Result<(), LockError> {
        let result = self.table.release(owner, path, Some(kind.level()), now);
        self.count_expiries();
        result.map(|_| ())
    }

    /// Processes every lease expiry due at `now`.
    pub fn advance(&mut self, now: Time) {
        self.table.advance(now);
        self.count_expiries();
    }

    /// When the next lease ends, so a driver knows when to call [`advance`](Self::advance).
    pub fn next_deadline(&self) -> Option<Time> {
        self.table.next_deadline()
    }

    /// What the last call did besides its own answer (lease expiries).
    pub fn effects(&self) -> &[Effect] {
        self.table.effects()
    }

    /// How many leases have expired since the server started.
    pub fn expired_total(&self) -> u64 {
        self.expired_total
    }

    /// The reservations on exactly `path`.
    pub fn holders(&self, path: &LockPath) -> Vec<HolderInfo> {
        self.table.holders(path)
    }

    /// Every reservation as `(path, holder)`.
    pub fn holds(&self) -> Vec<(LockPath, HolderInfo)> {
        self.table.holds()
    }

    /// Whether no reservation is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The underlying table, for checkers.
    pub fn table(&self) -> &LockTable {
        &self.table
    }

    fn count_expiries(&mut self) {
        let n = self
            .table
            .effects()
            .iter()
            .filter(|e| matches!(e, Effect::Expired { .. }))
            .count();
        self.expired_total += n as u64;
    }
}
