//! [`LockManager`]: the blocking shell over [`LockTable`].
//!
//! All decisions are the table's; this module only turns them into blocking calls. One
//! facade mutex guards the table; each waiting thread sleeps on its own condition variable
//! and is notified exactly when the table reports its ticket granted or timed out, so there
//! is no polling and no thundering herd.

use crate::clock::{Clock, SystemClock};
use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::planted::{active, Bug};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::table::{
    Decision, Effect, Grant, HolderInfo, LockModel, LockTable, QueuedInfo, Released,
    RequestOptions, TableCounts, Ticket,
};
use crate::time::Time;
use rustc_hash::FxHashMap;
use std::fmt;
use std::time::Duration;

/// How long [`LockManager::lock`] may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Until granted, or until the request is found to close a deadlock.
    Forever,
    /// At most this long (non-zero, at most a year), then [`LockError::Timeout`].
    For(Duration),
}

/// How a queued request ended, as published by whoever processed the table's effects.
#[derive(Debug)]
enum Outcome {
    Granted(Grant),
    TimedOut {
        waited: Duration,
        blockers: Vec<Owner>,
    },
}

#[derive(Debug)]
struct Slot {
    wake: Arc<Condvar>,
    outcome: Option<Outcome>,
}

#[derive(Debug, Default)]
struct State {
    table: LockTable,
    slots: FxHashMap<u64, Slot>,
    /// Outcomes held back by the planted `NotifyBeforePublish` bug.
    deferred: Vec<(u64, Outcome)>,
    /// Whether time passes by itself (a real clock): then some sleeping waiter must wake at
    /// the table's earliest deadline to process it, or a lease that expires while every
    /// thread sleeps would never be noticed.
    clock_runs: bool,
    /// The earliest deadline a sleeping waiter is timed to wake for.
    watch: Option<Time>,
}

impl State {
    /// If the table's earliest deadline is earlier than any sleeper is timed to wake for,
    /// wakes one sleeper: it recomputes its timeout from the table and sleeps until then.
    /// (A waiter that went to sleep when there was no deadline sleeps untimed.)
    fn poke(&mut self) {
        if !self.clock_runs {
            return;
        }
        let Some(next) = self.table.next_deadline() else {
            return;
        };
        if self.watch.is_some_and(|w| w <= next) {
            return;
        }
        if let Some(slot) = self.slots.values().next() {
            slot.wake.notify_one();
        }
    }

    /// Publishes the outcomes of the table's last call and wakes exactly their waiters.
    fn dispatch(&mut self) {
        for (ticket, outcome) in std::mem::take(&mut self.deferred) {
            if let Some(slot) = self.slots.get_mut(&ticket) {
                slot.outcome = Some(outcome);
            }
        }
        for effect in self.table.effects() {
            let (ticket, outcome) = match effect {
                Effect::Granted { ticket, grant, .. } => (ticket.0, Outcome::Granted(*grant)),
                Effect::TimedOut {
                    ticket,
                    waited,
                    blockers,
                    ..
                } => {
                    let outcome = Outcome::TimedOut {
                        waited: *waited,
                        blockers: blockers.clone(),
                    };
                    (ticket.0, outcome)
                }
                Effect::Expired { .. } => continue,
            };
            let Some(slot) = self.slots.get_mut(&ticket) else {
                continue;
            };
            if active(Bug::NotifyBeforePublish) {
                slot.wake.notify_one();
                self.deferred.push((ticket, outcome));
                continue;
            }
            slot.outcome = Some(outcome);
            slot.wake.notify_one();
        }
        self.poke();
    }
}

struct Shared<C> {
    state: Mutex<State>,
    clock: C,
}

/// The blocking lock manager: the semantics of [`LockTable`] behind `lock` / `unlock` calls
/// that block the calling thread, with guards that release on drop from any thread.
///
/// Cloning is cheap and shares the same table.
///
/// ```
/// use lockstudio::manager::{LockManager, Wait};
/// use lockstudio::{Level, LockPath, Owner};
///
/// let locks = LockManager::new();
/// let session = LockPath::parse("/studio/s1").unwrap();
/// let image = LockPath::parse("/studio/s1/img-7.jpg").unwrap();
///
/// let writer = locks.lock(Owner::new(1), &session, Level::Write, Wait::Forever).unwrap();
/// // A writer lets readers join, even below it...
/// let reader = locks.try_lock(Owner::new(2), &image, Level::Read).unwrap();
/// // ...but no second writer anywhere in its subtree.
/// assert!(locks.try_lock(Owner::new(3), &image, Level::Write).is_err());
///
/// // Guards are Send: release on another thread.
/// std::thread::spawn(move || drop(writer)).join().unwrap();
/// reader.unlock().unwrap();
/// assert!(locks.is_empty());
/// ```
pub struct LockManager<C: Clock = SystemClock> {
    shared: Arc<Shared<C>>,
}

impl<C: Clock> Clone for LockManager<C> {
    fn clone(&self) -> Self {
        LockManager {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Clock> fmt::Debug for LockManager<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockManager")
            .field("counts", &self.counts())
            .field("watched_deadline", &self.watched_deadline())
            .finish()
    }
}

impl LockManager<SystemClock> {
    /// A manager on the system's monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(SystemClock::new())
    }
}

impl Default for LockManager<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> LockManager<C> {
    /// A manager reading `clock` (use [`crate::ManualClock`] in tests and model checks, and
    /// call [`LockManager::advance`] after moving it).
    pub fn with_clock(clock: C) -> Self {
        let state = Mutex::new(State {
            clock_runs: clock.passes_by_itself(),
            ..State::default()
        });
        LockManager {
            shared: Arc::new(Shared { state, clock }),
        }
    }

    /// The clock this manager reads.
    pub fn clock(&self) -> &C {
        &self.shared.clock
    }

    /// Takes `level` on `path` for `owner`, blocking as `wait` allows.
    pub fn lock(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        wait: Wait,
    ) -> Result<LockGuard<C>, LockError> {
        self.acquire(owner, path, level, wait, None)
    }

    /// Like [`LockManager::lock`], but the hold is a lease that expires `ttl` after it is
    /// granted unless renewed ([`LockGuard::renew`]).
    pub fn lock_lease(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        wait: Wait,
        ttl: Duration,
    ) -> Result<LockGuard<C>, LockError> {
        self.acquire(owner, path, level, wait, Some(ttl))
    }

    /// Takes `level` on `path` now or fails with [`LockError::WouldBlock`]; never waits.
    pub fn try_lock(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Level,
    ) -> Result<LockGuard<C>, LockError> {
        self.try_lock_lease(owner, path, level, None)
    }

    /// [`LockManager::try_lock`] with an optional lease TTL.
    pub fn try_lock_lease(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        ttl: Option<Duration>,
    ) -> Result<LockGuard<C>, LockError> {
        let mut st = self.shared.state.lock();
        let result = st.table.try_request(owner, path, level, ttl, self.now());
        st.dispatch();
        drop(st);
        result.map(|grant| self.guard(owner, path, level, grant))
    }

    /// Releases one acquisition of `owner` on `path` at `level` (or at the strongest level
    /// held), for holds whose guard was [detached](LockGuard::detach) or taken elsewhere.
    pub fn unlock(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Option<Level>,
    ) -> Result<Released, LockError> {
        self.with_table(|t, now| t.release(owner, path, level, now))
    }

    /// Extends the lease of `owner` on `path` to `now + ttl`; returns the new expiry.
    pub fn renew(&self, owner: Owner, path: &LockPath, ttl: Duration) -> Result<Time, LockError> {
        self.with_table(|t, now| t.renew(owner, path, ttl, now))
    }

    /// Processes every timeout and lease expiry due at the clock's current time and wakes
    /// whoever they let through. Needed only with a clock that does not pass by itself.
    pub fn advance(&self) {
        self.with_table(|t, now| t.advance(now));
    }

    /// Accepts `token` if it belongs to a live hold of `owner` on `path` (after processing
    /// deadlines due now).
    pub fn check_fence(&self, owner: Owner, path: &LockPath, token: u64) -> Result<(), LockError> {
        self.with_table(|t, now| {
            t.advance(now);
            t.check_fence(owner, path, token)
        })
    }

    /// The holds on exactly `path`.
    pub fn holders(&self, path: &LockPath) -> Vec<HolderInfo> {
        self.shared.state.lock().table.holders(path)
    }

    /// The requests queued on exactly `path`, oldest first.
    pub fn queue(&self, path: &LockPath) -> Vec<QueuedInfo> {
        self.shared.state.lock().table.queue(path)
    }

    /// Sizes of the underlying table.
    pub fn counts(&self) -> TableCounts {
        self.shared.state.lock().table.counts()
    }

    /// Whether nothing is held or queued.
    pub fn is_empty(&self) -> bool {
        self.shared.state.lock().table.is_empty()
    }

    /// The earliest deadline some sleeping waiter is timed to wake for and process, if any.
    /// Diagnostics: with a clock that passes by itself, a table deadline earlier than this
    /// (or any deadline while this is `None` and someone waits) means a waiter is on its way
    /// to watch it. Always `None` with a manual clock.
    pub fn watched_deadline(&self) -> Option<Time> {
        self.shared.state.lock().watch
    }

    fn now(&self) -> Time {
        self.shared.clock.now()
    }

    fn with_table<T>(&self, f: impl FnOnce(&mut LockTable, Time) -> T) -> T {
        let mut st = self.shared.state.lock();
        let now = self.now();
        let out = f(&mut st.table, now);
        st.dispatch();
        out
    }

    fn guard(&self, owner: Owner, path: &LockPath, level: Level, grant: Grant) -> LockGuard<C> {
        LockGuard {
            shared: Arc::clone(&self.shared),
            owner,
            path: path.clone(),
            level,
            grant,
            live: true,
        }
    }

    fn acquire(
        &self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        wait: Wait,
        ttl: Option<Duration>,
    ) -> Result<LockGuard<C>, LockError> {
        let timeout = match wait {
            Wait::Forever => None,
            Wait::For(d) => Some(d),
        };
        let mut st = self.shared.state.lock();
        let decision = st.table.request(
            owner,
            path,
            level,
            RequestOptions { timeout, ttl },
            self.now(),
        );
        st.dispatch();
        let ticket = match decision? {
            Decision::Granted(grant) => return Ok(self.guard(owner, path, level, grant)),
            Decision::Queued(ticket) => ticket,
        };
        let wake = Arc::new(Condvar::new());
        st.slots.insert(
            ticket.0,
            Slot {
                wake: Arc::clone(&wake),
                outcome: None,
            },
        );
        let (st, outcome) = self.wait_for(st, ticket, &wake);
        drop(st);
        match outcome {
            Outcome::Granted(grant) => Ok(self.guard(owner, path, level, grant)),
            Outcome::TimedOut { waited, blockers } => Err(LockError::Timeout { waited, blockers }),
        }
    }

    /// Sleeps until the ticket's outcome is published. With a clock that passes by itself
    /// the sleep is bounded by the table's next deadline, and the waiter processes due
    /// deadlines itself when it wakes; with a manual clock someone calls `advance`.
    fn wait_for<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        ticket: Ticket,
        wake: &Condvar,
    ) -> (MutexGuard<'a, State>, Outcome) {
        let mut woken = false;
        let mut timed_for = None;
        loop {
            if let Some(outcome) = st.slots.get_mut(&ticket.0).and_then(|s| s.outcome.take()) {
                st.slots.remove(&ticket.0);
                // Leaving: if this waiter was the one timed for the earliest deadline, hand
                // that duty to another sleeper.
                if timed_for.is_some() && st.watch == timed_for {
                    st.watch = None;
                }
                st.poke();
                return (st, outcome);
            }
            if woken && active(Bug::WaitWithoutLoop) {
                st.slots.remove(&ticket.0);
                return (
                    st,
                    Outcome::Granted(Grant {
                        fence: 0,
                        expires: None,
                    }),
                );
            }
            let deadline = st
                .table
                .next_deadline()
                .filter(|_| self.shared.clock.passes_by_itself());
            st = match deadline {
                Some(at) => {
                    st.watch = Some(st.watch.map_or(at, |w| w.min(at)));
                    timed_for = Some(at);
                    let mut st = wake.wait_timeout(st, at.saturating_since(self.now()));
                    let now = self.now();
                    if st.watch.is_some_and(|w| w <= now) {
                        st.watch = None;
                    }
                    st.table.advance(now);
                    st.dispatch();
                    st
                }
                None => {
                    timed_for = None;
                    wake.wait(st)
                }
            };
            woken = true;
        }
    }
}

/// A held lock. Dropping it releases the acquisition, on whichever thread drops it.
///
/// Dropping ignores errors (the lease may have expired meanwhile); call
/// [`LockGuard::unlock`] to see them.
pub struct LockGuard<C: Clock = SystemClock> {
    shared: Arc<Shared<C>>,
    owner: Owner,
    path: LockPath,
    level: Level,
    grant: Grant,
    live: bool,
}

impl<C: Clock> fmt::Debug for LockGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("owner", &self.owner)
            .field("path", &self.path)
            .field("level", &self.level)
            .field("fence", &self.grant.fence)
            .finish()
    }
}

impl<C: Clock> LockGuard<C> {
    /// Who holds it.
    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// Where.
    pub fn path(&self) -> &LockPath {
        &self.path
    }

    /// At which level this acquisition was granted.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The fencing token of this grant: present it with every write the hold protects.
    pub fn fence(&self) -> u64 {
        self.grant.fence
    }

    /// When the lease expires unless renewed, if the hold is a lease.
    pub fn expires(&self) -> Option<Time> {
        self.grant.expires
    }

    /// Extends the lease to `now + ttl`; fails with [`LockError::LeaseExpired`] if it already
    /// ended.
    pub fn renew(&mut self, ttl: Duration) -> Result<Time, LockError> {
        let mut st = self.shared.state.lock();
        let result = st
            .table
            .renew(self.owner, &self.path, ttl, self.shared.clock.now());
        st.dispatch();
        if let Ok(expires) = result {
            self.grant.expires = Some(expires);
        }
        result
    }

    /// Releases now and reports what happened (for example that the lease had expired).
    pub fn unlock(mut self) -> Result<Released, LockError> {
        self.live = false;
        self.release()
    }

    /// Gives up the guard without releasing: the hold stays until
    /// [`LockManager::unlock`] or lease expiry (this is how a crashed client looks).
    pub fn detach(mut self) {
        self.live = false;
    }

    fn release(&self) -> Result<Released, LockError> {
        let mut st = self.shared.state.lock();
        let result = st.table.release(
            self.owner,
            &self.path,
            Some(self.level),
            self.shared.clock.now(),
        );
        st.dispatch();
        result
    }
}

impl<C: Clock> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if self.live {
            let _ = self.release();
        }
    }
}
