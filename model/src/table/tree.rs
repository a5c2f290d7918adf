//! The path tree: one node per path that has holds, waiters or descendants that do, each with
//! per-level intention counts (Gray-style) so conflicts are found in O(depth).

use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Index of a node in the arena. Slots are reused after pruning.
pub(crate) type NodeId = u32;

/// The root's id; it is never pruned.
pub(crate) const ROOT: NodeId = 0;

/// How many vacant nodes are kept before a prune: keeps lock/unlock on a warm path free of
/// allocation while bounding the memory of paths no longer in use.
const VACANT_LIMIT: usize = 1024;

/// Per-level counts of holds (or waiters) exactly at a node and strictly below it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Census {
    pub(crate) direct: [u32; 3],
    pub(crate) below: [u32; 3],
}

impl Census {
    pub(crate) fn is_zero(&self) -> bool {
        self.direct == [0; 3] && self.below == [0; 3]
    }
}

/// Which census a change applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tally {
    Held,
    Waiting,
}

impl Tally {
    fn index(self) -> usize {
        match self {
            Tally::Held => 0,
            Tally::Waiting => 1,
        }
    }
}

/// Marks a node that is on no active list of its parent.
const UNLISTED: u32 = u32::MAX;

/// The census share of the first owner counted at a node, kept in the node itself: with one
/// owner per subtree (the common case) counting and looking up a share touch no hash map.
/// Further owners' shares go to the tree's map; an owner's share is in exactly one place.
#[derive(Clone, Copy, Debug, Default)]
struct Share {
    owner: Option<Owner>,
    census: Census,
    /// How many other owners have a share of this node's census in the tree's map: when
    /// zero and `owner` is `None`, nobody else can have one, so the inline slot is safe.
    spilled: u32,
}

/// One owner's hold on one path.
#[derive(Clone, Debug)]
pub(crate) struct Hold {
    pub(crate) owner: Owner,
    /// Unreleased acquisitions per level.
    pub(crate) counts: [u32; 3],
    /// Token of the grant that created the hold: tokens from it up to `fence` are live.
    pub(crate) first_fence: u64,
    /// Token of the newest grant.
    pub(crate) fence: u64,
    /// Lease expiry and its deadline key, if the hold is a lease.
    pub(crate) lease: Option<crate::time::Time>,
}

impl Hold {
    /// The strongest level with an unreleased acquisition.
    pub(crate) fn level(&self) -> Option<Level> {
        Level::ALL
            .into_iter()
            .rev()
            .find(|l| self.counts[l.index()] > 0)
    }
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) parent: Option<NodeId>,
    pub(crate) path: LockPath,
    pub(crate) children: FxHashMap<Box<str>, NodeId>,
    pub(crate) holders: Vec<Hold>,
    /// Tickets queued on exactly this path, oldest first.
    pub(crate) queue: VecDeque<u64>,
    pub(crate) held: Census,
    pub(crate) waiting: Census,
    /// Per tally, the children whose census in that tally is not zero: a subtree walk visits
    /// only these, never the (possibly thousands of) idle children a directory keeps until
    /// the next prune.
    active: [Vec<NodeId>; 2],
    /// Per tally, this node's position in its parent's `active` list, or `UNLISTED`.
    slot: [u32; 2],
    /// Whether the node is on the vacant list (each node is listed at most once).
    listed: bool,
    /// Per tally, the inline share of the first owner counted here.
    share: [Share; 2],
}

impl Node {
    fn new(parent: Option<NodeId>, path: LockPath) -> Node {
        Node {
            parent,
            path,
            children: FxHashMap::default(),
            holders: Vec::new(),
            queue: VecDeque::new(),
            held: Census::default(),
            waiting: Census::default(),
            active: [Vec::new(), Vec::new()],
            slot: [UNLISTED; 2],
            listed: false,
            share: [Share::default(); 2],
        }
    }

    fn is_vacant(&self) -> bool {
        self.children.is_empty()
            && self.holders.is_empty()
            && self.queue.is_empty()
            && self.held.is_zero()
            && self.waiting.is_zero()
    }

    pub(crate) fn census(&self, tally: Tally) -> &Census {
        match tally {
            Tally::Held => &self.held,
            Tally::Waiting => &self.waiting,
        }
    }

    pub(crate) fn hold(&self, owner: Owner) -> Option<&Hold> {
        self.holders.iter().find(|h| h.owner == owner)
    }

    pub(crate) fn hold_mut(&mut self, owner: Owner) -> Option<&mut Hold> {
        self.holders.iter_mut().find(|h| h.owner == owner)
    }
}

/// The arena of nodes plus the per-owner share of every census, so "held by someone else"
/// is `total - mine`: inline in the node for its first owner, otherwise one hash lookup.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    free: Vec<NodeId>,
    vacant: Vec<NodeId>,
    owner_held: FxHashMap<(NodeId, Owner), Census>,
    owner_waiting: FxHashMap<(NodeId, Owner), Census>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            nodes: vec![Node::new(None, LockPath::root())],
            free: Vec::new(),
            vacant: Vec::new(),
            owner_held: FxHashMap::default(),
            owner_waiting: FxHashMap::default(),
        }
    }
}

impl Tree {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    /// The node of `path`, if it exists.
    pub(crate) fn find(&self, path: &LockPath) -> Option<NodeId> {
        let mut id = ROOT;
        for segment in path.segments() {
            id = *self.node(id).children.get(segment)?;
        }
        Some(id)
    }

    /// The node of `path`, created with its missing ancestors if needed.
    pub(crate) fn ensure(&mut self, path: &LockPath) -> NodeId {
        let mut id = ROOT;
        let mut depth = 0;
        for segment in path.segments() {
            depth += 1;
            id = match self.node(id).children.get(segment) {
                Some(&child) => child,
                None => self.create_child(id, path, segment, depth),
            };
        }
        id
    }

    fn create_child(
        &mut self,
        parent: NodeId,
        path: &LockPath,
        segment: &str,
        depth: usize,
    ) -> NodeId {
        let prefix_len = path
            .segments()
            .take(depth)
            .map(|s| s.len() + 1)
            .sum::<usize>();
        let node = Node::new(Some(parent), path.prefix(prefix_len));
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                NodeId::try_from(self.nodes.len() - 1).unwrap_or(NodeId::MAX)
            }
        };
        self.node_mut(parent).children.insert(segment.into(), id);
        self.list_vacant(id);
        id
    }

    /// `id` and its ancestors, nearest first.
    pub(crate) fn self_and_ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(id), |&a| self.node(a).parent)
    }

    /// `owner`'s share of `tally` at `id`.
    pub(crate) fn own(&self, tally: Tally, id: NodeId, owner: Owner) -> Census {
        let share = &self.node(id).share[tally.index()];
        if share.owner == Some(owner) {
            return share.census;
        }
        if share.spilled == 0 {
            return Census::default();
        }
        let map = match tally {
            Tally::Held => &self.owner_held,
            Tally::Waiting => &self.owner_waiting,
        };
        map.get(&(id, owner)).copied().unwrap_or_default()
    }

    /// Adds `delta` (±1) at `level` for `owner` at `id` (direct) and every ancestor (below).
    pub(crate) fn count(
        &mut self,
        tally: Tally,
        id: NodeId,
        owner: Owner,
        level: Level,
        delta: i32,
    ) {
        let l = level.index();
        self.adjust(tally, id, owner, delta, |c| &mut c.direct[l]);
        self.relist(tally, id);
        let mut next = self.node(id).parent;
        while let Some(a) = next {
            self.adjust(tally, a, owner, delta, |c| &mut c.below[l]);
            self.relist(tally, a);
            next = self.node(a).parent;
        }
    }

    /// Keeps `id` on its parent's active list for `tally` exactly while its census there is
    /// not zero. Removal swaps the last entry into the hole, so lists never shrink their
    /// capacity and a warm lock/unlock does not allocate.
    fn relist(&mut self, tally: Tally, id: NodeId) {
        let t = tally.index();
        let Some(parent) = self.node(id).parent else {
            return;
        };
        let busy = !self.node(id).census(tally).is_zero();
        let slot = self.node(id).slot[t];
        if busy && slot == UNLISTED {
            let list = &mut self.nodes[parent as usize].active[t];
            list.push(id);
            let at = u32::try_from(list.len() - 1).unwrap_or(UNLISTED);
            self.node_mut(id).slot[t] = at;
        } else if !busy && slot != UNLISTED {
            let list = &mut self.nodes[parent as usize].active[t];
            list.swap_remove(slot as usize);
            let moved = list.get(slot as usize).copied();
            self.node_mut(id).slot[t] = UNLISTED;
            if let Some(moved) = moved {
                self.node_mut(moved).slot[t] = slot;
            }
        }
    }

    fn adjust(
        &mut self,
        tally: Tally,
        id: NodeId,
        owner: Owner,
        delta: i32,
        field: impl Fn(&mut Census) -> &mut u32,
    ) {
        let node = &mut self.nodes[id as usize];
        let (census, map) = match tally {
            Tally::Held => (&mut node.held, &mut self.owner_held),
            Tally::Waiting => (&mut node.waiting, &mut self.owner_waiting),
        };
        apply(field(census), delta);
        let share = &mut node.share[tally.index()];
        let inline = match share.owner {
            Some(o) => o == owner,
            None => share.spilled == 0,
        };
        if inline {
            share.owner = Some(owner);
            apply(field(&mut share.census), delta);
            if share.census.is_zero() {
                share.owner = None;
            }
            return;
        }
        let mine = map.entry((id, owner)).or_insert_with(|| {
            share.spilled += 1;
            Census::default()
        });
        apply(field(mine), delta);
        if mine.is_zero() {
            map.remove(&(id, owner));
            share.spilled -= 1;
        }
    }

    /// Notes that `id` may have become vacant; prunes vacant nodes in batches.
    pub(crate) fn maybe_vacant(&mut self, id: NodeId) {
        if id != ROOT && self.node(id).is_vacant() {
            self.list_vacant(id);
        }
        if self.vacant.len() > VACANT_LIMIT {
            self.prune();
        }
    }

    fn list_vacant(&mut self, id: NodeId) {
        let node = self.node_mut(id);
        if !node.listed {
            node.listed = true;
            self.vacant.push(id);
        }
    }

    fn prune(&mut self) {
        while let Some(id) = self.vacant.pop() {
            self.node_mut(id).listed = false;
            // A freed slot has no parent; a duplicate entry or a reused slot is re-checked.
            if id == ROOT || self.node(id).parent.is_none() || !self.node(id).is_vacant() {
                continue;
            }
            let Some(parent) = self.node(id).parent else {
                continue;
            };
            // Pruning is the amortized cold path: one small allocation here is fine.
            let segment: Box<str> = self
                .node(id)
                .path
                .segments()
                .next_back()
                .unwrap_or("")
                .into();
            self.node_mut(parent).children.remove(&segment);
            let node = self.node_mut(id);
            node.parent = None;
            node.children = FxHashMap::default();
            self.free.push(id);
            if parent != ROOT && self.node(parent).is_vacant() {
                self.list_vacant(parent);
            }
        }
    }

    /// Calls `f` for every node strictly below `id` whose subtree has something counted in
    /// `tally`, skipping empty subtrees.
    pub(crate) fn for_each_below(
        &self,
        tally: Tally,
        id: NodeId,
        mut f: impl FnMut(NodeId) -> bool,
    ) -> bool {
        self.visit_below(tally, id, &mut f)
    }

    /// Depth-first over the active lists (depth is at most the path limit, 64).
    fn visit_below(&self, tally: Tally, id: NodeId, f: &mut impl FnMut(NodeId) -> bool) -> bool {
        if self.node(id).census(tally).below == [0; 3] {
            return true;
        }
        for &n in &self.node(id).active[tally.index()] {
            let c = self.node(n).census(tally);
            if c.direct != [0; 3] && !f(n) {
                return false;
            }
            if c.below != [0; 3] && !self.visit_below(tally, n, f) {
                return false;
            }
        }
        true
    }

    /// Every node that has holders, for introspection.
    pub(crate) fn held_nodes(&self) -> impl Iterator<Item = &Node> + '_ {
        self.nodes.iter().filter(|n| !n.holders.is_empty())
    }
}

fn apply(slot: &mut u32, delta: i32) {
    let next = i64::from(*slot) + i64::from(delta);
    debug_assert!(next >= 0, "census went negative");
    *slot = u32::try_from(next.max(0)).unwrap_or(u32::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shares beyond a node's first owner go to the map and leave it when they drop to zero,
    /// so a node whose extra owners have gone serves its next owner inline again.
    #[test]
    fn shares_return_inline_once_the_spilled_ones_are_gone() {
        let mut tree = Tree::default();
        let id = tree.ensure(&LockPath::parse("/a").expect("a valid path"));
        let (a, b) = (Owner::new(1), Owner::new(2));
        tree.count(Tally::Held, id, a, Level::Read, 1);
        tree.count(Tally::Held, id, b, Level::Read, 1);
        assert_eq!(tree.node(id).share[0].spilled, 1);
        assert_eq!(tree.own(Tally::Held, id, b).direct, [1, 0, 0]);
        tree.count(Tally::Held, id, b, Level::Read, -1);
        tree.count(Tally::Held, id, a, Level::Read, -1);
        assert_eq!(tree.node(id).share[0].spilled, 0);
        assert!(tree.owner_held.is_empty());
        tree.count(Tally::Held, id, b, Level::Write, 1);
        assert_eq!(tree.node(id).share[0].owner, Some(b));
        assert!(
            tree.owner_held.is_empty(),
            "a sole owner's shares stay inline"
        );
        assert_eq!(tree.own(Tally::Held, id, b).direct, [0, 1, 0]);
        assert_eq!(tree.own(Tally::Held, ROOT, b).below, [0, 1, 0]);
        assert_eq!(tree.own(Tally::Held, id, a), Census::default());
    }
}
