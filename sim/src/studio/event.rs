//! Everything that can happen in the studio, as small copyable values. Events name threads,
//! workstations and connections by index plus a generation, so an event about something that
//! has since crashed, restarted or finished is recognised as stale and dropped.

use super::transfer::ConnRef;
use crate::check::history::PathId;
use crate::engine::Nanos;
use lockstudio::{Level, Owner, Version};

/// A worker thread's timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The local write of a shot image is done.
    WriteDone,
    /// An editor's hold time is over: commit.
    HoldOver,
    /// Time to renew the server lease.
    Renew,
    /// The backoff after a conflicted commit is over: re-read and retry.
    CommitRetry,
    /// Time to poll a pending job.
    Poll,
}

/// A request from a worker thread to the server. It carries everything the server needs:
/// a request in flight still arrives after its sender crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Msg {
    /// Take a leased reservation (queues up to the request timeout).
    Reserve {
        owner: Owner,
        path: PathId,
        level: Level,
        session: u32,
    },
    /// Extend the lease.
    Renew { owner: Owner, path: PathId },
    /// Give the reservation back (no answer).
    Release {
        owner: Owner,
        path: PathId,
        level: Level,
    },
    /// Commit session metadata optimistically; `fence` makes it a fenced write.
    Commit {
        owner: Owner,
        path: PathId,
        session: u32,
        fence: Option<u64>,
        expected: Version,
        value: u64,
    },
    /// Delete an image under the delete reservation `fence`.
    DeleteImage {
        owner: Owner,
        path: PathId,
        image: u64,
        fence: u64,
    },
    /// Delete a whole session under the delete reservation `fence`.
    DeleteSession {
        owner: Owner,
        path: PathId,
        session: u32,
        fence: u64,
    },
    /// Start an export of the session (a long job) from a snapshot taken now, and give back
    /// the read reservation the snapshot needed: nobody is blocked while the job runs.
    Submit {
        owner: Owner,
        path: PathId,
        level: Level,
        session: u32,
    },
    /// How is the job doing?
    Poll { job: u64 },
}

/// Why the server said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The request waited its whole timeout.
    Timeout,
    /// Waiting would have closed a wait-for cycle.
    Deadlock,
    /// The server is restarting.
    Down,
    /// The lease behind a fenced write is gone, or its token is stale.
    Fenced,
    /// Anything else the table refused.
    Other,
}

/// The server's answer to a worker thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Reserved, with this token; the session's metadata is at (`value`, `version`).
    Granted {
        fence: u64,
        value: u64,
        version: Version,
    },
    /// Refused.
    Refused(Refusal),
    /// The metadata commit is in.
    Committed,
    /// Somebody committed first: the metadata is now at (`value`, `version`).
    Conflict { value: u64, version: Version },
    /// The delete is done.
    Deleted,
    /// The job runs: `permille` done.
    Pending { job: u64, permille: u16 },
    /// The job is done.
    Done { job: u64 },
}

/// One thing that happens at one instant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// A worker thread is done thinking; it was meant to start at `intended`.
    Think { t: u32, gen: u32, intended: Nanos },
    /// A worker thread's timer.
    Timer { t: u32, gen: u32, timer: Timer },
    /// The client tier decided a queued request: granted, or timed out.
    LocalDone { t: u32, gen: u32, granted: bool },
    /// A request reaches the server.
    ToServer { t: u32, gen: u32, msg: Msg },
    /// An answer reaches a worker thread.
    ToClient { t: u32, gen: u32, reply: Reply },
    /// The server table's next deadline.
    ServerTick,
    /// A client table's next deadline.
    LocalTick { ws: u32 },
    /// A connection reaches the server's accept backlog.
    ConnArrive { c: ConnRef },
    /// The leader's hand-off is over: it can accept the next connection.
    LeaderReady,
    /// A chunk of a transfer has moved.
    Chunk { c: ConnRef },
    /// A transfer breaks (closed by either end, or reset).
    ConnBreak { c: ConnRef },
    /// A client stops waiting for a silent connection.
    ClientGiveUp { c: ConnRef },
    /// The server drops a silent connection.
    ServerReap { c: ConnRef },
    /// An upload worker learns how its upload ended.
    UploadReply {
        ws: u32,
        worker: u32,
        wgen: u32,
        ok: bool,
    },
    /// An upload worker is ready for the next item (after a backoff).
    WorkerReady { ws: u32, worker: u32, wgen: u32 },
    /// A job step is done.
    JobStep { job: u64, jgen: u32 },
    /// A waited-for job reached the pending deadline.
    JobDeadline { job: u64 },
    /// A workstation crashes.
    Crash { ws: u32 },
    /// A crashed workstation is back.
    Restart { ws: u32 },
    /// A workstation freezes.
    Pause { ws: u32 },
    /// The server restarts.
    ServerRestart,
    /// The server is back.
    ServerUp,
}

impl Ev {
    /// A number per kind and its main index, folded into the trace digest.
    pub(crate) fn code(&self) -> u64 {
        let (kind, index): (u64, u64) = match *self {
            Ev::Think { t, .. } => (1, t.into()),
            Ev::Timer { t, .. } => (2, t.into()),
            Ev::LocalDone { t, .. } => (3, t.into()),
            Ev::ToServer { t, .. } => (4, t.into()),
            Ev::ToClient { t, .. } => (5, t.into()),
            Ev::ServerTick => (6, 0),
            Ev::LocalTick { ws } => (7, ws.into()),
            Ev::ConnArrive { c } => (8, c.idx.into()),
            Ev::LeaderReady => (9, 0),
            Ev::Chunk { c } => (10, c.idx.into()),
            Ev::ConnBreak { c } => (11, c.idx.into()),
            Ev::ClientGiveUp { c } => (12, c.idx.into()),
            Ev::ServerReap { c } => (13, c.idx.into()),
            Ev::UploadReply { ws, worker, .. } => (14, u64::from(ws) << 16 | u64::from(worker)),
            Ev::WorkerReady { ws, worker, .. } => (15, u64::from(ws) << 16 | u64::from(worker)),
            Ev::JobStep { job, .. } => (16, job),
            Ev::JobDeadline { job } => (17, job),
            Ev::Crash { ws } => (18, ws.into()),
            Ev::Restart { ws } => (19, ws.into()),
            Ev::Pause { ws } => (20, ws.into()),
            Ev::ServerRestart => (21, 0),
            Ev::ServerUp => (22, 0),
        };
        kind << 56 | index
    }
}
