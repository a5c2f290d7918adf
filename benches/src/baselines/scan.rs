//! [`ScanTable`]: hierarchical locks found by scanning every hold, as Partyline does.
//!
//! Partyline keeps the held locks in a list and, for each request, walks the whole list
//! testing "same path, ancestor or descendant" by segment prefix. The decisions are the same
//! as lockstudio's (one rule: `Level::blocked_by_hold` on overlapping paths, owners never
//! block themselves); only the cost differs: O(holds) per request instead of O(depth).

use lockstudio::{Level, LockPath, Owner};

/// One (owner, path, level) with its re-entrance count.
#[derive(Clone, Debug)]
struct Held {
    owner: Owner,
    path: LockPath,
    level: Level,
    count: u32,
}

/// Why a scan-table call did nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScanRefused {
    /// Another owner holds an overlapping path at a conflicting level.
    #[error("blocked by {0}")]
    Blocked(Owner),
    /// Release of something the owner does not hold.
    #[error("not held")]
    NotHeld,
}

/// The naive hierarchical table: a `Vec` of holds, scanned on every call.
#[derive(Clone, Debug, Default)]
pub struct ScanTable {
    held: Vec<Held>,
}

impl ScanTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `level` on `path` for `owner` if no other owner's overlapping hold conflicts.
    pub fn try_lock(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
    ) -> Result<(), ScanRefused> {
        let mut own = None;
        for (i, h) in self.held.iter().enumerate() {
            if h.owner == owner {
                if h.level == level && h.path == *path {
                    own = Some(i);
                }
            } else if level.blocked_by_hold(h.level) && h.path.overlaps(path) {
                return Err(ScanRefused::Blocked(h.owner));
            }
        }
        match own.and_then(|i| self.held.get_mut(i)) {
            Some(h) => h.count += 1,
            None => self.hold_unchecked(owner, path.clone(), level),
        }
        Ok(())
    }

    /// Adds a hold without checking conflicts or re-entrance: for building large fixtures,
    /// which through [`ScanTable::try_lock`] would cost O(n²).
    pub fn hold_unchecked(&mut self, owner: Owner, path: LockPath, level: Level) {
        self.held.push(Held {
            owner,
            path,
            level,
            count: 1,
        });
    }

    /// Releases one acquisition at `level` (or at the strongest level held on `path`);
    /// returns the level released and the owner's strongest level left on `path`.
    pub fn release(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Option<Level>,
    ) -> Result<(Level, Option<Level>), ScanRefused> {
        let mut target: Option<(usize, Level)> = None;
        for (i, h) in self.held.iter().enumerate() {
            let wanted = level.is_none_or(|l| l == h.level);
            if h.owner == owner
                && wanted
                && h.path == *path
                && target.is_none_or(|(_, l)| h.level > l)
            {
                target = Some((i, h.level));
            }
        }
        let (i, released) = target.ok_or(ScanRefused::NotHeld)?;
        let emptied = match self.held.get_mut(i) {
            Some(h) => {
                h.count -= 1;
                h.count == 0
            }
            None => return Err(ScanRefused::NotHeld),
        };
        if emptied {
            self.held.swap_remove(i);
        }
        Ok((released, self.level_of(owner, path)))
    }

    /// The strongest level `owner` holds on exactly `path`.
    pub fn level_of(&self, owner: Owner, path: &LockPath) -> Option<Level> {
        self.held
            .iter()
            .filter(|h| h.owner == owner && h.path == *path)
            .map(|h| h.level)
            .max()
    }

    /// Every hold as `(path, owner, [read, write, delete] counts)`, sorted by path then owner,
    /// the shape `LockModel::holds` reports, for comparing the two tables.
    pub fn holds(&self) -> Vec<(LockPath, Owner, [u32; 3])> {
        let mut out: Vec<(LockPath, Owner, [u32; 3])> = Vec::new();
        for h in &self.held {
            match out
                .iter_mut()
                .find(|(p, o, _)| *o == h.owner && p == &h.path)
            {
                Some((_, _, counts)) => counts[h.level.index()] += h.count,
                None => {
                    let mut counts = [0; 3];
                    counts[h.level.index()] = h.count;
                    out.push((h.path.clone(), h.owner, counts));
                }
            }
        }
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    }

    /// Number of (owner, path, level) entries.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests;
