//! The simulated studio: workstations with worker threads and upload pools, a client-tier
//! lock table per workstation, the server's leased reservation table, image store, metadata
//! (optimistic versions) and fences. Every lock decision is made by the library's pure
//! `LockTable`; this module only moves messages between actors in virtual time.

mod server_jobs;
mod transfers;

pub use transfers::{Conn, Transfer};

use crate::check::{Checker, Violation};
use crate::engine::{EventQueue, Nanos, Streams, MS};
use crate::handlers::Handlers;
use crate::jobs::{JobServer, Pool};
use crate::metrics::Metrics;
use crate::workload::Workload;
use lockstudio::fence::Fence;
use lockstudio::versioned::{RetryPolicy, Versions};
use lockstudio::{
    Decision, Effect, Level, LockError, LockModel, LockPath, LockTable, Owner, RequestOptions, Time,
};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// What a worker thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    /// Shoot and upload an image.
    Shoot,
    /// View an image of a session.
    View,
    /// Edit a session's metadata under a lease.
    Edit,
    /// Delete an image.
    Delete,
    /// Run a server job and poll it while it is pending.
    Job,
    /// Delete a whole session: a delete reservation on its directory.
    DeleteSession,
    /// List a session: a read reservation on its directory.
    Browse,
}

impl OpKind {
    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Shoot => "shoot",
            OpKind::View => "view",
            OpKind::Edit => "edit",
            OpKind::Delete => "delete",
            OpKind::Job => "job",
            OpKind::DeleteSession => "delete_session",
            OpKind::Browse => "browse",
        }
    }

    /// The counter of finished (`done`) or failed operations of this kind.
    pub fn counter(self, done: bool) -> &'static str {
        match (self, done) {
            (OpKind::Shoot, true) => "ops.shoot.done",
            (OpKind::Shoot, false) => "ops.shoot.failed",
            (OpKind::View, true) => "ops.view.done",
            (OpKind::View, false) => "ops.view.failed",
            (OpKind::Edit, true) => "ops.edit.done",
            (OpKind::Edit, false) => "ops.edit.failed",
            (OpKind::Delete, true) => "ops.delete.done",
            (OpKind::Delete, false) => "ops.delete.failed",
            (OpKind::Job, true) => "ops.job.done",
            (OpKind::Job, false) => "ops.job.failed",
            (OpKind::DeleteSession, true) => "ops.delete_session.done",
            (OpKind::DeleteSession, false) => "ops.delete_session.failed",
            (OpKind::Browse, true) => "ops.browse.done",
            (OpKind::Browse, false) => "ops.browse.failed",
        }
    }
}

#[derive(Clone, Debug)]
struct Op {
    kind: OpKind,
    session: u32,
    image: u64,
    path: LockPath,
    level: Level,
    intended: Nanos,
    local_held: bool,
    fence: Option<u64>,
    meta_read: Option<(u64, lockstudio::versioned::Version)>,
    commit_tries: u32,
    job_work: Option<(Pool, Nanos)>,
    /// The token of the operation's first grant: an editor's read, which must still be live
    /// when its fenced write lands.
    first_fence: Option<u64>,
    /// An editor asked to upgrade its read to a write / holds both.
    upgrading: bool,
    upgraded: bool,
}

#[derive(Debug)]
struct Thread {
    ws: usize,
    owner: Owner,
    gen: u64,
    op: Option<Op>,
}

#[derive(Debug, Default)]
struct Workstation {
    local: LockTable,
    incarnation: u64,
    down: bool,
    paused_until: Nanos,
    cache: BTreeSet<u64>,
    uploads: VecDeque<(u64, u64)>,
    /// Uploads being transferred, by worker: still on local disk until the server confirms.
    in_flight: BTreeMap<usize, (u64, u64)>,
    idle_workers: Vec<usize>,
    worker_gen: u64,
    downloads: BTreeMap<u64, transfers::Download>,
    local_tickets: BTreeMap<u64, (usize, u64)>,
    tick_at: Option<Nanos>,
}

#[derive(Debug)]
struct Server {
    table: LockTable,
    down_until: Nanos,
    images: BTreeMap<u64, (u32, u64)>,
    /// Images on the server by session, for picking one to view or delete.
    by_session: BTreeMap<u32, BTreeSet<u64>>,
    deleted: BTreeSet<u64>,
    meta: Versions<u32, u64>,
    fences: BTreeMap<u32, Fence>,
    tickets: BTreeMap<u64, Waiting>,
    tick_at: Option<Nanos>,
    handlers: Handlers<Conn>,
    jobs: JobServer,
    /// Clients still waiting on a job submission (until it finishes or turns pending).
    job_waiters: BTreeMap<u64, (usize, u64)>,
}

/// A request queued at the server, by ticket.
#[derive(Debug)]
struct Waiting {
    t: usize,
    gen: u64,
    owner: Owner,
    path: LockPath,
    level: Level,
    since: Nanos,
}

#[derive(Clone, Debug)]
enum Reply {
    Granted(u64),
    Refused(&'static str),
    JobPending(u64, u32),
    JobFinished(u64),
}

#[derive(Clone, Debug)]
enum Ev {
    Think {
        t: usize,
        gen: u64,
    },
    Reserve {
        t: usize,
        gen: u64,
    },
    ReleaseAtServer {
        owner: Owner,
        path: LockPath,
        level: Level,
    },
    Reply {
        t: usize,
        gen: u64,
        reply: Reply,
    },
    LocalGranted {
        t: usize,
        gen: u64,
    },
    Finish {
        t: usize,
        gen: u64,
    },
    Commit {
        t: usize,
        gen: u64,
    },
    Renew {
        t: usize,
        gen: u64,
    },
    Upgrade {
        t: usize,
        gen: u64,
    },
    // Boxed: a connection is the largest payload, and every queued event pays its size.
    Connect {
        conn: Box<Conn>,
    },
    TransferDone {
        handler: usize,
        conn: Box<Conn>,
        outcome: Transfer,
    },
    JobSubmit {
        t: usize,
        gen: u64,
    },
    JobDone {
        job: u64,
        epoch: u64,
    },
    JobDeadline {
        job: u64,
    },
    JobPoll {
        t: usize,
        gen: u64,
        job: u64,
    },
    ServerUp,
    WorkerIdle {
        ws: usize,
        worker: usize,
        wgen: u64,
    },
    ServerTick,
    LocalTick {
        ws: usize,
    },
    Crash {
        ws: usize,
    },
    Restart {
        ws: usize,
    },
    Pause {
        ws: usize,
    },
    ServerRestart,
    CrashCheck {
        ws: usize,
        incarnation: u64,
    },
}

impl Ev {
    fn code(&self) -> u64 {
        match self {
            Ev::Think { .. } => 1,
            Ev::Reserve { .. } => 2,
            Ev::ReleaseAtServer { .. } => 3,
            Ev::Reply { .. } => 4,
            Ev::LocalGranted { .. } => 5,
            Ev::Finish { .. } => 6,
            Ev::Commit { .. } => 7,
            Ev::Renew { .. } => 8,
            Ev::Upgrade { .. } => 24,
            Ev::Connect { .. } => 9,
            Ev::TransferDone { .. } => 10,
            Ev::ServerTick => 11,
            Ev::LocalTick { .. } => 12,
            Ev::Crash { .. } => 13,
            Ev::Restart { .. } => 14,
            Ev::Pause { .. } => 15,
            Ev::ServerRestart => 16,
            Ev::CrashCheck { .. } => 17,
            Ev::WorkerIdle { .. } => 18,
            Ev::JobSubmit { .. } => 19,
            Ev::JobDone { .. } => 20,
            Ev::JobDeadline { .. } => 21,
            Ev::JobPoll { .. } => 22,
            Ev::ServerUp => 23,
        }
    }
}

/// What one run produced.
#[derive(Debug)]
pub struct RunResult {
    /// Figures for the summary.
    pub metrics: Metrics,
    /// Invariant violations, in the order found.
    pub violations: Vec<Violation>,
    /// FNV-1a digest of every processed event: equal digests mean equal histories.
    pub trace_digest: u64,
    /// Human-readable timeline, when tracing was asked for.
    pub trace: Vec<String>,
}

/// One simulated studio.
pub struct World {
    w: Workload,
    rng: Streams,
    queue: EventQueue<Ev>,
    now: Nanos,
    threads: Vec<Thread>,
    stations: Vec<Workstation>,
    server: Server,
    next_image: u64,
    check: Checker,
    metrics: Metrics,
    digest: u64,
    trace: Option<Vec<String>>,
    chaos_end: Nanos,
    end: Nanos,
}

fn ms(v: u64) -> Nanos {
    v.saturating_mul(MS)
}

fn time(n: Nanos) -> Time {
    Time::from_nanos(n)
}

impl World {
    /// A studio for `w` and `seed`, ready to run.
    pub fn new(w: &Workload, seed: u64, trace: bool) -> World {
        let chaos_end = w.chaos_seconds * crate::engine::SEC;
        let end = chaos_end + w.heal_seconds * crate::engine::SEC;
        let mut world = World {
            w: w.clone(),
            rng: Streams::new(seed),
            queue: EventQueue::default(),
            now: 0,
            threads: Vec::new(),
            stations: Vec::new(),
            server: Server {
                table: LockTable::new(),
                down_until: 0,
                images: BTreeMap::new(),
                by_session: BTreeMap::new(),
                deleted: BTreeSet::new(),
                meta: Versions::default(),
                fences: BTreeMap::new(),
                tickets: BTreeMap::new(),
                tick_at: None,
                handlers: Handlers::new(w.server.transfer_handlers as usize),
                jobs: JobServer::new(
                    w.server.short_job_workers as usize,
                    w.server.long_job_workers as usize,
                    ms(w.server.checkpoint_ms),
                ),
                job_waiters: BTreeMap::new(),
            },
            next_image: 1,
            check: Checker::default(),
            metrics: Metrics::new(),
            digest: crate::engine::fnv1a(&seed.to_le_bytes()),
            trace: trace.then(Vec::new),
            chaos_end,
            end,
        };
        world.populate();
        world
    }

    fn populate(&mut self) {
        for ws in 0..self.w.workstations as usize {
            let idle_workers = (0..self.w.upload_threads as usize).collect();
            self.stations.push(Workstation {
                idle_workers,
                ..Workstation::default()
            });
            for i in 0..self.w.threads_per_workstation as usize {
                let t = self.threads.len();
                self.threads.push(Thread {
                    ws,
                    owner: owner_of(ws, 0, i),
                    gen: 0,
                    op: None,
                });
                let first = self.think_time();
                self.queue.push(first, Ev::Think { t, gen: 0 });
            }
            self.schedule_fault(Ev::Crash { ws });
            self.schedule_fault(Ev::Pause { ws });
        }
        self.schedule_fault(Ev::ServerRestart);
    }

    fn think_time(&mut self) -> Nanos {
        let u: f64 = self.rng.workload.gen_range(f64::EPSILON..1.0);
        self.now + (-(u.ln()) * ms(self.w.think_ms) as f64) as Nanos
    }

    fn schedule_fault(&mut self, ev: Ev) {
        let f = &self.w.faults;
        let rate = match ev {
            Ev::Crash { .. } => f.client_crash_per_hour,
            Ev::Pause { .. } => f.client_pause_per_hour,
            _ => f.server_restart_per_hour,
        };
        if rate <= 0.0 {
            return;
        }
        let u: f64 = self.rng.faults.gen_range(f64::EPSILON..1.0);
        let at = self.now + (-(u.ln()) / rate * 3600.0e9) as Nanos;
        if at < self.chaos_end {
            self.queue.push(at, ev);
        }
    }

    /// Runs to the end of the heal phase and checks the end-of-run invariants.
    pub fn run(mut self) -> RunResult {
        while let Some((at, ev)) = self.queue.pop() {
            if at > self.end {
                break;
            }
            self.now = at;
            self.metrics.events += 1;
            self.fold(&ev);
            self.handle(ev);
        }
        self.now = self.end;
        self.final_checks();
        self.metrics.finish(self.end);
        RunResult {
            metrics: self.metrics,
            violations: self.check.violations,
            trace_digest: self.digest,
            trace: self.trace.unwrap_or_default(),
        }
    }

    fn fold(&mut self, ev: &Ev) {
        for word in [self.now, ev.code()] {
            self.digest = (self.digest ^ word).wrapping_mul(0x0000_0100_0000_01b3);
        }
        if self.trace.is_some() {
            let line = format!(
                "{:>12.3} ms  {ev:?}{}",
                self.now as f64 / 1e6,
                self.context(ev)
            );
            if let Some(trace) = &mut self.trace {
                trace.push(line);
            }
        }
    }

    /// For a trace line: who the event's thread is and what it is doing.
    fn context(&self, ev: &Ev) -> String {
        let t = match ev {
            Ev::Think { t, .. }
            | Ev::Reserve { t, .. }
            | Ev::Reply { t, .. }
            | Ev::LocalGranted { t, .. }
            | Ev::Finish { t, .. }
            | Ev::Commit { t, .. }
            | Ev::Renew { t, .. }
            | Ev::Upgrade { t, .. }
            | Ev::JobSubmit { t, .. }
            | Ev::JobPoll { t, .. } => *t,
            _ => return String::new(),
        };
        let th = &self.threads[t];
        match &th.op {
            Some(op) => format!(
                "   [ws {} {} {} {} on {}]",
                th.ws,
                th.owner,
                op.kind.name(),
                op.level,
                op.path
            ),
            None => format!("   [ws {} {} idle]", th.ws, th.owner),
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Think { t, gen } => self.think(t, gen),
            Ev::Reserve { t, gen } => self.reserve_at_server(t, gen),
            Ev::ReleaseAtServer { owner, path, level } => {
                self.release_at_server(owner, &path, level)
            }
            Ev::Reply { t, gen, reply } => self.on_reply(t, gen, reply),
            Ev::LocalGranted { t, gen } => self.send_reserve(t, gen),
            Ev::Finish { t, gen } => self.finish(t, gen),
            Ev::Commit { t, gen } => self.commit_meta(t, gen),
            Ev::Renew { t, gen } => self.renew(t, gen),
            Ev::Upgrade { t, gen } => self.upgrade(t, gen),
            Ev::Connect { conn } => self.on_connect(*conn),
            Ev::TransferDone {
                handler,
                conn,
                outcome,
            } => self.transfer_done(handler, *conn, outcome),
            Ev::JobSubmit { t, gen } => self.job_submit(t, gen),
            Ev::JobDone { job, epoch } => self.job_done(job, epoch),
            Ev::JobDeadline { job } => self.job_deadline(job),
            Ev::JobPoll { t, gen, job } => self.job_poll(t, gen, job),
            Ev::ServerUp => {
                if self.server.down_until <= self.now {
                    self.jobs_resume();
                }
            }
            Ev::WorkerIdle { ws, worker, wgen } => self.worker_idle(ws, worker, wgen),
            Ev::ServerTick => {
                self.server.tick_at = None;
                self.server.table.advance(time(self.now));
                self.server_effects(None);
            }
            Ev::LocalTick { ws } => {
                self.stations[ws].tick_at = None;
                self.stations[ws].local.advance(time(self.now));
                self.local_effects(ws);
            }
            Ev::Crash { ws } => self.crash(ws),
            Ev::Restart { ws } => self.restart(ws),
            Ev::Pause { ws } => {
                self.metrics.count("fault.client_pause");
                self.stations[ws].paused_until = self.now + ms(self.w.lease_ttl_ms * 2);
                self.schedule_fault(Ev::Pause { ws });
            }
            Ev::ServerRestart => {
                self.metrics.count("fault.server_restart");
                self.server.down_until = self.now + ms(self.w.restart_ms);
                self.jobs_crash();
                self.drop_backlog();
                self.queue.push(self.server.down_until, Ev::ServerUp);
                self.schedule_fault(Ev::ServerRestart);
            }
            Ev::CrashCheck { ws, incarnation } => {
                let stale: Vec<Owner> = self
                    .server
                    .table
                    .holds()
                    .into_iter()
                    .map(|(_, h)| h.owner)
                    .filter(|o| station_of(*o) == (ws, incarnation))
                    .collect();
                self.check.crashed_reservations(self.now, ws, &stale);
            }
        }
    }

    /// A thread's events wait while its workstation is paused, and vanish after a crash.
    fn live(&mut self, t: usize, gen: u64, ev: &Ev) -> bool {
        let th = &self.threads[t];
        if th.gen != gen || self.stations[th.ws].down {
            return false;
        }
        let until = self.stations[th.ws].paused_until;
        if until > self.now {
            self.queue.push(until, ev.clone());
            return false;
        }
        true
    }

    fn think(&mut self, t: usize, gen: u64) {
        if !self.live(t, gen, &Ev::Think { t, gen }) || self.now >= self.chaos_end {
            return;
        }
        let op = self.pick_op();
        let ws = self.threads[t].ws;
        let owner = self.threads[t].owner;
        if op.kind == OpKind::Shoot {
            let opts = RequestOptions {
                timeout: Some(Duration::from_millis(self.w.request_timeout_ms)),
                ttl: None,
            };
            let decision =
                self.stations[ws]
                    .local
                    .request(owner, &op.path, op.level, opts, time(self.now));
            self.threads[t].op = Some(op);
            match decision {
                Ok(Decision::Granted(_)) => self.send_reserve(t, gen),
                Ok(Decision::Queued(ticket)) => {
                    self.metrics.count("client.local_waits");
                    self.stations[ws].local_tickets.insert(ticket.0, (t, gen));
                }
                Err(_) => self.fail_op(t, "client.local_refused"),
            }
            self.local_effects(ws);
        } else if op.kind == OpKind::Job {
            self.threads[t].op = Some(op);
            let at = self.now + ms(self.w.network_ms);
            self.queue.push(at, Ev::JobSubmit { t, gen });
        } else {
            self.threads[t].op = Some(op);
            self.send_reserve(t, gen);
        }
    }

    fn pick_op(&mut self) -> Op {
        let m = &self.w.mix;
        let weights = [
            (OpKind::Shoot, m.shoot),
            (OpKind::View, m.view),
            (OpKind::Edit, m.edit),
            (OpKind::Delete, m.delete),
            (OpKind::Job, m.job),
            (OpKind::DeleteSession, m.delete_session),
            (OpKind::Browse, m.browse),
        ];
        let mut r = self.rng.workload.gen_range(0..self.w.mix_total());
        let mut kind = OpKind::View;
        for (k, w) in weights {
            if r < w {
                kind = k;
                break;
            }
            r -= w;
        }
        let hot = self.rng.workload.gen_bool(self.w.hot_session_share);
        let session = if hot {
            0
        } else {
            self.rng.workload.gen_range(0..self.w.sessions)
        };
        let existing = self
            .server
            .by_session
            .get(&session)
            .map_or(0, BTreeSet::len);
        let image = match kind {
            OpKind::Shoot => {
                self.next_image += 1;
                self.next_image
            }
            OpKind::Delete | OpKind::View if existing > 0 => {
                let nth = self.rng.workload.gen_range(0..existing);
                let images = self.server.by_session.get(&session);
                images.and_then(|i| i.iter().nth(nth)).copied().unwrap_or(0)
            }
            _ => {
                if kind == OpKind::Delete {
                    kind = OpKind::View;
                }
                0
            }
        };
        let job_work = (kind == OpKind::Job).then(|| self.draw_job());
        let (path, level) = match kind {
            OpKind::Shoot => (image_path(session, image), Level::Write),
            // Viewing an image reads it; browsing an empty session reads the directory.
            OpKind::View if image != 0 => (image_path(session, image), Level::Read),
            OpKind::View | OpKind::Job | OpKind::Browse => (session_path(session), Level::Read),
            // An editor reviews under a read and upgrades to a write to save (two editors
            // saving at once is the classic upgrade deadlock the table reports).
            OpKind::Edit => (meta_path(session), Level::Read),
            OpKind::Delete => (image_path(session, image), Level::Delete),
            OpKind::DeleteSession => (session_path(session), Level::Delete),
        };
        Op {
            kind,
            session,
            image,
            path,
            level,
            intended: self.now,
            local_held: kind == OpKind::Shoot,
            fence: None,
            meta_read: None,
            commit_tries: 0,
            job_work,
            first_fence: None,
            upgrading: false,
            upgraded: false,
        }
    }

    /// Sends `reply` to thread `t` one network delay from now.
    fn reply(&mut self, t: usize, gen: u64, reply: Reply) {
        let at = self.now + ms(self.w.network_ms);
        self.queue.push(at, Ev::Reply { t, gen, reply });
    }

    fn send_reserve(&mut self, t: usize, gen: u64) {
        if self.threads[t].gen != gen {
            return;
        }
        self.queue
            .push(self.now + ms(self.w.network_ms), Ev::Reserve { t, gen });
    }

    fn reserve_at_server(&mut self, t: usize, gen: u64) {
        if self.server.down_until > self.now {
            return self.reply(t, gen, Reply::Refused("server.unreachable"));
        }
        let Some(op) = &self.threads[t].op else {
            return;
        };
        let (path, level) = (op.path.clone(), op.level);
        let owner = self.threads[t].owner;
        let opts = RequestOptions {
            timeout: Some(Duration::from_millis(self.w.request_timeout_ms)),
            ttl: Some(Duration::from_millis(self.w.lease_ttl_ms)),
        };
        let decision = self
            .server
            .table
            .request(owner, &path, level, opts, time(self.now));
        match decision {
            Ok(Decision::Granted(g)) => {
                self.on_server_grant(None, owner, &path, level, 0);
                self.reply(t, gen, Reply::Granted(g.fence));
            }
            Ok(Decision::Queued(ticket)) => {
                self.metrics.count("server.waits");
                self.metrics.contended(subtree(&path), None, false);
                let since = self.now;
                let waiting = Waiting {
                    t,
                    gen,
                    owner,
                    path,
                    level,
                    since,
                };
                self.server.tickets.insert(ticket.0, waiting);
            }
            Err(LockError::Deadlock { .. }) => {
                self.metrics.count("server.deadlocks");
                self.reply(t, gen, Reply::Refused("server.deadlock"));
            }
            Err(_) => self.reply(t, gen, Reply::Refused("server.error")),
        }
        self.server_effects(None);
    }

    /// Records a server grant (of queued request `ticket`, or immediate) and checks it
    /// against the recorded holds and the requests still queued.
    fn on_server_grant(
        &mut self,
        ticket: Option<u64>,
        owner: Owner,
        path: &LockPath,
        level: Level,
        waited: Nanos,
    ) {
        self.metrics.lock_wait(level, waited);
        if waited > 0 {
            self.metrics.contended(subtree(path), Some(waited), false);
        }
        let ahead = self
            .server
            .tickets
            .range(..ticket.unwrap_or(u64::MAX))
            .map(|(_, w)| (w.owner, &w.path, w.level));
        self.check.fifo(owner, path, level, ahead, self.now);
        self.check.granted(owner, path, level, self.now);
    }

    /// Handles what the server table's last step did to others, then checks that no request
    /// queued on a path overlapping `released` or any path freed by the step (expiries,
    /// timeouts) was left without a blocker.
    fn server_effects(&mut self, released: Option<&LockPath>) {
        let effects: Vec<Effect> = self.server.table.effects().to_vec();
        let mut changed: Vec<LockPath> = released.into_iter().cloned().collect();
        // Holds that ended first, then grants: a grant may follow an expiry in one step.
        for e in &effects {
            match e {
                Effect::TimedOut { ticket, .. } => {
                    let Some(w) = self.server.tickets.remove(&ticket.0) else {
                        continue;
                    };
                    self.metrics.count("server.timeouts");
                    self.metrics.contended(subtree(&w.path), None, true);
                    self.reply(w.t, w.gen, Reply::Refused("server.timeout"));
                    changed.push(w.path);
                }
                Effect::Expired { owner, path, fence } => {
                    self.metrics.count("lease.expiries");
                    self.check.expired(*owner, path, *fence, self.now);
                    changed.push(path.clone());
                }
                Effect::Granted { .. } => {}
            }
        }
        // Every request granted in this step leaves the queue before any is checked, so a
        // batch of readers is not judged against its own members.
        let granted: Vec<(u64, Waiting, u64)> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Granted { ticket, grant, .. } => self
                    .server
                    .tickets
                    .remove(&ticket.0)
                    .map(|w| (ticket.0, w, grant.fence)),
                _ => None,
            })
            .collect();
        for (ticket, w, fence) in granted {
            let waited = self.now - w.since;
            self.on_server_grant(Some(ticket), w.owner, &w.path, w.level, waited);
            self.reply(w.t, w.gen, Reply::Granted(fence));
        }
        if !changed.is_empty() {
            let waiting = self
                .server
                .tickets
                .iter()
                .map(|(ticket, w)| (lockstudio::Ticket(*ticket), &w.path));
            self.check
                .no_lost_wakeup(&self.server.table, &changed, waiting, self.now);
        }
        if let Some(next) = self.server.table.next_deadline() {
            let at = next.as_nanos().max(self.now);
            if self.server.tick_at.is_none_or(|s| at < s) {
                self.server.tick_at = Some(at);
                self.queue.push(at, Ev::ServerTick);
            }
        }
    }

    fn local_effects(&mut self, ws: usize) {
        let effects: Vec<Effect> = self.stations[ws].local.effects().to_vec();
        for e in effects {
            match e {
                Effect::Granted { ticket, .. } => {
                    if let Some((t, gen)) = self.stations[ws].local_tickets.remove(&ticket.0) {
                        self.queue.push(self.now, Ev::LocalGranted { t, gen });
                    }
                }
                Effect::TimedOut { ticket, .. } => {
                    if let Some((t, gen)) = self.stations[ws].local_tickets.remove(&ticket.0) {
                        if self.threads[t].gen == gen {
                            if let Some(op) = &mut self.threads[t].op {
                                op.local_held = false;
                            }
                            self.fail_op(t, "client.local_timeouts");
                        }
                    }
                }
                Effect::Expired { .. } => {}
            }
        }
        if let Some(next) = self.stations[ws].local.next_deadline() {
            let at = next.as_nanos().max(self.now);
            if self.stations[ws].tick_at.is_none_or(|s| at < s) {
                self.stations[ws].tick_at = Some(at);
                self.queue.push(at, Ev::LocalTick { ws });
            }
        }
    }

    fn on_reply(&mut self, t: usize, gen: u64, reply: Reply) {
        if !self.live(
            t,
            gen,
            &Ev::Reply {
                t,
                gen,
                reply: reply.clone(),
            },
        ) {
            return;
        }
        let fence = match reply {
            Reply::Granted(f) => f,
            Reply::JobPending(job, permille) => return self.on_job_pending(t, gen, job, permille),
            Reply::JobFinished(job) => return self.on_job_finished(t, gen, job),
            Reply::Refused(why) => {
                if self.threads[t]
                    .op
                    .as_ref()
                    .is_some_and(|o| o.kind == OpKind::Shoot)
                {
                    self.metrics.count("reservation.window_conflicts");
                }
                return self.fail_op(t, why);
            }
        };
        let Some(op) = &mut self.threads[t].op else {
            return;
        };
        op.fence = Some(fence);
        op.first_fence.get_or_insert(fence);
        let upgraded = std::mem::take(&mut op.upgrading);
        op.upgraded |= upgraded;
        let (kind, session, image) = (op.kind, op.session, op.image);
        let ws = self.threads[t].ws;
        match kind {
            OpKind::Shoot => {
                // Write the image locally, then commit the session's image count optimistically.
                self.read_meta(t, session);
                self.queue
                    .push(self.now + ms(self.w.write_ms), Ev::Commit { t, gen });
            }
            OpKind::Edit if upgraded => self.commit_meta(t, gen),
            OpKind::Edit => {
                self.read_meta(t, session);
                self.queue
                    .push(self.now + ms(self.w.lease_ttl_ms / 2), Ev::Renew { t, gen });
                self.queue
                    .push(self.now + ms(self.w.edit_hold_ms), Ev::Upgrade { t, gen });
            }
            OpKind::View => {
                if image == 0 || self.stations[ws].cache.contains(&image) {
                    self.metrics.count("cache.hits");
                    return self.finish(t, gen);
                }
                self.view_miss(t, gen, ws, image);
            }
            OpKind::Job => {}
            OpKind::Browse => self.finish(t, gen),
            OpKind::Delete => {
                self.delete_image(image);
                self.finish(t, gen);
            }
            OpKind::DeleteSession => {
                // Everything shot into the session so far goes, including images still in
                // some workstation's upload queue: their uploads will be dropped.
                for image in self.check.acked_in(session) {
                    self.delete_image(image);
                }
                // A new version, so a commit read before the delete conflicts.
                let current = self.server.meta.version(&session);
                if self.server.meta.commit(session, current, 0).is_err() {
                    self.metrics.count("optimistic.exhausted");
                }
                self.metrics.count("sessions.deleted");
                self.finish(t, gen);
            }
        }
    }

    fn delete_image(&mut self, image: u64) {
        if let Some((s, _)) = self.server.images.remove(&image) {
            if let Some(set) = self.server.by_session.get_mut(&s) {
                set.remove(&image);
            }
        }
        if self.server.deleted.insert(image) {
            self.check.deleted(image);
            self.metrics.count("images.deleted");
        }
    }

    fn read_meta(&mut self, t: usize, session: u32) {
        let (value, version) = self
            .server
            .meta
            .read(&session)
            .map_or((0, lockstudio::versioned::Version(0)), |(v, ver)| (*v, ver));
        if let Some(op) = &mut self.threads[t].op {
            op.meta_read = Some((value, version));
        }
    }

    /// Optimistic metadata commit: the version read when the hold was granted must still be
    /// current; on conflict re-read and retry, up to `commit_attempts`.
    fn commit_meta(&mut self, t: usize, gen: u64) {
        if !self.live(t, gen, &Ev::Commit { t, gen }) {
            return;
        }
        let Some(op) = self.threads[t].op.clone() else {
            return;
        };
        if op.kind == OpKind::Edit && !self.fenced_write_ok(t, &op) {
            return self.fail_op(t, "fence.rejections");
        }
        let Some((value, version)) = op.meta_read else {
            return;
        };
        match self.server.meta.commit(op.session, version, value + 1) {
            Ok(_) => self.finish_after_commit(t, gen),
            Err(_) => {
                self.metrics.count("optimistic.conflicts");
                let tries = op.commit_tries + 1;
                let limit = RetryPolicy::new(self.w.commit_attempts).map_or(3, |p| p.attempts());
                if tries >= limit {
                    self.metrics.count("optimistic.failures");
                    return self.finish_after_commit(t, gen);
                }
                self.metrics.count("optimistic.retries");
                self.read_meta(t, op.session);
                if let Some(op) = &mut self.threads[t].op {
                    op.commit_tries = tries;
                }
                self.queue
                    .push(self.now + ms(self.w.network_ms * 2), Ev::Commit { t, gen });
            }
        }
    }

    /// The editor's review is over: it asks to upgrade its read to a write.
    fn upgrade(&mut self, t: usize, gen: u64) {
        if !self.live(t, gen, &Ev::Upgrade { t, gen }) {
            return;
        }
        if let Some(op) = &mut self.threads[t].op {
            op.level = Level::Write;
            op.upgrading = true;
        }
        self.send_reserve(t, gen);
    }

    /// The server accepts an editor's write only while the hold its edit began under (its
    /// first token) is still live, and with a write token no older than the session's fence.
    fn fenced_write_ok(&mut self, t: usize, op: &Op) -> bool {
        let owner = self.threads[t].owner;
        let (Some(first), Some(token)) = (op.first_fence, op.fence) else {
            return false;
        };
        self.server.table.advance(time(self.now));
        self.server_effects(None);
        if self
            .server
            .table
            .check_fence(owner, &op.path, first)
            .is_err()
        {
            return false;
        }
        let fence = self.server.fences.entry(op.session).or_default();
        if fence.accept(token).is_err() {
            return false;
        }
        self.check
            .fenced_write(op.session, owner, &op.path, first, token, self.now);
        true
    }

    fn finish_after_commit(&mut self, t: usize, gen: u64) {
        let kind = self.threads[t].op.as_ref().map(|o| o.kind);
        if kind == Some(OpKind::Shoot) {
            self.ack_shot(t);
        }
        self.finish(t, gen);
    }

    fn ack_shot(&mut self, t: usize) {
        let ws = self.threads[t].ws;
        let Some(op) = &self.threads[t].op else {
            return;
        };
        let sum = checksum(op.image);
        self.check.acked(op.image, op.session, sum);
        self.stations[ws].cache.insert(op.image);
        self.stations[ws].uploads.push_back((op.image, sum));
        self.metrics.count("images.acked");
        self.kick_uploads(ws);
    }

    fn finish(&mut self, t: usize, gen: u64) {
        if !self.live(t, gen, &Ev::Finish { t, gen }) {
            return;
        }
        let Some((kind, intended)) = self.threads[t].op.as_ref().map(|o| (o.kind, o.intended))
        else {
            return;
        };
        self.release_all(t);
        self.metrics.op_done(kind, self.now - intended, self.now);
        self.threads[t].op = None;
        let next = self.think_time();
        self.queue.push(next, Ev::Think { t, gen });
    }

    fn fail_op(&mut self, t: usize, why: &'static str) {
        self.metrics.count(why);
        self.release_all(t);
        if let Some(op) = self.threads[t].op.take() {
            self.metrics.op_failed(op.kind);
        }
        let gen = self.threads[t].gen;
        let next = self.think_time();
        self.queue.push(next, Ev::Think { t, gen });
    }

    fn release_all(&mut self, t: usize) {
        let ws = self.threads[t].ws;
        let owner = self.threads[t].owner;
        let Some(op) = &mut self.threads[t].op else {
            return;
        };
        if op.fence.take().is_some() {
            // An editor holds a read, plus a write once its upgrade was granted.
            let levels = match (op.kind, op.upgraded) {
                (OpKind::Edit, true) => [Some(Level::Write), Some(Level::Read)],
                (OpKind::Edit, false) => [Some(Level::Read), None],
                _ => [Some(op.level), None],
            };
            let at = self.now + ms(self.w.network_ms);
            for level in levels.into_iter().flatten() {
                let path = op.path.clone();
                self.queue
                    .push(at, Ev::ReleaseAtServer { owner, path, level });
            }
        }
        if std::mem::take(&mut op.local_held) {
            let path = op.path.clone();
            let level = op.level;
            if self.stations[ws]
                .local
                .release(owner, &path, Some(level), time(self.now))
                .is_err()
            {
                self.metrics.count("client.release_errors");
            }
            self.local_effects(ws);
        }
    }

    fn release_at_server(&mut self, owner: Owner, path: &LockPath, level: Level) {
        if self.server.down_until > self.now {
            self.metrics.count("server.lost_releases");
            return;
        }
        match self
            .server
            .table
            .release(owner, path, Some(level), time(self.now))
        {
            Ok(_) => self.check.hold_ended(owner, path, Some(level)),
            Err(LockError::LeaseExpired { .. }) => {
                self.metrics.count("server.release_after_expiry")
            }
            Err(_) => self.metrics.count("server.release_errors"),
        }
        self.server_effects(Some(path));
    }

    fn renew(&mut self, t: usize, gen: u64) {
        if self.threads[t].gen != gen || self.stations[self.threads[t].ws].down {
            return;
        }
        let Some(op) = self.threads[t].op.clone() else {
            return;
        };
        if op.fence.is_none() {
            return;
        }
        // A paused client misses its renewals; that is the point of the pause fault.
        if self.stations[self.threads[t].ws].paused_until <= self.now
            && self.server.down_until <= self.now
        {
            let ttl = Duration::from_millis(self.w.lease_ttl_ms);
            match self
                .server
                .table
                .renew(self.threads[t].owner, &op.path, ttl, time(self.now))
            {
                Ok(_) => self.metrics.count("lease.renewals"),
                Err(_) => self.metrics.count("lease.renew_failures"),
            }
            self.server_effects(None);
        }
        self.queue
            .push(self.now + ms(self.w.lease_ttl_ms / 2), Ev::Renew { t, gen });
    }

    fn crash(&mut self, ws: usize) {
        self.metrics.count("fault.client_crash");
        let inc = self.stations[ws].incarnation;
        let st = &mut self.stations[ws];
        st.down = true;
        st.local = LockTable::new();
        st.local_tickets.clear();
        st.downloads.clear();
        st.worker_gen += 1;
        for (_, item) in std::mem::take(&mut st.in_flight).into_iter().rev() {
            st.uploads.push_front(item);
        }
        st.idle_workers = (0..self.w.upload_threads as usize).collect();
        for th in self.threads.iter_mut().filter(|th| th.ws == ws) {
            th.gen += 1;
            th.op = None;
        }
        // The server cannot know the client died: a request it had queued may still be granted
        // up to request_timeout later, and that lease then runs a full TTL.
        let grace = ms(self.w.lease_ttl_ms + self.w.request_timeout_ms + self.w.network_ms * 4)
            + crate::engine::SEC;
        self.queue.push(
            self.now + grace,
            Ev::CrashCheck {
                ws,
                incarnation: inc,
            },
        );
        self.queue
            .push(self.now + ms(self.w.restart_ms), Ev::Restart { ws });
        self.schedule_fault(Ev::Crash { ws });
    }

    fn restart(&mut self, ws: usize) {
        let st = &mut self.stations[ws];
        st.down = false;
        st.incarnation += 1;
        let inc = st.incarnation;
        let ids: Vec<usize> = (0..self.threads.len())
            .filter(|&t| self.threads[t].ws == ws)
            .collect();
        for (i, t) in ids.into_iter().enumerate() {
            self.threads[t].owner = owner_of(ws, inc, i);
            let gen = self.threads[t].gen;
            let at = self.think_time();
            self.queue.push(at, Ev::Think { t, gen });
        }
        self.kick_uploads(ws);
    }

    fn final_checks(&mut self) {
        let pending: usize = self.stations.iter().map(|s| s.uploads.len()).sum();
        let jobs = self.server.jobs.unfinished();
        self.check.end_of_run(&self.server.images, pending, jobs);
        let recorded = self.check.holds_standing() as u64;
        self.metrics.set("end.recorded_holds", recorded);
        self.metrics
            .set("end.server_holds", self.server.table.counts().holds as u64);
        self.metrics
            .set("end.images_on_server", self.server.images.len() as u64);
    }
}

/// Owners encode workstation, incarnation (restart count) and thread, so a restarted client
/// never reuses the identity its crashed incarnation held reservations under.
fn owner_of(ws: usize, incarnation: u64, thread: usize) -> Owner {
    Owner::new(((ws as u64) << 40) | ((incarnation & 0xf_ffff) << 20) | thread as u64)
}

fn station_of(owner: Owner) -> (usize, u64) {
    ((owner.id() >> 40) as usize, (owner.id() >> 20) & 0xf_ffff)
}

/// The subtree a path's contention is charged to: its first two segments.
fn subtree(path: &LockPath) -> &str {
    let text = path.as_str();
    let cut = text
        .match_indices('/')
        .nth(2)
        .map_or(text.len(), |(i, _)| i);
    &text[..cut]
}

/// `/studio/s<session>` followed by `tail`, built in one buffer and validated once (this runs
/// for every operation, so no chain of `join`s).
fn studio_path(session: u32, tail: std::fmt::Arguments<'_>) -> LockPath {
    use std::fmt::Write;
    let mut text = String::with_capacity(48);
    let _ = write!(text, "/studio/s{session}{tail}");
    LockPath::parse(&text).unwrap_or_else(|_| LockPath::root())
}

fn session_path(session: u32) -> LockPath {
    studio_path(session, format_args!(""))
}

/// The session's metadata file, which an editor holds for minutes.
fn meta_path(session: u32) -> LockPath {
    studio_path(session, format_args!("/session.xml"))
}

fn image_path(session: u32, image: u64) -> LockPath {
    studio_path(session, format_args!("/img-{image}.jpg"))
}

/// The checksum a whole image must arrive with.
pub fn checksum(image: u64) -> u64 {
    crate::engine::fnv1a(&image.to_le_bytes())
}

fn image_size(image: u64) -> u64 {
    2_000_000 + (checksum(image) % 4_000_000)
}
