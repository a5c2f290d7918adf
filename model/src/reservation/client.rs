//! The client side: a workstation's [`ReservationClient`] taking the local tier, then the
//! server tier, and keeping the server lease alive while the [`Reservation`] is held.

use super::server::{Request, ReservationKind, Response};
use super::transport::{Transport, TransportError};
use crate::clock::{Clock, SystemClock};
use crate::error::LockError;
use crate::manager::{LockGuard, LockManager, Wait};
use crate::owner::Owner;
use crate::path::LockPath;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{thread, Arc, Condvar, Mutex};
use crate::table::{check_duration, Grant};
use crate::time::Time;
use rustc_hash::FxHashMap;
use std::fmt;
use std::time::Duration;

/// Which tier said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The workstation's own lock manager.
    Local,
    /// The server (including a server that could not be reached).
    Server,
}

/// Why a reservation was not taken or is no longer good. A failed `reserve` holds nothing on
/// either tier (a grant whose answer was lost ends on the server by lease expiry).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    /// The local tier refused: deadlock, timeout, invalid path or duration.
    #[error("local tier: {0}")]
    Local(LockError),
    /// The server refused: another workstation holds it (`WouldBlock`), or the lease is gone
    /// (`LeaseExpired`, `NotHeld`).
    #[error("server tier: {0}")]
    Server(LockError),
    /// The server could not be reached or did not answer in time.
    #[error("server tier unreachable: {0}")]
    Transport(TransportError),
}

impl ReserveError {
    /// The tier that refused.
    pub fn tier(&self) -> Tier {
        match self {
            ReserveError::Local(_) => Tier::Local,
            ReserveError::Server(_) | ReserveError::Transport(_) => Tier::Server,
        }
    }
}

/// Outcome counters of one client. The "window" is the interval between the local grant and
/// the server grant: `server_refused + server_unreachable` counts the reservations that got
/// through the local tier and then failed at the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReservationStats {
    /// Reservations granted by both tiers.
    pub reserved: u64,
    /// Refused by the local tier (the server was never asked).
    pub local_refused: u64,
    /// Granted locally, then refused by the server.
    pub server_refused: u64,
    /// Granted locally, then the server could not be reached or answered nonsense.
    pub server_unreachable: u64,
    /// Lease renewals the server accepted.
    pub renewed: u64,
    /// Reservations found expired on the server while still held locally.
    pub lost: u64,
}

impl ReservationStats {
    /// Local-granted / server-failed outcomes: the window the seed talks about.
    pub fn window(&self) -> u64 {
        self.server_refused + self.server_unreachable
    }
}

/// What one [`ReservationClient::renew_due`] pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenewReport {
    /// Leases extended.
    pub renewed: usize,
    /// Leases the server no longer had (now marked lost).
    pub lost: usize,
    /// Renewals that got no answer (tried again on the next pass).
    pub unreachable: usize,
}

#[derive(Default)]
struct Counters {
    reserved: AtomicU64,
    local_refused: AtomicU64,
    server_refused: AtomicU64,
    server_unreachable: AtomicU64,
    renewed: AtomicU64,
    lost: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ReservationStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ReservationStats {
            reserved: get(&self.reserved),
            local_refused: get(&self.local_refused),
            server_refused: get(&self.server_refused),
            server_unreachable: get(&self.server_unreachable),
            renewed: get(&self.renewed),
            lost: get(&self.lost),
        }
    }
}

/// A held reservation as the renewal pass sees it.
#[derive(Clone, Debug)]
struct Held {
    owner: Owner,
    path: LockPath,
    /// Client time at which the lease is renewed next.
    renew_at: Time,
    /// Why the server lease is gone, once it is.
    lost: Option<LockError>,
}

struct Shared<C: Clock> {
    local: LockManager<C>,
    transport: Box<dyn Transport>,
    ttl: Duration,
    held: Mutex<FxHashMap<u64, Held>>,
    next_id: AtomicU64,
    counters: Counters,
}

impl<C: Clock> Shared<C> {
    fn now(&self) -> Time {
        self.local.clock().now()
    }

    /// When to renew a lease requested at client time `sent`. The server started the lease
    /// after `sent`, and its clock is not ours, so renewing half a TTL after sending leaves
    /// half a TTL for the renewal to arrive.
    fn renew_at(&self, sent: Time) -> Time {
        sent.saturating_add(self.ttl / 2)
    }

    fn renew(&self, id: u64, owner: Owner, path: &LockPath) -> Result<Time, ReserveError> {
        let sent = self.now();
        let request = Request::Renew {
            owner,
            path: path.clone(),
            ttl: self.ttl,
        };
        let outcome = match self.transport.call(request) {
            Ok(Response::Renewed(expires)) => Ok(expires),
            Ok(Response::Refused(err)) => Err(ReserveError::Server(err)),
            Ok(other) => Err(unexpected(&other)),
            Err(err) => Err(ReserveError::Transport(err)),
        };
        let mut held = self.held.lock();
        let Some(entry) = held.get_mut(&id) else {
            return outcome;
        };
        match &outcome {
            Ok(_) => {
                entry.renew_at = self.renew_at(sent);
                Counters::bump(&self.counters.renewed);
            }
            Err(ReserveError::Server(err)) if entry.lost.is_none() => {
                entry.lost = Some(err.clone());
                Counters::bump(&self.counters.lost);
            }
            Err(_) => {}
        }
        outcome
    }

    fn lost(&self, id: u64) -> Option<LockError> {
        self.held.lock().get(&id).and_then(|h| h.lost.clone())
    }
}

fn unexpected(response: &Response) -> ReserveError {
    ReserveError::Transport(TransportError::Protocol(format!(
        "unexpected answer {response:?}"
    )))
}

/// A workstation's reservation service: the local [`LockManager`] first, then the server
/// through a [`Transport`]. Cloning is cheap and shares everything.
///
/// ```
/// use lockstudio::manager::{LockManager, Wait};
/// use lockstudio::reservation::{InProcessServer, ReservationClient, ReservationKind, Tier};
/// use lockstudio::{LockPath, ManualClock, Owner, Time};
/// use std::time::Duration;
///
/// let server = InProcessServer::new(ManualClock::new(Time::ZERO));
/// let ttl = Duration::from_secs(30);
/// let ws1 = ReservationClient::new(
///     LockManager::with_clock(ManualClock::new(Time::ZERO)), server.clone(), ttl).unwrap();
/// let ws2 = ReservationClient::new(
///     LockManager::with_clock(ManualClock::new(Time::ZERO)), server.clone(), ttl).unwrap();
/// let session = LockPath::parse("/studio/s1").unwrap();
///
/// let held = ws1.reserve(Owner::new(1), &session, ReservationKind::Write, Wait::Forever).unwrap();
/// // Workstation 2's own tier grants at once; the server refuses; the local hold is undone.
/// let err = ws2
///     .reserve(Owner::new(2), &session, ReservationKind::Write, Wait::Forever)
///     .unwrap_err();
/// assert_eq!(err.tier(), Tier::Server);
/// assert_eq!(ws2.stats().window(), 1);
/// assert!(ws2.local().is_empty());
///
/// held.release().unwrap();
/// assert!(ws2.reserve(Owner::new(2), &session, ReservationKind::Write, Wait::Forever).is_ok());
/// ```
pub struct ReservationClient<C: Clock = SystemClock> {
    shared: Arc<Shared<C>>,
}

impl<C: Clock> Clone for ReservationClient<C> {
    fn clone(&self) -> Self {
        ReservationClient {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Clock> fmt::Debug for ReservationClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReservationClient")
            .field("ttl", &self.shared.ttl)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<C: Clock> ReservationClient<C> {
    /// A client whose local tier is `local` and whose server leases last `ttl` (non-zero, at
    /// most a year) between renewals.
    pub fn new(
        local: LockManager<C>,
        transport: impl Transport + 'static,
        ttl: Duration,
    ) -> Result<Self, LockError> {
        let ttl = check_duration(ttl)?;
        Ok(ReservationClient {
            shared: Arc::new(Shared {
                local,
                transport: Box::new(transport),
                ttl,
                held: Mutex::new(FxHashMap::default()),
                next_id: AtomicU64::new(1),
                counters: Counters::default(),
            }),
        })
    }

    /// The local tier.
    pub fn local(&self) -> &LockManager<C> {
        &self.shared.local
    }

    /// The server lease length.
    pub fn ttl(&self) -> Duration {
        self.shared.ttl
    }

    /// Outcome counters so far.
    pub fn stats(&self) -> ReservationStats {
        self.shared.counters.snapshot()
    }

    /// How many reservations this client holds.
    pub fn held(&self) -> usize {
        self.shared.held.lock().len()
    }

    /// Takes `kind` on `path` for `owner`: the local tier first (waiting as `wait` allows),
    /// then the server tier (never waiting there). If the server refuses or cannot be
    /// reached, the local reservation is released before the error is returned.
    pub fn reserve(
        &self,
        owner: Owner,
        path: &LockPath,
        kind: ReservationKind,
        wait: Wait,
    ) -> Result<Reservation<C>, ReserveError> {
        let shared = &self.shared;
        let guard = shared
            .local
            .lock(owner, path, kind.level(), wait)
            .map_err(|err| {
                Counters::bump(&shared.counters.local_refused);
                ReserveError::Local(err)
            })?;
        let sent = shared.now();
        let request = Request::Reserve {
            owner,
            path: path.clone(),
            kind,
            ttl: shared.ttl,
        };
        let grant = match shared.transport.call(request) {
            Ok(Response::Granted(grant)) => grant,
            answer => {
                // Undo the local tier before reporting, so nobody sees the half-reservation.
                drop(guard);
                let (counter, err) = match answer {
                    Ok(Response::Refused(err)) => {
                        (&shared.counters.server_refused, ReserveError::Server(err))
                    }
                    Ok(other) => (&shared.counters.server_unreachable, unexpected(&other)),
                    Err(err) => (
                        &shared.counters.server_unreachable,
                        ReserveError::Transport(err),
                    ),
                };
                Counters::bump(counter);
                return Err(err);
            }
        };
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let held = Held {
            owner,
            path: path.clone(),
            renew_at: shared.renew_at(sent),
            lost: None,
        };
        shared.held.lock().insert(id, held);
        Counters::bump(&shared.counters.reserved);
        Ok(Reservation {
            shared: Arc::clone(shared),
            local: Some(guard),
            id,
            owner,
            path: path.clone(),
            kind,
            grant,
        })
    }

    /// Renews every held server lease whose renewal time (client clock) has come. Renewals
    /// are sent with no client lock held, so a slow server delays only this pass.
    pub fn renew_due(&self) -> RenewReport {
        let now = self.shared.now();
        let due: Vec<(u64, Owner, LockPath)> = self
            .shared
            .held
            .lock()
            .iter()
            .filter(|(_, h)| h.lost.is_none() && h.renew_at <= now)
            .map(|(&id, h)| (id, h.owner, h.path.clone()))
            .collect();
        let mut report = RenewReport::default();
        for (id, owner, path) in due {
            match self.shared.renew(id, owner, &path) {
                Ok(_) => report.renewed += 1,
                Err(ReserveError::Server(_)) => report.lost += 1,
                Err(_) => report.unreachable += 1,
            }
        }
        report
    }

    /// Starts a thread that calls [`renew_due`](Self::renew_due) every `period` (of real
    /// time) until the returned [`Renewer`] is dropped.
    pub fn spawn_renewer(&self, period: Duration) -> Renewer {
        let stop = Arc::new(Stop {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let client = self.clone();
        let signal = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut stopped = signal.stopped.lock();
            while !*stopped {
                drop(stopped);
                client.renew_due();
                stopped = signal.stopped.lock();
                if *stopped {
                    break;
                }
                stopped = signal.wake.wait_timeout(stopped, period);
            }
        });
        Renewer {
            stop,
            handle: Some(handle),
        }
    }
}

struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// The background renewal thread of a client; dropping it stops and joins the thread.
pub struct Renewer {
    stop: Arc<Stop>,
    handle: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Renewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renewer").finish_non_exhaustive()
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        *self.stop.stopped.lock() = true;
        self.stop.wake.notify_all();
        if let Some(handle) = self.handle.take() {
            // A renewal pass that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// A reservation held on both tiers. Dropping it releases both (server first, then local);
/// [`release`](Reservation::release) does the same and reports errors.
pub struct Reservation<C: Clock = SystemClock> {
    shared: Arc<Shared<C>>,
    /// `None` once released or abandoned, so drop does nothing twice.
    local: Option<LockGuard<C>>,
    id: u64,
    owner: Owner,
    path: LockPath,
    kind: ReservationKind,
    grant: Grant,
}

impl<C: Clock> fmt::Debug for Reservation<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("owner", &self.owner)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("fence", &self.grant.fence)
            .finish()
    }
}

impl<C: Clock> Reservation<C> {
    /// Who holds it.
    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// What it covers.
    pub fn path(&self) -> &LockPath {
        &self.path
    }

    /// Read or write.
    pub fn kind(&self) -> ReservationKind {
        self.kind
    }

    /// The server's fencing token for this reservation: present it with every write to a
    /// server-side resource ([`crate::fence::FencedStore`]).
    pub fn fence(&self) -> u64 {
        self.grant.fence
    }

    /// When the server lease ends unless renewed, in server time, as of the last renewal.
    pub fn server_expires(&self) -> Option<Time> {
        self.grant.expires
    }

    /// Whether the server lease is still believed live: `Err` once a renewal found it gone.
    /// Work done after that is not protected (and fenced writes will be refused).
    pub fn check(&self) -> Result<(), ReserveError> {
        match self.shared.lost(self.id) {
            Some(err) => Err(ReserveError::Server(err)),
            None => Ok(()),
        }
    }

    /// Renews the server lease now.
    pub fn renew(&mut self) -> Result<Time, ReserveError> {
        let expires = self.shared.renew(self.id, self.owner, &self.path)?;
        self.grant.expires = Some(expires);
        Ok(expires)
    }

    /// Releases the server reservation, then the local one. Both are attempted; the first
    /// error is reported (a server lease that already expired gives
    /// `Server(LeaseExpired)`).
    pub fn release(mut self) -> Result<(), ReserveError> {
        self.release_both()
    }

    /// Forgets the reservation without telling the server, as a crashed workstation would:
    /// the local hold goes (it died with the workstation's memory), the server hold stays
    /// until its lease expires.
    pub fn abandon(mut self) {
        self.shared.held.lock().remove(&self.id);
        self.local = None;
    }

    fn release_both(&mut self) -> Result<(), ReserveError> {
        let Some(local) = self.local.take() else {
            return Ok(());
        };
        self.shared.held.lock().remove(&self.id);
        let request = Request::Release {
            owner: self.owner,
            path: self.path.clone(),
            kind: self.kind,
        };
        let server = match self.shared.transport.call(request) {
            Ok(Response::Released) => Ok(()),
            Ok(Response::Refused(err)) => Err(ReserveError::Server(err)),
            Ok(other) => Err(unexpected(&other)),
            Err(err) => Err(ReserveError::Transport(err)),
        };
        let local = local.unlock().map(|_| ()).map_err(ReserveError::Local);
        server.and(local)
    }
}

impl<C: Clock> Drop for Reservation<C> {
    fn drop(&mut self) {
        // Errors here mean the server lease already ended or cannot be reached; either way
        // it ends by expiry, and there is no caller to tell.
        let _ = self.release_both();
    }
}
