//! Image transfers: the client's read-through downloads (joined by later callers) and its
//! write-behind upload pool, and the server side where each connection waits for a handler of
//! the leader-follower pool, then succeeds or fails as the network stream draws.

use super::{checksum, image_size, ms, Ev, World};
use crate::engine::Nanos;
use crate::handlers::Accepted;
use lockstudio::joinable::{JoinableBuffer, Progress, ReaderId};
use rand::Rng;

/// An image's bytes as the simulator moves them: its checksum (a stand-in for megabytes).
const IMAGE_BYTES: usize = 8;

/// A download in flight on one workstation: the library's joinable buffer, so a second viewer
/// of the same image joins the transfer instead of starting another, and every joined reader
/// sees the whole image or the failure, never a silent short read.
#[derive(Debug)]
pub struct Download {
    buffer: JoinableBuffer,
    readers: Vec<(usize, u64, ReaderId)>,
}

/// A connection from a workstation to the server's transfer handlers.
#[derive(Clone, Debug)]
pub enum Conn {
    /// A background upload worker sends an image.
    Upload {
        /// Workstation.
        ws: usize,
        /// Upload worker.
        worker: usize,
        /// The worker pool's generation (a crash starts a new one).
        wgen: u64,
        /// Image.
        image: u64,
        /// The checksum it is sent with.
        sum: u64,
    },
    /// A read-through download for the client cache.
    Download {
        /// Workstation.
        ws: usize,
        /// Image.
        image: u64,
        /// The workstation's incarnation that asked.
        inc: u64,
    },
}

/// How a transfer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// All bytes arrived and the checksum matched.
    Complete,
    /// The client closed the socket mid-transfer.
    ClosedByClient,
    /// The server closed the socket mid-transfer.
    ClosedByServer,
    /// The connection was reset.
    Reset,
    /// The socket went half-open; the client gave up after its transfer timeout.
    HalfOpen,
    /// The server was down: the connection was refused or dropped from the accept backlog.
    Unreachable,
}

impl World {
    /// Opens a connection: it reaches the server one network delay later.
    pub(super) fn connect(&mut self, conn: Conn) {
        let at = self.now + ms(self.w.network_ms);
        let conn = Box::new(conn);
        self.queue.push(at, Ev::Connect { conn });
    }

    /// A connection arrives at the server.
    pub(super) fn on_connect(&mut self, conn: Conn) {
        if self.server.down_until > self.now {
            return self.deliver(conn, Transfer::Unreachable);
        }
        let tiebreak = &mut self.rng.tiebreak;
        let accepted = self
            .server
            .handlers
            .arrive(conn, self.now, |n| tiebreak.gen_range(0..n));
        match accepted {
            Some(a) => self.serve(a),
            None => self.metrics.count("transfer.backlog_waits"),
        }
        self.check_handlers();
    }

    fn serve(&mut self, a: Accepted<Conn>) {
        self.metrics.accepted(self.now - a.arrived);
        let (outcome, dur) = self.draw_transfer();
        let ev = Ev::TransferDone {
            handler: a.handler,
            conn: Box::new(a.conn),
            outcome,
        };
        self.queue.push(self.now + dur, ev);
    }

    /// A handler finished a connection: it rejoins the pool, then the client learns the result.
    pub(super) fn transfer_done(&mut self, handler: usize, conn: Conn, outcome: Transfer) {
        let tiebreak = &mut self.rng.tiebreak;
        let next = self
            .server
            .handlers
            .finish(handler, |n| tiebreak.gen_range(0..n));
        if let Some(a) = next {
            self.serve(a);
        }
        self.check_handlers();
        let outcome = if self.server.down_until > self.now {
            Transfer::Unreachable
        } else {
            outcome
        };
        self.deliver(conn, outcome);
    }

    /// The server restarted: connections waiting for a handler are dropped.
    pub(super) fn drop_backlog(&mut self) {
        for conn in self.server.handlers.drain_backlog() {
            self.deliver(conn, Transfer::Unreachable);
        }
        self.check_handlers();
    }

    fn check_handlers(&mut self) {
        let verdict = self.server.handlers.check();
        self.check.handlers(verdict, self.now);
    }

    fn deliver(&mut self, conn: Conn, outcome: Transfer) {
        match conn {
            Conn::Upload {
                ws,
                worker,
                wgen,
                image,
                sum,
            } => self.upload_done(ws, worker, wgen, image, sum, outcome),
            Conn::Download { ws, image, inc } => {
                self.download_done(ws, image, outcome == Transfer::Complete, inc)
            }
        }
    }

    /// A view missed the cache: the first caller starts the download, later ones join it.
    pub(super) fn view_miss(&mut self, t: usize, gen: u64, ws: usize, image: u64) {
        let downloads = &mut self.stations[ws].downloads;
        if let Some(d) = downloads.get_mut(&image) {
            let reader = d.buffer.join();
            d.readers.push((t, gen, reader));
            self.metrics.count("download.joined");
            return;
        }
        let mut buffer = JoinableBuffer::new(IMAGE_BYTES);
        let reader = buffer.join();
        let readers = vec![(t, gen, reader)];
        downloads.insert(image, Download { buffer, readers });
        let inc = self.stations[ws].incarnation;
        self.connect(Conn::Download { ws, image, inc });
    }

    fn draw_transfer(&mut self) -> (Transfer, Nanos) {
        let base = ms(self.w.transfer_ms);
        if self.now >= self.chaos_end {
            return (Transfer::Complete, base);
        }
        let f = &self.w.faults;
        let net = &mut self.rng.network;
        let slow = net.gen_bool(f.slow_disk);
        let dur = if slow { base * 10 } else { base };
        if slow {
            self.metrics.count("fault.slow_disk");
        }
        let draws = [
            (f.socket_close_client, Transfer::ClosedByClient),
            (f.socket_close_server, Transfer::ClosedByServer),
            (f.connection_reset, Transfer::Reset),
            (f.half_open, Transfer::HalfOpen),
        ];
        for (p, outcome) in draws {
            if self.rng.network.gen_bool(p) {
                self.metrics.count(fault_name(outcome));
                let at = if outcome == Transfer::HalfOpen {
                    dur * 5
                } else {
                    dur / 2
                };
                return (outcome, at);
            }
        }
        (Transfer::Complete, dur)
    }

    /// The download ended: the whole image is published and finished, or the part that
    /// arrived before the connection broke is published and the transfer failed. Then every
    /// joined reader reads to the end.
    fn download_done(&mut self, ws: usize, image: u64, ok: bool, inc: u64) {
        if self.stations[ws].incarnation != inc {
            return;
        }
        let Some(mut d) = self.stations[ws].downloads.remove(&image) else {
            return;
        };
        let bytes = checksum(image).to_le_bytes();
        let published = if ok {
            d.buffer.write(&bytes).and_then(|_| d.buffer.finish())
        } else {
            let half = &bytes[..IMAGE_BYTES / 2];
            d.buffer
                .write(half)
                .and_then(|_| d.buffer.fail("connection broke"))
        };
        if published.is_err() {
            self.metrics.count("download.write_errors");
        }
        if ok {
            self.metrics.count("download.completed");
            self.metrics.bytes(image_size(image));
        } else {
            self.metrics.count("download.failed");
        }
        for (t, gen, reader) in d.readers {
            let live = self.threads[t].gen == gen && self.threads[t].op.is_some();
            match read_all(&mut d.buffer, reader) {
                _ if !live => {}
                Ok(got) if got == bytes => {
                    self.stations[ws].cache.insert(image);
                    self.finish(t, gen);
                }
                Ok(got) => {
                    self.check
                        .partial_view(image, got.len(), IMAGE_BYTES, self.now);
                    self.fail_op(t, "view.partial");
                }
                Err(_) => self.fail_op(t, "view.failed"),
            }
        }
    }

    pub(super) fn kick_uploads(&mut self, ws: usize) {
        loop {
            let st = &mut self.stations[ws];
            if st.down || st.uploads.is_empty() || st.idle_workers.is_empty() {
                return;
            }
            let (Some(worker), Some((image, sum))) =
                (st.idle_workers.pop(), st.uploads.pop_front())
            else {
                return;
            };
            let wgen = st.worker_gen;
            st.in_flight.insert(worker, (image, sum));
            self.connect(Conn::Upload {
                ws,
                worker,
                wgen,
                image,
                sum,
            });
        }
    }

    fn upload_done(
        &mut self,
        ws: usize,
        worker: usize,
        wgen: u64,
        image: u64,
        sum: u64,
        outcome: Transfer,
    ) {
        if self.stations[ws].worker_gen != wgen {
            return;
        }
        self.stations[ws].in_flight.remove(&worker);
        if outcome == Transfer::Complete {
            self.store_upload(image, sum);
            self.metrics.bytes(image_size(image));
            self.worker_idle(ws, worker, wgen);
        } else {
            self.metrics.count("transfer.retries");
            self.stations[ws].uploads.push_front((image, sum));
            // Back off one transfer time before the retry, so a down server is not hammered.
            let at = self.now + ms(self.w.transfer_ms);
            self.queue.push(at, Ev::WorkerIdle { ws, worker, wgen });
        }
    }

    pub(super) fn worker_idle(&mut self, ws: usize, worker: usize, wgen: u64) {
        if self.stations[ws].worker_gen == wgen {
            self.stations[ws].idle_workers.push(worker);
            self.kick_uploads(ws);
        }
    }

    /// The server keeps an upload only whole and checksummed, once, and never resurrects a
    /// deleted image.
    fn store_upload(&mut self, image: u64, sum: u64) {
        if sum != checksum(image) {
            self.metrics.count("upload.bad_checksum");
            return;
        }
        if self.server.deleted.contains(&image) {
            self.metrics.count("upload.after_delete");
            return;
        }
        let Some(session) = self.check.session_of(image) else {
            return;
        };
        if self.server.images.insert(image, (session, sum)).is_some() {
            self.metrics.count("upload.duplicates");
        } else {
            self.server
                .by_session
                .entry(session)
                .or_default()
                .insert(image);
            self.metrics.count("upload.stored");
            self.check.stored(image, sum);
        }
    }
}

fn fault_name(outcome: Transfer) -> &'static str {
    match outcome {
        Transfer::ClosedByClient => "fault.socket_close_client",
        Transfer::ClosedByServer => "fault.socket_close_server",
        Transfer::Reset => "fault.connection_reset",
        Transfer::HalfOpen => "fault.half_open",
        Transfer::Complete | Transfer::Unreachable => "transfer.other",
    }
}

/// Reads `reader` to the end of the transfer: the bytes, or the transfer's error.
fn read_all(
    buffer: &mut JoinableBuffer,
    reader: ReaderId,
) -> Result<Vec<u8>, lockstudio::joinable::TransferError> {
    let mut got = Vec::with_capacity(IMAGE_BYTES);
    let mut chunk = [0u8; IMAGE_BYTES];
    loop {
        match buffer.read(reader, &mut chunk)? {
            Progress::Data(n) => got.extend_from_slice(&chunk[..n]),
            // A closed transfer never leaves a reader pending; treat it as the end.
            Progress::Eof | Progress::Pending => return Ok(got),
        }
    }
}
