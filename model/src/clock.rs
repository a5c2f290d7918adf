//! Injected time: a [`Clock`] trait with a real and a manual implementation.

use crate::sync::atomic::{AtomicU64, Ordering};
use crate::time::Time;
use std::time::Duration;

/// A monotonic source of [`Time`]. Shells (the blocking manager, reservations) read it; the
/// pure table only ever receives its readings.
pub trait Clock: Send + Sync + 'static {
    /// The current time. Never goes backwards.
    fn now(&self) -> Time;

    /// Whether time passes by itself, so a waiter may sleep until a deadline. A manual clock
    /// returns `false`: deadlines there pass only when someone advances it and calls the
    /// shell's `advance`.
    fn passes_by_itself(&self) -> bool;
}

/// The operating system's monotonic clock, with its epoch at construction.
#[derive(Debug)]
pub struct SystemClock {
    start: std::time::Instant,
}

impl SystemClock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Time {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Time::from_nanos(nanos)
    }

    fn passes_by_itself(&self) -> bool {
        true
    }
}

/// A clock that moves only when told to: for tests, the simulator and the model checkers.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Time) -> Self {
        ManualClock {
            nanos: AtomicU64::new(start.as_nanos()),
        }
    }

    /// Moves the clock forward by `d` (saturating) and returns the new time.
    pub fn advance(&self, d: Duration) -> Time {
        let step = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let mut current = self.nanos.load(Ordering::SeqCst);
        loop {
            let next = current.saturating_add(step);
            match self
                .nanos
                .compare_exchange(current, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Time::from_nanos(next),
                Err(seen) => current = seen,
            }
        }
    }

    /// Moves the clock to `t` if that is later than now; it never goes backwards.
    pub fn advance_to(&self, t: Time) -> Time {
        let prev = self.nanos.fetch_max(t.as_nanos(), Ordering::SeqCst);
        Time::from_nanos(prev.max(t.as_nanos()))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Time {
        Time::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn passes_by_itself(&self) -> bool {
        false
    }
}

#[cfg(all(test, not(any(lockstudio_loom, feature = "shuttle"))))]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(Time::from_nanos(10));
        assert_eq!(c.advance(Duration::from_nanos(5)), Time::from_nanos(15));
        assert_eq!(c.advance_to(Time::from_nanos(12)), Time::from_nanos(15));
        assert_eq!(c.advance_to(Time::from_nanos(20)), Time::from_nanos(20));
        assert_eq!(c.now(), Time::from_nanos(20));
        assert!(!c.passes_by_itself());
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(c.passes_by_itself());
    }
}
