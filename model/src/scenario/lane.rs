//! One [`LockModel`] driven through a scenario, with its tickets translated to the request
//! names the file uses, so that two models (whose ticket numbers need not agree) can be
//! compared with each other and with the file.

use super::parse::Action;
use crate::error::{parse_path, LockError};
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::table::{
    Decision, Effect, Grant, HolderInfo, LockModel, Released, RequestOptions, Ticket,
};
use crate::time::Time;
use std::collections::HashMap;
use std::time::Duration;

/// A ticket no table hands out in a scenario, used to cancel a request that was never queued
/// so the core itself answers `unknown_ticket`.
const NEVER_QUEUED: Ticket = Ticket(u64::MAX);

/// What one call returned, with tickets and fences left out where they are per-model.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Granted(Grant),
    Queued,
    Released(Released),
    Renewed(Time),
    Cancelled,
    Failed(LockError),
    /// `advance` and `expect_state` return nothing.
    Nothing,
}

impl Outcome {
    /// Whether two models answered alike. Deadlock cycles may differ: when several cycles
    /// would close, either is a correct report.
    pub fn same_as(&self, other: &Outcome) -> bool {
        match (self, other) {
            (
                Outcome::Failed(LockError::Deadlock { .. }),
                Outcome::Failed(LockError::Deadlock { .. }),
            ) => true,
            (Outcome::Granted(a), Outcome::Granted(b)) => a == b,
            (Outcome::Queued, Outcome::Queued)
            | (Outcome::Cancelled, Outcome::Cancelled)
            | (Outcome::Nothing, Outcome::Nothing) => true,
            (Outcome::Released(a), Outcome::Released(b)) => a == b,
            (Outcome::Renewed(a), Outcome::Renewed(b)) => a == b,
            (Outcome::Failed(a), Outcome::Failed(b)) => a == b,
            _ => false,
        }
    }

    /// The `expect` word this outcome satisfies (`timeout` is checked as `blocked` plus a
    /// later `timeouts` entry).
    pub fn word(&self) -> String {
        match self {
            Outcome::Granted(_) => "granted".into(),
            Outcome::Queued => "blocked".into(),
            Outcome::Released(_) => "released".into(),
            Outcome::Renewed(_) => "renewed".into(),
            Outcome::Cancelled => "cancelled".into(),
            Outcome::Failed(LockError::WouldBlock { .. }) => "conflict".into(),
            Outcome::Failed(LockError::Deadlock { .. }) => "deadlock".into(),
            Outcome::Failed(e) => format!("error:{}", e.kind()),
            Outcome::Nothing => "nothing".into(),
        }
    }
}

/// An [`Effect`] with its ticket replaced by the request's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Happened {
    Granted {
        id: String,
        owner: Owner,
        level: Level,
        grant: Grant,
    },
    TimedOut {
        id: String,
        owner: Owner,
        waited: Duration,
        blockers: Vec<Owner>,
    },
    Expired {
        owner: Owner,
        path: LockPath,
        fence: u64,
    },
}

/// A queued request as the file names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub id: String,
    pub owner: Owner,
    pub path: LockPath,
    pub level: Level,
    pub since: Time,
    pub deadline: Option<Time>,
}

/// Everything one model did in one step.
#[derive(Clone, Debug)]
pub(crate) struct Observation {
    pub outcome: Outcome,
    pub effects: Vec<Happened>,
    /// The ticket of the request this step queued, if it queued one.
    pub queued: Option<Ticket>,
    /// Queued requests this step ended, by ticket: `true` timed out, `false` granted.
    pub ended: Vec<(Ticket, bool)>,
}

/// A model plus the ticket ↔ name books for it.
pub(crate) struct Lane<M> {
    pub name: &'static str,
    pub model: M,
    names: HashMap<Ticket, String>,
    latest: HashMap<String, Ticket>,
    last_fence: u64,
}

impl<M: LockModel> Lane<M> {
    pub fn new(name: &'static str, model: M) -> Self {
        Lane {
            name,
            model,
            names: HashMap::new(),
            latest: HashMap::new(),
            last_fence: 0,
        }
    }

    /// The name of `ticket`, or its number if no step queued it (which would itself be a bug).
    pub fn id_of(&self, ticket: Ticket) -> String {
        self.names
            .get(&ticket)
            .cloned()
            .unwrap_or_else(|| ticket.to_string())
    }

    /// The newest ticket queued under `id`.
    pub fn ticket_of(&self, id: &str) -> Option<Ticket> {
        self.latest.get(id).copied()
    }

    /// Performs `action` at `now`. `owners[i]` is owner index `i`.
    pub fn apply(&mut self, action: &Action, now: Time) -> Observation {
        let owner = |i: usize| Owner::new(i as u64 + 1);
        let mut queued = None;
        let outcome = match action {
            Action::Lock {
                owner: o,
                path,
                level,
                id,
                timeout,
                ttl,
                ..
            } => match parse_path(path) {
                Err(e) => return self.refused(e),
                Ok(path) => {
                    let opts = RequestOptions {
                        timeout: *timeout,
                        ttl: *ttl,
                    };
                    match self.model.request(owner(*o), &path, *level, opts, now) {
                        Ok(Decision::Granted(g)) => Outcome::Granted(g),
                        Ok(Decision::Queued(t)) => {
                            self.names.insert(t, id.clone());
                            self.latest.insert(id.clone(), t);
                            queued = Some(t);
                            Outcome::Queued
                        }
                        Err(e) => Outcome::Failed(e),
                    }
                }
            },
            Action::TryLock {
                owner: o,
                path,
                level,
                ttl,
                ..
            } => match parse_path(path) {
                Err(e) => return self.refused(e),
                Ok(path) => match self.model.try_request(owner(*o), &path, *level, *ttl, now) {
                    Ok(g) => Outcome::Granted(g),
                    Err(e) => Outcome::Failed(e),
                },
            },
            Action::Unlock {
                owner: o,
                path,
                level,
                ..
            } => match parse_path(path) {
                Err(e) => return self.refused(e),
                Ok(path) => match self.model.release(owner(*o), &path, *level, now) {
                    Ok(r) => Outcome::Released(r),
                    Err(e) => Outcome::Failed(e),
                },
            },
            Action::Cancel { id, .. } => {
                let ticket = self.ticket_of(id).unwrap_or(NEVER_QUEUED);
                match self.model.cancel(ticket, now) {
                    Ok(()) => Outcome::Cancelled,
                    Err(e) => Outcome::Failed(e),
                }
            }
            Action::Renew {
                owner: o,
                path,
                ttl,
                ..
            } => match parse_path(path) {
                Err(e) => return self.refused(e),
                Ok(path) => match self.model.renew(owner(*o), &path, *ttl, now) {
                    Ok(t) => Outcome::Renewed(t),
                    Err(e) => Outcome::Failed(e),
                },
            },
            Action::Advance { .. } => {
                self.model.advance(now);
                Outcome::Nothing
            }
            Action::ExpectState { .. } => {
                return Observation {
                    outcome: Outcome::Nothing,
                    effects: Vec::new(),
                    queued: None,
                    ended: Vec::new(),
                }
            }
        };
        let effects = self
            .model
            .effects()
            .iter()
            .map(|e| self.name_effect(e))
            .collect();
        let ended = self
            .model
            .effects()
            .iter()
            .filter_map(|e| match e {
                Effect::Granted { ticket, .. } => Some((*ticket, false)),
                Effect::TimedOut { ticket, .. } => Some((*ticket, true)),
                Effect::Expired { .. } => None,
            })
            .collect();
        Observation {
            outcome,
            effects,
            queued,
            ended,
        }
    }

    /// A call the model never sees, because its path is invalid: the core's own parser
    /// refuses it, and nothing else happens.
    fn refused(&self, e: LockError) -> Observation {
        Observation {
            outcome: Outcome::Failed(e),
            effects: Vec::new(),
            queued: None,
            ended: Vec::new(),
        }
    }

    fn name_effect(&self, effect: &Effect) -> Happened {
        match effect {
            Effect::Granted {
                ticket,
                owner,
                level,
                grant,
            } => Happened::Granted {
                id: self.id_of(*ticket),
                owner: *owner,
                level: *level,
                grant: *grant,
            },
            Effect::TimedOut {
                ticket,
                owner,
                waited,
                blockers,
            } => Happened::TimedOut {
                id: self.id_of(*ticket),
                owner: *owner,
                waited: *waited,
                blockers: blockers.clone(),
            },
            Effect::Expired { owner, path, fence } => Happened::Expired {
                owner: *owner,
                path: path.clone(),
                fence: *fence,
            },
        }
    }

    /// Checks that the fencing tokens granted in `obs` are all greater than every token of
    /// earlier steps, distinct, and increasing in the order the effects happened; remembers
    /// the newest. Returns the offending pair `(previous, token)`.
    pub fn check_fences(&mut self, obs: &Observation) -> Result<(), (u64, u64)> {
        let before = self.last_fence;
        let mut newest = before;
        for e in &obs.effects {
            if let Happened::Granted { grant, .. } = e {
                if grant.fence <= newest {
                    return Err((newest, grant.fence));
                }
                newest = grant.fence;
            }
        }
        if let Outcome::Granted(g) = &obs.outcome {
            let reused = obs
                .effects
                .iter()
                .any(|e| matches!(e, Happened::Granted { grant, .. } if grant.fence == g.fence));
            if g.fence <= before || reused {
                return Err((newest, g.fence));
            }
            newest = newest.max(g.fence);
        }
        self.last_fence = newest;
        Ok(())
    }

    /// Every hold, sorted by path then owner.
    pub fn holds(&self) -> Vec<(LockPath, HolderInfo)> {
        self.model.holds()
    }

    /// Every queued request, oldest first, by name.
    pub fn queue(&self) -> Vec<Waiting> {
        self.model
            .queued()
            .into_iter()
            .map(|q| Waiting {
                id: self.id_of(q.ticket),
                owner: q.owner,
                path: q.path,
                level: q.level,
                since: q.since,
                deadline: q.deadline,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlock(owners: &[u64]) -> Outcome {
        Outcome::Failed(LockError::Deadlock {
            cycle: owners.iter().copied().map(Owner::new).collect(),
        })
    }

    #[test]
    fn models_agree_on_any_deadlock_cycle_but_nothing_else_that_differs() {
        assert!(deadlock(&[1, 2]).same_as(&deadlock(&[1, 3, 2])));
        let granted = |fence| {
            Outcome::Granted(Grant {
                fence,
                expires: None,
            })
        };
        assert!(granted(3).same_as(&granted(3)));
        assert!(!granted(3).same_as(&granted(4)));
        assert!(!granted(3).same_as(&Outcome::Queued));
        assert!(Outcome::Queued.same_as(&Outcome::Queued));
        assert!(!Outcome::Queued.same_as(&deadlock(&[1, 2])));
        assert!(!Outcome::Cancelled.same_as(&Outcome::Nothing));
        let renewed = |secs| Outcome::Renewed(Time::ZERO.saturating_add(Duration::from_secs(secs)));
        assert!(renewed(5).same_as(&renewed(5)));
        assert!(!renewed(5).same_as(&renewed(6)));
    }

    fn granted_effect(fence: u64) -> Happened {
        Happened::Granted {
            id: format!("r{fence}"),
            owner: Owner::new(fence),
            level: Level::Write,
            grant: Grant {
                fence,
                expires: None,
            },
        }
    }

    fn observed(outcome: Outcome, fences: &[u64]) -> Observation {
        Observation {
            outcome,
            effects: fences.iter().copied().map(granted_effect).collect(),
            queued: None,
            ended: Vec::new(),
        }
    }

    #[test]
    fn fences_must_grow_across_and_within_steps() {
        let granted = |fence| {
            Outcome::Granted(Grant {
                fence,
                expires: None,
            })
        };
        let mut lane = Lane::new("table", crate::table::LockTable::new());
        assert_eq!(lane.check_fences(&observed(granted(1), &[])), Ok(()));
        assert_eq!(
            lane.check_fences(&observed(Outcome::Nothing, &[2, 3])),
            Ok(())
        );
        // A token no newer than the last step's, out of order within a step, or handed out
        // twice in one step.
        assert_eq!(lane.check_fences(&observed(granted(3), &[])), Err((3, 3)));
        assert_eq!(
            lane.check_fences(&observed(Outcome::Nothing, &[5, 4])),
            Err((5, 4))
        );
        assert_eq!(lane.check_fences(&observed(granted(6), &[6])), Err((6, 6)));
        assert_eq!(lane.check_fences(&observed(granted(7), &[])), Ok(()));
    }
}
