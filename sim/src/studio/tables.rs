//! Driving the lock tables: every call goes to the library's pure `LockTable`, due deadlines
//! are processed first (so a call's effects are only what the call caused), and every
//! decision and effect is recorded for the checkers, followed by `Settled`.

use super::{Ev, World};
use crate::check::history::{client_tier, PathId, Record, Resource, SERVER};
use crate::engine::{ms, to_time};
use crate::report::metrics::Counter;
use lockstudio::{Decision, Effect, Level, LockError, LockModel, Owner, RequestOptions};
use std::time::Duration;

/// The interned id of a path the table reported (only expiries name paths; they are rare).
fn path_id(world: &mut World, path: &lockstudio::LockPath) -> PathId {
    let mut seg = path.segments().skip(1);
    let session = seg
        .next()
        .and_then(|s| s.strip_prefix('s'))
        .and_then(|s| s.parse::<u32>().ok());
    let image = seg
        .next()
        .and_then(|s| s.strip_prefix("img-"))
        .and_then(|s| s.strip_suffix(".jpg"))
        .and_then(|s| s.parse::<u64>().ok());
    let r = match (session, image) {
        (Some(s), Some(i)) => Resource::Image(s, i),
        (Some(s), None) => Resource::Session(s),
        _ => Resource::Studio,
    };
    world.history.paths.intern(r)
}

impl World {
    // ----- client tiers -------------------------------------------------------------------

    /// Processes the client table's due deadlines (timeouts) of workstation `ws`.
    fn local_due(&mut self, ws: u32) {
        let now = to_time(self.now);
        let st = &mut self.stations[ws as usize];
        if st.local.next_deadline().is_some_and(|d| d <= now) {
            st.local.advance(now);
            self.local_effects(ws);
            self.note(Record::Settled {
                tier: client_tier(ws),
            });
        }
    }

    /// Asks the client tier of `ws`; `Ok(true)` granted, `Ok(false)` queued, `Err(deadlock)`.
    pub(crate) fn local_call_request(
        &mut self,
        ws: u32,
        t: u32,
        gen: u32,
        owner: Owner,
        path: PathId,
        level: Level,
    ) -> Result<bool, bool> {
        self.local_due(ws);
        let opts = RequestOptions {
            timeout: Some(Duration::from_millis(self.w.request_timeout_ms)),
            ttl: None,
        };
        let tier = client_tier(ws);
        let p = self.history.paths.path(path);
        let decision =
            self.stations[ws as usize]
                .local
                .request(owner, p, level, opts, to_time(self.now));
        let result = match decision {
            Ok(Decision::Granted(g)) => {
                self.note(Record::Granted {
                    tier,
                    ticket: None,
                    owner,
                    path,
                    level,
                    fence: g.fence,
                });
                Ok(true)
            }
            Ok(Decision::Queued(ticket)) => {
                self.note(Record::Queued {
                    tier,
                    ticket: ticket.0,
                    owner,
                    path,
                    level,
                });
                self.stations[ws as usize]
                    .local_tickets
                    .insert(ticket.0, (t, gen, path, level));
                Ok(false)
            }
            Err(e) => Err(matches!(e, LockError::Deadlock { .. })),
        };
        self.local_effects(ws);
        self.note(Record::Settled { tier });
        self.schedule_local_tick(ws);
        result
    }

    /// Gives back one client-tier acquisition.
    pub(crate) fn local_call_release(&mut self, ws: u32, owner: Owner, path: PathId, level: Level) {
        self.local_due(ws);
        let tier = client_tier(ws);
        let p = self.history.paths.path(path);
        if self.stations[ws as usize]
            .local
            .release(owner, p, Some(level), to_time(self.now))
            .is_ok()
        {
            self.note(Record::Released {
                tier,
                owner,
                path,
                level,
            });
        }
        self.local_effects(ws);
        self.note(Record::Settled { tier });
        self.schedule_local_tick(ws);
    }

    pub(crate) fn local_tick(&mut self, ws: u32) {
        let st = &self.stations[ws as usize];
        if st.down {
            return;
        }
        if st.paused_until > self.now {
            self.queue.push(st.paused_until, Ev::LocalTick { ws });
            return;
        }
        self.stations[ws as usize].tick_at = None;
        self.local_due(ws);
        self.schedule_local_tick(ws);
    }

    fn schedule_local_tick(&mut self, ws: u32) {
        let st = &mut self.stations[ws as usize];
        if let Some(d) = st.local.next_deadline() {
            let d = d.as_nanos().max(self.now);
            if st.tick_at.is_none_or(|t| d < t) {
                st.tick_at = Some(d);
                self.queue.push(d, Ev::LocalTick { ws });
            }
        }
    }

    /// Records what the last client-tier call did to other requests, and tells their threads
    /// (through an event: the thread continues after this call is over).
    fn local_effects(&mut self, ws: u32) {
        let tier = client_tier(ws);
        let effects: Vec<Effect> = self.stations[ws as usize].local.effects().to_vec();
        for e in effects {
            match e {
                Effect::Granted {
                    ticket,
                    owner,
                    level,
                    grant,
                } => {
                    if let Some((t, gen, path, _)) =
                        self.stations[ws as usize].local_tickets.remove(&ticket.0)
                    {
                        self.note(Record::Granted {
                            tier,
                            ticket: Some(ticket.0),
                            owner,
                            path,
                            level,
                            fence: grant.fence,
                        });
                        self.queue.push(
                            self.now,
                            Ev::LocalDone {
                                t,
                                gen,
                                granted: true,
                            },
                        );
                    }
                }
                Effect::TimedOut { ticket, .. } => {
                    if let Some((t, gen, _, _)) =
                        self.stations[ws as usize].local_tickets.remove(&ticket.0)
                    {
                        self.note(Record::TimedOut {
                            tier,
                            ticket: ticket.0,
                        });
                        self.queue.push(
                            self.now,
                            Ev::LocalDone {
                                t,
                                gen,
                                granted: false,
                            },
                        );
                    }
                }
                Effect::Expired { owner, path, fence } => {
                    let path = path_id(self, &path);
                    self.note(Record::Expired {
                        tier,
                        owner,
                        path,
                        fence,
                    });
                }
            }
        }
    }

    // ----- the server ---------------------------------------------------------------------

    /// Processes the server table's due deadlines (lease expiries, timeouts).
    pub(crate) fn server_due(&mut self) {
        let now = to_time(self.now);
        if self.server.table.next_deadline().is_some_and(|d| d <= now) {
            self.server.table.advance(now);
            self.server_effects();
            self.note(Record::Settled { tier: SERVER });
        }
    }

    pub(crate) fn server_tick(&mut self) {
        self.server.tick_at = None;
        self.server_due();
        self.schedule_server_tick();
    }

    pub(crate) fn schedule_server_tick(&mut self) {
        if let Some(d) = self.server.table.next_deadline() {
            let d = d.as_nanos().max(self.now);
            if self.server.tick_at.is_none_or(|t| d < t) {
                self.server.tick_at = Some(d);
                self.queue.push(d, Ev::ServerTick);
            }
        }
    }

    /// A leased reservation request at the server, queued up to the request timeout.
    pub(crate) fn server_call_request(
        &mut self,
        t: u32,
        gen: u32,
        owner: Owner,
        path: PathId,
        level: Level,
        session: u32,
    ) {
        self.server_due();
        let opts = RequestOptions {
            timeout: Some(Duration::from_millis(self.w.request_timeout_ms)),
            ttl: Some(Duration::from_millis(self.w.lease_ttl_ms)),
        };
        let p = self.history.paths.path(path);
        match self
            .server
            .table
            .request(owner, p, level, opts, to_time(self.now))
        {
            Ok(Decision::Granted(g)) => {
                self.note(Record::Granted {
                    tier: SERVER,
                    ticket: None,
                    owner,
                    path,
                    level,
                    fence: g.fence,
                });
                self.metrics.lock_wait(true, level, 0);
                self.reply_granted(t, gen, session, g.fence);
            }
            Ok(Decision::Queued(ticket)) => {
                self.note(Record::Queued {
                    tier: SERVER,
                    ticket: ticket.0,
                    owner,
                    path,
                    level,
                });
                self.metrics.count(Counter::ServerWaits);
                self.metrics.session(session).waits += 1;
                self.server.tickets.insert(
                    ticket.0,
                    super::server::Route {
                        t,
                        gen,
                        path,
                        session,
                        since: self.now,
                    },
                );
            }
            Err(e) => {
                let why = match e {
                    LockError::Deadlock { .. } => super::event::Refusal::Deadlock,
                    _ => super::event::Refusal::Other,
                };
                self.reply(t, gen, super::event::Reply::Refused(why));
            }
        }
        self.server_effects();
        self.note(Record::Settled { tier: SERVER });
        self.schedule_server_tick();
    }

    /// Gives back one server acquisition.
    pub(crate) fn server_call_release(&mut self, owner: Owner, path: PathId, level: Level) {
        self.server_due();
        let p = self.history.paths.path(path);
        match self
            .server
            .table
            .release(owner, p, Some(level), to_time(self.now))
        {
            Ok(_) => self.note(Record::Released {
                tier: SERVER,
                owner,
                path,
                level,
            }),
            Err(LockError::LeaseExpired { .. }) => self.metrics.count(Counter::ReleaseAfterExpiry),
            Err(_) => {}
        }
        self.server_effects();
        self.note(Record::Settled { tier: SERVER });
        self.schedule_server_tick();
    }

    /// Renews a server lease; `false` if it is already gone.
    pub(crate) fn server_call_renew(&mut self, owner: Owner, path: PathId) -> bool {
        self.server_due();
        let p = self.history.paths.path(path);
        let ttl = Duration::from_millis(self.w.lease_ttl_ms);
        let ok = self
            .server
            .table
            .renew(owner, p, ttl, to_time(self.now))
            .is_ok();
        self.server_effects();
        self.note(Record::Settled { tier: SERVER });
        self.schedule_server_tick();
        ok
    }

    /// Whether `fence` is a token of a live server hold of `owner` on `path`.
    pub(crate) fn server_fence_ok(&mut self, owner: Owner, path: PathId, fence: u64) -> bool {
        self.server_due();
        let p = self.history.paths.path(path);
        self.server.table.check_fence(owner, p, fence).is_ok()
    }

    fn server_effects(&mut self) {
        if self.server.table.effects().is_empty() {
            return;
        }
        let effects: Vec<Effect> = self.server.table.effects().to_vec();
        for e in effects {
            match e {
                Effect::Granted {
                    ticket,
                    owner,
                    level,
                    grant,
                } => {
                    let Some(route) = self.server.tickets.remove(&ticket.0) else {
                        continue;
                    };
                    self.note(Record::Granted {
                        tier: SERVER,
                        ticket: Some(ticket.0),
                        owner,
                        path: route.path,
                        level,
                        fence: grant.fence,
                    });
                    self.metrics.lock_wait(true, level, self.now - route.since);
                    self.reply_granted(route.t, route.gen, route.session, grant.fence);
                }
                Effect::TimedOut { ticket, .. } => {
                    let Some(route) = self.server.tickets.remove(&ticket.0) else {
                        continue;
                    };
                    self.note(Record::TimedOut {
                        tier: SERVER,
                        ticket: ticket.0,
                    });
                    self.metrics.count(Counter::ServerTimeouts);
                    self.metrics.session(route.session).timeouts += 1;
                    self.reply(
                        route.t,
                        route.gen,
                        super::event::Reply::Refused(super::event::Refusal::Timeout),
                    );
                }
                Effect::Expired { owner, path, fence } => {
                    let path = path_id(self, &path);
                    self.note(Record::Expired {
                        tier: SERVER,
                        owner,
                        path,
                        fence,
                    });
                    self.metrics.count(Counter::LeaseExpiries);
                }
            }
        }
    }

    /// Sends an answer to thread `t`, one network delay away.
    pub(crate) fn reply(&mut self, t: u32, gen: u32, reply: super::event::Reply) {
        self.queue.push(
            self.now + ms(self.w.network_ms),
            Ev::ToClient { t, gen, reply },
        );
    }

    fn reply_granted(&mut self, t: u32, gen: u32, session: u32, fence: u64) {
        let (value, version) = self.server.meta_of(session);
        self.reply(
            t,
            gen,
            super::event::Reply::Granted {
                fence,
                value,
                version,
            },
        );
    }
}
