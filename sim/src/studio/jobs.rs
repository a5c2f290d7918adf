//! The server's job pools, after Version Cue: a short-running pool (thumbnails, run for every
//! stored image) and a long-running pool (session exports, which a client waits for). A job
//! still running `pending_after_ms` after submission answers "pending" with its progress;
//! the client polls until it is done. A job is a list of steps, each checkpointed to disk, so
//! a server restart loses only the step in progress and progress never goes back.

use super::event::{Refusal, Reply};
use super::{Ev, World};
use crate::check::history::Record;
use crate::engine::{ms, Nanos};
use crate::report::metrics::Counter;
use crate::workload::Workload;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
struct Job {
    long: bool,
    steps: u32,
    /// Steps done and checkpointed.
    done: u32,
    /// Bumped when a running step is lost (server restart): its step event is stale.
    jgen: u32,
    running: bool,
    waiter: Option<(u32, u32)>,
    /// Whether the client already got an answer (pending or done).
    answered: bool,
    queued_at: Nanos,
}

impl Job {
    fn permille(&self) -> u16 {
        (u64::from(self.done) * 1000 / u64::from(self.steps.max(1))) as u16
    }

    fn finished(&self) -> bool {
        self.done >= self.steps
    }
}

#[derive(Clone, Debug, Default)]
struct Pool {
    threads: u32,
    busy: u32,
    queue: VecDeque<u64>,
}

/// Both pools and every job (job records are on the server's disk).
#[derive(Debug)]
pub(crate) struct Jobs {
    jobs: BTreeMap<u64, Job>,
    next: u64,
    pools: [Pool; 2],
}

impl Jobs {
    pub(crate) fn new(w: &Workload) -> Jobs {
        Jobs {
            jobs: BTreeMap::new(),
            next: 0,
            pools: [
                Pool {
                    threads: w.server.short_job_threads,
                    ..Pool::default()
                },
                Pool {
                    threads: w.server.long_job_threads,
                    ..Pool::default()
                },
            ],
        }
    }

    /// Jobs not finished.
    pub(crate) fn unfinished(&self) -> u64 {
        self.jobs.values().filter(|j| !j.finished()).count() as u64
    }
}

impl World {
    fn step_ms(&self, long: bool) -> Nanos {
        ms(if long {
            self.w.server.export_ms_per_image
        } else {
            self.w.server.thumbnail_ms
        })
        .max(1)
    }

    /// Submits a job of `steps` steps to the long or short pool; `waiter` waits for it.
    pub(crate) fn submit_job(&mut self, long: bool, steps: u32, waiter: Option<(u32, u32)>) -> u64 {
        self.jobs.next += 1;
        let id = self.jobs.next;
        let job = Job {
            long,
            steps,
            done: 0,
            jgen: 0,
            running: false,
            waiter,
            answered: false,
            queued_at: self.now,
        };
        self.jobs.jobs.insert(id, job);
        self.metrics.count(if long {
            Counter::JobsLong
        } else {
            Counter::JobsShort
        });
        self.note(Record::JobSubmitted {
            job: id,
            waited: waiter.is_some(),
        });
        if let Some((t, _)) = waiter {
            if let Some(op) = &mut self.threads[t as usize].op {
                op.job = Some(id);
            }
            self.queue.push(
                self.now + ms(self.w.server.pending_after_ms),
                Ev::JobDeadline { job: id },
            );
        }
        self.jobs.pools[usize::from(long)].queue.push_back(id);
        self.dispatch(long);
        id
    }

    fn dispatch(&mut self, long: bool) {
        if self.server.is_down(self.now) {
            return;
        }
        loop {
            let pool = &mut self.jobs.pools[usize::from(long)];
            if pool.busy >= pool.threads {
                return;
            }
            let Some(id) = pool.queue.pop_front() else {
                return;
            };
            let Some(job) = self.jobs.jobs.get_mut(&id) else {
                continue;
            };
            self.jobs.pools[usize::from(long)].busy += 1;
            job.running = true;
            let (jgen, queued_at) = (job.jgen, job.queued_at);
            self.metrics.job_waited(long, self.now - queued_at);
            let step = self.step_ms(long);
            self.queue
                .push(self.now + step, Ev::JobStep { job: id, jgen });
        }
    }

    pub(crate) fn job_step(&mut self, id: u64, jgen: u32) {
        let Some(job) = self.jobs.jobs.get_mut(&id) else {
            return;
        };
        if job.jgen != jgen || !job.running {
            return;
        }
        job.done += 1;
        let long = job.long;
        if !job.finished() {
            let step = self.step_ms(long);
            self.queue
                .push(self.now + step, Ev::JobStep { job: id, jgen });
            return;
        }
        job.running = false;
        let answer_now = job.waiter.filter(|_| !job.answered);
        job.answered |= answer_now.is_some();
        self.jobs.pools[usize::from(long)].busy -= 1;
        if let Some((t, gen)) = answer_now {
            // Done within the pending deadline: the synchronous answer.
            self.note(Record::JobReply {
                job: id,
                permille: 1000,
                done: true,
            });
            self.reply(t, gen, Reply::Done { job: id });
        }
        self.dispatch(long);
    }

    /// The pending deadline of a waited-for job: if it is still running, say so.
    pub(crate) fn job_deadline(&mut self, id: u64) {
        if self.server.is_down(self.now) {
            // Nobody is there to answer; the client's connection dropped and it polls.
            return;
        }
        let Some(job) = self.jobs.jobs.get_mut(&id) else {
            return;
        };
        if job.answered || job.finished() {
            return;
        }
        job.answered = true;
        let permille = job.permille();
        let Some((t, gen)) = job.waiter else { return };
        self.metrics.count(Counter::JobsPending);
        self.note(Record::JobReply {
            job: id,
            permille,
            done: false,
        });
        self.reply(t, gen, Reply::Pending { job: id, permille });
    }

    /// A client polls a job it waits for.
    pub(crate) fn poll_job(&mut self, t: u32, gen: u32, id: u64) {
        let Some(job) = self.jobs.jobs.get_mut(&id) else {
            return self.reply(t, gen, Reply::Refused(Refusal::Other));
        };
        job.answered = true;
        let (permille, done) = (job.permille(), job.finished());
        self.note(Record::JobReply {
            job: id,
            permille,
            done,
        });
        let reply = if done {
            Reply::Done { job: id }
        } else {
            Reply::Pending { job: id, permille }
        };
        self.reply(t, gen, reply);
    }

    /// The server restarts: running steps are lost, their jobs go back to the front of their
    /// queues and resume from their last checkpoint when the server is back.
    pub(crate) fn jobs_restart(&mut self) {
        // Clients waiting for their first answer lose the connection: they hear "down".
        let waiting: Vec<(u32, u32)> = self
            .jobs
            .jobs
            .values_mut()
            .filter(|j| !j.answered && !j.finished())
            .filter_map(|j| j.waiter.take())
            .collect();
        for (t, gen) in waiting {
            self.reply(t, gen, Reply::Refused(Refusal::Down));
        }
        for long in [true, false] {
            let pool = &mut self.jobs.pools[usize::from(long)];
            pool.busy = 0;
            let mut running: Vec<u64> = self
                .jobs
                .jobs
                .iter()
                .filter(|(_, j)| j.running && j.long == long)
                .map(|(&id, _)| id)
                .collect();
            running.sort_unstable();
            for &id in running.iter().rev() {
                pool.queue.push_front(id);
            }
            for id in running {
                if let Some(j) = self.jobs.jobs.get_mut(&id) {
                    j.running = false;
                    j.jgen += 1;
                    j.queued_at = self.now;
                    self.metrics.count(Counter::JobsResumed);
                }
            }
        }
    }

    /// The server is back: the pools pick up their queues.
    pub(crate) fn jobs_resume(&mut self) {
        self.dispatch(false);
        self.dispatch(true);
    }
}
