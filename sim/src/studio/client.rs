//! A workstation's client image repository: its client-tier lock table, a local cache, a
//! read-through download that a second caller joins (the library's `JoinableBuffer`), and a
//! write-behind upload queue on local disk drained by a pool of upload threads.

use super::transfer::ConnKind;
use super::{Ev, World};
use crate::check::history::{client_tier, PathId, Record};
use crate::engine::{ms, Nanos};
use crate::report::metrics::{Counter, Metrics};
use crate::workload::Workload;
use lockstudio::joinable::{JoinableBuffer, Progress, ReaderId};
use lockstudio::{Level, LockTable};
use std::collections::{BTreeMap, VecDeque};

/// An image waiting to be uploaded (on the workstation's disk: it survives a crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Upload {
    pub image: u64,
    pub session: u32,
    /// Token of the write reservation it was shot under.
    pub fence: u64,
    pub size: u64,
    pub sum: u64,
    pub path: PathId,
    /// When it was acknowledged to the photographer.
    pub acked: Nanos,
}

/// One upload thread.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Worker {
    /// The item it is transferring (still on disk until the server confirms).
    pub item: Option<Upload>,
    /// Waiting for a backoff, or idle.
    pub busy: bool,
}

/// A download in flight, which other threads of the workstation may join.
pub(crate) struct Download {
    pub buffer: JoinableBuffer,
    pub readers: Vec<(u32, u32, ReaderId)>,
}

/// A workstation.
pub(crate) struct Station {
    pub local: LockTable,
    pub local_tickets: BTreeMap<u64, (u32, u32, PathId, Level)>,
    pub tick_at: Option<Nanos>,
    pub incarnation: u32,
    pub down: bool,
    pub paused_until: Nanos,
    /// image → last use; and last use → image, for least-recently-used eviction.
    cache: BTreeMap<u64, u64>,
    lru: BTreeMap<u64, u64>,
    cache_clock: u64,
    cache_limit: usize,
    pub uploads: VecDeque<Upload>,
    pub workers: Vec<Worker>,
    /// Bumped at a crash: upload-worker events of the old incarnation are stale.
    pub worker_gen: u32,
    pub downloads: BTreeMap<u64, Download>,
}

impl Station {
    pub(crate) fn new(w: &Workload) -> Station {
        Station {
            local: LockTable::new(),
            local_tickets: BTreeMap::new(),
            tick_at: None,
            incarnation: 0,
            down: false,
            paused_until: 0,
            cache: BTreeMap::new(),
            lru: BTreeMap::new(),
            cache_clock: 0,
            cache_limit: w.cache_images as usize,
            uploads: VecDeque::new(),
            workers: vec![Worker::default(); w.upload_threads as usize],
            worker_gen: 0,
            downloads: BTreeMap::new(),
        }
    }

    /// Whether `image` is cached (and marks it used).
    pub(crate) fn cache_hit(&mut self, image: u64) -> bool {
        let Some(&used) = self.cache.get(&image) else {
            return false;
        };
        self.lru.remove(&used);
        self.cache_clock += 1;
        self.cache.insert(image, self.cache_clock);
        self.lru.insert(self.cache_clock, image);
        true
    }

    /// Puts `image` in the cache, evicting the least recently used past the limit.
    pub(crate) fn cache_put(&mut self, image: u64, metrics: &mut Metrics) {
        if self.cache_hit(image) {
            return;
        }
        self.cache_clock += 1;
        self.cache.insert(image, self.cache_clock);
        self.lru.insert(self.cache_clock, image);
        while self.cache.len() > self.cache_limit {
            let Some((_, old)) = self.lru.pop_first() else {
                break;
            };
            self.cache.remove(&old);
            metrics.count(Counter::CacheEvictions);
        }
    }

    /// Uploads queued or in flight.
    pub(crate) fn pending_uploads(&self) -> u64 {
        (self.uploads.len() + self.workers.iter().filter(|w| w.item.is_some()).count()) as u64
    }
}

impl World {
    // ----- downloads ----------------------------------------------------------------------

    /// Joins a download of `image` already in flight on `ws`, if there is one.
    pub(crate) fn join_download(&mut self, ws: u32, t: u32, image: u64) -> bool {
        let gen = self.threads[t as usize].gen;
        let Some(d) = self.stations[ws as usize].downloads.get_mut(&image) else {
            return false;
        };
        let reader = d.buffer.join();
        d.readers.push((t, gen, reader));
        self.metrics.count(Counter::DownloadsJoined);
        true
    }

    /// Starts a download of `image` for thread `t` (which holds the server read reservation).
    pub(crate) fn start_download(&mut self, ws: u32, t: u32, image: u64) {
        if self.join_download(ws, t, image) {
            return;
        }
        let chunks = self.w.transfer.chunks as usize;
        let mut buffer = JoinableBuffer::new(chunks);
        let reader = buffer.join();
        let gen = self.threads[t as usize].gen;
        self.open_conn(ws, ConnKind::Download { image });
        self.stations[ws as usize].downloads.insert(
            image,
            Download {
                buffer,
                readers: vec![(t, gen, reader)],
            },
        );
        self.metrics.count(Counter::DownloadsStarted);
    }

    /// A chunk of a download arrived: publish it to every reader.
    pub(crate) fn download_chunk(&mut self, ws: u32, image: u64, chunk: u8) {
        let Some(d) = self.stations[ws as usize].downloads.get_mut(&image) else {
            return;
        };
        let _ = d.buffer.write(&[chunk]);
        let mut buf = [0u8; 64];
        for &(_, _, r) in &d.readers {
            // Readers consume what is published; their progress is the buffer's business.
            while let Ok(Progress::Data(_)) = d.buffer.read(r, &mut buf) {}
        }
    }

    /// A download ended: whole (`Some((size, sum))` received) or failed.
    pub(crate) fn download_done(&mut self, ws: u32, image: u64, whole: Option<(u64, u64)>) {
        let Some(mut d) = self.stations[ws as usize].downloads.remove(&image) else {
            return;
        };
        match whole {
            Some((size, sum)) => {
                let _ = d.buffer.finish();
                self.metrics.count(Counter::DownloadsCompleted);
                self.metrics.add(Counter::BytesMoved, size);
                self.note(Record::Served { image, size, sum });
                self.stations[ws as usize].cache_put(image, &mut self.metrics);
            }
            None => {
                let _ = d.buffer.fail("transfer failed");
                self.metrics.count(Counter::DownloadsFailed);
            }
        }
        let mut buf = [0u8; 64];
        for (t, gen, r) in d.readers {
            // Every reader learns the same outcome: end-of-stream only after every byte, the
            // writer's failure otherwise (never a silent, short end).
            let outcome = loop {
                match d.buffer.read(r, &mut buf) {
                    Ok(Progress::Data(_)) => continue,
                    other => break other,
                }
            };
            if self.threads[t as usize].gen != gen {
                continue;
            }
            match outcome {
                Ok(Progress::Eof) => self.finish_op(t),
                _ => self.fail_op(t),
            }
        }
    }

    // ----- uploads ------------------------------------------------------------------------

    /// Queues an acknowledged image for upload and wakes an idle upload thread.
    pub(crate) fn enqueue_upload(&mut self, ws: u32, item: Upload) {
        self.stations[ws as usize].uploads.push_back(item);
        self.kick_uploads(ws);
    }

    /// Gives queued items to idle upload threads.
    pub(crate) fn kick_uploads(&mut self, ws: u32) {
        let st = &self.stations[ws as usize];
        if st.down || st.paused_until > self.now {
            return;
        }
        for worker in 0..self.stations[ws as usize].workers.len() {
            let st = &mut self.stations[ws as usize];
            if st.uploads.is_empty() {
                return;
            }
            let wk = &mut st.workers[worker];
            if wk.busy || wk.item.is_some() {
                continue;
            }
            let item = st.uploads.pop_front();
            wk.item = item;
            self.open_conn(
                ws,
                ConnKind::Upload {
                    worker: worker as u32,
                },
            );
        }
    }

    /// An upload thread learned how its upload ended.
    pub(crate) fn upload_reply(&mut self, ws: u32, worker: u32, wgen: u32, ok: bool) {
        let st = &mut self.stations[ws as usize];
        if st.worker_gen != wgen || st.down {
            return;
        }
        if st.paused_until > self.now {
            let until = st.paused_until;
            self.queue.push(
                until,
                Ev::UploadReply {
                    ws,
                    worker,
                    wgen,
                    ok,
                },
            );
            return;
        }
        let wk = &mut st.workers[worker as usize];
        let Some(item) = wk.item.take() else { return };
        if ok {
            self.metrics.uploaded(self.now - item.acked);
            self.kick_uploads(ws);
        } else {
            // Back on the front of the queue (it never left the disk), and back off.
            self.metrics.count(Counter::TransferRetries);
            st.uploads.push_front(item);
            st.workers[worker as usize].busy = true;
            self.queue.push(
                self.now + ms(self.w.transfer.retry_backoff_ms),
                Ev::WorkerReady { ws, worker, wgen },
            );
        }
    }

    pub(crate) fn worker_ready(&mut self, ws: u32, worker: u32, wgen: u32) {
        let st = &mut self.stations[ws as usize];
        if st.worker_gen != wgen || st.down {
            return;
        }
        if st.paused_until > self.now {
            let until = st.paused_until;
            self.queue.push(until, Ev::WorkerReady { ws, worker, wgen });
            return;
        }
        st.workers[worker as usize].busy = false;
        self.kick_uploads(ws);
    }

    // ----- crash, restart, pause ----------------------------------------------------------

    /// The workstation dies: threads, client tier, cache, downloads and connections are
    /// gone; its server reservations stay until they expire; the upload queue (on disk)
    /// survives, in-flight items back at its front.
    pub(crate) fn crash(&mut self, ws: u32) {
        let st = &mut self.stations[ws as usize];
        if st.down {
            return;
        }
        self.metrics.count(Counter::FaultClientCrash);
        let incarnation = st.incarnation;
        st.down = true;
        st.paused_until = 0;
        st.local = LockTable::new();
        st.local_tickets.clear();
        st.tick_at = None;
        st.cache.clear();
        st.lru.clear();
        st.worker_gen += 1;
        for wk in st.workers.iter_mut().rev() {
            wk.busy = false;
            if let Some(item) = wk.item.take() {
                st.uploads.push_front(item);
            }
        }
        st.downloads.clear();
        for th in self.threads.iter_mut().filter(|th| th.ws == ws) {
            th.gen += 1;
            th.op = None;
        }
        self.conns_of_station_gone(ws);
        self.note(Record::TierReset {
            tier: client_tier(ws),
        });
        self.note(Record::Crashed { ws, incarnation });
        self.queue
            .push(self.now + ms(self.w.restart_ms), Ev::Restart { ws });
        crate::faults::next_crash(self, ws);
    }

    /// Back after a crash, as a new incarnation: new owner identities, threads think again,
    /// upload threads pick up the queue where it was.
    pub(crate) fn restart(&mut self, ws: u32) {
        let st = &mut self.stations[ws as usize];
        st.down = false;
        st.incarnation += 1;
        let inc = st.incarnation;
        for t in 0..self.threads.len() {
            if self.threads[t].ws != ws {
                continue;
            }
            let th = &mut self.threads[t];
            th.owner = crate::check::history::owner_of(ws, inc, th.idx);
            let gen = th.gen;
            let at = self.think_time();
            self.queue.push(
                at,
                Ev::Think {
                    t: t as u32,
                    gen,
                    intended: at,
                },
            );
        }
        self.kick_uploads(ws);
    }

    /// The workstation freezes past its leases; its events wait until it thaws.
    pub(crate) fn pause(&mut self, ws: u32) {
        let st = &mut self.stations[ws as usize];
        if !st.down {
            self.metrics.count(Counter::FaultClientPause);
            st.paused_until = st.paused_until.max(self.now + ms(self.w.pause_ms));
            // Thaw: whatever the upload threads could not start meanwhile starts then.
            let until = st.paused_until;
            let wgen = st.worker_gen;
            for worker in 0..st.workers.len() as u32 {
                self.queue.push(until, Ev::WorkerReady { ws, worker, wgen });
            }
        }
        crate::faults::next_pause(self, ws);
    }
}
