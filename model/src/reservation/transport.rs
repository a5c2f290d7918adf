//! The link between the tiers: a [`Transport`] trait, and the in-process server tests use.

use super::server::{Request, Response, ServerReservations};
use crate::clock::Clock;
use crate::sync::{Arc, Mutex};
use crate::table::Effect;
use std::fmt;
use std::time::Duration;

/// Why a request got no answer. The request may or may not have reached the server: a
/// reservation granted but never reported ends by lease expiry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The connection broke (either end closed the socket, the client crashed).
    #[error("connection lost: {0}")]
    Disconnected(String),
    /// No answer within the transport's time limit.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// An answer that does not fit the request.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// How a client reaches the server tier: one request, one answer or a transport error. The
/// simulator implements it with crashing sockets; tests use [`InProcessServer`].
pub trait Transport: Send + Sync {
    /// Sends `request` and waits for the answer.
    fn call(&self, request: Request) -> Result<Response, TransportError>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn call(&self, request: Request) -> Result<Response, TransportError> {
        (**self).call(request)
    }
}

/// A [`ServerReservations`] behind the facade mutex, reading its own clock: the server tier
/// in the same process, reached by direct calls. Cloning shares the server.
pub struct InProcessServer<C: Clock> {
    shared: Arc<(Mutex<ServerReservations>, C)>,
}

impl<C: Clock> Clone for InProcessServer<C> {
    fn clone(&self) -> Self {
        InProcessServer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Clock> fmt::Debug for InProcessServer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessServer")
            .field("now", &self.shared.1.now())
            .finish_non_exhaustive()
    }
}

impl<C: Clock> InProcessServer<C> {
    /// A server with no reservations, on `clock` (the server's own, not the client's).
    pub fn new(clock: C) -> Self {
        InProcessServer {
            shared: Arc::new((Mutex::new(ServerReservations::new()), clock)),
        }
    }

    /// The server's clock.
    pub fn clock(&self) -> &C {
        &self.shared.1
    }

    /// Processes every lease expiry due now; returns what expired.
    pub fn advance(&self) -> Vec<Effect> {
        self.with(|server, now| {
            server.advance(now);
            server.effects().to_vec()
        })
    }

    /// Runs `f` on the server state at the server's current time, in one critical section.
    pub fn with<T>(&self, f: impl FnOnce(&mut ServerReservations, crate::Time) -> T) -> T {
        let now = self.shared.1.now();
        f(&mut self.shared.0.lock(), now)
    }
}

impl<C: Clock> Transport for InProcessServer<C> {
    fn call(&self, request: Request) -> Result<Response, TransportError> {
        Ok(self.with(|server, now| server.handle(request, now)))
    }
}
