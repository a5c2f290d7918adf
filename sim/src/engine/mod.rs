//! The discrete-event core: virtual time, the event queue and the seeded random streams.
//! Nothing here knows about studios; `crate::studio` is one model driven by it.

mod digest;
mod queue;
mod rng;
mod time;

pub use digest::Digest;
pub use queue::EventQueue;
pub(crate) use rng::exponential;
pub use rng::{fnv1a, stream, Streams};
pub use time::{fmt_time, ms, to_time, Nanos, MINUTE, MS, SEC, US};
