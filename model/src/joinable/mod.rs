//! Joinable transfers: one writer, many readers who may join while it writes.
//!
//! Partyline's joinable streams and Creation Center's read-through cache: a second caller
//! asking for an image that is still downloading joins that download instead of starting a
//! second one. The rules (`specs/joinable.md`):
//! - a reader sees only published bytes, always from offset 0, however late it joins, and
//!   blocks (on a condition variable, never polling) until there are more;
//! - the writer's `finish` gives every reader end-of-stream after the last byte;
//! - the writer's `fail`, or its drop without `finish`, gives every reader that error: never
//!   a silent end-of-stream, never a hang;
//! - a reader may leave at any time without affecting anyone else;
//! - memory: all published bytes are kept (late joiners start at 0), bounded by a per-transfer
//!   limit; passing it fails the transfer.
//!
//! [`JoinableBuffer`] is the pure state machine (driven by the simulator directly);
//! [`JoinableStream`] / [`JoinableWriter`] / [`JoinableReader`] are the blocking shell over
//! the sync facade; [`TransferRegistry`] maps keys to running transfers.

mod buffer;
mod registry;
mod stream;

pub use buffer::{JoinableBuffer, Progress, ReaderId, Status, TransferError, WriteError};
pub use registry::{Joined, TransferRegistry};
pub use stream::{JoinableReader, JoinableStream, JoinableWriter};
