//! A worker thread: think, pick an operation, take the client-tier reservation, then the
//! server one (two tiers, after Creation Center), do the work, release both.

use super::event::{Msg, Refusal, Reply, Timer};
use super::{Ev, World};
use crate::check::history::{PathId, Record, Resource};
use crate::engine::{ms, Nanos};
use crate::report::metrics::{Counter, OpKind};
use lockstudio::reservation::ReservationKind;
use lockstudio::versioned::{Retry, RetryPolicy, RetryStep};
use lockstudio::{Level, Owner, Version};
use rand::Rng;
use std::time::Duration;

/// Where an operation's client-tier reservation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Local {
    /// Not asked for, or given back.
    None,
    /// Queued in the client tier.
    Queued,
    /// Held.
    Held,
}

/// One operation in progress.
#[derive(Clone, Debug)]
pub(crate) struct Op {
    pub kind: OpKind,
    pub session: u32,
    pub image: u64,
    pub path: PathId,
    pub level: Level,
    /// When the thread meant to start it (latency is measured from here).
    pub intended: Nanos,
    pub local: Local,
    /// The server reservation's token, while held.
    pub fence: Option<u64>,
    /// Session metadata as last read: (image count, version).
    pub meta: (u64, Version),
    pub retry: Retry,
    /// The export job, once submitted.
    pub job: Option<u64>,
    /// Whether it waits in the client tier (for the wait histogram).
    pub local_since: Nanos,
}

/// A worker thread of a workstation.
#[derive(Clone, Debug)]
pub(crate) struct Thread {
    pub ws: u32,
    /// Index within its workstation.
    pub idx: u32,
    pub owner: Owner,
    /// Bumped when an operation ends and when the workstation crashes: events carrying an
    /// older generation are stale.
    pub gen: u32,
    pub op: Option<Op>,
}

impl Thread {
    pub(crate) fn new(ws: u32, idx: u32, owner: Owner) -> Thread {
        Thread {
            ws,
            idx,
            owner,
            gen: 0,
            op: None,
        }
    }
}

/// The level each operation reserves: reservations come in two kinds (read, write) and a
/// write reservation is exclusive (`ReservationKind::Write.level()`); an editor takes the
/// joinable `Write` on the session so viewers keep reading its images.
fn level_of(kind: OpKind) -> Level {
    match kind {
        OpKind::Shoot | OpKind::Delete | OpKind::DeleteSession => ReservationKind::Write.level(),
        OpKind::View | OpKind::Export => ReservationKind::Read.level(),
        OpKind::Edit => Level::Write,
    }
}

impl World {
    /// Whether an event of thread `t` with generation `gen` may run now. Events of a paused
    /// workstation wait until it thaws (they are pushed back); stale ones vanish.
    pub(crate) fn live(&mut self, t: u32, gen: u32, ev: Ev) -> bool {
        let th = &self.threads[t as usize];
        let st = &self.stations[th.ws as usize];
        if th.gen != gen || st.down {
            return false;
        }
        if st.paused_until > self.now {
            self.queue.push(st.paused_until, ev);
            return false;
        }
        true
    }

    pub(crate) fn send(&mut self, t: u32, msg: Msg) {
        let gen = self.threads[t as usize].gen;
        self.queue.push(
            self.now + ms(self.w.network_ms),
            Ev::ToServer { t, gen, msg },
        );
    }

    pub(crate) fn think(&mut self, t: u32, gen: u32, intended: Nanos) {
        if !self.live(t, gen, Ev::Think { t, gen, intended }) || self.now >= self.chaos_end {
            return;
        }
        let op = self.pick_op(intended);
        let th = &mut self.threads[t as usize];
        th.op = Some(op);
        self.local_request(t);
    }

    fn pick_op(&mut self, intended: Nanos) -> Op {
        let m = &self.w.mix;
        let weights = [
            m.shoot,
            m.view,
            m.edit,
            m.delete,
            m.export,
            m.delete_session,
        ];
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.rng.workload.gen_range(0..total);
        let mut kind = OpKind::Shoot;
        for (k, w) in OpKind::ALL.into_iter().zip(weights) {
            if r < u64::from(w) {
                kind = k;
                break;
            }
            r -= u64::from(w);
        }
        let hot = self.rng.workload.gen_bool(self.w.hot_session_share);
        let session = if hot {
            0
        } else {
            self.rng.workload.gen_range(0..self.w.sessions)
        };
        let mut image = 0;
        if matches!(kind, OpKind::View | OpKind::Delete) {
            match self.server.pick_image(session, &mut self.rng.workload) {
                Some(i) => image = i,
                // An empty session has nothing to view or delete: shoot into it instead.
                None => kind = OpKind::Shoot,
            }
        }
        if kind == OpKind::Shoot {
            self.next_image += 1;
            image = self.next_image;
        }
        let resource = match kind {
            OpKind::Shoot | OpKind::View | OpKind::Delete => Resource::Image(session, image),
            OpKind::Edit | OpKind::Export | OpKind::DeleteSession => Resource::Session(session),
        };
        let policy = RetryPolicy::new(self.w.commit_attempts)
            .and_then(|p| {
                p.with_backoff(
                    Duration::from_millis(self.w.commit_backoff_ms),
                    Duration::from_millis(self.w.commit_backoff_ms * 64),
                )
            })
            .unwrap_or_default();
        Op {
            kind,
            session,
            image,
            path: self.history.paths.intern(resource),
            level: level_of(kind),
            intended,
            local: Local::None,
            fence: None,
            meta: (0, Version::ABSENT),
            retry: Retry::new(policy),
            job: None,
            local_since: self.now,
        }
    }

    /// Client tier first: the thread's own workstation queues its threads.
    fn local_request(&mut self, t: u32) {
        let (ws, owner, gen) = {
            let th = &self.threads[t as usize];
            (th.ws, th.owner, th.gen)
        };
        let Some(op) = &self.threads[t as usize].op else {
            return;
        };
        let (path, level) = (op.path, op.level);
        match self.local_call_request(ws, t, gen, owner, path, level) {
            Ok(true) => self.local_granted(t),
            Ok(false) => {
                self.metrics.count(Counter::LocalWaits);
                if let Some(op) = &mut self.threads[t as usize].op {
                    op.local = super::worker::Local::Queued;
                }
            }
            Err(deadlock) => {
                if deadlock {
                    self.metrics.count(Counter::Deadlocks);
                }
                self.fail_op(t);
            }
        }
    }

    /// The client tier decided a queued request.
    pub(crate) fn local_done(&mut self, t: u32, gen: u32, granted: bool) {
        if !self.live(t, gen, Ev::LocalDone { t, gen, granted }) {
            return;
        }
        if granted {
            let since = self.threads[t as usize]
                .op
                .as_ref()
                .map_or(self.now, |o| o.local_since);
            let level = self.threads[t as usize]
                .op
                .as_ref()
                .map_or(Level::Read, |o| o.level);
            self.metrics.lock_wait(false, level, self.now - since);
            self.local_granted(t);
        } else {
            self.metrics.count(Counter::LocalTimeouts);
            if let Some(op) = &mut self.threads[t as usize].op {
                op.local = Local::None;
            }
            self.fail_op(t);
        }
    }

    fn local_granted(&mut self, t: u32) {
        let ws = self.threads[t as usize].ws;
        let Some(op) = &mut self.threads[t as usize].op else {
            return;
        };
        op.local = Local::Held;
        let (kind, image, session, path, level) =
            (op.kind, op.image, op.session, op.path, op.level);
        if kind == OpKind::View {
            if self.stations[ws as usize].cache_hit(image) {
                self.metrics.count(Counter::CacheHits);
                return self.finish_op(t);
            }
            self.metrics.count(Counter::CacheMisses);
            if self.join_download(ws, t, image) {
                return;
            }
        }
        let owner = self.threads[t as usize].owner;
        self.send(
            t,
            Msg::Reserve {
                owner,
                path,
                level,
                session,
            },
        );
    }

    pub(crate) fn at_client(&mut self, t: u32, gen: u32, reply: Reply) {
        if !self.live(t, gen, Ev::ToClient { t, gen, reply }) {
            return;
        }
        let Some(op) = &mut self.threads[t as usize].op else {
            return;
        };
        let (kind, session) = (op.kind, op.session);
        match reply {
            Reply::Granted {
                fence,
                value,
                version,
            } => {
                op.fence = Some(fence);
                op.meta = (value, version);
                self.arm(t, Timer::Renew, ms(self.w.lease_ttl_ms / 2));
                self.server_granted(t, kind);
            }
            Reply::Refused(why) => {
                match why {
                    Refusal::Fenced => self.metrics.count(Counter::FenceRejections),
                    Refusal::Deadlock => self.metrics.count(Counter::Deadlocks),
                    Refusal::Down => self.metrics.count(Counter::ServerRefused),
                    Refusal::Timeout | Refusal::Other => {}
                }
                if op.fence.is_none() {
                    // Granted by the client tier, refused by the server: the seed's window.
                    self.metrics.count(Counter::WindowConflicts);
                    self.metrics.session(session).window_conflicts += 1;
                }
                self.fail_op(t);
            }
            Reply::Committed => self.committed(t),
            Reply::Conflict { value, version } => {
                self.metrics.count(Counter::OptimisticConflicts);
                self.metrics.session(session).optimistic_conflicts += 1;
                op.meta = (value, version);
                match op.retry.on_conflict(version) {
                    RetryStep::Again { delay, .. } => {
                        self.metrics.count(Counter::OptimisticRetries);
                        let delay = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
                        self.arm(t, Timer::CommitRetry, delay);
                    }
                    RetryStep::GiveUp(_) => {
                        self.metrics.count(Counter::OptimisticFailures);
                        self.fail_op(t);
                    }
                }
            }
            Reply::Deleted | Reply::Done { .. } => self.finish_op(t),
            Reply::Pending { .. } => {
                self.metrics.count(Counter::JobPolls);
                self.arm(t, Timer::Poll, ms(self.w.server.poll_ms));
            }
        }
    }

    /// Both tiers are held: do the work.
    fn server_granted(&mut self, t: u32, kind: OpKind) {
        let Some(op) = &self.threads[t as usize].op else {
            return;
        };
        let (owner, path, image, session, fence) = (
            self.threads[t as usize].owner,
            op.path,
            op.image,
            op.session,
            op.fence.unwrap_or(0),
        );
        match kind {
            OpKind::Shoot => self.arm(t, Timer::WriteDone, ms(self.w.write_ms)),
            OpKind::Edit => self.arm(t, Timer::HoldOver, ms(self.w.edit_hold_ms)),
            OpKind::View => {
                let ws = self.threads[t as usize].ws;
                self.start_download(ws, t, image);
            }
            OpKind::Delete => self.send(
                t,
                Msg::DeleteImage {
                    owner,
                    path,
                    image,
                    fence,
                },
            ),
            OpKind::DeleteSession => self.send(
                t,
                Msg::DeleteSession {
                    owner,
                    path,
                    session,
                    fence,
                },
            ),
            OpKind::Export => {
                // The server releases the read reservation once it has its snapshot; the
                // client tier goes now. The thread then only waits for the job.
                let (ws, level) = (self.threads[t as usize].ws, op.level);
                self.send(
                    t,
                    Msg::Submit {
                        owner,
                        path,
                        level,
                        session,
                    },
                );
                if let Some(op) = &mut self.threads[t as usize].op {
                    op.fence = None;
                    op.local = Local::None;
                }
                self.local_call_release(ws, owner, path, level);
            }
        }
    }

    pub(crate) fn arm(&mut self, t: u32, timer: Timer, after: Nanos) {
        let gen = self.threads[t as usize].gen;
        self.queue
            .push(self.now + after, Ev::Timer { t, gen, timer });
    }

    pub(crate) fn timer(&mut self, t: u32, gen: u32, timer: Timer) {
        if timer == Timer::Renew {
            // A paused workstation misses its renewals: that is the point of the pause fault.
            let th = &self.threads[t as usize];
            if th.gen != gen || self.stations[th.ws as usize].down {
                return;
            }
            if self.stations[th.ws as usize].paused_until > self.now {
                let until = self.stations[th.ws as usize].paused_until;
                self.queue.push(until, Ev::Timer { t, gen, timer });
                return;
            }
        } else if !self.live(t, gen, Ev::Timer { t, gen, timer }) {
            return;
        }
        let owner = self.threads[t as usize].owner;
        let Some(op) = &self.threads[t as usize].op else {
            return;
        };
        let (path, session, fence, meta, job) = (op.path, op.session, op.fence, op.meta, op.job);
        match timer {
            Timer::Renew => {
                if fence.is_some() {
                    self.send(t, Msg::Renew { owner, path });
                    self.arm(t, Timer::Renew, ms(self.w.lease_ttl_ms / 2));
                }
            }
            Timer::WriteDone | Timer::CommitRetry
                if self.threads[t as usize]
                    .op
                    .as_ref()
                    .is_some_and(|o| o.kind == OpKind::Shoot) =>
            {
                self.send(
                    t,
                    Msg::Commit {
                        owner,
                        path,
                        session,
                        fence: None,
                        expected: meta.1,
                        value: meta.0 + 1,
                    },
                );
            }
            Timer::HoldOver | Timer::CommitRetry => {
                self.send(
                    t,
                    Msg::Commit {
                        owner,
                        path,
                        session,
                        fence,
                        expected: meta.1,
                        value: meta.0 + 1,
                    },
                );
            }
            Timer::WriteDone => {}
            Timer::Poll => {
                if let Some(job) = job {
                    self.send(t, Msg::Poll { job });
                }
            }
        }
    }

    /// The metadata commit is in: a shot image is now acknowledged to its photographer and
    /// queued for upload; an edit is done.
    fn committed(&mut self, t: u32) {
        let ws = self.threads[t as usize].ws;
        let Some(op) = &self.threads[t as usize].op else {
            return;
        };
        if op.kind == OpKind::Shoot {
            let (image, session, fence, path) =
                (op.image, op.session, op.fence.unwrap_or(0), op.path);
            let (size, sum) = (image_size(image), checksum(image));
            self.note(Record::Acked {
                image,
                session,
                fence,
                size,
                sum,
            });
            self.metrics.count(Counter::ImagesAcked);
            self.stations[ws as usize].cache_put(image, &mut self.metrics);
            self.enqueue_upload(
                ws,
                super::client::Upload {
                    image,
                    session,
                    fence,
                    size,
                    sum,
                    path,
                    acked: self.now,
                },
            );
        }
        self.finish_op(t);
    }

    pub(crate) fn finish_op(&mut self, t: u32) {
        let Some(op) = self.end_op(t) else { return };
        self.metrics
            .op_done(op.kind, self.now - op.intended, self.now);
    }

    pub(crate) fn fail_op(&mut self, t: u32) {
        let Some(op) = self.end_op(t) else { return };
        self.metrics.op_failed(op.kind);
    }

    /// Releases both tiers, bumps the generation (stale timers die) and thinks again.
    fn end_op(&mut self, t: u32) -> Option<super::worker::Op> {
        let th = &mut self.threads[t as usize];
        let op = th.op.take()?;
        th.gen += 1;
        let (ws, owner, gen) = (th.ws, th.owner, th.gen);
        if op.fence.is_some() {
            self.send(
                t,
                Msg::Release {
                    owner,
                    path: op.path,
                    level: op.level,
                },
            );
        }
        if op.local == Local::Held {
            self.local_call_release(ws, owner, op.path, op.level);
        }
        let next = self.think_time();
        self.queue.push(
            next,
            Ev::Think {
                t,
                gen,
                intended: next,
            },
        );
        Some(op)
    }
}

/// The checksum a whole image must arrive with.
pub(crate) fn checksum(image: u64) -> u64 {
    crate::engine::fnv1a(&image.to_le_bytes())
}

/// An image's size: 2–6 MB, fixed per image.
pub(crate) fn image_size(image: u64) -> u64 {
    2_000_000 + (checksum(image) % 4_000_000)
}
