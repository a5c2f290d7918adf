//! The checkers' own model of every lock table, rebuilt from the records alone: who holds
//! what and who waits for what. It trusts nothing the tables say about themselves beyond the
//! records, so a table that loses a hold or grants past a conflict is caught by comparing the
//! two.

use super::history::{PathId, PathTable, Record, Tier};
use crate::engine::Nanos;
use lockstudio::{Level, Owner};
use std::collections::BTreeMap;

/// One owner's hold on one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    /// Whose.
    pub owner: Owner,
    /// Acquisitions per level (`[read, write, delete]`).
    pub counts: [u32; 3],
    /// Every token granted to this hold while it lived.
    pub fences: Vec<u64>,
}

impl Hold {
    /// The strongest level held, if any acquisition is left.
    pub fn level(&self) -> Option<Level> {
        Level::ALL
            .into_iter()
            .rev()
            .find(|l| self.counts[l.index()] > 0)
    }
}

/// One queued request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its ticket.
    pub ticket: u64,
    /// Who waits.
    pub owner: Owner,
    /// For what.
    pub path: PathId,
    /// At which level.
    pub level: Level,
    /// Since when.
    pub since: Nanos,
}

/// Holds and queues of every table, by (tier, path), with "something below" indexes so an
/// overlap query visits only the path, its ancestors and the descendants that matter.
#[derive(Debug, Default)]
pub struct LockState {
    holds: BTreeMap<(Tier, PathId), Vec<Hold>>,
    held_below: BTreeMap<(Tier, PathId), BTreeMap<PathId, u32>>,
    pending: BTreeMap<(Tier, u64), Pending>,
    pending_at: BTreeMap<(Tier, PathId), Vec<u64>>,
    pending_below: BTreeMap<(Tier, PathId), BTreeMap<PathId, u32>>,
}

fn bump(
    index: &mut BTreeMap<(Tier, PathId), BTreeMap<PathId, u32>>,
    paths: &PathTable,
    tier: Tier,
    path: PathId,
    up: bool,
) {
    for a in paths.self_and_ancestors(path).skip(1) {
        let below = index.entry((tier, a)).or_default();
        let n = below.entry(path).or_default();
        if up {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 {
                below.remove(&path);
            }
        }
        if below.is_empty() {
            index.remove(&(tier, a));
        }
    }
}

impl LockState {
    /// Applies one record. Records that make no sense for the model (releasing what is not
    /// held) change nothing here; `hold-accounting` reports them.
    pub fn apply(&mut self, paths: &PathTable, at: Nanos, r: &Record) {
        match *r {
            Record::Queued {
                tier,
                ticket,
                owner,
                path,
                level,
            } => {
                if self.pending.contains_key(&(tier, ticket)) {
                    return;
                }
                self.pending.insert(
                    (tier, ticket),
                    Pending {
                        ticket,
                        owner,
                        path,
                        level,
                        since: at,
                    },
                );
                self.pending_at
                    .entry((tier, path))
                    .or_default()
                    .push(ticket);
                bump(&mut self.pending_below, paths, tier, path, true);
            }
            Record::Granted {
                tier,
                ticket,
                owner,
                path,
                level,
                fence,
            } => {
                if let Some(t) = ticket {
                    self.unqueue(paths, tier, t);
                }
                let list = self.holds.entry((tier, path)).or_default();
                match list.iter_mut().find(|h| h.owner == owner) {
                    Some(h) => {
                        h.counts[level.index()] += 1;
                        h.fences.push(fence);
                    }
                    None => {
                        let mut counts = [0; 3];
                        counts[level.index()] = 1;
                        list.push(Hold {
                            owner,
                            counts,
                            fences: vec![fence],
                        });
                        bump(&mut self.held_below, paths, tier, path, true);
                    }
                }
            }
            Record::TimedOut { tier, ticket } => self.unqueue(paths, tier, ticket),
            Record::Released {
                tier,
                owner,
                path,
                level,
            } => {
                let Some(list) = self.holds.get_mut(&(tier, path)) else {
                    return;
                };
                let Some(i) = list.iter().position(|h| h.owner == owner) else {
                    return;
                };
                let c = &mut list[i].counts[level.index()];
                *c = c.saturating_sub(1);
                if list[i].level().is_none() {
                    self.drop_hold(paths, tier, path, owner);
                }
            }
            Record::Expired {
                tier, owner, path, ..
            } => self.drop_hold(paths, tier, path, owner),
            Record::TierReset { tier } => {
                let held: Vec<(PathId, Owner)> = self
                    .holds
                    .range((tier, PathId(0))..=(tier, PathId(u32::MAX)))
                    .flat_map(|(&(_, p), list)| list.iter().map(move |h| (p, h.owner)))
                    .collect();
                for (p, o) in held {
                    self.drop_hold(paths, tier, p, o);
                }
                let queued: Vec<u64> = self
                    .pending
                    .range((tier, 0)..=(tier, u64::MAX))
                    .map(|(&(_, t), _)| t)
                    .collect();
                for t in queued {
                    self.unqueue(paths, tier, t);
                }
            }
            _ => {}
        }
    }

    fn unqueue(&mut self, paths: &PathTable, tier: Tier, ticket: u64) {
        let Some(p) = self.pending.remove(&(tier, ticket)) else {
            return;
        };
        if let Some(list) = self.pending_at.get_mut(&(tier, p.path)) {
            list.retain(|&t| t != ticket);
            if list.is_empty() {
                self.pending_at.remove(&(tier, p.path));
            }
        }
        bump(&mut self.pending_below, paths, tier, p.path, false);
    }

    fn drop_hold(&mut self, paths: &PathTable, tier: Tier, path: PathId, owner: Owner) {
        let Some(list) = self.holds.get_mut(&(tier, path)) else {
            return;
        };
        let before = list.len();
        list.retain(|h| h.owner != owner);
        if list.len() < before {
            bump(&mut self.held_below, paths, tier, path, false);
        }
        if list.is_empty() {
            self.holds.remove(&(tier, path));
        }
    }

    /// The paths overlapping `path` that have something in `at`/`below`: `path`, its
    /// ancestors, and its descendants, each once.
    fn overlapping<T>(
        paths: &PathTable,
        at: &BTreeMap<(Tier, PathId), T>,
        below: &BTreeMap<(Tier, PathId), BTreeMap<PathId, u32>>,
        tier: Tier,
        path: PathId,
    ) -> Vec<PathId> {
        let mut out: Vec<PathId> = paths
            .self_and_ancestors(path)
            .filter(|p| at.contains_key(&(tier, *p)))
            .collect();
        if let Some(b) = below.get(&(tier, path)) {
            out.extend(b.keys().copied());
        }
        out
    }

    /// The hold of `owner` on exactly `path`.
    pub fn hold(&self, tier: Tier, owner: Owner, path: PathId) -> Option<&Hold> {
        self.holds
            .get(&(tier, path))?
            .iter()
            .find(|h| h.owner == owner)
    }

    /// Holds of other owners on paths overlapping `path` that a request at `level` by `owner`
    /// may not pass: `(path, owner, held level)`.
    pub fn conflicting_holds(
        &self,
        paths: &PathTable,
        tier: Tier,
        path: PathId,
        owner: Owner,
        level: Level,
    ) -> Vec<(PathId, Owner, Level)> {
        let mut out = Vec::new();
        for p in Self::overlapping(paths, &self.holds, &self.held_below, tier, path) {
            for h in self.holds.get(&(tier, p)).into_iter().flatten() {
                if h.owner == owner {
                    continue;
                }
                if let Some(held) = h.level() {
                    if level.blocked_by_hold(held) {
                        out.push((p, h.owner, held));
                    }
                }
            }
        }
        out
    }

    /// Queued requests of other owners on paths overlapping `path` that a request at `level`
    /// by `owner` must wait behind (FIFO per conflict), older than `before` (all, if `None`).
    pub fn earlier_conflicting_pending(
        &self,
        paths: &PathTable,
        tier: Tier,
        path: PathId,
        owner: Owner,
        level: Level,
        before: Option<u64>,
    ) -> Vec<&Pending> {
        let mut out = Vec::new();
        for p in Self::overlapping(paths, &self.pending_at, &self.pending_below, tier, path) {
            for t in self.pending_at.get(&(tier, p)).into_iter().flatten() {
                let Some(q) = self.pending.get(&(tier, *t)) else {
                    continue;
                };
                if q.owner != owner
                    && before.is_none_or(|b| q.ticket < b)
                    && level.queues_behind(q.level)
                {
                    out.push(q);
                }
            }
        }
        out
    }

    /// Whether a queued request has somebody to wait for: a conflicting hold, or (unless its
    /// owner already holds exactly that path) an older conflicting queued request.
    pub fn is_blocked(&self, paths: &PathTable, tier: Tier, q: &Pending) -> bool {
        !self
            .conflicting_holds(paths, tier, q.path, q.owner, q.level)
            .is_empty()
            || (self.hold(tier, q.owner, q.path).is_none()
                && !self
                    .earlier_conflicting_pending(
                        paths,
                        tier,
                        q.path,
                        q.owner,
                        q.level,
                        Some(q.ticket),
                    )
                    .is_empty())
    }

    /// The queued requests of `tier` on paths overlapping `path`.
    pub fn pending_overlapping(
        &self,
        paths: &PathTable,
        tier: Tier,
        path: PathId,
    ) -> Vec<&Pending> {
        Self::overlapping(paths, &self.pending_at, &self.pending_below, tier, path)
            .into_iter()
            .flat_map(|p| self.pending_at.get(&(tier, p)).into_iter().flatten())
            .filter_map(|t| self.pending.get(&(tier, *t)))
            .collect()
    }

    /// A queued request by ticket.
    pub fn pending(&self, tier: Tier, ticket: u64) -> Option<&Pending> {
        self.pending.get(&(tier, ticket))
    }

    /// Every hold of `tier`: `(path, hold)`, by path then age.
    pub fn holds_in(&self, tier: Tier) -> impl Iterator<Item = (PathId, &Hold)> {
        self.holds
            .range((tier, PathId(0))..=(tier, PathId(u32::MAX)))
            .flat_map(|(&(_, p), list)| list.iter().map(move |h| (p, h)))
    }

    /// Every queued request of `tier`, oldest first.
    pub fn pending_in(&self, tier: Tier) -> impl Iterator<Item = &Pending> {
        self.pending
            .range((tier, 0)..=(tier, u64::MAX))
            .map(|(_, q)| q)
    }

    /// Every queued request of every tier.
    pub fn all_pending(&self) -> impl Iterator<Item = (Tier, &Pending)> {
        self.pending.iter().map(|(&(tier, _), q)| (tier, q))
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::{Resource, SERVER};
    use super::*;

    #[test]
    fn overlap_queries_see_ancestors_and_descendants() {
        let mut paths = PathTable::default();
        let s = paths.intern(Resource::Session(1));
        let img = paths.intern(Resource::Image(1, 5));
        let other = paths.intern(Resource::Image(2, 5));
        let mut st = LockState::default();
        let (a, b) = (Owner::new(1), Owner::new(2));
        st.apply(
            &paths,
            0,
            &Record::Granted {
                tier: SERVER,
                ticket: None,
                owner: a,
                path: img,
                level: Level::Read,
                fence: 1,
            },
        );
        assert_eq!(
            st.conflicting_holds(&paths, SERVER, s, b, Level::Write)
                .len(),
            1,
            "a hold below blocks a directory write"
        );
        assert!(
            st.conflicting_holds(&paths, SERVER, s, b, Level::Read)
                .is_empty(),
            "read passes read"
        );
        assert!(
            st.conflicting_holds(&paths, SERVER, other, b, Level::Delete)
                .is_empty(),
            "other session"
        );
        assert!(
            st.conflicting_holds(&paths, SERVER, s, a, Level::Delete)
                .is_empty(),
            "never blocked by itself"
        );
        st.apply(
            &paths,
            1,
            &Record::Released {
                tier: SERVER,
                owner: a,
                path: img,
                level: Level::Read,
            },
        );
        assert!(st
            .conflicting_holds(&paths, SERVER, s, b, Level::Write)
            .is_empty());
        assert!(st.holds_in(SERVER).next().is_none());
    }

    #[test]
    fn a_queued_request_is_blocked_by_an_older_one() {
        let mut paths = PathTable::default();
        let s = paths.intern(Resource::Session(1));
        let img = paths.intern(Resource::Image(1, 5));
        let mut st = LockState::default();
        let (a, b) = (Owner::new(1), Owner::new(2));
        st.apply(
            &paths,
            0,
            &Record::Queued {
                tier: SERVER,
                ticket: 1,
                owner: a,
                path: s,
                level: Level::Write,
            },
        );
        st.apply(
            &paths,
            0,
            &Record::Queued {
                tier: SERVER,
                ticket: 2,
                owner: b,
                path: img,
                level: Level::Read,
            },
        );
        let q2 = st.pending(SERVER, 2).cloned().unwrap();
        let q1 = st.pending(SERVER, 1).cloned().unwrap();
        assert!(
            st.is_blocked(&paths, SERVER, &q2),
            "the reader waits behind the older writer"
        );
        assert!(
            !st.is_blocked(&paths, SERVER, &q1),
            "nothing blocks the writer"
        );
        assert_eq!(st.pending_overlapping(&paths, SERVER, s).len(), 2);
        st.apply(&paths, 1, &Record::TierReset { tier: SERVER });
        assert!(st.all_pending().next().is_none());
    }
}
