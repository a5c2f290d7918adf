//! Figures of one run, all in simulated time: latency histograms measured from each
//! operation's intended start (no coordinated omission), counters, throughput over time and
//! contention per session.

use crate::engine::{Nanos, MINUTE};
use hdrhistogram::Histogram;
use lockstudio::Level;
use std::collections::BTreeMap;

/// What a worker thread does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    /// Shoot an image and upload it behind.
    Shoot,
    /// View an image.
    View,
    /// Edit a session's metadata under a lease.
    Edit,
    /// Delete an image.
    Delete,
    /// Export a session (a long job).
    Export,
    /// Delete a whole session.
    DeleteSession,
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 6] = [
        OpKind::Shoot,
        OpKind::View,
        OpKind::Edit,
        OpKind::Delete,
        OpKind::Export,
        OpKind::DeleteSession,
    ];

    /// Name used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            OpKind::Shoot => "shoot",
            OpKind::View => "view",
            OpKind::Edit => "edit",
            OpKind::Delete => "delete",
            OpKind::Export => "export",
            OpKind::DeleteSession => "delete_session",
        }
    }

    /// Index into per-kind arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

macro_rules! counters {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// Everything a run counts. Names group as `area.what` in `summary.json`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Counter {
            $(#[doc = $doc] $variant,)*
        }

        impl Counter {
            /// Every counter, in report order.
            pub const ALL: &'static [Counter] = &[$(Counter::$variant,)*];

            /// Its name in reports.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Counter::$variant => $name,)*
                }
            }
        }
    };
}

counters! {
    LocalWaits => "client.lock_waits", "client-tier requests that queued";
    LocalTimeouts => "client.lock_timeouts", "client-tier requests that timed out";
    ServerWaits => "server.lock_waits", "server requests that queued";
    ServerTimeouts => "server.lock_timeouts", "server requests that timed out";
    Deadlocks => "server.deadlocks", "requests refused as deadlocks (either tier)";
    ServerRefused => "server.refused_down", "requests refused because the server was restarting";
    WindowConflicts => "reservation.window_conflicts", "client tier granted, server refused or timed out";
    OptimisticConflicts => "optimistic.conflicts", "metadata commits that found a newer version";
    OptimisticRetries => "optimistic.retries", "re-read and retry after a conflict";
    OptimisticFailures => "optimistic.failures", "OptimisticLockError: every attempt conflicted";
    LeaseRenewals => "lease.renewals", "leases renewed";
    LeaseRenewFailures => "lease.renew_failures", "renewals refused (lease already gone)";
    LeaseExpiries => "lease.expiries", "server leases that ran out";
    ReleaseAfterExpiry => "lease.release_after_expiry", "releases that came after the lease had expired";
    LostReleases => "lease.lost_releases", "releases that reached a restarting server";
    FenceRejections => "fence.rejections", "fenced writes refused (stale token or dead lease)";
    CacheHits => "cache.hits", "views served from the local cache";
    CacheMisses => "cache.misses", "views that needed a download";
    CacheEvictions => "cache.evictions", "images dropped from a full cache";
    DownloadsStarted => "download.started", "downloads started";
    DownloadsJoined => "download.joined", "views that joined a download already in flight";
    DownloadsCompleted => "download.completed", "downloads that delivered the whole image";
    DownloadsFailed => "download.failed", "downloads that failed (every joined reader fails)";
    ViewNotFound => "download.not_found", "views of an image deleted meanwhile";
    TransfersStarted => "transfer.started", "connections opened";
    TransferRetries => "transfer.retries", "uploads retried after a failed transfer";
    TransferFailures => "transfer.failures", "transfers that failed, any cause";
    BacklogWaits => "transfer.backlog_waits", "connections that waited for a free handler";
    ClientGone => "transfer.client_gone", "server-side transfers whose client had crashed";
    HalfOpenReaped => "transfer.half_open_reaped", "silent connections dropped by the server's idle timeout";
    ImagesAcked => "images.acked", "images acknowledged to photographers";
    UploadsStored => "upload.stored", "uploads made visible";
    UploadDuplicates => "upload.duplicates", "repeated uploads of a stored image (lost reply)";
    UploadsStale => "upload.stale", "uploads refused by a newer delete's fence";
    ImagesDeleted => "images.deleted", "images deleted (image or session delete)";
    SessionsDeleted => "sessions.deleted", "sessions deleted";
    BytesMoved => "bytes.moved", "bytes moved by completed transfers";
    JobsShort => "jobs.short", "short-pool jobs run (thumbnails)";
    JobsLong => "jobs.long", "long-pool jobs run (exports)";
    JobsPending => "jobs.pending", "jobs that answered pending (ran past the 3-second rule)";
    JobPolls => "jobs.polls", "polls of pending jobs";
    JobsResumed => "jobs.resumed", "jobs resumed from their checkpoint after a server restart";
    FaultSocketCloseClient => "fault.socket_close_client", "client closed a socket mid-transfer";
    FaultSocketCloseServer => "fault.socket_close_server", "server closed a socket mid-transfer";
    FaultConnectionReset => "fault.connection_reset", "connection reset mid-transfer";
    FaultHalfOpen => "fault.half_open", "connection went half-open";
    FaultSlowDisk => "fault.slow_disk", "transfer on a slow disk";
    FaultClientCrash => "fault.client_crash", "workstation crashed";
    FaultClientPause => "fault.client_pause", "workstation paused past its leases";
    FaultServerRestart => "fault.server_restart", "server restarted";
}

const COUNTERS: usize = Counter::ALL.len();

/// A latency histogram in microseconds, up to a week.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 7 * 24 * 3600 * 1_000_000, 3)
        .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
}

fn record(h: &mut Histogram<u64>, d: Nanos) {
    // Saturating: a value past the top bound is clamped, never an error.
    h.saturating_record((d / 1000).max(1));
}

/// Contention seen in one session (a subtree).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contention {
    /// Server lock requests that queued.
    pub waits: u64,
    /// Server lock requests that timed out.
    pub timeouts: u64,
    /// Client granted, server refused.
    pub window_conflicts: u64,
    /// Optimistic commit conflicts.
    pub optimistic_conflicts: u64,
}

/// Everything a run measures.
#[derive(Debug)]
pub struct Metrics {
    /// Events processed.
    pub events: u64,
    /// Simulated duration, ns.
    pub simulated: Nanos,
    counters: [u64; COUNTERS],
    /// Completed operations per kind.
    pub done: [u64; 6],
    /// Failed operations per kind.
    pub failed: [u64; 6],
    /// Latency per operation kind, from intended start, µs.
    pub latency: [Histogram<u64>; 6],
    /// Server lock wait per level (read, write, delete), µs.
    pub server_wait: [Histogram<u64>; 3],
    /// Client-tier lock wait per level, µs.
    pub client_wait: [Histogram<u64>; 3],
    /// Wait for a free transfer handler, µs.
    pub backlog_wait: Histogram<u64>,
    /// Write-behind lag: acknowledged → stored on the server, µs.
    pub upload_lag: Histogram<u64>,
    /// Job queue wait per pool (short, long), µs.
    pub job_wait: [Histogram<u64>; 2],
    /// Completed operations per simulated minute.
    pub throughput: Vec<u64>,
    /// Contention per session.
    pub contention: BTreeMap<u32, Contention>,
}

impl Metrics {
    /// Empty figures.
    pub fn new() -> Metrics {
        Metrics {
            events: 0,
            simulated: 0,
            counters: [0; COUNTERS],
            done: [0; 6],
            failed: [0; 6],
            latency: std::array::from_fn(|_| histogram()),
            server_wait: std::array::from_fn(|_| histogram()),
            client_wait: std::array::from_fn(|_| histogram()),
            backlog_wait: histogram(),
            upload_lag: histogram(),
            job_wait: std::array::from_fn(|_| histogram()),
            throughput: Vec::new(),
            contention: BTreeMap::new(),
        }
    }

    /// Adds one to `c`.
    #[inline]
    pub fn count(&mut self, c: Counter) {
        self.counters[c as usize] += 1;
    }

    /// Adds `n` to `c`.
    #[inline]
    pub fn add(&mut self, c: Counter, n: u64) {
        self.counters[c as usize] += n;
    }

    /// The value of `c`.
    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    /// Every counter by name, in report order.
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Counter::ALL.iter().map(|c| (c.name(), self.get(*c)))
    }

    /// Contention figures of `session`, to add to.
    pub fn session(&mut self, session: u32) -> &mut Contention {
        self.contention.entry(session).or_default()
    }

    /// An operation finished at `now`, `latency` after it was meant to start.
    pub fn op_done(&mut self, kind: OpKind, latency: Nanos, now: Nanos) {
        self.done[kind.index()] += 1;
        record(&mut self.latency[kind.index()], latency);
        let bucket = (now / MINUTE) as usize;
        if self.throughput.len() <= bucket {
            self.throughput.resize(bucket + 1, 0);
        }
        self.throughput[bucket] += 1;
    }

    /// An operation gave up.
    pub fn op_failed(&mut self, kind: OpKind) {
        self.failed[kind.index()] += 1;
    }

    /// A lock request of the server (or a client tier) was granted after waiting `waited`.
    pub fn lock_wait(&mut self, server: bool, level: Level, waited: Nanos) {
        let h = if server {
            &mut self.server_wait
        } else {
            &mut self.client_wait
        };
        record(&mut h[level.index()], waited);
    }

    /// A connection waited `waited` for a handler.
    pub fn backlog(&mut self, waited: Nanos) {
        record(&mut self.backlog_wait, waited);
    }

    /// An acknowledged image reached the server `lag` after its acknowledgement.
    pub fn uploaded(&mut self, lag: Nanos) {
        record(&mut self.upload_lag, lag);
    }

    /// A job of pool `long` waited `waited` in its queue.
    pub fn job_waited(&mut self, long: bool, waited: Nanos) {
        record(&mut self.job_wait[usize::from(long)], waited);
    }

    /// Closes the run at `end`.
    pub fn finish(&mut self, end: Nanos) {
        self.simulated = end;
        let buckets = end.div_ceil(MINUTE) as usize;
        self.throughput
            .resize(buckets.max(self.throughput.len()), 0);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
