//! Creation Center's two-tier reservations: a workstation-local tier, then the server tier.
//!
//! A [`Reservation`] is a read or write hold on a resource path (an image, a customer's
//! session directory). [`ReservationClient::reserve`] takes it on the workstation's own
//! [`LockManager`](crate::manager::LockManager) first (so threads of one workstation queue
//! locally), then on the server through a [`Transport`]. The server hold is a lease that the
//! client renews while the reservation is held, so a workstation that disappears loses its
//! server reservations by expiry. If the server refuses, times out or cannot be reached, the
//! local reservation is released and the caller gets a [`ReserveError`] naming the
//! [`Tier`]; [`ReservationStats::window`] counts those local-granted / server-failed
//! outcomes (the "small window" of the seed).
//!
//! Layers: [`ServerReservations`] is the pure server state machine (driven directly by the
//! simulator, with `now` inputs); [`InProcessServer`] puts it behind the facade mutex as a
//! [`Transport`]; [`ReservationClient`] is the blocking client shell. See
//! `specs/reservations.md`.

mod client;
mod server;
mod transport;

pub use client::{
    RenewReport, Renewer, Reservation, ReservationClient, ReservationStats, ReserveError, Tier,
};
pub use server::{Request, ReservationKind, Response, ServerReservations};
pub use transport::{InProcessServer, Transport, TransportError};
