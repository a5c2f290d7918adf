//! PLACEHOLDER being replaced by the real implementation (same public API).
use crate::table::*;
use crate::{Level, LockError, LockPath, Owner, Time};
use std::time::Duration;

/// The slow reference model.
#[derive(Debug, Default)]
pub struct ReferenceTable {
    effects: Vec<Effect>,
}

impl ReferenceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sizes, for tests and reports.
    pub fn counts(&self) -> TableCounts {
        TableCounts::default()
    }
}

impl LockModel for ReferenceTable {
    fn request(&mut self, _: Owner, _: &LockPath, _: Level, _: RequestOptions, _: Time) -> Result<Decision, LockError> { unimplemented!() }
    fn try_request(&mut self, _: Owner, _: &LockPath, _: Level, _: Option<Duration>, _: Time) -> Result<Grant, LockError> { unimplemented!() }
    fn release(&mut self, _: Owner, _: &LockPath, _: Option<Level>, _: Time) -> Result<Released, LockError> { unimplemented!() }
    fn cancel(&mut self, _: Ticket, _: Time) -> Result<(), LockError> { unimplemented!() }
    fn renew(&mut self, _: Owner, _: &LockPath, _: Duration, _: Time) -> Result<Time, LockError> { unimplemented!() }
    fn advance(&mut self, _: Time) { unimplemented!() }
    fn next_deadline(&self) -> Option<Time> { unimplemented!() }
    fn effects(&self) -> &[Effect] { &self.effects }
    fn holders(&self, _: &LockPath) -> Vec<HolderInfo> { unimplemented!() }
    fn queue(&self, _: &LockPath) -> Vec<QueuedInfo> { unimplemented!() }
    fn queued(&self) -> Vec<QueuedInfo> { unimplemented!() }
    fn holds(&self) -> Vec<(LockPath, HolderInfo)> { unimplemented!() }
    fn check_fence(&self, _: Owner, _: &LockPath, _: u64) -> Result<(), LockError> { unimplemented!() }
}
