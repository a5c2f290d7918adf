//! Faults: when they fire (drawn from the `faults` stream), what a transfer will suffer
//! (drawn from the `network` stream), and what a server restart breaks. Rates come from the
//! workload's `[faults]` table; nothing fires after the chaos phase.

use crate::check::history::Record;
use crate::engine::{exponential, ms, SEC};
use crate::report::metrics::Counter;
use crate::studio::transfer::{Breaker, Plan};
use crate::studio::{Ev, World};
use rand::Rng;

/// Schedules `ev` after an exponential delay for `per_hour`, if that falls in the chaos phase.
fn schedule(world: &mut World, per_hour: f64, ev: Ev) {
    if per_hour <= 0.0 {
        return;
    }
    let at = world.now + exponential(&mut world.rng.faults, 3600.0 * SEC as f64 / per_hour);
    if at < world.chaos_end {
        world.queue.push(at, ev);
    }
}

/// The first crash and pause of workstation `ws`.
pub(crate) fn schedule_station_faults(world: &mut World, ws: u32) {
    next_crash(world, ws);
    next_pause(world, ws);
}

/// The first server restart.
pub(crate) fn schedule_server_faults(world: &mut World) {
    let rate = world.w.faults.server_restart_per_hour;
    schedule(world, rate, Ev::ServerRestart);
}

/// The next crash of `ws`.
pub(crate) fn next_crash(world: &mut World, ws: u32) {
    let rate = world.w.faults.client_crash_per_hour;
    schedule(world, rate, Ev::Crash { ws });
}

/// The next pause of `ws`.
pub(crate) fn next_pause(world: &mut World, ws: u32) {
    let rate = world.w.faults.client_pause_per_hour;
    schedule(world, rate, Ev::Pause { ws });
}

/// What a transfer opened now will suffer: its plan, and whether it runs on a slow disk.
/// Always a clean, fast transfer after the chaos phase.
pub(crate) fn draw_transfer(world: &mut World) -> (Plan, bool) {
    if world.now >= world.chaos_end {
        return (Plan::Complete, false);
    }
    let f = &world.w.faults;
    let chunks = world.w.transfer.chunks;
    let net = &mut world.rng.network;
    let slow = net.gen_bool(f.slow_disk);
    let r: f64 = net.gen_range(0.0..1.0);
    // Where it breaks: after 0..chunks-1 whole chunks; a server close may also come after
    // the last chunk was stored, before the reply (the lost-reply case).
    let at_mid = net.gen_range(0..chunks);
    let at_server = net.gen_range(0..=chunks);
    let c1 = f.socket_close_client;
    let c2 = c1 + f.socket_close_server;
    let c3 = c2 + f.connection_reset;
    let c4 = c3 + f.half_open;
    let plan = if r < c1 {
        world.metrics.count(Counter::FaultSocketCloseClient);
        Plan::Break {
            at: at_mid,
            by: Breaker::Client,
        }
    } else if r < c2 {
        world.metrics.count(Counter::FaultSocketCloseServer);
        if at_server == chunks {
            Plan::Break {
                at: chunks,
                by: Breaker::ServerAfterStore,
            }
        } else {
            Plan::Break {
                at: at_server,
                by: Breaker::Server,
            }
        }
    } else if r < c3 {
        world.metrics.count(Counter::FaultConnectionReset);
        Plan::Break {
            at: at_mid,
            by: Breaker::Reset,
        }
    } else if r < c4 {
        world.metrics.count(Counter::FaultHalfOpen);
        Plan::HalfOpen { at: at_mid }
    } else {
        Plan::Complete
    };
    if slow {
        world.metrics.count(Counter::FaultSlowDisk);
    }
    (plan, slow)
}

impl World {
    /// The server restarts: away for `restart_ms`; connections drop, running job steps are
    /// lost (their jobs resume from their checkpoints), requests meanwhile are refused. The
    /// reservation table, store, metadata and job records are on disk and survive.
    pub(crate) fn server_restart(&mut self) {
        if !self.server.is_down(self.now) {
            self.metrics.count(Counter::FaultServerRestart);
            let until = self.now + ms(self.w.restart_ms);
            self.server.down_until = until;
            self.note(Record::ServerDown { until });
            self.drop_all_conns();
            self.jobs_restart();
            self.queue.push(until, Ev::ServerUp);
        }
        schedule_server_faults(self);
    }

    /// The server is back.
    pub(crate) fn server_up(&mut self) {
        if self.server.is_down(self.now) {
            return;
        }
        self.jobs_resume();
    }
}
