//! [`FlatTable`]: `Mutex<FxHashMap<String, count>>`, the lock table most services start with.

use super::{add_reader, add_writer, remove_one, Count};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

/// What to do with a key whose last hold is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emptied {
    /// Keep the entry at zero: the next lock of that key does not allocate (warm).
    Keep,
    /// Remove the entry: memory stays bounded, every first lock allocates the key (cold).
    Remove,
}

/// A try-lock was refused because another hold is in the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refused: the key is held")]
pub struct Refused;

/// Reader/writer reservations by key in one mutex-guarded hash map. Keys are opaque strings:
/// no hierarchy, so `/a` and `/a/b` never interact.
#[derive(Debug)]
pub struct FlatTable {
    map: Mutex<FxHashMap<String, Count>>,
    emptied: Emptied,
}

impl FlatTable {
    /// An empty table with the given policy for freed keys.
    pub fn new(emptied: Emptied) -> Self {
        FlatTable {
            map: Mutex::new(FxHashMap::default()),
            emptied,
        }
    }

    /// Takes a read (`write == false`) or the write on `key`, or refuses.
    pub fn try_lock(&self, key: &str, write: bool) -> Result<(), Refused> {
        let mut map = self.map.lock();
        // Look up by &str first so a warm key costs no allocation.
        let granted = match map.get_mut(key) {
            Some(count) if write => add_writer(count),
            Some(count) => add_reader(count),
            None => {
                let first = if write { super::WRITER } else { 1 };
                map.insert(key.to_owned(), first);
                true
            }
        };
        if granted {
            Ok(())
        } else {
            Err(Refused)
        }
    }

    /// Gives back one hold on `key`; returns whether there was one.
    pub fn unlock(&self, key: &str) -> bool {
        let mut map = self.map.lock();
        let Some(count) = map.get_mut(key) else {
            return false;
        };
        match remove_one(count) {
            None => false,
            Some(free) => {
                if free && self.emptied == Emptied::Remove {
                    map.remove(key);
                }
                true
            }
        }
    }

    /// Number of entries, free ones included.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.map.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_share_and_writers_exclude() {
        let t = FlatTable::new(Emptied::Remove);
        assert_eq!(t.try_lock("/a", false), Ok(()));
        assert_eq!(t.try_lock("/a", false), Ok(()));
        assert_eq!(t.try_lock("/a", true), Err(Refused));
        assert!(t.unlock("/a"));
        assert!(t.unlock("/a"));
        assert_eq!(t.try_lock("/a", true), Ok(()));
        assert_eq!(t.try_lock("/a", false), Err(Refused));
        // Flat keys: no hierarchy.
        assert_eq!(t.try_lock("/a/b", true), Ok(()));
    }

    #[test]
    fn emptied_policy_keeps_or_removes_entries() {
        let warm = FlatTable::new(Emptied::Keep);
        let cold = FlatTable::new(Emptied::Remove);
        for t in [&warm, &cold] {
            assert_eq!(t.try_lock("/k", true), Ok(()));
            assert!(t.unlock("/k"));
            assert!(!t.unlock("/k"), "a free key has nothing to release");
        }
        assert_eq!(warm.len(), 1);
        assert!(cold.is_empty());
    }
}
