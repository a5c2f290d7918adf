//! The event queue: a binary heap ordered by (time, tie-break draw, insertion number).

use super::time::Nanos;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Events waiting to happen. Events at the same instant are ordered by a draw from the run's
/// `tiebreak` stream, so each seed explores a different (but reproducible) interleaving of
/// simultaneous events; the insertion number settles the (astronomically rare) equal draws.
/// Nothing depends on memory layout or hashing.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    tiebreak: ChaCha8Rng,
}

#[derive(Debug)]
struct Entry<E> {
    at: Nanos,
    tie: u32,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn key(&self) -> (Nanos, u32, u64) {
        (self.at, self.tie, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and the earliest event must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

impl<E> EventQueue<E> {
    /// An empty queue breaking ties with `tiebreak`.
    pub fn new(tiebreak: ChaCha8Rng) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            tiebreak,
        }
    }

    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: Nanos, event: E) {
        self.seq += 1;
        let tie = self.tiebreak.next_u32();
        self.heap.push(Entry {
            at,
            tie,
            seq: self.seq,
            event,
        });
    }

    /// The earliest event, removed.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.heap.pop().map(|e| (e.at, e.event))
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    #[test]
    fn pops_in_time_order_and_replays_ties_identically() {
        let run = |seed| {
            let mut q = EventQueue::new(stream(seed, "tiebreak"));
            for (at, e) in [(5, 'b'), (1, 'a'), (5, 'c'), (5, 'd'), (9, 'e')] {
                q.push(at, e);
            }
            std::iter::from_fn(|| q.pop()).collect::<Vec<_>>()
        };
        let first = run(1);
        assert_eq!(first, run(1), "same seed, same order");
        let times: Vec<_> = first.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, vec![1, 5, 5, 5, 9]);
        assert_eq!((first[0].1, first[4].1), ('a', 'e'));
        let orders: std::collections::BTreeSet<String> = (0..32)
            .map(|s| run(s).iter().map(|(_, e)| *e).collect())
            .collect();
        assert!(
            orders.len() > 1,
            "ties are broken by the seed, not by insertion"
        );
    }
}
