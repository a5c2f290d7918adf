//! PLACEHOLDER: the blocking shell; real implementation lands with the same API.
use crate::clock::{Clock, SystemClock};
use crate::{Level, LockError, LockPath, Owner, Released, Time};
use std::time::Duration;

/// How long `lock` may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Until granted (or a deadlock is detected).
    Forever,
    /// At most this long, then `LockError::Timeout`.
    For(Duration),
}

/// The blocking lock manager.
#[derive(Debug)]
pub struct LockManager<C: Clock = SystemClock> {
    clock: C,
}

/// A held lock; released on drop, from any thread.
#[derive(Debug)]
pub struct LockGuard<C: Clock = SystemClock> {
    _c: std::marker::PhantomData<C>,
}

impl<C: Clock> LockManager<C> {
    /// A manager reading `clock`.
    pub fn with_clock(clock: C) -> Self { LockManager { clock } }
    /// The clock.
    pub fn clock(&self) -> &C { &self.clock }
    /// Blocks until granted.
    pub fn lock(&self, _: Owner, _: &LockPath, _: Level, _: Wait) -> Result<LockGuard<C>, LockError> { unimplemented!() }
    /// Lease variant.
    pub fn lock_lease(&self, _: Owner, _: &LockPath, _: Level, _: Wait, _: Duration) -> Result<LockGuard<C>, LockError> { unimplemented!() }
    /// Never waits.
    pub fn try_lock(&self, _: Owner, _: &LockPath, _: Level) -> Result<LockGuard<C>, LockError> { unimplemented!() }
    /// Explicit release by owner.
    pub fn unlock(&self, _: Owner, _: &LockPath, _: Option<Level>) -> Result<Released, LockError> { unimplemented!() }
    /// Renew a lease.
    pub fn renew(&self, _: Owner, _: &LockPath, _: Duration) -> Result<Time, LockError> { unimplemented!() }
    /// Process deadlines at clock.now().
    pub fn advance(&self) { unimplemented!() }
}
