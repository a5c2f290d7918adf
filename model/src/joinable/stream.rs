//! The blocking shell over [`JoinableBuffer`]: one writer, any number of readers, on
//! threads.

use super::buffer::{JoinableBuffer, Progress, ReaderId, Status, TransferError, WriteError};
use crate::sync::{Arc, Condvar, Mutex};
use std::fmt;
use std::io;

struct Shared {
    state: Mutex<JoinableBuffer>,
    /// Signalled whenever a read could make progress: bytes published, finish, fail.
    changed: Condvar,
}

impl Shared {
    /// Changes the state with `f` and wakes every reader; all of them may now have
    /// something to read, so a single wake-up would strand the others.
    fn update<T>(&self, f: impl FnOnce(&mut JoinableBuffer) -> T) -> T {
        let out = f(&mut self.state.lock());
        self.changed.notify_all();
        out
    }
}

/// A handle on one in-memory transfer that readers may join while it is being written.
/// Cloning shares the transfer; the bytes are freed when the writer, every handle and every
/// reader are gone.
///
/// ```
/// use lockstudio::joinable::{JoinableStream, TransferError};
/// use std::thread;
///
/// let (mut writer, stream) = JoinableStream::new(1 << 20);
/// let mut early = stream.join();
/// let reading = thread::spawn(move || early.read_to_end());
/// writer.write(b"img-").unwrap();
/// let mut late = stream.join(); // joins mid-download and still sees every byte
/// writer.write(b"7.jpg").unwrap();
/// writer.finish().unwrap();
/// assert_eq!(reading.join().unwrap(), Ok(b"img-7.jpg".to_vec()));
/// assert_eq!(late.read_to_end(), Ok(b"img-7.jpg".to_vec()));
///
/// // A writer dropped without finishing fails every reader: never a silent EOF.
/// let (writer, stream) = JoinableStream::new(16);
/// let mut reader = stream.join();
/// drop(writer);
/// assert_eq!(reader.read_to_end(), Err(TransferError::WriterDropped));
/// ```
#[derive(Clone)]
pub struct JoinableStream {
    shared: Arc<Shared>,
}

impl fmt::Debug for JoinableStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("JoinableStream")
            .field("published", &st.published().len())
            .field("status", st.status())
            .field("readers", &st.readers())
            .finish()
    }
}

impl JoinableStream {
    /// A new open transfer of at most `limit` bytes, with its one writer.
    pub fn new(limit: usize) -> (JoinableWriter, JoinableStream) {
        let shared = Arc::new(Shared {
            state: Mutex::new(JoinableBuffer::new(limit)),
            changed: Condvar::new(),
        });
        let writer = JoinableWriter {
            shared: Arc::clone(&shared),
            closed: false,
        };
        (writer, JoinableStream { shared })
    }

    /// A new reader starting at offset 0.
    pub fn join(&self) -> JoinableReader {
        let id = self.shared.state.lock().join();
        JoinableReader {
            shared: Arc::clone(&self.shared),
            id,
        }
    }

    /// Where the transfer stands.
    pub fn status(&self) -> Status {
        self.shared.state.lock().status().clone()
    }

    /// How many bytes have been published.
    pub fn published_len(&self) -> usize {
        self.shared.state.lock().published().len()
    }

    /// How many readers are joined.
    pub fn readers(&self) -> usize {
        self.shared.state.lock().readers()
    }

    /// How many readers have read every published byte ([`JoinableBuffer::caught_up`]).
    pub fn caught_up(&self) -> usize {
        self.shared.state.lock().caught_up()
    }
}

/// The one writer of a transfer. Dropping it without [`finish`](JoinableWriter::finish)
/// fails the transfer with [`TransferError::WriterDropped`].
pub struct JoinableWriter {
    shared: Arc<Shared>,
    /// Set once `finish` or `fail` has run, so drop does not report a second outcome.
    closed: bool,
}

impl fmt::Debug for JoinableWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableWriter")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl JoinableWriter {
    /// Publishes `bytes` to every reader; never waits for readers.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.shared.update(|t| t.write(bytes))
    }

    /// Ends the transfer successfully: readers reach end-of-stream after the last byte.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.closed = true;
        self.shared.update(JoinableBuffer::finish)
    }

    /// Ends the transfer with an error that every reader gets.
    pub fn fail(mut self, reason: impl Into<String>) -> Result<(), WriteError> {
        self.closed = true;
        self.shared.update(|t| t.fail(reason))
    }

    /// A handle on this writer's transfer, for joining readers.
    pub fn stream(&self) -> JoinableStream {
        JoinableStream {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for JoinableWriter {
    fn drop(&mut self) {
        if !self.closed {
            self.shared.update(JoinableBuffer::abandon);
        }
    }
}

impl io::Write for JoinableWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        JoinableWriter::write(self, buf)
            .map(|()| buf.len())
            .map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One reader of a transfer, reading from offset 0. Dropping it leaves the transfer; the
/// writer and the other readers are unaffected.
pub struct JoinableReader {
    shared: Arc<Shared>,
    id: ReaderId,
}

impl fmt::Debug for JoinableReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableReader")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl JoinableReader {
    /// This reader's id in the transfer.
    pub fn id(&self) -> ReaderId {
        self.id
    }

    /// Reads published bytes into `buf`, blocking until there are some, the writer finished
    /// (`Ok(0)`, end-of-stream) or the transfer failed (the error). An empty `buf` returns
    /// `Ok(0)` at once unless the transfer failed.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, TransferError> {
        let mut st = self.shared.state.lock();
        // Re-check the real condition after every wake-up: wake-ups may be spurious, and
        // another change may have happened before this thread got the lock back.
        loop {
            match st.read(self.id, buf)? {
                Progress::Data(n) => return Ok(n),
                Progress::Eof => return Ok(0),
                Progress::Pending => st = self.shared.changed.wait(st),
            }
        }
    }

    /// Like [`JoinableReader::read`] but never blocks: [`Progress::Pending`] instead.
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<Progress, TransferError> {
        self.shared.state.lock().read(self.id, buf)
    }

    /// Reads everything up to end-of-stream (blocking), or the transfer's error.
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, TransferError> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match self.read(&mut chunk)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// How far this reader has read.
    pub fn position(&self) -> usize {
        self.shared.state.lock().cursor(self.id).unwrap_or(0)
    }
}

impl Drop for JoinableReader {
    fn drop(&mut self) {
        self.shared.state.lock().leave(self.id);
    }
}

impl io::Read for JoinableReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        JoinableReader::read(self, buf).map_err(io::Error::other)
    }
}
