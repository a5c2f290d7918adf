//! The custom transfer protocol and the server's leader-follower handlers.
//!
//! A transfer is a connection that moves an image in chunks. The server accepts connections
//! leader-follower style: one leader thread waits on the selector, takes a connection,
//! hands the selector to a follower (which costs `handoff_us`, so accepts are serialized)
//! and serves the transfer itself; with every handler busy, connections wait in the accept
//! backlog. Either end may close the socket mid-transfer, the connection may be reset, or it
//! may go half-open: then each end waits for its own timeout, and the server's handler is
//! stuck until its idle timeout.

use super::client::Upload;
use super::{Ev, World};
use crate::engine::{ms, Nanos, US};
use crate::report::metrics::Counter;
use crate::workload::Workload;
use std::collections::VecDeque;

/// Names a connection slot and its generation (slots are reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnRef {
    pub idx: u32,
    pub gen: u32,
}

/// What a connection moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnKind {
    /// An upload thread sends its item.
    Upload { worker: u32 },
    /// A workstation fetches an image.
    Download { image: u64 },
}

/// Who breaks a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Breaker {
    /// The client closes the socket.
    Client,
    /// The server closes the socket.
    Server,
    /// The connection is reset.
    Reset,
    /// The server stores the upload, then closes before replying (the reply is lost).
    ServerAfterStore,
}

/// How a transfer will go, drawn when it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Every chunk moves.
    Complete,
    /// After `at` chunks, the transfer breaks.
    Break { at: u32, by: Breaker },
    /// After `at` chunks, the connection goes silent.
    HalfOpen { at: u32 },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Conn {
    gen: u32,
    live: bool,
    ws: u32,
    wgen: u32,
    kind: ConnKind,
    item: Option<Upload>,
    plan: Plan,
    chunk_time: Nanos,
    chunks_done: u32,
    bytes: u64,
    size: u64,
    sum: u64,
    arrived: Nanos,
    accepted: bool,
    /// The client crashed: the server finds out at its next read or write.
    client_gone: bool,
    /// The client gave up on a silent connection.
    client_closed: bool,
}

/// Every connection, and the handler pool.
#[derive(Debug, Default)]
pub(crate) struct Conns {
    slab: Vec<Conn>,
    free: Vec<u32>,
    handlers: u32,
    handlers_free: u32,
    backlog: VecDeque<ConnRef>,
    leader_ready_at: Nanos,
    leader_wake: bool,
}

impl Conns {
    pub(crate) fn new(w: &Workload) -> Conns {
        Conns {
            handlers: w.server.handlers,
            handlers_free: w.server.handlers,
            ..Conns::default()
        }
    }

    fn get(&self, c: ConnRef) -> Option<&Conn> {
        self.slab
            .get(c.idx as usize)
            .filter(|k| k.live && k.gen == c.gen)
    }

    fn get_mut(&mut self, c: ConnRef) -> Option<&mut Conn> {
        self.slab
            .get_mut(c.idx as usize)
            .filter(|k| k.live && k.gen == c.gen)
    }

    fn close(&mut self, c: ConnRef) {
        if let Some(k) = self.get_mut(c) {
            let accepted = k.accepted;
            k.live = false;
            k.gen = k.gen.wrapping_add(1);
            self.free.push(c.idx);
            if accepted {
                self.handlers_free += 1;
            }
        }
    }
}

/// The received bytes' checksum: the image's own only when every byte arrived.
fn received_sum(sum: u64, size: u64, bytes: u64) -> u64 {
    if bytes == size {
        sum
    } else {
        sum ^ bytes.rotate_left(17) ^ 0x5bd1_e995
    }
}

impl World {
    /// Opens a connection from `ws` to the server.
    pub(crate) fn open_conn(&mut self, ws: u32, kind: ConnKind) -> ConnRef {
        let (plan, slow) = crate::faults::draw_transfer(self);
        let item = match kind {
            ConnKind::Upload { worker } => self.stations[ws as usize].workers[worker as usize].item,
            ConnKind::Download { .. } => None,
        };
        let (size, sum) = item.map_or((0, 0), |i| (i.size, i.sum));
        let chunk_time = ms(self.w.transfer.chunk_ms)
            * if slow {
                self.w.transfer.slow_disk_factor
            } else {
                1
            };
        let conn = Conn {
            gen: 0,
            live: true,
            ws,
            wgen: self.stations[ws as usize].worker_gen,
            kind,
            item,
            plan,
            chunk_time,
            chunks_done: 0,
            bytes: 0,
            size,
            sum,
            arrived: 0,
            accepted: false,
            client_gone: false,
            client_closed: false,
        };
        let c = match self.conns.free.pop() {
            Some(idx) => {
                let gen = self.conns.slab[idx as usize].gen;
                self.conns.slab[idx as usize] = Conn { gen, ..conn };
                ConnRef { idx, gen }
            }
            None => {
                self.conns.slab.push(conn);
                ConnRef {
                    idx: self.conns.slab.len() as u32 - 1,
                    gen: 0,
                }
            }
        };
        self.metrics.count(Counter::TransfersStarted);
        self.queue
            .push(self.now + ms(self.w.network_ms), Ev::ConnArrive { c });
        c
    }

    pub(crate) fn conn_arrive(&mut self, c: ConnRef) {
        let Some(k) = self.conns.get_mut(c) else {
            return;
        };
        if self.server.is_down(self.now) {
            // Connection refused.
            return self.fail_conn(c, true);
        }
        if k.client_gone {
            return self.conns.close(c);
        }
        k.arrived = self.now;
        self.conns.backlog.push_back(c);
        self.try_accept();
    }

    pub(crate) fn leader_ready(&mut self) {
        self.conns.leader_wake = false;
        self.try_accept();
    }

    /// The leader takes connections from the backlog while handlers are free, one hand-off
    /// apart.
    fn try_accept(&mut self) {
        while self.conns.handlers_free > 0 && !self.conns.backlog.is_empty() {
            if self.now < self.conns.leader_ready_at {
                if !self.conns.leader_wake {
                    self.conns.leader_wake = true;
                    self.queue.push(self.conns.leader_ready_at, Ev::LeaderReady);
                }
                return;
            }
            let Some(c) = self.conns.backlog.pop_front() else {
                return;
            };
            let Some(k) = self.conns.get_mut(c) else {
                continue;
            };
            if k.client_gone {
                self.conns.close(c);
                continue;
            }
            k.accepted = true;
            let (waited, kind) = (self.now - k.arrived, k.kind);
            self.conns.handlers_free -= 1;
            self.conns.leader_ready_at = self.now + self.w.server.handoff_us * US;
            self.metrics.backlog(waited);
            if waited > 0 {
                self.metrics.count(Counter::BacklogWaits);
            }
            if let ConnKind::Download { image } = kind {
                match self.serve(image) {
                    Some((size, sum)) => {
                        if let Some(k) = self.conns.get_mut(c) {
                            k.size = size;
                            k.sum = sum;
                        }
                    }
                    None => {
                        // Deleted meanwhile: the server says so and closes.
                        self.metrics.count(Counter::ViewNotFound);
                        self.fail_conn(c, false);
                        continue;
                    }
                }
            }
            self.next_step(c);
        }
    }

    fn next_step(&mut self, c: ConnRef) {
        let Some(k) = self.conns.get(c) else { return };
        let ct = k.chunk_time;
        match k.plan {
            Plan::Break { at, by } if k.chunks_done == at && by != Breaker::ServerAfterStore => {
                self.queue.push(self.now + ct / 2, Ev::ConnBreak { c });
            }
            Plan::HalfOpen { at } if k.chunks_done == at => {
                self.queue.push(
                    self.now + ms(self.w.transfer.client_timeout_ms),
                    Ev::ClientGiveUp { c },
                );
                self.queue.push(
                    self.now + ms(self.w.server.idle_timeout_ms),
                    Ev::ServerReap { c },
                );
            }
            _ => self.queue.push(self.now + ct, Ev::Chunk { c }),
        }
    }

    pub(crate) fn chunk(&mut self, c: ConnRef) {
        let chunks = self.w.transfer.chunks;
        let Some(k) = self.conns.get_mut(c) else {
            return;
        };
        if k.client_gone {
            // The server's next write finds the socket closed by the crashed client.
            self.metrics.count(Counter::ClientGone);
            self.conns.close(c);
            return self.try_accept();
        }
        k.chunks_done += 1;
        let per = k.size / u64::from(chunks);
        k.bytes += if k.chunks_done == chunks {
            k.size - per * u64::from(chunks - 1)
        } else {
            per
        };
        let (ws, kind, done) = (k.ws, k.kind, k.chunks_done);
        if let ConnKind::Download { image } = kind {
            self.download_chunk(ws, image, done as u8);
        }
        if done == chunks {
            self.complete(c);
        } else {
            self.next_step(c);
        }
    }

    fn complete(&mut self, c: ConnRef) {
        let Some(k) = self.conns.get(c).copied() else {
            return;
        };
        let got = received_sum(k.sum, k.size, k.bytes);
        match k.kind {
            ConnKind::Upload { worker } => {
                let Some(item) = k.item else {
                    return self.conns.close(c);
                };
                let outcome = self.store_upload(&item, k.bytes, got);
                self.metrics.add(Counter::BytesMoved, k.bytes);
                // A stale upload is refused for good: the client drops it, like a stored one.
                let mut ok = outcome != super::server::StoreOutcome::Corrupt;
                if matches!(
                    k.plan,
                    Plan::Break {
                        by: Breaker::ServerAfterStore,
                        ..
                    }
                ) {
                    ok = false;
                }
                if !ok {
                    self.metrics.count(Counter::TransferFailures);
                }
                self.queue.push(
                    self.now + ms(self.w.network_ms),
                    Ev::UploadReply {
                        ws: k.ws,
                        worker,
                        wgen: k.wgen,
                        ok,
                    },
                );
            }
            ConnKind::Download { image } => self.download_done(k.ws, image, Some((k.bytes, got))),
        }
        self.conns.close(c);
        self.try_accept();
    }

    /// The transfer failed; the client learns it (one network delay later for uploads).
    fn fail_conn(&mut self, c: ConnRef, delayed: bool) {
        let Some(k) = self.conns.get(c).copied() else {
            return;
        };
        self.metrics.count(Counter::TransferFailures);
        self.conns.close(c);
        if !k.client_gone && !k.client_closed {
            match k.kind {
                ConnKind::Upload { worker } => {
                    let at = self.now + if delayed { ms(self.w.network_ms) } else { 0 };
                    self.queue.push(
                        at,
                        Ev::UploadReply {
                            ws: k.ws,
                            worker,
                            wgen: k.wgen,
                            ok: false,
                        },
                    );
                }
                ConnKind::Download { image } => self.download_done(k.ws, image, None),
            }
        }
        self.try_accept();
    }

    pub(crate) fn conn_break(&mut self, c: ConnRef) {
        let Some(k) = self.conns.get(c) else { return };
        let by_client = matches!(
            k.plan,
            Plan::Break {
                by: Breaker::Client,
                ..
            }
        );
        self.fail_conn(c, !by_client);
    }

    /// Half-open: the client stops waiting; the server's handler stays stuck until reaped.
    pub(crate) fn client_give_up(&mut self, c: ConnRef) {
        let Some(k) = self.conns.get_mut(c) else {
            return;
        };
        if k.client_gone || k.client_closed {
            return;
        }
        k.client_closed = true;
        let (ws, kind, wgen) = (k.ws, k.kind, k.wgen);
        self.metrics.count(Counter::TransferFailures);
        match kind {
            ConnKind::Upload { worker } => self.queue.push(
                self.now,
                Ev::UploadReply {
                    ws,
                    worker,
                    wgen,
                    ok: false,
                },
            ),
            ConnKind::Download { image } => self.download_done(ws, image, None),
        }
    }

    pub(crate) fn server_reap(&mut self, c: ConnRef) {
        if self.conns.get(c).is_none() {
            return;
        }
        self.metrics.count(Counter::HalfOpenReaped);
        let closed = self
            .conns
            .get(c)
            .is_some_and(|k| k.client_closed || k.client_gone);
        if closed {
            self.conns.close(c);
            self.try_accept();
        } else {
            self.fail_conn(c, true);
        }
    }

    /// A workstation crashed: the server finds out about its connections when it next
    /// touches them.
    pub(crate) fn conns_of_station_gone(&mut self, ws: u32) {
        for k in self.conns.slab.iter_mut().filter(|k| k.live && k.ws == ws) {
            k.client_gone = true;
        }
    }

    /// The server restarts: every connection drops (clients see a reset), the backlog is gone
    /// and every handler is free again when it is back.
    pub(crate) fn drop_all_conns(&mut self) {
        self.conns.backlog.clear();
        let live: Vec<ConnRef> = (0..self.conns.slab.len())
            .filter(|&i| self.conns.slab[i].live)
            .map(|i| ConnRef {
                idx: i as u32,
                gen: self.conns.slab[i].gen,
            })
            .collect();
        for c in live {
            self.fail_conn(c, true);
        }
        self.conns.handlers_free = self.conns.handlers;
        self.conns.leader_ready_at = self.now;
    }
}
