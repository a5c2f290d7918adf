//! The recorded history of a run: what the lock tables decided, what the server stored and
//! served, crashes, job replies. The simulator appends; the checkers read. Hand-made histories
//! (tests) use exactly the same types.

use crate::engine::Nanos;
use lockstudio::{Level, LockPath, Owner};
use rustc_hash::FxHashMap;
use std::fmt;

/// Which lock table: [`SERVER`] or the client tier of one workstation ([`client_tier`]).
pub type Tier = u16;

/// The server's reservation table.
pub const SERVER: Tier = 0;

/// The client-tier table of workstation `ws`.
pub const fn client_tier(ws: u32) -> Tier {
    (ws + 1) as Tier
}

/// An interned lock path: an index into the history's [`PathTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathId(pub u32);

/// What a path names in the studio namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// `/studio`.
    Studio,
    /// `/studio/s<N>`, a customer's session directory.
    Session(u32),
    /// `/studio/s<N>/img-<id>.jpg`.
    Image(u32, u64),
}

/// The paths a run used, interned once: ids are cheap to record and to compare, and the
/// parent links make overlap tests O(depth) with no string work.
#[derive(Debug, Default)]
pub struct PathTable {
    paths: Vec<LockPath>,
    parent: Vec<Option<PathId>>,
    ids: FxHashMap<Resource, PathId>,
}

impl PathTable {
    /// The id of `r`'s path, creating it (and its ancestors) on first use.
    pub fn intern(&mut self, r: Resource) -> PathId {
        if let Some(&id) = self.ids.get(&r) {
            return id;
        }
        let (parent, text) = match r {
            Resource::Studio => (None, "/studio".to_string()),
            Resource::Session(s) => (Some(self.intern(Resource::Studio)), format!("/studio/s{s}")),
            Resource::Image(s, i) => (
                Some(self.intern(Resource::Session(s))),
                format!("/studio/s{s}/img-{i}.jpg"),
            ),
        };
        // The texts above are valid by construction; the root is a safe, visible fallback.
        let path = LockPath::parse(&text).unwrap_or_else(|_| LockPath::root());
        let id = PathId(self.paths.len() as u32);
        self.paths.push(path);
        self.parent.push(parent);
        self.ids.insert(r, id);
        id
    }

    /// The path of `id`.
    pub fn path(&self, id: PathId) -> &LockPath {
        &self.paths[id.0 as usize]
    }

    /// The parent of `id`, if it has one in the table.
    pub fn parent(&self, id: PathId) -> Option<PathId> {
        self.parent[id.0 as usize]
    }

    /// `id` and then each ancestor up to the top.
    pub fn self_and_ancestors(&self, id: PathId) -> impl Iterator<Item = PathId> + '_ {
        std::iter::successors(Some(id), move |&p| self.parent(p))
    }

    /// Whether `a` is a strict ancestor of `b`.
    pub fn is_ancestor(&self, a: PathId, b: PathId) -> bool {
        self.self_and_ancestors(b).skip(1).any(|p| p == a)
    }

    /// Whether holds on `a` and `b` can conflict (equal, or one above the other).
    pub fn overlaps(&self, a: PathId, b: PathId) -> bool {
        a == b || self.is_ancestor(a, b) || self.is_ancestor(b, a)
    }

    /// How many paths are interned.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether no path is interned.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Owners encode workstation, incarnation (restart count) and thread, so a restarted client
/// never reuses an identity its crashed incarnation held reservations under, and a checker
/// can tell whose a hold is without asking the simulator.
pub fn owner_of(ws: u32, incarnation: u32, thread: u32) -> Owner {
    Owner::new(
        (u64::from(ws) << 40)
            | (u64::from(incarnation & 0xf_ffff) << 20)
            | u64::from(thread & 0xf_ffff),
    )
}

/// `(workstation, incarnation)` of an owner made by [`owner_of`].
pub fn station_of(owner: Owner) -> (u32, u32) {
    (
        (owner.id() >> 40) as u32,
        ((owner.id() >> 20) & 0xf_ffff) as u32,
    )
}

/// One thing that happened, as the simulator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A table queued a request.
    Queued {
        /// Which table.
        tier: Tier,
        /// The table's ticket (increasing per table).
        ticket: u64,
        /// Who asked.
        owner: Owner,
        /// For what.
        path: PathId,
        /// At which level.
        level: Level,
    },
    /// A table granted a request, at once (`ticket: None`) or from its queue.
    Granted {
        /// Which table.
        tier: Tier,
        /// The queued request, if it waited.
        ticket: Option<u64>,
        /// Who holds it now.
        owner: Owner,
        /// What.
        path: PathId,
        /// At which level.
        level: Level,
        /// Its fencing token.
        fence: u64,
    },
    /// A queued request reached its timeout and was withdrawn.
    TimedOut {
        /// Which table.
        tier: Tier,
        /// The request.
        ticket: u64,
    },
    /// A table took back one acquisition.
    Released {
        /// Which table.
        tier: Tier,
        /// Whose.
        owner: Owner,
        /// On what.
        path: PathId,
        /// The level of the acquisition released.
        level: Level,
    },
    /// A lease ran out: the owner's whole hold on the path is gone.
    Expired {
        /// Which table.
        tier: Tier,
        /// Whose lease.
        owner: Owner,
        /// On what.
        path: PathId,
        /// The newest token of the hold.
        fence: u64,
    },
    /// A table call is over: every effect it had is recorded above. Queue invariants are
    /// checked here, never in the middle of a call.
    Settled {
        /// Which table.
        tier: Tier,
    },
    /// A client tier was lost with its workstation (crash): its holds and queue are gone.
    TierReset {
        /// Which table.
        tier: Tier,
    },
    /// The server accepted a write fenced by `fence` (an editor's metadata commit).
    FencedWrite {
        /// The resource written (the hold's path).
        path: PathId,
        /// Who wrote.
        owner: Owner,
        /// The token presented.
        fence: u64,
    },
    /// An image was acknowledged to its photographer: it must reach the server.
    Acked {
        /// The image.
        image: u64,
        /// Its session.
        session: u32,
        /// The token of its server write reservation (orders it against deletes).
        fence: u64,
        /// Its size in bytes.
        size: u64,
        /// Its checksum.
        sum: u64,
    },
    /// The server made an upload visible.
    Visible {
        /// The image.
        image: u64,
        /// Bytes visible.
        size: u64,
        /// Checksum of the visible bytes.
        sum: u64,
    },
    /// A client finished downloading an image: what it got.
    Served {
        /// The image.
        image: u64,
        /// Bytes received.
        size: u64,
        /// Checksum of the received bytes.
        sum: u64,
    },
    /// An image was deleted on purpose.
    ImageDeleted {
        /// The image.
        image: u64,
    },
    /// A whole session was deleted, fenced by `fence`: acknowledged images with an older
    /// token are gone with it.
    SessionDeleted {
        /// The session.
        session: u32,
        /// The delete reservation's token.
        fence: u64,
    },
    /// A workstation crashed; its server reservations must go within TTL + grace.
    Crashed {
        /// The workstation.
        ws: u32,
        /// The incarnation that died.
        incarnation: u32,
    },
    /// The server went away (restart) until `until`.
    ServerDown {
        /// When it is back.
        until: Nanos,
    },
    /// A job was submitted; `waited` when a client waits for its answer.
    JobSubmitted {
        /// The job.
        job: u64,
        /// Whether somebody waits for it.
        waited: bool,
    },
    /// The server answered about a job: pending with progress, or done.
    JobReply {
        /// The job.
        job: u64,
        /// Progress in thousandths.
        permille: u16,
        /// Whether the job is done.
        done: bool,
    },
    /// The end of the heal phase: what is left.
    End(Box<EndState>),
}

/// What the world looks like when the heal phase is over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndState {
    /// Every visible image on the server: `(image, size, sum)`, sorted by image.
    pub images: Vec<(u64, u64, u64)>,
    /// Uploads still queued or in flight on some workstation.
    pub pending_uploads: u64,
    /// Jobs not finished.
    pub unfinished_jobs: u64,
    /// Worker threads still in the middle of an operation.
    pub busy_threads: u64,
}

/// Bounds the checkers need from the workload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// A crashed client's server reservations must be gone this long after the crash.
    pub crash_cleanup: Nanos,
    /// A waited-for job must get its first answer this long after submission.
    pub first_reply: Nanos,
}

/// A run's history.
#[derive(Debug, Default)]
pub struct History {
    /// The paths the records name.
    pub paths: PathTable,
    /// `(time, record)` in the order they happened.
    pub records: Vec<(Nanos, Record)>,
    /// The workload's bounds.
    pub params: Params,
}

impl History {
    /// An empty history with these bounds.
    pub fn new(params: Params) -> History {
        History {
            params,
            records: Vec::with_capacity(1 << 16),
            ..History::default()
        }
    }

    /// Appends a record at `at`.
    #[inline]
    pub fn push(&mut self, at: Nanos, r: Record) {
        self.records.push((at, r));
    }

    /// A record as a line a person reads: paths as text, owners as `ws/incarnation/thread`.
    pub fn describe(&self, r: &Record) -> String {
        let p = |id: &PathId| self.paths.path(*id).as_str().to_string();
        match r {
            Record::Queued { tier, ticket, owner, path, level } => {
                format!("{} queued {} {level} {} (ticket {ticket})", tier_name(*tier), who(*owner), p(path))
            }
            Record::Granted { tier, ticket, owner, path, level, fence } => format!(
                "{} granted {} {level} {} fence {fence}{}",
                tier_name(*tier),
                who(*owner),
                p(path),
                ticket.map(|t| format!(" (ticket {t})")).unwrap_or_default()
            ),
            Record::TimedOut { tier, ticket } => format!("{} timed out ticket {ticket}", tier_name(*tier)),
            Record::Released { tier, owner, path, level } => {
                format!("{} released {} {level} {}", tier_name(*tier), who(*owner), p(path))
            }
            Record::Expired { tier, owner, path, fence } => {
                format!("{} lease expired {} {} fence {fence}", tier_name(*tier), who(*owner), p(path))
            }
            Record::Settled { .. } => String::new(),
            Record::TierReset { tier } => format!("{} lost (workstation crashed)", tier_name(*tier)),
            Record::FencedWrite { path, owner, fence } => {
                format!("server accepted fenced write by {} on {} fence {fence}", who(*owner), p(path))
            }
            Record::Acked { image, session, fence, size, .. } => {
                format!("acked image {image} (session s{session}, fence {fence}, {size} bytes)")
            }
            Record::Visible { image, size, .. } => format!("server made image {image} visible ({size} bytes)"),
            Record::Served { image, size, .. } => format!("client received image {image} ({size} bytes)"),
            Record::ImageDeleted { image } => format!("server deleted image {image}"),
            Record::SessionDeleted { session, fence } => format!("server deleted session s{session} (fence {fence})"),
            Record::Crashed { ws, incarnation } => format!("workstation {ws} (incarnation {incarnation}) crashed"),
            Record::ServerDown { until } => format!("server restarting until {}", crate::engine::fmt_time(*until)),
            Record::JobSubmitted { job, waited } => format!("job {job} submitted{}", if *waited { " (client waits)" } else { "" }),
            Record::JobReply { job, permille, done } => {
                format!("job {job}: {} {}.{}%", if *done { "done" } else { "pending" }, permille / 10, permille % 10)
            }
            Record::End(end) => format!(
                "end: {} images on the server, {} uploads pending, {} jobs unfinished, {} threads busy",
                end.images.len(),
                end.pending_uploads,
                end.unfinished_jobs,
                end.busy_threads
            ),
        }
    }
}

impl Record {
    /// A small number per record kind and its main field, folded into the trace digest.
    pub fn code(&self) -> u64 {
        match self {
            Record::Queued { ticket, .. } => 1 << 56 | ticket,
            Record::Granted { fence, .. } => 2 << 56 | fence,
            Record::TimedOut { ticket, .. } => 3 << 56 | ticket,
            Record::Released { owner, .. } => 4 << 56 | (owner.id() & 0xffff_ffff),
            Record::Expired { fence, .. } => 5 << 56 | fence,
            Record::Settled { tier } => 6 << 56 | u64::from(*tier),
            Record::TierReset { tier } => 7 << 56 | u64::from(*tier),
            Record::FencedWrite { fence, .. } => 8 << 56 | fence,
            Record::Acked { image, .. } => 9 << 56 | image,
            Record::Visible { image, .. } => 10 << 56 | image,
            Record::Served { image, .. } => 11 << 56 | image,
            Record::ImageDeleted { image } => 12 << 56 | image,
            Record::SessionDeleted { fence, .. } => 13 << 56 | fence,
            Record::Crashed { ws, .. } => 14 << 56 | u64::from(*ws),
            Record::ServerDown { until } => 15 << 56 | (until & 0xffff_ffff),
            Record::JobSubmitted { job, .. } => 16 << 56 | job,
            Record::JobReply { job, permille, .. } => 17 << 56 | job << 16 | u64::from(*permille),
            Record::End(end) => 18 << 56 | end.images.len() as u64,
        }
    }
}

fn tier_name(tier: Tier) -> String {
    if tier == SERVER {
        "server".to_string()
    } else {
        format!("ws{} client tier", tier - 1)
    }
}

/// An owner as `ws<N>.<incarnation>/t<thread>`.
pub fn who(owner: Owner) -> String {
    let (ws, inc) = station_of(owner);
    format!("ws{ws}.{inc}/t{}", owner.id() & 0xf_ffff)
}

impl fmt::Display for PathId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "path#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_intern_once_with_parents() {
        let mut t = PathTable::default();
        let img = t.intern(Resource::Image(3, 9));
        let s = t.intern(Resource::Session(3));
        assert_eq!(t.intern(Resource::Image(3, 9)), img);
        assert_eq!(t.path(img).as_str(), "/studio/s3/img-9.jpg");
        assert_eq!(t.parent(img), Some(s));
        assert!(t.overlaps(s, img) && t.is_ancestor(s, img) && !t.is_ancestor(img, s));
        let other = t.intern(Resource::Image(4, 9));
        assert!(!t.overlaps(other, img));
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn owners_round_trip() {
        let o = owner_of(7, 3, 11);
        assert_eq!(station_of(o), (7, 3));
        assert_eq!(who(o), "ws7.3/t11");
    }
}
