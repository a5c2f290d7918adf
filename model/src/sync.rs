//! The one door to synchronization primitives.
//!
//! Everything in this crate that blocks or shares state across threads imports it from here,
//! so the code that ships is the code that loom and shuttle explore:
//! - default: `std::sync` / `std::thread`;
//! - `--cfg lockstudio_loom`: loom's model types (exhaustive interleavings within bounds);
//! - feature `shuttle`: shuttle's model types (random, PCT and DFS schedulers).
//!
//! Poisoning is deliberately ignored: the state behind every lock here is a pure table whose
//! methods never panic mid-update, so a panic elsewhere in a holder leaves it consistent.

#[cfg(lockstudio_loom)]
pub(crate) use loom::sync::{atomic, Arc, Condvar as RawCondvar, Mutex as RawMutex, MutexGuard};
#[cfg(all(feature = "shuttle", not(lockstudio_loom)))]
pub(crate) use shuttle::sync::{atomic, Arc, Condvar as RawCondvar, Mutex as RawMutex, MutexGuard};
#[cfg(not(any(lockstudio_loom, feature = "shuttle")))]
pub(crate) use std::sync::{atomic, Arc, Condvar as RawCondvar, Mutex as RawMutex, MutexGuard};

/// Threads, for tests and examples that want the facade's notion of a thread.
#[cfg(lockstudio_loom)]
pub use loom::thread;
/// Threads, for tests and examples that want the facade's notion of a thread.
#[cfg(all(feature = "shuttle", not(lockstudio_loom)))]
pub use shuttle::thread;
/// Threads, for tests and examples that want the facade's notion of a thread.
#[cfg(not(any(lockstudio_loom, feature = "shuttle")))]
pub use std::thread;

/// Pauses the calling thread for `dur`. Under a model checker, which has no time, it yields
/// instead, so a backoff can never hide an interleaving or hang the search.
pub(crate) fn sleep(dur: std::time::Duration) {
    #[cfg(not(any(lockstudio_loom, feature = "shuttle")))]
    std::thread::sleep(dur);
    #[cfg(any(lockstudio_loom, feature = "shuttle"))]
    {
        let _ = dur;
        thread::yield_now();
    }
}

/// A mutex whose `lock` never reports poisoning (see the module docs for why that is sound).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(RawMutex<T>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(RawMutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A condition variable paired with [`Mutex`]. Callers always wait in a `while` loop on the
/// real condition: neither the OS nor the model checkers promise anything about wake-ups.
#[derive(Debug, Default)]
pub(crate) struct Condvar(RawCondvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Self(RawCondvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits at most `dur` under std. The model checkers have no time model, so there it is a
    /// plain wait: timeouts are driven by a model thread advancing a manual clock instead.
    #[cfg(not(any(lockstudio_loom, feature = "shuttle")))]
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: std::time::Duration,
    ) -> MutexGuard<'a, T> {
        match self.0.wait_timeout(guard, dur) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// See the std variant: under a model checker this is a plain wait.
    #[cfg(any(lockstudio_loom, feature = "shuttle"))]
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        _dur: std::time::Duration,
    ) -> MutexGuard<'a, T> {
        self.wait(guard)
    }

    pub(crate) fn notify_one(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}
