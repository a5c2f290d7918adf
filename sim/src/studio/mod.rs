//! The simulated studio: workstations with worker threads, a client image repository each
//! (cache, joinable downloads, write-behind upload queue and pool, client-tier lock table),
//! and the server (leased reservation table, fenced image store, optimistic metadata,
//! leader-follower transfer handlers, short and long job pools).
//!
//! Every lock decision is made by the library's pure `LockTable`; metadata commits use its
//! `Versions` and `Retry`, fenced writes its `Fence` / `FencedStore`, downloads its
//! `JoinableBuffer`. This module only moves messages between actors in virtual time and
//! records what happened for the checkers.
//!
//! Files: `event.rs` (what can happen), `worker.rs` (the operations of a worker thread),
//! `client.rs` (a workstation's repository), `server.rs` (the server's state and requests),
//! `tables.rs` (driving the lock tables and recording their decisions), `transfer.rs`
//! (connections, the transfer protocol and the leader-follower handlers), `jobs.rs` (job
//! pools), `crate::faults` (when faults fire and what they break).

mod client;
mod event;
mod jobs;
mod server;
mod tables;
pub(crate) mod transfer;
mod worker;

pub(crate) use event::Ev;

use crate::check::history::{owner_of, EndState, History, Params, Record};
use crate::engine::{ms, Digest, EventQueue, Nanos, Streams, SEC};
use crate::report::metrics::Metrics;
use crate::workload::Workload;
use client::Station;
use jobs::Jobs;
use server::Server;
use transfer::Conns;
use worker::Thread;

/// What one run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Figures for the summary.
    pub metrics: Metrics,
    /// Everything the checkers need.
    pub history: History,
    /// FNV-1a digest of every processed event and record: equal digests, equal histories.
    pub trace_digest: u64,
    /// The human-readable timeline, when tracing was asked for: (time, line).
    pub trace: Vec<(Nanos, String)>,
}

/// One simulated studio.
pub struct World {
    pub(crate) w: Workload,
    pub(crate) rng: Streams,
    pub(crate) queue: EventQueue<Ev>,
    pub(crate) now: Nanos,
    pub(crate) chaos_end: Nanos,
    pub(crate) end: Nanos,
    pub(crate) threads: Vec<Thread>,
    pub(crate) stations: Vec<Station>,
    pub(crate) server: Server,
    pub(crate) conns: Conns,
    pub(crate) jobs: Jobs,
    pub(crate) history: History,
    pub(crate) metrics: Metrics,
    pub(crate) digest: Digest,
    pub(crate) trace: Option<Vec<(Nanos, String)>>,
    pub(crate) next_image: u64,
}

impl World {
    /// A studio for `w` and `seed`, ready to run.
    pub fn new(w: &Workload, seed: u64, trace: bool) -> World {
        let params = Params {
            crash_cleanup: ms(w.lease_ttl_ms + w.request_timeout_ms + 4 * w.network_ms) + SEC,
            first_reply: ms(w.server.pending_after_ms + 2 * w.network_ms),
        };
        let mut world = World {
            rng: Streams::new(seed),
            queue: EventQueue::new(crate::engine::stream(seed, "tiebreak")),
            now: 0,
            chaos_end: w.chaos_end(),
            end: w.end(),
            threads: Vec::new(),
            stations: Vec::new(),
            server: Server::new(w),
            conns: Conns::new(w),
            jobs: Jobs::new(w),
            history: History::new(params),
            metrics: Metrics::new(),
            digest: Digest::new(seed),
            trace: trace.then(Vec::new),
            next_image: 0,
            w: w.clone(),
        };
        world.populate();
        world
    }

    fn populate(&mut self) {
        for ws in 0..self.w.workstations {
            self.stations.push(Station::new(&self.w));
            for i in 0..self.w.threads_per_workstation {
                let t = self.threads.len() as u32;
                self.threads.push(Thread::new(ws, i, owner_of(ws, 0, i)));
                let first = self.think_time();
                self.queue.push(
                    first,
                    Ev::Think {
                        t,
                        gen: 0,
                        intended: first,
                    },
                );
            }
            crate::faults::schedule_station_faults(self, ws);
        }
        crate::faults::schedule_server_faults(self);
    }

    /// Runs to the end of the heal phase and returns what happened.
    pub fn run(mut self) -> Outcome {
        while let Some((at, ev)) = self.queue.pop() {
            if at > self.end {
                break;
            }
            self.now = at;
            self.metrics.events += 1;
            self.digest.word(at);
            self.digest.word(ev.code());
            if let Some(trace) = &mut self.trace {
                trace.push((at, format!("{} {ev:?}", crate::engine::fmt_time(at))));
            }
            self.handle(ev);
        }
        self.now = self.end;
        let end = self.end_state();
        self.note(Record::End(Box::new(end)));
        self.metrics.finish(self.end);
        Outcome {
            metrics: self.metrics,
            history: self.history,
            trace_digest: self.digest.value(),
            trace: self.trace.unwrap_or_default(),
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Think { t, gen, intended } => self.think(t, gen, intended),
            Ev::Timer { t, gen, timer } => self.timer(t, gen, timer),
            Ev::LocalDone { t, gen, granted } => self.local_done(t, gen, granted),
            Ev::ToServer { t, gen, msg } => self.at_server(t, gen, msg),
            Ev::ToClient { t, gen, reply } => self.at_client(t, gen, reply),
            Ev::ServerTick => self.server_tick(),
            Ev::LocalTick { ws } => self.local_tick(ws),
            Ev::ConnArrive { c } => self.conn_arrive(c),
            Ev::LeaderReady => self.leader_ready(),
            Ev::Chunk { c } => self.chunk(c),
            Ev::ConnBreak { c } => self.conn_break(c),
            Ev::ClientGiveUp { c } => self.client_give_up(c),
            Ev::ServerReap { c } => self.server_reap(c),
            Ev::UploadReply {
                ws,
                worker,
                wgen,
                ok,
            } => self.upload_reply(ws, worker, wgen, ok),
            Ev::WorkerReady { ws, worker, wgen } => self.worker_ready(ws, worker, wgen),
            Ev::JobStep { job, jgen } => self.job_step(job, jgen),
            Ev::JobDeadline { job } => self.job_deadline(job),
            Ev::Crash { ws } => self.crash(ws),
            Ev::Restart { ws } => self.restart(ws),
            Ev::Pause { ws } => self.pause(ws),
            Ev::ServerRestart => self.server_restart(),
            Ev::ServerUp => self.server_up(),
        }
    }

    /// Appends a record to the history (and the timeline, when tracing).
    pub(crate) fn note(&mut self, r: Record) {
        self.digest.word(r.code());
        if let Some(trace) = &mut self.trace {
            let line = self.history.describe(&r);
            if !line.is_empty() {
                trace.push((
                    self.now,
                    format!("{}   · {line}", crate::engine::fmt_time(self.now)),
                ));
            }
        }
        self.history.push(self.now, r);
    }

    /// A think time drawn from the workload stream, from now.
    pub(crate) fn think_time(&mut self) -> Nanos {
        self.now + crate::engine::exponential(&mut self.rng.workload, ms(self.w.think_ms) as f64)
    }

    fn end_state(&self) -> EndState {
        let mut images: Vec<(u64, u64, u64)> = self.server.visible().collect();
        images.sort_unstable();
        EndState {
            images,
            pending_uploads: self.stations.iter().map(Station::pending_uploads).sum(),
            unfinished_jobs: self.jobs.unfinished(),
            busy_threads: self.threads.iter().filter(|t| t.op.is_some()).count() as u64,
        }
    }
}
