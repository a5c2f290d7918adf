//! The typed errors every public operation returns.

use crate::level::Level;
use crate::owner::Owner;
use crate::path::{LockPath, PathError};
use std::time::Duration;

/// Why a lock operation did not succeed. Every error leaves the lock state unchanged, except
/// [`LockError::Timeout`], whose request has been withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The path text is malformed.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The text as given.
        path: String,
        /// What is wrong with it.
        reason: PathError,
    },
    /// The owner holds nothing at that level on that path.
    #[error("{owner} holds no {} lock on {path}", level.map_or("", Level::as_str))]
    NotHeld {
        /// Who tried to release or renew.
        owner: Owner,
        /// Where.
        path: LockPath,
        /// The level asked for, if one was named.
        level: Option<Level>,
    },
    /// Granting the request would close a cycle in the wait-for graph; it was not queued.
    #[error("deadlock: waiting would close the cycle {cycle:?}")]
    Deadlock {
        /// The owners on the cycle, starting with the requester; each waits for the next, and
        /// the last waits for the first.
        cycle: Vec<Owner>,
    },
    /// A bounded wait ran out; the request has been withdrawn.
    #[error("timed out after {waited:?}; blocked by {blockers:?}")]
    Timeout {
        /// How long the request waited.
        waited: Duration,
        /// Who held or was queued ahead of it when it gave up.
        blockers: Vec<Owner>,
    },
    /// A `try_lock` that would have had to wait.
    #[error("would block; held or queued by {blockers:?}")]
    WouldBlock {
        /// Who holds or is queued ahead.
        blockers: Vec<Owner>,
    },
    /// The owner's lease on the path expired before this call; work done under it is void.
    #[error("the lease of {owner} on {path} has expired")]
    LeaseExpired {
        /// The owner whose lease ended.
        owner: Owner,
        /// The path it covered.
        path: LockPath,
    },
    /// A time-to-live or timeout that is zero or too large to be meaningful.
    #[error("invalid duration {value:?}: {reason}")]
    InvalidDuration {
        /// The duration given.
        value: Duration,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The ticket names no queued request (already granted, timed out or cancelled).
    #[error("no queued request with ticket {0}")]
    UnknownTicket(u64),
    /// A fencing token that does not belong to a live hold of that owner on that path.
    #[error("fencing token {token} is not live for {owner} on {path}")]
    StaleFence {
        /// The owner presenting the token.
        owner: Owner,
        /// The path.
        path: LockPath,
        /// The token presented.
        token: u64,
    },
}

impl LockError {
    /// A short stable name for the error kind, as used in scenario files (`error:<kind>`).
    pub fn kind(&self) -> &'static str {
        match self {
            LockError::InvalidPath { .. } => "invalid_path",
            LockError::NotHeld { .. } => "not_held",
            LockError::Deadlock { .. } => "deadlock",
            LockError::Timeout { .. } => "timeout",
            LockError::WouldBlock { .. } => "would_block",
            LockError::LeaseExpired { .. } => "lease_expired",
            LockError::InvalidDuration { .. } => "invalid_duration",
            LockError::UnknownTicket(_) => "unknown_ticket",
            LockError::StaleFence { .. } => "stale_fence",
        }
    }
}

/// Parses `text` into a [`LockPath`], mapping failure to [`LockError::InvalidPath`].
pub fn parse_path(text: &str) -> Result<LockPath, LockError> {
    LockPath::parse(text).map_err(|reason| LockError::InvalidPath {
        path: text.to_owned(),
        reason,
    })
}
