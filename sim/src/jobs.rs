//! The server's job pools (seed 003): short and long jobs run on separate worker pools, each
//! FIFO when its workers are busy. A job's work is checkpointed to disk every `checkpoint`
//! of work, so a server restart rolls a running job back only to its last checkpoint, and the
//! progress the server reports (the checkpointed share, in per mille) never goes down.
//! Pure state: the world supplies time and schedules each start's completion event.

use crate::engine::Nanos;
use std::collections::{BTreeMap, VecDeque};

/// Which pool a job runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pool {
    /// Short-running jobs (thumbnails, previews).
    Short,
    /// Long-running jobs (exports, renders).
    Long,
}

impl Pool {
    /// Name used in counters and reports.
    pub fn name(self) -> &'static str {
        match self {
            Pool::Short => "short",
            Pool::Long => "long",
        }
    }

    fn index(self) -> usize {
        match self {
            Pool::Short => 0,
            Pool::Long => 1,
        }
    }
}

/// What the server says of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Queued or running; checkpointed progress in per mille.
    Pending(u32),
    /// Finished.
    Done,
}

/// A job started (or resumed) on a worker: the world schedules its completion at `done_at`
/// and passes `epoch` back, so a completion scheduled before a restart is recognised as stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// The job.
    pub job: u64,
    /// Its run epoch.
    pub epoch: u64,
    /// When it will finish if nothing interrupts it.
    pub done_at: Nanos,
}

#[derive(Debug)]
struct Job {
    pool: Pool,
    total: Nanos,
    saved: Nanos,
    running_since: Option<Nanos>,
    epoch: u64,
    done: bool,
}

#[derive(Debug, Default)]
struct Workers {
    size: usize,
    busy: usize,
    queue: VecDeque<u64>,
}

/// Both pools and every job submitted.
#[derive(Debug)]
pub struct JobServer {
    jobs: BTreeMap<u64, Job>,
    pools: [Workers; 2],
    checkpoint: Nanos,
    next_id: u64,
    up: bool,
}

impl JobServer {
    /// Pools of `short` and `long` workers (each at least one); work checkpointed every
    /// `checkpoint` ns (at least 1).
    pub fn new(short: usize, long: usize, checkpoint: Nanos) -> Self {
        let pool = |size: usize| Workers {
            size: size.max(1),
            ..Workers::default()
        };
        JobServer {
            jobs: BTreeMap::new(),
            pools: [pool(short), pool(long)],
            checkpoint: checkpoint.max(1),
            next_id: 1,
            up: true,
        }
    }

    /// Queues a job of `total` work on `pool`; returns its id and the starts it caused.
    pub fn submit(&mut self, pool: Pool, total: Nanos, now: Nanos) -> (u64, Vec<Start>) {
        let id = self.next_id;
        self.next_id += 1;
        self.jobs.insert(
            id,
            Job {
                pool,
                total: total.max(1),
                saved: 0,
                running_since: None,
                epoch: 0,
                done: false,
            },
        );
        self.pools[pool.index()].queue.push_back(id);
        (id, self.start_queued(now))
    }

    /// A completion scheduled by `Start` fires: `true` if it is current (the job is now done);
    /// the starts it caused (the freed worker takes the next queued job) are appended.
    pub fn complete(&mut self, id: u64, epoch: u64, now: Nanos, starts: &mut Vec<Start>) -> bool {
        let Some(job) = self.jobs.get_mut(&id) else {
            return false;
        };
        if job.done || job.epoch != epoch || job.running_since.is_none() || !self.up {
            return false;
        }
        job.done = true;
        job.saved = job.total;
        job.running_since = None;
        let pool = job.pool.index();
        self.pools[pool].busy -= 1;
        starts.extend(self.start_queued(now));
        true
    }

    /// What the server reports of job `id` at `now`, if it knows the job.
    pub fn status(&self, id: u64, now: Nanos) -> Option<Status> {
        let job = self.jobs.get(&id)?;
        if job.done {
            return Some(Status::Done);
        }
        let permille = self.checkpointed(job, now).saturating_mul(1000) / job.total;
        Some(Status::Pending(permille.min(999) as u32))
    }

    /// The server goes down: running jobs stop, keeping only their checkpointed work.
    pub fn crash(&mut self, now: Nanos) {
        self.up = false;
        let checkpointed: Vec<(u64, Nanos)> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.running_since.is_some())
            .map(|(id, j)| (*id, self.checkpointed(j, now)))
            .collect();
        for (id, saved) in checkpointed {
            if let Some(job) = self.jobs.get_mut(&id) {
                job.saved = saved;
                job.running_since = None;
                job.epoch += 1;
            }
        }
    }

    /// The server is back: stopped jobs resume from their checkpoints on their workers.
    pub fn resume(&mut self, now: Nanos) -> Vec<Start> {
        if self.up {
            return Vec::new();
        }
        self.up = true;
        let mut starts = Vec::new();
        for (id, job) in &mut self.jobs {
            // Only a job that was running has been interrupted (its epoch moved on); the
            // others are still in their pool's queue.
            let interrupted = !job.done && job.running_since.is_none() && job.epoch > 0;
            if interrupted {
                job.running_since = Some(now);
                starts.push(Start {
                    job: *id,
                    epoch: job.epoch,
                    done_at: now + (job.total - job.saved),
                });
            }
        }
        starts.extend(self.start_queued(now));
        starts
    }

    /// Jobs not finished yet.
    pub fn unfinished(&self) -> usize {
        self.jobs.values().filter(|j| !j.done).count()
    }

    /// Jobs waiting for a worker, per pool.
    pub fn queued(&self, pool: Pool) -> usize {
        self.pools[pool.index()].queue.len()
    }

    fn checkpointed(&self, job: &Job, now: Nanos) -> Nanos {
        let live = job
            .running_since
            .map_or(0, |since| now.saturating_sub(since));
        let work = (job.saved + live).min(job.total);
        work / self.checkpoint * self.checkpoint
    }

    fn start_queued(&mut self, now: Nanos) -> Vec<Start> {
        let mut starts = Vec::new();
        if !self.up {
            return starts;
        }
        for pool in &mut self.pools {
            while pool.busy < pool.size {
                let Some(id) = pool.queue.pop_front() else {
                    break;
                };
                let Some(job) = self.jobs.get_mut(&id) else {
                    continue;
                };
                pool.busy += 1;
                job.running_since = Some(now);
                starts.push(Start {
                    job: id,
                    epoch: job.epoch,
                    done_at: now + (job.total - job.saved),
                });
            }
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_run_in_parallel_and_queue_fifo() {
        let mut s = JobServer::new(1, 1, 10);
        let (a, sa) = s.submit(Pool::Short, 100, 0);
        let (b, sb) = s.submit(Pool::Short, 50, 0);
        let (c, sc) = s.submit(Pool::Long, 1000, 0);
        assert_eq!(
            sa,
            vec![Start {
                job: a,
                epoch: 0,
                done_at: 100
            }]
        );
        assert!(sb.is_empty(), "the short pool has one worker");
        assert_eq!(sc.len(), 1, "the long pool is separate");
        assert_eq!(s.queued(Pool::Short), 1);
        let mut starts = Vec::new();
        assert!(s.complete(a, 0, 100, &mut starts));
        assert_eq!(
            starts,
            vec![Start {
                job: b,
                epoch: 0,
                done_at: 150
            }]
        );
        assert_eq!(s.status(a, 100), Some(Status::Done));
        assert_eq!(s.status(c, 505), Some(Status::Pending(500)));
        assert_eq!(s.unfinished(), 2);
    }

    #[test]
    fn a_restart_rolls_back_to_the_checkpoint_and_progress_never_drops() {
        let mut s = JobServer::new(1, 1, 100);
        let (j, _) = s.submit(Pool::Long, 1000, 0);
        let before = s.status(j, 250);
        assert_eq!(before, Some(Status::Pending(200)));
        s.crash(250);
        let mut starts = Vec::new();
        assert!(!s.complete(j, 0, 1000, &mut starts), "stale completion");
        assert_eq!(s.status(j, 400), Some(Status::Pending(200)));
        let resumed = s.resume(500);
        assert_eq!(
            resumed,
            vec![Start {
                job: j,
                epoch: 1,
                done_at: 1300
            }]
        );
        assert_eq!(s.status(j, 560), Some(Status::Pending(200)));
        assert_eq!(s.status(j, 600), Some(Status::Pending(300)));
        assert!(s.complete(j, 1, 1300, &mut starts));
        assert_eq!(s.status(j, 1300), Some(Status::Done));
    }

    #[test]
    fn queued_jobs_wait_out_a_restart() {
        let mut s = JobServer::new(1, 1, 10);
        s.submit(Pool::Short, 100, 0);
        s.crash(5);
        let (q, none) = s.submit(Pool::Short, 100, 6);
        assert!(none.is_empty());
        let starts = s.resume(20);
        assert_eq!(
            starts.len(),
            1,
            "the interrupted job resumes; the queued one waits"
        );
        let mut more = Vec::new();
        assert!(s.complete(starts[0].job, starts[0].epoch, starts[0].done_at, &mut more));
        assert_eq!(more.first().map(|s| s.job), Some(q));
    }

    #[test]
    fn unknown_jobs_have_no_status() {
        let s = JobServer::new(1, 1, 10);
        assert_eq!(s.status(42, 0), None);
    }
}
