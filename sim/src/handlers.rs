//! The server's transfer handlers, organised as a leader-follower pool: one leader waits for
//! the next connection; when one arrives the leader promotes a follower to lead and handles
//! the connection itself; a handler that finishes rejoins as a follower, or as the leader when
//! there is none, and then takes the oldest connection waiting in the accept backlog.
//! Pure state: the world supplies time and the choice of which follower is promoted.

use crate::engine::Nanos;
use std::collections::VecDeque;

/// What one handler is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Waiting on the listener for the next connection.
    Leader,
    /// Idle, waiting to be promoted.
    Follower,
    /// Serving a connection.
    Busy,
}

/// The pool: roles by handler index, and connections nobody could accept yet.
#[derive(Debug)]
pub struct Handlers<C> {
    roles: Vec<Role>,
    backlog: VecDeque<(C, Nanos)>,
}

/// A connection handed to a handler, with when it arrived.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted<C> {
    /// The handler serving it.
    pub handler: usize,
    /// The connection.
    pub conn: C,
    /// When it arrived at the server (its accept wait is `now - arrived`).
    pub arrived: Nanos,
}

impl<C> Handlers<C> {
    /// `n` handlers (at least one): the first leads, the others follow.
    pub fn new(n: usize) -> Self {
        let mut roles = vec![Role::Follower; n.max(1)];
        roles[0] = Role::Leader;
        Handlers {
            roles,
            backlog: VecDeque::new(),
        }
    }

    /// A connection arrives. The leader takes it (promoting the follower `pick` chooses among
    /// the idle ones, by position) or, when every handler is busy, it waits in the backlog.
    pub fn arrive(
        &mut self,
        conn: C,
        now: Nanos,
        pick: impl FnOnce(usize) -> usize,
    ) -> Option<Accepted<C>> {
        self.backlog.push_back((conn, now));
        self.dispatch(pick)
    }

    /// Handler `h` finished its connection; it rejoins and, if connections are waiting, the
    /// (possibly new) leader takes the oldest one.
    pub fn finish(&mut self, h: usize, pick: impl FnOnce(usize) -> usize) -> Option<Accepted<C>> {
        if let Some(role) = self.roles.get_mut(h) {
            *role = Role::Follower;
        }
        if self.leader().is_none() {
            if let Some(role) = self.roles.get_mut(h) {
                *role = Role::Leader;
            }
        }
        self.dispatch(pick)
    }

    /// Drops every waiting connection (the server restarted) and returns them.
    pub fn drain_backlog(&mut self) -> Vec<C> {
        self.backlog.drain(..).map(|(c, _)| c).collect()
    }

    /// Connections waiting for a handler.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Roles by handler.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    fn leader(&self) -> Option<usize> {
        self.roles.iter().position(|r| *r == Role::Leader)
    }

    fn dispatch(&mut self, pick: impl FnOnce(usize) -> usize) -> Option<Accepted<C>> {
        let leader = self.leader()?;
        let (conn, arrived) = self.backlog.pop_front()?;
        self.roles[leader] = Role::Busy;
        let followers: Vec<usize> = (0..self.roles.len())
            .filter(|&i| self.roles[i] == Role::Follower)
            .collect();
        if !followers.is_empty() {
            let chosen = followers[pick(followers.len()).min(followers.len() - 1)];
            self.roles[chosen] = Role::Leader;
        }
        Some(Accepted {
            handler: leader,
            conn,
            arrived,
        })
    }

    /// The pool's invariant: at most one leader; an idle follower implies a leader; a waiting
    /// connection implies every handler is busy. Returns what is wrong, if anything.
    pub fn check(&self) -> Result<(), String> {
        let count = |role| self.roles.iter().filter(|r| **r == role).count();
        let (leaders, followers) = (count(Role::Leader), count(Role::Follower));
        if leaders > 1 {
            return Err(format!("{leaders} leaders at once: {:?}", self.roles));
        }
        if followers > 0 && leaders == 0 {
            return Err(format!("idle followers but no leader: {:?}", self.roles));
        }
        if !self.backlog.is_empty() && leaders + followers > 0 {
            return Err(format!(
                "{} connections wait while handlers idle: {:?}",
                self.backlog.len(),
                self.roles
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(_: usize) -> usize {
        0
    }

    #[test]
    fn leader_takes_the_connection_and_promotes_a_follower() {
        let mut h = Handlers::new(3);
        let a = h.arrive("a", 5, |n| n - 1);
        assert_eq!(
            a,
            Some(Accepted {
                handler: 0,
                conn: "a",
                arrived: 5
            })
        );
        assert_eq!(h.roles(), &[Role::Busy, Role::Follower, Role::Leader]);
        assert!(h.check().is_ok());
    }

    #[test]
    fn connections_wait_when_all_are_busy_and_the_finisher_takes_the_oldest() {
        let mut h = Handlers::new(2);
        assert!(h.arrive(1, 0, first).is_some());
        assert!(h.arrive(2, 1, first).is_some());
        assert_eq!(h.arrive(3, 2, first), None);
        assert_eq!(h.arrive(4, 3, first), None);
        assert_eq!(h.backlog(), 2);
        assert!(h.check().is_ok());
        let next = h.finish(1, first).map(|a| (a.handler, a.conn, a.arrived));
        assert_eq!(next, Some((1, 3, 2)));
        assert_eq!(h.backlog(), 1);
        assert!(h.check().is_ok());
    }

    #[test]
    fn a_finisher_becomes_follower_when_a_leader_exists() {
        let mut h = Handlers::new(3);
        h.arrive('x', 0, first);
        assert_eq!(h.finish(0, first), None);
        assert_eq!(h.roles(), &[Role::Follower, Role::Leader, Role::Follower]);
        assert!(h.check().is_ok());
    }

    #[test]
    fn drained_backlog_is_returned_in_order() {
        let mut h = Handlers::new(1);
        h.arrive(1, 0, first);
        h.arrive(2, 0, first);
        h.arrive(3, 0, first);
        assert_eq!(h.drain_backlog(), vec![2, 3]);
        assert_eq!(h.finish(0, first), None);
        assert_eq!(h.roles(), &[Role::Leader]);
    }

    #[test]
    fn check_bites_on_two_leaders_and_on_idle_handlers_with_a_backlog() {
        let mut h: Handlers<u8> = Handlers::new(2);
        h.roles[1] = Role::Leader;
        assert!(h.check().is_err());
        h.roles[1] = Role::Follower;
        h.backlog.push_back((1, 0));
        assert!(h.check().unwrap_err().contains("wait while handlers idle"));
        h.roles[0] = Role::Follower;
        assert!(h.check().unwrap_err().contains("no leader"));
    }
}
