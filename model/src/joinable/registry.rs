//! [`TransferRegistry`]: one transfer per key, joined by everyone who asks while it runs.

use super::buffer::Status;
use super::stream::{JoinableReader, JoinableStream, JoinableWriter};
use crate::sync::{Arc, Mutex};
use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

/// The answer to [`TransferRegistry::join_or_start`].
#[derive(Debug)]
pub enum Joined {
    /// Nobody was fetching this key: the caller must produce it with `writer`, and may read
    /// its own transfer with `reader`.
    Started {
        /// The one writer of the new transfer.
        writer: JoinableWriter,
        /// A reader of it, for the caller.
        reader: JoinableReader,
    },
    /// A transfer for this key is running or finished: read it, from offset 0.
    Joined(JoinableReader),
}

/// Creation Center's read-through cache, reduced to its concurrency: a second caller asking
/// for an image that is being downloaded joins that download instead of starting another.
///
/// A finished transfer stays registered (it is the cached copy) until
/// [`forget`](TransferRegistry::forget); a failed one is replaced by a fresh transfer on the
/// next request, so one failed download does not poison the key.
///
/// ```
/// use lockstudio::joinable::{Joined, TransferRegistry};
///
/// let cache = TransferRegistry::new(1 << 20);
/// let Joined::Started { mut writer, reader: mut first } = cache.join_or_start("img-7") else {
///     panic!("nobody was downloading img-7")
/// };
/// let Joined::Joined(mut second) = cache.join_or_start("img-7") else {
///     panic!("the running download must be joined")
/// };
/// writer.write(b"pixels").unwrap();
/// writer.finish().unwrap();
/// assert_eq!(first.read_to_end().unwrap(), b"pixels");
/// assert_eq!(second.read_to_end().unwrap(), b"pixels");
/// ```
pub struct TransferRegistry<K> {
    transfers: Arc<Mutex<FxHashMap<K, JoinableStream>>>,
    limit: usize,
}

impl<K> Clone for TransferRegistry<K> {
    fn clone(&self) -> Self {
        TransferRegistry {
            transfers: Arc::clone(&self.transfers),
            limit: self.limit,
        }
    }
}

impl<K> fmt::Debug for TransferRegistry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferRegistry")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash> TransferRegistry<K> {
    /// An empty registry whose transfers may each hold at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        TransferRegistry {
            transfers: Arc::new(Mutex::new(FxHashMap::default())),
            limit,
        }
    }

    /// Joins the running or finished transfer for `key`, or starts one if there is none or
    /// the last one failed. Lock order: the registry, then the transfer; never the reverse.
    pub fn join_or_start(&self, key: K) -> Joined {
        let mut transfers = self.transfers.lock();
        if let Some(stream) = transfers.get(&key) {
            if !matches!(stream.status(), Status::Failed(_)) {
                return Joined::Joined(stream.join());
            }
        }
        let (writer, stream) = JoinableStream::new(self.limit);
        let reader = stream.join();
        transfers.insert(key, stream);
        Joined::Started { writer, reader }
    }

    /// Drops the registry's handle on `key` (readers already joined keep reading); returns
    /// whether there was one.
    pub fn forget<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.transfers.lock().remove(key).is_some()
    }

    /// How many keys have a transfer registered.
    pub fn len(&self) -> usize {
        self.transfers.lock().len()
    }

    /// Whether no key has a transfer registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
