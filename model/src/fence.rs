//! Fencing: the resource side of a lease.
//!
//! A lease can end while its holder still believes it holds it (a GC pause, a partition, a
//! crashed client that comes back). The lock table cannot stop such a zombie from writing;
//! only the resource can, by remembering the highest fencing token it has accepted and
//! refusing anything older (Chubby's sequencer, Kleppmann's fencing token). Every grant of a
//! [`LockTable`](crate::LockTable) carries a token strictly greater than all earlier ones.
//!
//! The rule ([`Fence::accept`]): a write carrying token `t` is accepted iff `t` is at least the
//! highest token accepted so far. Equal is accepted because one grant writes many times with
//! its one token; tokens are never shared between grants, so "equal" always means "the same
//! grant as the newest writer". Once a newer grant has written, every older grant is locked
//! out for good, even if it still thinks it holds the lease.
//!
//! [`Fence`] and [`FencedStore`] are pure (no locks, no clock); [`SharedFencedStore`] is the
//! thread-safe wrapper over the crate's sync facade. See `specs/fencing.md`.
//!
//! ```
//! use lockstudio::fence::{FencedStore, StaleToken};
//!
//! let mut store = FencedStore::new();
//! store.write("img-7", 5, "draft").unwrap();      // the holder of grant 5 writes
//! store.write("img-7", 9, "final").unwrap();      // grant 5 expired; grant 9 writes
//! // The zombie holder of grant 5 wakes up and tries again: refused, nothing changes.
//! assert_eq!(
//!     store.write("img-7", 5, "stale"),
//!     Err(StaleToken { presented: 5, highest: 9 })
//! );
//! assert_eq!(store.get(&"img-7"), Some((&"final", 9)));
//! ```

use crate::sync::{Arc, Mutex};
use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

/// A write refused because a newer grant has already written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fencing token {presented} is stale: token {highest} has already been accepted")]
pub struct StaleToken {
    /// The token the write carried.
    pub presented: u64,
    /// The highest token accepted before it.
    pub highest: u64,
}

/// The highest fencing token a resource has accepted, and the rule that guards it.
///
/// ```
/// use lockstudio::fence::Fence;
///
/// let mut fence = Fence::new();
/// fence.accept(3).unwrap();
/// fence.accept(3).unwrap(); // the same grant writes again
/// fence.accept(8).unwrap(); // a newer grant takes over
/// assert!(fence.accept(3).is_err()); // the old grant is locked out
/// assert_eq!(fence.highest(), Some(8));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fence {
    highest: Option<u64>,
}

impl Fence {
    /// A fence that has accepted nothing yet, so it accepts any token.
    pub const fn new() -> Self {
        Fence { highest: None }
    }

    /// The highest token accepted so far.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Whether a write with `token` would be accepted, without recording anything.
    pub fn check(&self, token: u64) -> Result<(), StaleToken> {
        match self.highest {
            Some(highest) if token < highest => Err(StaleToken {
                presented: token,
                highest,
            }),
            _ => Ok(()),
        }
    }

    /// Accepts a write carrying `token` and remembers it, or refuses it as stale. A refusal
    /// changes nothing.
    pub fn accept(&mut self, token: u64) -> Result<(), StaleToken> {
        self.check(token)?;
        self.highest = Some(token);
        Ok(())
    }
}

/// One resource of a [`FencedStore`]: its value (`None` once deleted) and its fence. A deleted
/// resource keeps its fence, so a zombie cannot resurrect it with an old token.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot<V> {
    value: Option<V>,
    fence: Fence,
}

/// A pure map from resource to value in which every write must carry a fencing token, with
/// one [`Fence`] per resource.
///
/// Tokens are compared per resource: the table's tokens increase globally, so a hold on a
/// directory and a later hold on an image inside it are ordered too.
#[derive(Clone, Debug)]
pub struct FencedStore<K, V> {
    slots: FxHashMap<K, Slot<V>>,
}

impl<K, V> Default for FencedStore<K, V> {
    fn default() -> Self {
        FencedStore {
            slots: FxHashMap::default(),
        }
    }
}

impl<K: Eq + Hash, V> FencedStore<K, V> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the value of `key` if `token` is not stale for it; returns the previous value.
    pub fn write(&mut self, key: K, token: u64, value: V) -> Result<Option<V>, StaleToken> {
        self.write_slot(key, token)
            .map(|slot| slot.value.replace(value))
    }

    /// Deletes the value of `key` if `token` is not stale for it; the fence stays, so later
    /// writes still need a token at least this new. Returns the deleted value.
    pub fn delete(&mut self, key: K, token: u64) -> Result<Option<V>, StaleToken> {
        self.write_slot(key, token).map(|slot| slot.value.take())
    }

    /// The value of `key` and the token of the grant that last wrote or deleted it.
    pub fn get<Q>(&self, key: &Q) -> Option<(&V, u64)>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let slot = self.slots.get(key)?;
        let value = slot.value.as_ref()?;
        slot.fence.highest().map(|token| (value, token))
    }

    /// The fence of `key`: the highest token it has accepted.
    pub fn fence<Q>(&self, key: &Q) -> Fence
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.slots.get(key).map(|s| s.fence).unwrap_or_default()
    }

    /// Number of resources that currently have a value.
    pub fn len(&self) -> usize {
        self.slots.values().filter(|s| s.value.is_some()).count()
    }

    /// Whether no resource has a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write_slot(&mut self, key: K, token: u64) -> Result<&mut Slot<V>, StaleToken> {
        let slot = self.slots.entry(key).or_insert(Slot {
            value: None,
            fence: Fence::new(),
        });
        slot.fence.accept(token)?;
        Ok(slot)
    }
}

/// A [`FencedStore`] shared between threads: cloning shares the same store, and every call
/// is one critical section of the facade mutex, so the check and the write are atomic.
///
/// ```
/// use lockstudio::fence::SharedFencedStore;
///
/// let store = SharedFencedStore::new();
/// let other = store.clone();
/// std::thread::spawn(move || other.write("img", 4, 40).unwrap()).join().unwrap();
/// assert!(store.write("img", 2, 20).is_err());
/// assert_eq!(store.get("img"), Some((40, 4)));
/// ```
pub struct SharedFencedStore<K, V> {
    inner: Arc<Mutex<FencedStore<K, V>>>,
}

impl<K, V> Clone for SharedFencedStore<K, V> {
    fn clone(&self) -> Self {
        SharedFencedStore {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> Default for SharedFencedStore<K, V> {
    fn default() -> Self {
        SharedFencedStore {
            inner: Arc::new(Mutex::new(FencedStore::default())),
        }
    }
}

impl<K, V> fmt::Debug for SharedFencedStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFencedStore").finish_non_exhaustive()
    }
}

impl<K: Eq + Hash, V> SharedFencedStore<K, V> {
    /// An empty shared store.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`FencedStore::write`] as one critical section.
    pub fn write(&self, key: K, token: u64, value: V) -> Result<Option<V>, StaleToken> {
        self.inner.lock().write(key, token, value)
    }

    /// [`FencedStore::delete`] as one critical section.
    pub fn delete(&self, key: K, token: u64) -> Result<Option<V>, StaleToken> {
        self.inner.lock().delete(key, token)
    }

    /// A copy of the value of `key` and the token that last wrote it.
    pub fn get<Q>(&self, key: &Q) -> Option<(V, u64)>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone,
    {
        self.inner
            .lock()
            .get(key)
            .map(|(value, token)| (value.clone(), token))
    }

    /// The fence of `key`.
    pub fn fence<Q>(&self, key: &Q) -> Fence
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.inner.lock().fence(key)
    }

    /// Runs `f` on the store inside one critical section (for multi-key checks).
    pub fn with<T>(&self, f: impl FnOnce(&mut FencedStore<K, V>) -> T) -> T {
        f(&mut self.inner.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_keeps_the_fence() {
        let mut store = FencedStore::new();
        store.write("a", 4, 1).unwrap();
        assert_eq!(store.delete("a", 6), Ok(Some(1)));
        assert_eq!(store.get("a"), None);
        assert!(store.is_empty());
        assert_eq!(
            store.write("a", 5, 2),
            Err(StaleToken {
                presented: 5,
                highest: 6
            })
        );
        assert_eq!(store.fence("a").highest(), Some(6));
    }

    #[test]
    fn refusal_changes_nothing() {
        let mut store = FencedStore::new();
        store.write("a", 7, 1).unwrap();
        assert!(store.write("a", 3, 2).is_err());
        assert!(store.delete("a", 3).is_err());
        assert_eq!(store.get("a"), Some((&1, 7)));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn fences_are_per_resource() {
        let mut store = FencedStore::new();
        store.write("a", 9, 1).unwrap();
        store.write("b", 2, 1).unwrap();
        assert_eq!(store.fence("b").highest(), Some(2));
        assert_eq!(Fence::new().check(0), Ok(()));
    }
}
