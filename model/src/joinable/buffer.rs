//! [`JoinableBuffer`]: the pure state of one joinable transfer.

use crate::planted::{active, Bug};
use rustc_hash::FxHashMap;
use std::fmt;

/// Why readers of a transfer get no (more) bytes. Every reader of a failed transfer gets the
/// same error; none ever sees end-of-stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The writer reported a failure.
    #[error("the transfer failed: {0}")]
    Failed(String),
    /// The writer went away without finishing (a dropped writer, a crashed download).
    #[error("the writer went away without finishing the transfer")]
    WriterDropped,
    /// The writer tried to publish more than the transfer's limit.
    #[error("the transfer exceeded its limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The reader is not joined to this transfer (it left, or the id is from elsewhere).
    #[error("{0} is not joined to this transfer")]
    NotJoined(ReaderId),
}

/// A writer call that came too late or asked for too much.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The transfer already finished or failed; nothing was changed.
    #[error("the transfer is already closed ({0})")]
    Closed(Status),
    /// Publishing these bytes would pass the limit: the transfer has now failed with
    /// [`TransferError::TooLarge`], so readers are told rather than silently truncated.
    #[error("the transfer exceeded its limit of {limit} bytes and has failed")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// Where a transfer stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The writer may publish more.
    Open,
    /// Every byte is published; readers reach end-of-stream after the last one.
    Finished,
    /// The transfer failed; readers get this error.
    Failed(TransferError),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Open => f.write_str("open"),
            Status::Finished => f.write_str("finished"),
            Status::Failed(err) => write!(f, "failed: {err}"),
        }
    }
}

/// Names one reader of one buffer. Ids are never reused within a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReaderId(pub u64);

impl fmt::Display for ReaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reader#{}", self.0)
    }
}

/// What a read produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// This many bytes were copied (zero only for an empty buffer argument).
    Data(usize),
    /// Every byte has been read and the writer finished.
    Eof,
    /// Every published byte has been read and the writer may publish more: wait.
    Pending,
}

/// The pure state of one transfer: the published bytes, the writer's status and a cursor per
/// reader. No locks, no blocking: the blocking [`JoinableStream`](super::JoinableStream)
/// and the simulator both drive this.
///
/// Memory: every published byte is kept until the buffer is dropped, because a reader may
/// join at any time and always starts at offset 0. The total is bounded by the `limit` given
/// at creation; a write past it fails the transfer ([`TransferError::TooLarge`]). The writer
/// therefore never waits for slow readers.
///
/// ```
/// use lockstudio::joinable::{JoinableBuffer, Progress, TransferError};
///
/// let mut t = JoinableBuffer::new(1024);
/// let early = t.join();
/// t.write(b"abc").unwrap();
/// let late = t.join(); // joins mid-transfer, still starts at offset 0
/// let mut buf = [0u8; 8];
/// assert_eq!(t.read(early, &mut buf), Ok(Progress::Data(3)));
/// assert_eq!(t.read(early, &mut buf), Ok(Progress::Pending));
/// t.fail("disk full").unwrap();
/// // Failure reaches every reader, with nothing more delivered; never a silent EOF.
/// assert_eq!(t.read(early, &mut buf), Err(TransferError::Failed("disk full".into())));
/// assert_eq!(t.read(late, &mut buf), Err(TransferError::Failed("disk full".into())));
/// ```
#[derive(Clone, Debug)]
pub struct JoinableBuffer {
    bytes: Vec<u8>,
    limit: usize,
    status: Status,
    cursors: FxHashMap<ReaderId, usize>,
    next_reader: u64,
}

impl JoinableBuffer {
    /// An open transfer that may publish at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        JoinableBuffer {
            bytes: Vec::new(),
            limit,
            status: Status::Open,
            cursors: FxHashMap::default(),
            next_reader: 1,
        }
    }

    /// The byte limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Where the transfer stands.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The bytes published so far.
    pub fn published(&self) -> &[u8] {
        &self.bytes
    }

    /// How many readers are joined.
    pub fn readers(&self) -> usize {
        self.cursors.len()
    }

    /// How many joined readers have read every published byte (so, while the transfer is
    /// open, a read by any of them would wait).
    pub fn caught_up(&self) -> usize {
        let end = self.bytes.len();
        self.cursors.values().filter(|&&at| at == end).count()
    }

    /// How far `reader` has read, if it is joined.
    pub fn cursor(&self, reader: ReaderId) -> Option<usize> {
        self.cursors.get(&reader).copied()
    }

    /// Whether a read by `reader` would return at once (data, end-of-stream or an error)
    /// rather than [`Progress::Pending`].
    pub fn ready(&self, reader: ReaderId) -> bool {
        match (self.cursors.get(&reader), &self.status) {
            (None, _) | (_, Status::Finished | Status::Failed(_)) => true,
            (Some(&at), Status::Open) => at < self.bytes.len(),
        }
    }

    /// A new reader, positioned at offset 0 whatever has been published already. Joining a
    /// finished or failed transfer is allowed: it reads the whole thing, or gets the error.
    pub fn join(&mut self) -> ReaderId {
        let id = ReaderId(self.next_reader);
        self.next_reader += 1;
        self.cursors.insert(id, 0);
        id
    }

    /// Detaches `reader`; returns whether it was joined.
    pub fn leave(&mut self, reader: ReaderId) -> bool {
        self.cursors.remove(&reader).is_some()
    }

    /// Copies the next published bytes for `reader` into `buf` and advances its cursor.
    ///
    /// Failure wins over data: once the transfer failed, every read returns the error, even
    /// with bytes left unread, so no reader keeps consuming a transfer known to be broken.
    pub fn read(&mut self, reader: ReaderId, buf: &mut [u8]) -> Result<Progress, TransferError> {
        let at = *self
            .cursors
            .get(&reader)
            .ok_or(TransferError::NotJoined(reader))?;
        if let Status::Failed(err) = &self.status {
            if !active(Bug::JoinableEofOnFailure) {
                return Err(err.clone());
            }
        }
        if buf.is_empty() {
            return Ok(Progress::Data(0));
        }
        let available = self.bytes.get(at..).unwrap_or_default();
        if available.is_empty() {
            return Ok(match self.status {
                Status::Open => Progress::Pending,
                Status::Finished | Status::Failed(_) => Progress::Eof,
            });
        }
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.cursors.insert(reader, at + n);
        Ok(Progress::Data(n))
    }

    /// Publishes `bytes` to every reader, present and future.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.check_open()?;
        if bytes.len() > self.limit.saturating_sub(self.bytes.len()) {
            let limit = self.limit;
            self.status = Status::Failed(TransferError::TooLarge { limit });
            return Err(WriteError::TooLarge { limit });
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    /// Marks every byte published: readers reach end-of-stream after the last one.
    pub fn finish(&mut self) -> Result<(), WriteError> {
        self.check_open()?;
        self.status = Status::Finished;
        Ok(())
    }

    /// Fails the transfer: every reader gets `TransferError::Failed(reason)`.
    pub fn fail(&mut self, reason: impl Into<String>) -> Result<(), WriteError> {
        self.check_open()?;
        self.status = Status::Failed(TransferError::Failed(reason.into()));
        Ok(())
    }

    /// The writer is gone: fails an open transfer with [`TransferError::WriterDropped`];
    /// a closed one is left as it is. Returns whether it changed anything.
    pub fn abandon(&mut self) -> bool {
        if self.status != Status::Open {
            return false;
        }
        self.status = Status::Failed(TransferError::WriterDropped);
        true
    }

    fn check_open(&self) -> Result<(), WriteError> {
        match self.status {
            Status::Open => Ok(()),
            ref closed => Err(WriteError::Closed(closed.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_then_eof_after_the_last_byte() {
        let mut t = JoinableBuffer::new(10);
        let r = t.join();
        t.write(b"hello").unwrap();
        t.finish().unwrap();
        let mut buf = [0u8; 3];
        assert_eq!(t.read(r, &mut buf), Ok(Progress::Data(3)));
        assert_eq!(t.read(r, &mut buf), Ok(Progress::Data(2)));
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(t.read(r, &mut buf), Ok(Progress::Eof));
        assert!(t.ready(r));
    }

    #[test]
    fn writes_after_close_are_refused() {
        let mut t = JoinableBuffer::new(10);
        t.finish().unwrap();
        assert_eq!(t.write(b"x"), Err(WriteError::Closed(Status::Finished)));
        assert!(t.fail("late").is_err());
        assert!(!t.abandon());
        assert_eq!(t.status(), &Status::Finished);
    }

    #[test]
    fn limit_fails_the_transfer() {
        let mut t = JoinableBuffer::new(4);
        let r = t.join();
        t.write(b"abcd").unwrap();
        assert_eq!(t.write(b"e"), Err(WriteError::TooLarge { limit: 4 }));
        assert_eq!(
            t.read(r, &mut [0; 8]),
            Err(TransferError::TooLarge { limit: 4 })
        );
        assert_eq!(t.published(), b"abcd");
    }

    #[test]
    fn unknown_and_departed_readers_are_typed() {
        let mut t = JoinableBuffer::new(4);
        let r = t.join();
        assert!(t.leave(r));
        assert!(!t.leave(r));
        assert_eq!(t.read(r, &mut [0; 1]), Err(TransferError::NotJoined(r)));
        assert_eq!(t.readers(), 0);
        assert_eq!(t.cursor(r), None);
    }

    #[test]
    fn abandon_reaches_readers_as_an_error() {
        let mut t = JoinableBuffer::new(4);
        let r = t.join();
        t.write(b"ab").unwrap();
        assert!(t.abandon());
        assert_eq!(t.read(r, &mut [0; 1]), Err(TransferError::WriterDropped));
        assert_eq!(t.read(r, &mut []), Err(TransferError::WriterDropped));
    }
}
