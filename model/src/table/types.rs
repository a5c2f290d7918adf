//! The values that go into and come out of a [`LockTable`](super::LockTable).

use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::time::Time;
use std::fmt;
use std::time::Duration;

/// Longest timeout or time-to-live accepted (a year): anything longer is a unit mistake.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Names one queued request. Tickets are never reused within a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub u64);

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ticket#{}", self.0)
    }
}

/// How a request may wait, and whether its hold is a lease.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Give up (with a `TimedOut` effect) if not granted within this long. `None` waits
    /// forever.
    pub timeout: Option<Duration>,
    /// Make the hold a lease that expires this long after it is granted unless renewed.
    pub ttl: Option<Duration>,
}

/// What a grant hands the owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The fencing token of this grant: strictly greater than every token granted before it
    /// by this table (so strictly increasing per path).
    pub fence: u64,
    /// When the hold expires unless renewed, for leases.
    pub expires: Option<Time>,
}

/// The immediate answer to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Held now.
    Granted(Grant),
    /// Waiting; a later call reports `Effect::Granted` or `Effect::TimedOut` for this ticket.
    Queued(Ticket),
}

/// What a release took away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Released {
    /// The level of the acquisition that was released.
    pub level: Level,
    /// The owner's effective level on the path afterwards; `None` when the hold is gone.
    pub remaining: Option<Level>,
}

/// Something that happened to a request or hold other than the one a call was about.
/// Effects of one call are listed in the order they happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A queued request was granted.
    Granted {
        /// The request.
        ticket: Ticket,
        /// Its owner.
        owner: Owner,
        /// The level it now holds.
        level: Level,
        /// Its fencing token and lease expiry.
        grant: Grant,
    },
    /// A queued request reached its deadline and was withdrawn.
    TimedOut {
        /// The request.
        ticket: Ticket,
        /// Its owner.
        owner: Owner,
        /// How long it waited.
        waited: Duration,
        /// Who held or was queued ahead of it at that moment (sorted, distinct).
        blockers: Vec<Owner>,
    },
    /// A lease was not renewed in time; the whole hold of that owner on that path is gone.
    Expired {
        /// The owner whose lease ended.
        owner: Owner,
        /// The path it held.
        path: LockPath,
        /// The newest fencing token it had been granted there.
        fence: u64,
    },
}

/// One owner's hold on one path, for introspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderInfo {
    /// Who holds it.
    pub owner: Owner,
    /// The strongest level held.
    pub level: Level,
    /// Acquisitions not yet released, per level (`[read, write, delete]`).
    pub counts: [u32; 3],
    /// The newest fencing token of this hold.
    pub fence: u64,
    /// Lease expiry, if the hold is a lease.
    pub expires: Option<Time>,
}

/// One queued request, for introspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedInfo {
    /// Its ticket.
    pub ticket: Ticket,
    /// Its owner.
    pub owner: Owner,
    /// The path it waits for.
    pub path: LockPath,
    /// The level it asks for.
    pub level: Level,
    /// When it was queued.
    pub since: Time,
    /// When it gives up, if ever.
    pub deadline: Option<Time>,
}

/// Sizes of a table, for tests and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Distinct (owner, path) holds.
    pub holds: usize,
    /// Queued requests.
    pub queued: usize,
    /// Holds that are leases.
    pub leases: usize,
}

/// Checks a timeout or TTL: non-zero and at most [`MAX_DURATION`].
pub fn check_duration(value: Duration) -> Result<Duration, crate::LockError> {
    let reason = if value.is_zero() {
        "must be greater than zero"
    } else if value > MAX_DURATION {
        "must be at most a year"
    } else {
        return Ok(value);
    };
    Err(crate::LockError::InvalidDuration { value, reason })
}
