//! [`DashTable`]: the same reservations as [`super::FlatTable`] in a sharded `DashMap`, the
//! usual next step when one mutex becomes the bottleneck.

use super::{add_reader, add_writer, remove_one, Count, Emptied, Refused};
use dashmap::DashMap;
use rustc_hash::FxBuildHasher;

/// Reader/writer reservations by opaque key in a sharded concurrent map.
#[derive(Debug)]
pub struct DashTable {
    map: DashMap<String, Count, FxBuildHasher>,
    emptied: Emptied,
}

impl DashTable {
    /// An empty table with the given policy for freed keys.
    pub fn new(emptied: Emptied) -> Self {
        DashTable {
            map: DashMap::with_hasher(FxBuildHasher),
            emptied,
        }
    }

    /// Takes a read (`write == false`) or the write on `key`, or refuses.
    pub fn try_lock(&self, key: &str, write: bool) -> Result<(), Refused> {
        // get_mut by &str first so a warm key costs no allocation.
        let granted = match self.map.get_mut(key) {
            Some(mut count) if write => add_writer(&mut count),
            Some(mut count) => add_reader(&mut count),
            None => {
                let mut granted = true;
                self.map
                    .entry(key.to_owned())
                    .and_modify(|count| {
                        granted = if write {
                            add_writer(count)
                        } else {
                            add_reader(count)
                        }
                    })
                    .or_insert(if write { super::WRITER } else { 1 });
                granted
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
        let released = match self.map.get_mut(key) {
            None => return false,
            Some(mut count) => remove_one(&mut count),
        };
        match released {
            None => false,
            Some(free) => {
                if free && self.emptied == Emptied::Remove {
                    // Another thread may have re-taken the key since; only drop a free entry.
                    self.map.remove_if(key, |_, count| *count == 0);
                }
                true
            }
        }
    }

    /// Number of entries, free ones included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_share_and_writers_exclude() {
        let t = DashTable::new(Emptied::Remove);
        assert_eq!(t.try_lock("/a", false), Ok(()));
        assert_eq!(t.try_lock("/a", true), Err(Refused));
        assert!(t.unlock("/a"));
        assert_eq!(t.try_lock("/a", true), Ok(()));
        assert_eq!(t.try_lock("/a", false), Err(Refused));
        assert!(t.unlock("/a"));
        assert!(t.is_empty());
    }

    #[test]
    fn keep_policy_leaves_free_entries() {
        let t = DashTable::new(Emptied::Keep);
        assert_eq!(t.try_lock("/k", true), Ok(()));
        assert!(t.unlock("/k"));
        assert!(!t.unlock("/k"));
        assert_eq!(t.len(), 1);
        assert_eq!(t.try_lock("/k", false), Ok(()));
    }

    #[test]
    fn concurrent_writers_never_share_a_key() {
        let t = DashTable::new(Emptied::Remove);
        let granted = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        if t.try_lock("/hot", true).is_ok() {
                            let inside = granted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            assert_eq!(inside, 0, "two writers inside at once");
                            granted.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                            assert!(t.unlock("/hot"));
                        }
                    }
                });
            }
        });
        assert!(t.is_empty());
    }
}
