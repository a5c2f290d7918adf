//! Client side and server side of server jobs: a worker thread submits a job, the server runs
//! it on its short or long pool and answers when it finishes, or after `pending_after_ms` with
//! "pending" and its checkpointed progress; the client then polls until it is done.

use super::{ms, Ev, OpKind, Reply, World};
use crate::jobs::{Pool, Start, Status};
use rand::Rng;

impl World {
    /// Draws a job's pool and work from the workload stream.
    pub(super) fn draw_job(&mut self) -> (Pool, u64) {
        let s = &self.w.server;
        let long = self.rng.workload.gen_bool(s.long_job_share);
        let (pool, mean) = if long {
            (Pool::Long, s.long_job_ms)
        } else {
            (Pool::Short, s.short_job_ms)
        };
        let mean = ms(mean);
        (
            pool,
            self.rng.workload.gen_range(mean / 2..=mean + mean / 2),
        )
    }

    /// The submission reaches the server.
    pub(super) fn job_submit(&mut self, t: usize, gen: u64) {
        if self.server.down_until > self.now {
            return self.reply(t, gen, Reply::Refused("server.unreachable"));
        }
        let Some((pool, work)) = self.threads[t].op.as_ref().and_then(|o| o.job_work) else {
            return;
        };
        let (job, starts) = self.server.jobs.submit(pool, work, self.now);
        self.metrics.count(match pool {
            Pool::Short => "jobs.short.submitted",
            Pool::Long => "jobs.long.submitted",
        });
        self.schedule_starts(&starts);
        self.server.job_waiters.insert(job, (t, gen));
        let at = self.now + ms(self.w.server.pending_after_ms);
        self.queue.push(at, Ev::JobDeadline { job });
    }

    fn schedule_starts(&mut self, starts: &[Start]) {
        for s in starts {
            let ev = Ev::JobDone {
                job: s.job,
                epoch: s.epoch,
            };
            self.queue.push(s.done_at, ev);
        }
    }

    /// A job's completion fires; a client still waiting on its submission gets the answer.
    pub(super) fn job_done(&mut self, job: u64, epoch: u64) {
        let mut starts = Vec::new();
        if !self.server.jobs.complete(job, epoch, self.now, &mut starts) {
            return;
        }
        self.metrics.count("jobs.done");
        self.schedule_starts(&starts);
        if let Some((t, gen)) = self.server.job_waiters.remove(&job) {
            self.reply(t, gen, Reply::JobFinished(job));
        }
    }

    /// `pending_after_ms` passed: a client still waiting gets "pending" with the progress.
    pub(super) fn job_deadline(&mut self, job: u64) {
        let Some((t, gen)) = self.server.job_waiters.remove(&job) else {
            return;
        };
        match self.server.jobs.status(job, self.now) {
            Some(Status::Pending(permille)) => {
                self.metrics.count("jobs.pending");
                self.reply(t, gen, Reply::JobPending(job, permille));
            }
            Some(Status::Done) => self.reply(t, gen, Reply::JobFinished(job)),
            None => self.reply(t, gen, Reply::Refused("jobs.unknown")),
        }
    }

    /// A client's poll reaches the server.
    pub(super) fn job_poll(&mut self, t: usize, gen: u64, job: u64) {
        if self.server.down_until > self.now {
            self.metrics.count("jobs.poll_unreachable");
            return self.reply(t, gen, Reply::JobPending(job, u32::MAX));
        }
        match self.server.jobs.status(job, self.now) {
            Some(Status::Pending(permille)) => self.reply(t, gen, Reply::JobPending(job, permille)),
            Some(Status::Done) => self.reply(t, gen, Reply::JobFinished(job)),
            None => self.reply(t, gen, Reply::Refused("jobs.unknown")),
        }
    }

    /// The client hears "pending" (`u32::MAX`: the server did not answer): it polls again.
    pub(super) fn on_job_pending(&mut self, t: usize, gen: u64, job: u64, permille: u32) {
        if permille != u32::MAX {
            self.check.progress(job, permille, self.now);
        }
        self.metrics.count("jobs.polls");
        let at = self.now + ms(self.w.server.poll_ms + self.w.network_ms);
        self.queue.push(at, Ev::JobPoll { t, gen, job });
    }

    /// The client hears the job finished.
    pub(super) fn on_job_finished(&mut self, t: usize, gen: u64, job: u64) {
        self.check.progress(job, 1000, self.now);
        if self.threads[t].op.as_ref().map(|o| o.kind) == Some(OpKind::Job) {
            self.finish(t, gen);
        }
    }

    /// The server restarts: running jobs stop at their checkpoints, and clients waiting on a
    /// submission lose the connection.
    pub(super) fn jobs_crash(&mut self) {
        self.server.jobs.crash(self.now);
        for (_, (t, gen)) in std::mem::take(&mut self.server.job_waiters) {
            self.reply(t, gen, Reply::Refused("jobs.connection_lost"));
        }
    }

    /// The server is back: interrupted jobs resume.
    pub(super) fn jobs_resume(&mut self) {
        let starts = self.server.jobs.resume(self.now);
        self.schedule_starts(&starts);
    }
}
