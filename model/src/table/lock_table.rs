//! [`LockTable`]: the fast implementation of [`LockModel`].

use super::deadlines::{Deadline, Deadlines};
use super::model::LockModel;
use super::tree::{Hold, NodeId, Tally, Tree};
use super::types::{
    check_duration, Decision, Effect, Grant, HolderInfo, QueuedInfo, Released, RequestOptions,
    TableCounts, Ticket,
};
use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::planted::{active, Bug};
use crate::time::Time;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::time::Duration;

/// How many expired leases are remembered so their owner's later calls get
/// [`LockError::LeaseExpired`] rather than [`LockError::NotHeld`]; the oldest are forgotten.
pub const EXPIRED_MEMORY: usize = 4096;

/// A queued request.
#[derive(Clone, Debug)]
struct Waiter {
    owner: Owner,
    node: NodeId,
    level: Level,
    ttl: Option<Duration>,
    since: Time,
    deadline: Option<Time>,
}

/// The pure hierarchical lock table. See `specs/locking.md` and `specs/leases.md`.
///
/// Costs: a request, release or renew walks the path once (O(depth) hash lookups) with no
/// allocation when the path's nodes exist and nobody waits. Queuing, wake-ups, timeouts and
/// deadlock checks cost O(depth + overlapping waiters and holders), never a scan of the
/// table; deadlines are kept ordered, O(log n) each.
///
/// ```
/// use lockstudio::{Decision, Effect, Level, LockModel, LockPath, LockTable, Owner, RequestOptions, Time};
///
/// let mut table = LockTable::new();
/// let (a, b) = (Owner::new(1), Owner::new(2));
/// let dir = LockPath::parse("/studio/s1").unwrap();
/// let img = LockPath::parse("/studio/s1/img-7.jpg").unwrap();
/// let t0 = Time::ZERO;
///
/// assert!(matches!(table.request(a, &dir, Level::Write, RequestOptions::default(), t0), Ok(Decision::Granted(_))));
/// let Ok(Decision::Queued(ticket)) = table.request(b, &img, Level::Write, RequestOptions::default(), t0) else { panic!() };
/// table.release(a, &dir, None, t0).unwrap();
/// assert!(matches!(table.effects(), [Effect::Granted { ticket: t, .. }] if *t == ticket));
/// ```
#[derive(Debug)]
pub struct LockTable {
    tree: Tree,
    waiters: FxHashMap<u64, Waiter>,
    owner_waits: FxHashMap<Owner, Vec<u64>>,
    deadlines: Deadlines,
    leases: FxHashMap<u64, (NodeId, Owner)>,
    expired: BTreeMap<(Owner, LockPath), u64>,
    expired_order: VecDeque<(Owner, LockPath)>,
    next_fence: u64,
    next_ticket: u64,
    hold_count: usize,
    effects: Vec<Effect>,
    scratch: BinaryHeap<Reverse<u64>>,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable {
            tree: Tree::default(),
            waiters: FxHashMap::default(),
            owner_waits: FxHashMap::default(),
            deadlines: Deadlines::default(),
            leases: FxHashMap::default(),
            expired: BTreeMap::new(),
            expired_order: VecDeque::new(),
            next_fence: 1,
            next_ticket: 1,
            hold_count: 0,
            effects: Vec::new(),
            scratch: BinaryHeap::new(),
        }
    }
}

impl LockTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sizes, for tests and reports.
    pub fn counts(&self) -> TableCounts {
        TableCounts {
            holds: self.hold_count,
            queued: self.waiters.len(),
            leases: self.leases.len(),
        }
    }

    /// Whether nothing is held or queued.
    pub fn is_empty(&self) -> bool {
        self.hold_count == 0 && self.waiters.is_empty()
    }

    /// The queued request behind `ticket`, if it is still queued.
    pub fn waiting(&self, ticket: Ticket) -> Option<QueuedInfo> {
        self.waiters
            .get(&ticket.0)
            .map(|w| self.queued_info(ticket.0, w))
    }

    /// Who `ticket` currently waits for (holders in conflict, and owners of earlier
    /// conflicting queued requests), sorted and distinct.
    pub fn blockers_of(&self, ticket: Ticket) -> Vec<Owner> {
        self.waiters
            .get(&ticket.0)
            .map(|w| self.blockers(w.node, w.owner, w.level, ticket.0))
            .unwrap_or_default()
    }

    // ----- one call = begin (clear effects, process deadlines) + the operation -----

    fn begin(&mut self, now: Time) {
        self.effects.clear();
        self.process_deadlines(now);
    }

    fn process_deadlines(&mut self, now: Time) {
        while let Some((kind, id)) = self.deadlines.pop_due(now) {
            match kind {
                Deadline::Expiry => self.expire(id, now),
                Deadline::Timeout => self.time_out(id, now),
            }
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
        let node = self.tree.ensure(path);
        if self.grantable(node, owner, level, u64::MAX) {
            let grant = self.grant(node, owner, level, opts.ttl, now);
            // Holding the path now lets this owner's own queued requests there bypass the queue.
            if self.tree.own(Tally::Waiting, node, owner).direct != [0; 3] {
                self.wake_from(node, now);
            }
            return Ok(Decision::Granted(grant));
        }
        let blockers = self.blockers(node, owner, level, u64::MAX);
        if !may_queue {
            self.tree.maybe_vacant(node);
            return Err(LockError::WouldBlock { blockers });
        }
        if let Some(cycle) = self.find_cycle(owner, &blockers) {
            self.tree.maybe_vacant(node);
            return Err(LockError::Deadlock { cycle });
        }
        Ok(Decision::Queued(
            self.enqueue(node, owner, level, opts, now),
        ))
    }

    // ----- conflict checks -----

    /// Whether `owner` may take `level` at `node` now. `before` limits the queue check to
    /// earlier tickets (`u64::MAX` for a new request, whose census check is O(depth)).
    fn grantable(&self, node: NodeId, owner: Owner, level: Level, before: u64) -> bool {
        if self.conflicts(Tally::Held, node, owner, level) {
            return false;
        }
        if self.holds_exactly(node, owner)
            || (level == Level::Read && active(Bug::ReaderBargesQueue))
        {
            return true;
        }
        if before == u64::MAX {
            !self.conflicts(Tally::Waiting, node, owner, level)
        } else {
            self.for_each_overlapping_waiter(node, |t, w| {
                !(t < before && w.owner != owner && level.queues_behind(w.level))
            })
        }
    }

    fn holds_exactly(&self, node: NodeId, owner: Owner) -> bool {
        self.tree.node(node).hold(owner).is_some()
    }

    /// Census check: does anything of another owner, counted in `tally`, on `node`, an
    /// ancestor or a descendant, stand in the way of `level`?
    fn conflicts(&self, tally: Tally, node: NodeId, owner: Owner, level: Level) -> bool {
        let held = tally == Tally::Held;
        for (i, id) in self.tree.self_and_ancestors(node).enumerate() {
            if i > 0 && held && active(Bug::SkipAncestorCheck) {
                break;
            }
            let total = self.tree.node(id).census(tally).direct;
            if total == [0; 3] {
                continue;
            }
            let mine = self.tree.own(tally, id, owner).direct;
            let admit_delete = i == 0 && held && active(Bug::DeleteAdmitsReader);
            if stands_in_way(tally, level, total, mine, admit_delete) {
                return true;
            }
        }
        if held && active(Bug::SkipDescendantCheck) {
            return false;
        }
        let total = self.tree.node(node).census(tally).below;
        total != [0; 3]
            && stands_in_way(
                tally,
                level,
                total,
                self.tree.own(tally, node, owner).below,
                false,
            )
    }

    /// Calls `f(ticket, waiter)` for every request queued on `node`, an ancestor or a
    /// descendant, until `f` returns false; returns whether it never did.
    fn for_each_overlapping_waiter(
        &self,
        node: NodeId,
        mut f: impl FnMut(u64, &Waiter) -> bool,
    ) -> bool {
        let mut visit = |id: NodeId| {
            self.tree
                .node(id)
                .queue
                .iter()
                .all(|t| self.waiters.get(t).is_none_or(|w| f(*t, w)))
        };
        for id in self.tree.self_and_ancestors(node) {
            if !visit(id) {
                return false;
            }
        }
        self.tree.for_each_below(Tally::Waiting, node, visit)
    }

    /// Owners that keep `owner`'s request at `level` on `node` waiting: conflicting holders,
    /// and owners of earlier (ticket < `before`) conflicting queued requests.
    fn blockers(&self, node: NodeId, owner: Owner, level: Level, before: u64) -> Vec<Owner> {
        let mut out = BTreeSet::new();
        let mut holders = |id: NodeId| {
            for h in &self.tree.node(id).holders {
                if h.owner != owner && h.level().is_some_and(|l| level.blocked_by_hold(l)) {
                    out.insert(h.owner);
                }
            }
            true
        };
        for id in self.tree.self_and_ancestors(node) {
            holders(id);
        }
        self.tree.for_each_below(Tally::Held, node, &mut holders);
        if !self.holds_exactly(node, owner) {
            self.for_each_overlapping_waiter(node, |t, w| {
                if t < before && w.owner != owner && level.queues_behind(w.level) {
                    out.insert(w.owner);
                }
                true
            });
        }
        out.into_iter().collect()
    }

    /// Breadth-first search of the wait-for graph from `blockers` back to `requester`.
    /// Returns the cycle starting at the requester.
    fn find_cycle(&self, requester: Owner, blockers: &[Owner]) -> Option<Vec<Owner>> {
        let max_depth = if active(Bug::DeadlockMissesLongCycle) {
            1
        } else {
            usize::MAX
        };
        let mut came_from: BTreeMap<Owner, Owner> = BTreeMap::new();
        let mut frontier: VecDeque<(Owner, usize)> = VecDeque::new();
        for &b in blockers {
            came_from.insert(b, requester);
            frontier.push_back((b, 1));
        }
        while let Some((x, depth)) = frontier.pop_front() {
            for &t in self
                .owner_waits
                .get(&x)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let Some(w) = self.waiters.get(&t) else {
                    continue;
                };
                for y in self.blockers(w.node, x, w.level, t) {
                    if y == requester {
                        return Some(unwind(&came_from, requester, x));
                    }
                    if depth < max_depth && !came_from.contains_key(&y) {
                        came_from.insert(y, x);
                        frontier.push_back((y, depth + 1));
                    }
                }
            }
        }
        None
    }

    // ----- state changes -----

    fn grant(
        &mut self,
        node: NodeId,
        owner: Owner,
        level: Level,
        ttl: Option<Duration>,
        now: Time,
    ) -> Grant {
        let fence = self.next_fence;
        if !active(Bug::ReuseFenceToken) {
            self.next_fence += 1;
        }
        let l = level.index();
        let (before, after) = match self.tree.node_mut(node).hold_mut(owner) {
            Some(h) => {
                let before = h.level();
                if !(h.counts[l] > 0 && active(Bug::ReentrantOffByOne)) {
                    h.counts[l] = h.counts[l].saturating_add(1);
                }
                h.fence = fence;
                (before, h.level())
            }
            None => {
                let mut counts = [0; 3];
                counts[l] = 1;
                let hold = Hold {
                    owner,
                    counts,
                    first_fence: fence,
                    fence,
                    lease: None,
                };
                self.tree.node_mut(node).holders.push(hold);
                self.hold_count += 1;
                (None, Some(level))
            }
        };
        self.recount(node, owner, before, after);
        let expires = match ttl {
            Some(ttl) => Some(self.set_lease(node, owner, now.saturating_add(ttl))),
            None => self.tree.node(node).hold(owner).and_then(|h| h.lease),
        };
        Grant { fence, expires }
    }

    /// Moves `owner`'s census entry at `node` from one effective level to another.
    fn recount(&mut self, node: NodeId, owner: Owner, before: Option<Level>, after: Option<Level>) {
        if before == after {
            return;
        }
        if let Some(l) = before {
            self.tree.count(Tally::Held, node, owner, l, -1);
        }
        if let Some(l) = after {
            self.tree.count(Tally::Held, node, owner, l, 1);
        }
    }

    fn set_lease(&mut self, node: NodeId, owner: Owner, expires: Time) -> Time {
        let Some(h) = self.tree.node_mut(node).hold_mut(owner) else {
            return expires;
        };
        let id = h.first_fence;
        if let Some(old) = h.lease.replace(expires) {
            self.deadlines.remove(old, Deadline::Expiry, id);
        }
        self.deadlines.insert(expires, Deadline::Expiry, id);
        self.leases.insert(id, (node, owner));
        expires
    }

    /// Removes the whole hold of `owner` at `node`, returning it.
    fn remove_hold(&mut self, node: NodeId, owner: Owner) -> Option<Hold> {
        let holders = &mut self.tree.node_mut(node).holders;
        let at = holders.iter().position(|h| h.owner == owner)?;
        let hold = holders.swap_remove(at);
        self.recount(node, owner, hold.level(), None);
        if let Some(expires) = hold.lease {
            self.deadlines
                .remove(expires, Deadline::Expiry, hold.first_fence);
            self.leases.remove(&hold.first_fence);
        }
        self.hold_count -= 1;
        Some(hold)
    }

    fn enqueue(
        &mut self,
        node: NodeId,
        owner: Owner,
        level: Level,
        opts: RequestOptions,
        now: Time,
    ) -> Ticket {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let deadline = opts.timeout.map(|d| now.saturating_add(d));
        if let Some(d) = deadline {
            self.deadlines.insert(d, Deadline::Timeout, ticket);
        }
        let waiter = Waiter {
            owner,
            node,
            level,
            ttl: opts.ttl,
            since: now,
            deadline,
        };
        self.waiters.insert(ticket, waiter);
        self.tree.node_mut(node).queue.push_back(ticket);
        self.tree.count(Tally::Waiting, node, owner, level, 1);
        self.owner_waits.entry(owner).or_default().push(ticket);
        Ticket(ticket)
    }

    fn remove_waiter(&mut self, ticket: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&ticket)?;
        let queue = &mut self.tree.node_mut(w.node).queue;
        if let Some(at) = queue.iter().position(|&t| t == ticket) {
            queue.remove(at);
        }
        self.tree
            .count(Tally::Waiting, w.node, w.owner, w.level, -1);
        if let Some(list) = self.owner_waits.get_mut(&w.owner) {
            list.retain(|&t| t != ticket);
            if list.is_empty() {
                self.owner_waits.remove(&w.owner);
            }
        }
        if let Some(d) = w.deadline {
            self.deadlines.remove(d, Deadline::Timeout, ticket);
        }
        Some(w)
    }

    /// Grants, in ticket order, every queued request that the change at `node` let through,
    /// following each grant to the requests it in turn lets through.
    fn wake_from(&mut self, node: NodeId, now: Time) {
        let mut heap = std::mem::take(&mut self.scratch);
        heap.clear();
        self.for_each_overlapping_waiter(node, |t, _| {
            heap.push(Reverse(t));
            true
        });
        while let Some(Reverse(t)) = heap.pop() {
            let Some(w) = self.waiters.get(&t) else {
                continue;
            };
            if !self.grantable(w.node, w.owner, w.level, t) {
                continue;
            }
            let Some(w) = self.remove_waiter(t) else {
                continue;
            };
            let grant = self.grant(w.node, w.owner, w.level, w.ttl, now);
            self.effects.push(Effect::Granted {
                ticket: Ticket(t),
                owner: w.owner,
                level: w.level,
                grant,
            });
            self.for_each_overlapping_waiter(w.node, |t2, _| {
                heap.push(Reverse(t2));
                true
            });
        }
        self.scratch = heap;
    }

    fn expire(&mut self, lease: u64, now: Time) {
        let Some(&(node, owner)) = self.leases.get(&lease) else {
            return;
        };
        let Some(hold) = self.remove_hold(node, owner) else {
            return;
        };
        let path = self.tree.node(node).path.clone();
        self.remember_expired(owner, path.clone(), hold.fence);
        self.effects.push(Effect::Expired {
            owner,
            path,
            fence: hold.fence,
        });
        if !active(Bug::ForgetWakeOnExpiry) {
            self.wake_from(node, now);
        }
        self.tree.maybe_vacant(node);
    }

    fn time_out(&mut self, ticket: u64, now: Time) {
        let Some(w) = self.waiters.get(&ticket) else {
            return;
        };
        let blockers = self.blockers(w.node, w.owner, w.level, ticket);
        let Some(w) = self.remove_waiter(ticket) else {
            return;
        };
        self.effects.push(Effect::TimedOut {
            ticket: Ticket(ticket),
            owner: w.owner,
            waited: now.saturating_since(w.since),
            blockers,
        });
        self.wake_from(w.node, now);
        self.tree.maybe_vacant(w.node);
    }

    fn remember_expired(&mut self, owner: Owner, path: LockPath, fence: u64) {
        if self.expired.insert((owner, path.clone()), fence).is_none() {
            self.expired_order.push_back((owner, path));
        }
        while self.expired_order.len() > EXPIRED_MEMORY {
            if let Some(old) = self.expired_order.pop_front() {
                self.expired.remove(&old);
            }
        }
    }

    /// The error for a release or renew of a hold that is not there: `LeaseExpired` once
    /// after an expiry, `NotHeld` otherwise.
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

    fn queued_info(&self, ticket: u64, w: &Waiter) -> QueuedInfo {
        QueuedInfo {
            ticket: Ticket(ticket),
            owner: w.owner,
            path: self.tree.node(w.node).path.clone(),
            level: w.level,
            since: w.since,
            deadline: w.deadline,
        }
    }

    /// The release target: `owner`'s own hold, or (planted bug) anyone's.
    fn release_target(&self, node: NodeId, owner: Owner) -> Option<Owner> {
        let n = self.tree.node(node);
        if n.hold(owner).is_some() {
            return Some(owner);
        }
        if active(Bug::ReleaseByNonOwner) {
            return n.holders.first().map(|h| h.owner);
        }
        None
    }
}

/// Whether per-level counts of others (`total - mine`) include a level that blocks `level`
/// under the relation of `tally`.
fn stands_in_way(
    tally: Tally,
    level: Level,
    total: [u32; 3],
    mine: [u32; 3],
    admit_delete: bool,
) -> bool {
    Level::ALL.into_iter().any(|other| {
        let others = total[other.index()].saturating_sub(mine[other.index()]);
        let relation = match tally {
            Tally::Held => level.blocked_by_hold(other),
            Tally::Waiting => level.queues_behind(other),
        };
        let admitted = admit_delete && level == Level::Read && other == Level::Delete;
        others > 0 && relation && !admitted
    })
}

/// The owners from `requester` to `last` along `came_from`, i.e. the cycle
/// `requester -> ... -> last -> requester`.
fn unwind(came_from: &BTreeMap<Owner, Owner>, requester: Owner, last: Owner) -> Vec<Owner> {
    let mut cycle = vec![last];
    let mut at = last;
    while let Some(&prev) = came_from.get(&at) {
        if prev == requester || cycle.len() > came_from.len() {
            break;
        }
        cycle.push(prev);
        at = prev;
    }
    cycle.push(requester);
    cycle.reverse();
    cycle
}

impl LockModel for LockTable {
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
        let opts = RequestOptions { timeout: None, ttl };
        match self.decide(owner, path, level, opts, now, false)? {
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
        let node = self.tree.find(path);
        let Some((node, target)) = node.and_then(|n| Some((n, self.release_target(n, owner)?)))
        else {
            return Err(self.missing(owner, path, level));
        };
        let Some(hold) = self.tree.node_mut(node).hold_mut(target) else {
            return Err(self.missing(owner, path, level));
        };
        let before = hold.level();
        let Some(l) = level.or(before) else {
            return Err(self.missing(owner, path, level));
        };
        if hold.counts[l.index()] == 0 {
            return Err(LockError::NotHeld {
                owner,
                path: path.clone(),
                level: Some(l),
            });
        }
        let last = hold.counts.iter().sum::<u32>() == 1;
        let after = if last {
            // Removed whole, with its counts intact so the census is taken back at its level.
            self.remove_hold(node, target);
            None
        } else {
            hold.counts[l.index()] -= 1;
            let after = hold.level();
            self.recount(node, target, before, after);
            after
        };
        if after != before {
            self.wake_from(node, now);
        }
        self.tree.maybe_vacant(node);
        Ok(Released {
            level: l,
            remaining: after,
        })
    }

    fn cancel(&mut self, ticket: Ticket, now: Time) -> Result<(), LockError> {
        self.begin(now);
        let w = self
            .remove_waiter(ticket.0)
            .ok_or(LockError::UnknownTicket(ticket.0))?;
        self.wake_from(w.node, now);
        self.tree.maybe_vacant(w.node);
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
        match self
            .tree
            .find(path)
            .filter(|&n| self.holds_exactly(n, owner))
        {
            Some(node) => Ok(self.set_lease(node, owner, now.saturating_add(ttl))),
            None => Err(self.missing(owner, path, None)),
        }
    }

    fn advance(&mut self, now: Time) {
        self.begin(now);
    }

    fn next_deadline(&self) -> Option<Time> {
        self.deadlines.next()
    }

    fn effects(&self) -> &[Effect] {
        &self.effects
    }

    fn holders(&self, path: &LockPath) -> Vec<HolderInfo> {
        let Some(node) = self.tree.find(path) else {
            return Vec::new();
        };
        let mut out: Vec<HolderInfo> = self
            .tree
            .node(node)
            .holders
            .iter()
            .filter_map(holder_info)
            .collect();
        out.sort_by_key(|h| h.owner);
        out
    }

    fn queue(&self, path: &LockPath) -> Vec<QueuedInfo> {
        let Some(node) = self.tree.find(path) else {
            return Vec::new();
        };
        let queue = &self.tree.node(node).queue;
        queue
            .iter()
            .filter_map(|&t| Some(self.queued_info(t, self.waiters.get(&t)?)))
            .collect()
    }

    fn queued(&self) -> Vec<QueuedInfo> {
        let mut out: Vec<QueuedInfo> = self
            .waiters
            .iter()
            .map(|(&t, w)| self.queued_info(t, w))
            .collect();
        out.sort_by_key(|q| q.ticket);
        out
    }

    fn holds(&self) -> Vec<(LockPath, HolderInfo)> {
        let mut out: Vec<(LockPath, HolderInfo)> = self
            .tree
            .held_nodes()
            .flat_map(|n| {
                n.holders
                    .iter()
                    .filter_map(|h| Some((n.path.clone(), holder_info(h)?)))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1.owner).cmp(&(&b.0, b.1.owner)));
        out
    }

    fn check_fence(&self, owner: Owner, path: &LockPath, token: u64) -> Result<(), LockError> {
        let hold = self
            .tree
            .find(path)
            .and_then(|n| self.tree.node(n).hold(owner));
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

fn holder_info(h: &Hold) -> Option<HolderInfo> {
    Some(HolderInfo {
        owner: h.owner,
        level: h.level()?,
        counts: h.counts,
        fence: h.fence,
        expires: h.lease,
    })
}
