//! The discrete-event core: virtual time, an event queue ordered by (time, sequence), and
//! named seeded random streams.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Virtual nanoseconds since the start of the run.
pub type Nanos = u64;

/// Nanoseconds in a millisecond.
pub const MS: Nanos = 1_000_000;
/// Nanoseconds in a second.
pub const SEC: Nanos = 1_000_000_000;

/// Events waiting to happen, popped in (time, insertion order): ties never depend on memory
/// layout or hashing, so a run is a pure function of its seed and workload.
#[derive(Debug)]
pub struct EventQueue<E> {
    events: BinaryHeap<Reverse<Slot<E>>>,
    seq: u64,
}

/// One scheduled event, ordered by its key alone.
#[derive(Debug)]
struct Slot<E> {
    key: (Nanos, u64),
    event: E,
}

impl<E> PartialEq for Slot<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<E> Eq for Slot<E> {}

impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Slot<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            events: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: Nanos, event: E) {
        self.seq += 1;
        let key = (at, self.seq);
        self.events.push(Reverse(Slot { key, event }));
    }

    /// The earliest event, removed.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.events.pop().map(|Reverse(s)| (s.key.0, s.event))
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// One independent random stream per concern, each seeded from (run seed, stream name) with
/// ChaCha8, so adding a draw to one stream never changes what another draws for a seed.
#[derive(Debug)]
pub struct Streams {
    /// Operations, sessions, think times.
    pub workload: ChaCha8Rng,
    /// Which faults fire and when.
    pub faults: ChaCha8Rng,
    /// Transfer outcomes and delays.
    pub network: ChaCha8Rng,
    /// Choices between equals (which idle transfer handler is promoted to leader).
    pub tiebreak: ChaCha8Rng,
}

impl Streams {
    /// The streams of run `seed`.
    pub fn new(seed: u64) -> Self {
        Streams {
            workload: stream(seed, "workload"),
            faults: stream(seed, "faults"),
            network: stream(seed, "network"),
            tiebreak: stream(seed, "tiebreak"),
        }
    }
}

/// A ChaCha8 stream for `(seed, name)`: the name is folded in with FNV-1a, then mixed with
/// SplitMix64, both fixed here forever so a seed replays identically across versions.
pub fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(seed ^ fnv1a(name.as_bytes())))
}

/// FNV-1a, 64-bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn queue_orders_by_time_then_insertion() {
        let mut q = EventQueue::default();
        q.push(5, "b");
        q.push(1, "a");
        q.push(5, "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(1, "a"), (5, "b"), (5, "c")]);
    }

    #[test]
    fn streams_are_independent_and_replayable() {
        let a: u64 = stream(7, "workload").gen();
        assert_eq!(a, stream(7, "workload").gen::<u64>());
        assert_ne!(a, stream(7, "faults").gen::<u64>());
        assert_ne!(a, stream(8, "workload").gen::<u64>());
    }
}
