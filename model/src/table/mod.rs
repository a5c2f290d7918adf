//! The pure lock table: every lock decision in the crate is made here.
//!
//! No threads, no clock, no I/O: time is the `now` argument, and what a call does to other
//! requests comes back as [`Effect`]s. Work per request is O(depth of the path) using
//! per-node intention counts, never a scan of the holds.

mod deadlines;
mod model;
mod tree;
mod types;

pub use model::LockModel;
pub use types::{
    check_duration, Decision, Effect, Grant, HolderInfo, QueuedInfo, Released, RequestOptions,
    TableCounts, Ticket, MAX_DURATION,
};
mod lock_table;
pub use lock_table::{LockTable, EXPIRED_MEMORY};
