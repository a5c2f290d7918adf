//! # lockstudio
//!
//! Hierarchical path locks with read / write / delete levels, leases with fencing tokens,
//! two-tier reservations, optimistic versioning and joinable transfers: a pure, formally
//! checked core ([`LockTable`]) and blocking shells over one sync facade.
//!
//! The semantics are specified in `specs/` at the repository root; [`reference`] is the same
//! specification written as slow, obvious code that tests compare the fast table against.

pub mod clock;
pub mod error;
pub mod fence;
pub mod joinable;
pub mod level;
pub mod manager;
pub mod owner;
pub mod path;
pub mod planted;
pub mod reference;
pub mod reservation;
pub mod scenario;
pub mod sync;
pub mod table;
pub mod time;
pub mod versioned;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{parse_path, LockError};
pub use level::Level;
pub use owner::Owner;
pub use path::{LockPath, PathError};
pub use reference::ReferenceTable;
pub use table::{
    Decision, Effect, Grant, HolderInfo, LockModel, LockTable, QueuedInfo, Released,
    RequestOptions, TableCounts, Ticket,
};
pub use time::Time;

pub use fence::{Fence, FencedStore, StaleToken};
pub use joinable::{JoinableStream, TransferError, TransferRegistry};
pub use manager::{LockGuard, LockManager, Wait};
pub use reservation::{ReservationClient, ServerReservations, Transport};
pub use versioned::{OptimisticLockError, RetryPolicy, Version, VersionedStore, Versions};
