//! The interface shared by the fast [`LockTable`](super::LockTable) and the slow
//! [`ReferenceTable`](crate::reference::ReferenceTable), so tests, the scenario runner and the
//! simulator can drive either and compare them step by step.

use super::types::{
    Decision, Effect, Grant, HolderInfo, QueuedInfo, Released, RequestOptions, Ticket,
};
use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::time::Time;
use std::time::Duration;

/// The lock semantics of `specs/locking.md` and `specs/leases.md` as a pure state machine.
///
/// Every method takes `now` (time never moves by itself) and first processes every deadline
/// at or before `now` (timeouts and lease expiries), exactly as [`LockModel::advance`] would.
/// [`LockModel::effects`] then lists what the call did to *other* requests and holds.
/// An `Err` leaves holds and queue unchanged apart from those deadline effects.
pub trait LockModel {
    /// Asks for `level` on `path` for `owner`; grants at once or queues.
    fn request(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        opts: RequestOptions,
        now: Time,
    ) -> Result<Decision, LockError>;

    /// Like [`LockModel::request`] but never queues: refuses with `LockError::WouldBlock`.
    fn try_request(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        ttl: Option<Duration>,
        now: Time,
    ) -> Result<Grant, LockError>;

    /// Releases one acquisition at `level` (or, with `None`, at the strongest level held).
    fn release(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Option<Level>,
        now: Time,
    ) -> Result<Released, LockError>;

    /// Withdraws a queued request.
    fn cancel(&mut self, ticket: Ticket, now: Time) -> Result<(), LockError>;

    /// Extends the lease of `owner` on `path` to `now + ttl`; returns the new expiry.
    fn renew(
        &mut self,
        owner: Owner,
        path: &LockPath,
        ttl: Duration,
        now: Time,
    ) -> Result<Time, LockError>;

    /// Processes every deadline at or before `now`.
    fn advance(&mut self, now: Time);

    /// The earliest pending deadline (a timeout or a lease expiry), if any.
    fn next_deadline(&self) -> Option<Time>;

    /// What the most recent call did to other requests and holds, in order.
    fn effects(&self) -> &[Effect];

    /// The holds on exactly `path`, sorted by owner.
    fn holders(&self, path: &LockPath) -> Vec<HolderInfo>;

    /// The requests queued on exactly `path`, oldest first.
    fn queue(&self, path: &LockPath) -> Vec<QueuedInfo>;

    /// Every queued request, oldest first.
    fn queued(&self) -> Vec<QueuedInfo>;

    /// Every hold as `(path, holder)`, sorted by path then owner.
    fn holds(&self) -> Vec<(LockPath, HolderInfo)>;

    /// Accepts `token` if it was granted to a hold of `owner` on `path` that is still live.
    fn check_fence(&self, owner: Owner, path: &LockPath, token: u64) -> Result<(), LockError>;
}
