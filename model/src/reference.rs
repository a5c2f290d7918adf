//! The reference model: `specs/locking.md` and `specs/leases.md` written as slow, obvious
//! code. Every check scans every hold and every waiter; nothing is cached. Tests, the
//! scenario runner and the simulator compare [`LockTable`](crate::LockTable) against it.
//!
//! It contains no planted bugs and no optimisations; if it and the table disagree, the
//! table is presumed wrong.

use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::table::{
    check_duration, Decision, Effect, Grant, HolderInfo, LockModel, QueuedInfo, Released,
    RequestOptions, Ticket, EXPIRED_MEMORY,
};
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

#[derive(Clone, Debug)]
struct Hold {
    counts: [u32; 3],
    first_fence: u64,
    fence: u64,
    lease: Option<Time>,
}

impl Hold {
    fn level(&self) -> Option<Level> {
        Level::ALL
            .into_iter()
            .rev()
            .find(|l| self.counts[l.index()] > 0)
    }
}

#[derive(Clone, Debug)]
struct Waiter {
    owner: Owner,
    path: LockPath,
    level: Level,
    ttl: Option<Duration>,
    since: Time,
    deadline: Option<Time>,
}

/// The slow reference implementation of [`LockModel`].
#[derive(Clone, Debug)]
pub struct ReferenceTable {
    holds: BTreeMap<(LockPath, Owner), Hold>,
    waiters: BTreeMap<u64, Waiter>,
    expired: BTreeMap<(Owner, LockPath), u64>,
    expired_order: VecDeque<(Owner, LockPath)>,
    next_fence: u64,
    next_ticket: u64,
    effects: Vec<Effect>,
}

impl Default for ReferenceTable {
    fn default() -> Self {
        ReferenceTable {
            holds: BTreeMap::new(),
            waiters: BTreeMap::new(),
            expired: BTreeMap::new(),
            expired_order: VecDeque::new(),
            next_fence: 1,
            next_ticket: 1,
            effects: Vec::new(),
        }
    }
}

impl ReferenceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a request (or the queued request `before`, with `u64::MAX` for a new one) of
    /// `owner` for `level` on `path` may be granted now:
    /// 1. no other owner holds an overlapping path at a level that blocks it, and
    /// 2. the owner already holds exactly `path`, or no earlier queued request of another
    ///    owner on an overlapping path is one it must queue behind.
    pub fn grantable(&self, owner: Owner, path: &LockPath, level: Level, before: u64) -> bool {
        let blocked_by_hold = self.holds.iter().any(|((p, o), h)| {
            *o != owner && p.overlaps(path) && h.level().is_some_and(|l| level.blocked_by_hold(l))
        });
        if blocked_by_hold {
            return false;
        }
        self.holds.contains_key(&(path.clone(), owner))
            || !self.waiters.range(..before).any(|(_, w)| {
                w.owner != owner && w.path.overlaps(path) && level.queues_behind(w.level)
            })
    }

    /// Who keeps such a request waiting, sorted and distinct.
    pub fn blockers(&self, owner: Owner, path: &LockPath, level: Level, before: u64) -> Vec<Owner> {
        let mut out = BTreeSet::new();
        for ((p, o), h) in &self.holds {
            if *o != owner
                && p.overlaps(path)
                && h.level().is_some_and(|l| level.blocked_by_hold(l))
            {
                out.insert(*o);
            }
        }
        if !self.holds.contains_key(&(path.clone(), owner)) {
            for w in self.waiters.range(..before).map(|(_, w)| w) {
                if w.owner != owner && w.path.overlaps(path) && level.queues_behind(w.level) {
                    out.insert(w.owner);
                }
            }
        }
        out.into_iter().collect()
    }

    /// Whether waiting for `blockers` would let `requester` reach itself in the wait-for
    /// graph (each queued request waits for its blockers).
    fn closes_cycle(&self, requester: Owner, blockers: &[Owner]) -> Option<Vec<Owner>> {
        let mut came_from: BTreeMap<Owner, Owner> = BTreeMap::new();
        let mut frontier: VecDeque<Owner> = VecDeque::new();
        for &b in blockers {
            came_from.insert(b, requester);
            frontier.push_back(b);
        }
        while let Some(x) = frontier.pop_front() {
            for (&t, w) in self.waiters.iter().filter(|(_, w)| w.owner == x) {
                for y in self.blockers(x, &w.path, w.level, t) {
                    if y == requester {
                        let mut cycle = vec![x];
                        while let Some(&p) = came_from.get(cycle.last().unwrap_or(&requester)) {
                            if p == requester {
                                break;
                            }
                            cycle.push(p);
                        }
                        cycle.push(requester);
                        cycle.reverse();
                        return Some(cycle);
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = came_from.entry(y) {
                        e.insert(x);
                        frontier.push_back(y);
                    }
                }
            }
        }
        None
    }

    fn begin(&mut self, now: Time) {
        self.effects.clear();
        while let Some((at, is_timeout, id)) = self.earliest_deadline() {
            if at > now {
                break;
            }
            if is_timeout {
                self.time_out(id, now);
            } else {
                self.expire(id, now);
            }
        }
    }

    /// The earliest `(time, is_timeout, id)`; expiries sort before timeouts at one instant.
    fn earliest_deadline(&self) -> Option<(Time, bool, u64)> {
        let expiries = self
            .holds
            .values()
            .filter_map(|h| Some((h.lease?, false, h.first_fence)));
        let timeouts = self
            .waiters
            .iter()
            .filter_map(|(&t, w)| Some((w.deadline?, true, t)));
        expiries.chain(timeouts).min()
    }

    fn expire(&mut self, lease: u64, now: Time) {
        let Some(key) = self
            .holds
            .iter()
            .find(|(_, h)| h.first_fence == lease)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        let Some(hold) = self.holds.remove(&key) else {
            return;
        };
        let (path, owner) = key;
        if self
            .expired
            .insert((owner, path.clone()), hold.fence)
            .is_none()
        {
            self.expired_order.push_back((owner, path.clone()));
        }
        while self.expired_order.len() > EXPIRED_MEMORY {
            if let Some(old) = self.expired_order.pop_front() {
                self.expired.remove(&old);
            }
        }
        self.effects.push(Effect::Expired {
            owner,
            path,
            fence: hold.fence,
        });
        self.settle(now);
    }

    fn time_out(&mut self, ticket: u64, now: Time) {
        let Some(w) = self.waiters.get(&ticket).cloned() else {
            return;
        };
        let blockers = self.blockers(w.owner, &w.path, w.level, ticket);
        self.waiters.remove(&ticket);
        self.effects.push(Effect::TimedOut {
            ticket: Ticket(ticket),
            owner: w.owner,
            waited: now.saturating_since(w.since),
            blockers,
        });
        self.settle(now);
    }

    /// Grants the oldest grantable queued request, again and again, until none is.
    fn settle(&mut self, now: Time) {
        loop {
            let next = self
                .waiters
                .iter()
                .find(|(&t, w)| self.grantable(w.owner, &w.path, w.level, t))
                .map(|(&t, w)| (t, w.clone()));
            let Some((t, w)) = next else { return };
            self.waiters.remove(&t);
            let grant = self.grant(w.owner, &w.path, w.level, w.ttl, now);
            self.effects.push(Effect::Granted {
                ticket: Ticket(t),
                owner: w.owner,
                level: w.level,
                grant,
            });
        }
    }

    fn grant(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        ttl: Option<Duration>,
        now: Time,
    ) -> Grant {
        let fence = self.next_fence;
        self.next_fence += 1;
        let hold = self.holds.entry((path.clone(), owner)).or_insert(Hold {
            counts: [0; 3],
            first_fence: fence,
            fence,
            lease: None,
        });
        hold.counts[level.index()] = hold.counts[level.index()].saturating_add(1);
        hold.fence = fence;
        if let Some(ttl) = ttl {
            hold.lease = Some(now.saturating_add(ttl));
        }
        Grant {
            fence,
            expires: hold.lease,
        }
    }

    fn missing(&mut self, owner: Owner, path: &LockPath, level: Option<Level>) -> LockError {
        let key = (owner, path.clone());
        if self.expired.remove(&key).is_some() {
            self.expired_order.retain(|k| k != &key);
            return LockError::LeaseExpired {
                owner,
                path: path.clone(),
            };
        }
        LockError::NotHeld {
            owner,
            path: path.clone(),
            level,
        }
    }

    fn decide(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        opts: RequestOptions,
        now: Time,
        may_queue: bool,
    ) -> Result<Decision, LockError> {
        if let Some(t) = opts.timeout {
            check_duration(t)?;
        }
        if let Some(t) = opts.ttl {
            check_duration(t)?;
        }
        if self.grantable(owner, path, level, u64::MAX) {
            let grant = self.grant(owner, path, level, opts.ttl, now);
            self.settle(now);
            return Ok(Decision::Granted(grant));
        }
        let blockers = self.blockers(owner, path, level, u64::MAX);
        if !may_queue {
            return Err(LockError::WouldBlock { blockers });
        }
        if let Some(cycle) = self.closes_cycle(owner, &blockers) {
            return Err(LockError::Deadlock { cycle });
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let deadline = opts.timeout.map(|d| now.saturating_add(d));
        let waiter = Waiter {
            owner,
            path: path.clone(),
            level,
            ttl: opts.ttl,
            since: now,
            deadline,
        };
        self.waiters.insert(ticket, waiter);
        Ok(Decision::Queued(Ticket(ticket)))
    }

    fn info(ticket: u64, w: &Waiter) -> QueuedInfo {
        QueuedInfo {
            ticket: Ticket(ticket),
            owner: w.owner,
            path: w.path.clone(),
            level: w.level,
            since: w.since,
            deadline: w.deadline,
        }
    }
}

impl LockModel for ReferenceTable {
    fn request(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        opts: RequestOptions,
        now: Time,
    ) -> Result<Decision, LockError> {
        self.begin(now);
        self.decide(owner, path, level, opts, now, true)
    }

    fn try_request(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Level,
        ttl: Option<Duration>,
        now: Time,
    ) -> Result<Grant, LockError> {
        self.begin(now);
        match self.decide(
            owner,
            path,
            level,
            RequestOptions { timeout: None, ttl },
            now,
            false,
        )? {
            Decision::Granted(g) => Ok(g),
            Decision::Queued(_) => Err(LockError::WouldBlock {
                blockers: Vec::new(),
            }),
        }
    }

    fn release(
        &mut self,
        owner: Owner,
        path: &LockPath,
        level: Option<Level>,
        now: Time,
    ) -> Result<Released, LockError> {
        self.begin(now);
        let key = (path.clone(), owner);
        let Some(hold) = self.holds.get_mut(&key) else {
            return Err(self.missing(owner, path, level));
        };
        let Some(l) = level.or(hold.level()) else {
            return Err(self.missing(owner, path, level));
        };
        if hold.counts[l.index()] == 0 {
            return Err(LockError::NotHeld {
                owner,
                path: path.clone(),
                level: Some(l),
            });
        }
        hold.counts[l.index()] -= 1;
        let remaining = hold.level();
        if remaining.is_none() {
            self.holds.remove(&key);
        }
        self.settle(now);
        Ok(Released {
            level: l,
            remaining,
        })
    }

    fn cancel(&mut self, ticket: Ticket, now: Time) -> Result<(), LockError> {
        self.begin(now);
        self.waiters
            .remove(&ticket.0)
            .ok_or(LockError::UnknownTicket(ticket.0))?;
        self.settle(now);
        Ok(())
    }

    fn renew(
        &mut self,
        owner: Owner,
        path: &LockPath,
        ttl: Duration,
        now: Time,
    ) -> Result<Time, LockError> {
        self.begin(now);
        check_duration(ttl)?;
        match self.holds.get_mut(&(path.clone(), owner)) {
            Some(hold) => {
                let expires = now.saturating_add(ttl);
                hold.lease = Some(expires);
                Ok(expires)
            }
            None => Err(self.missing(owner, path, None)),
        }
    }

    fn advance(&mut self, now: Time) {
        self.begin(now);
    }

    fn next_deadline(&self) -> Option<Time> {
        self.earliest_deadline().map(|d| d.0)
    }

    fn effects(&self) -> &[Effect] {
        &self.effects
    }

    fn holders(&self, path: &LockPath) -> Vec<HolderInfo> {
        self.holds()
            .into_iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h)
            .collect()
    }

    fn queue(&self, path: &LockPath) -> Vec<QueuedInfo> {
        self.queued()
            .into_iter()
            .filter(|q| &q.path == path)
            .collect()
    }

    fn queued(&self) -> Vec<QueuedInfo> {
        self.waiters
            .iter()
            .map(|(&t, w)| Self::info(t, w))
            .collect()
    }

    fn holds(&self) -> Vec<(LockPath, HolderInfo)> {
        self.holds
            .iter()
            .filter_map(|((p, o), h)| {
                let info = HolderInfo {
                    owner: *o,
                    level: h.level()?,
                    counts: h.counts,
                    fence: h.fence,
                    expires: h.lease,
                };
                Some((p.clone(), info))
            })
            .collect()
    }

    fn check_fence(&self, owner: Owner, path: &LockPath, token: u64) -> Result<(), LockError> {
        let hold = self.holds.get(&(path.clone(), owner));
        if hold.is_some_and(|h| (h.first_fence..=h.fence).contains(&token)) {
            return Ok(());
        }
        match self.expired.get(&(owner, path.clone())) {
            Some(&fence) if token <= fence => Err(LockError::LeaseExpired {
                owner,
                path: path.clone(),
            }),
            _ => Err(LockError::StaleFence {
                owner,
                path: path.clone(),
                token,
            }),
        }
    }
}
