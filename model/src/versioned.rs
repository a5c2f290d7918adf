//! Optimistic concurrency: version numbers instead of locks (seed 002's Optimistic
//! Concurrency pattern, Version Cue's "three retries, then an OptimisticLockException").
//!
//! Clone the value, change the clone, and replace the original only if its version is still
//! the one you read; otherwise re-read and try again. The pieces:
//! - [`Versions`]: the pure core, a map from key to `(value, Version)` whose
//!   [`commit`](Versions::commit) checks and replaces in one step;
//! - [`Retry`]: the pure retry driver (counts attempts, computes backoff delays, gives up with
//!   [`OptimisticLockError`]), shared by the blocking store and the simulator;
//! - [`VersionedStore`]: the thread-safe store over the sync facade, with
//!   [`update`](VersionedStore::update) running the whole read–modify–commit loop.
//!
//! Versions: an absent key is at [`Version::ABSENT`] (0); every successful commit makes the
//! version exactly one greater, so the first commit of a key (`expected = ABSENT`) creates it
//! at version 1. There is no delete: a deleted-then-recreated key would reuse version numbers
//! and let a stale clone overwrite the new value (ABA). See `specs/optimistic.md`.
//!
//! ```
//! use lockstudio::versioned::{CommitError, RetryPolicy, Version, VersionedStore};
//!
//! let store = VersionedStore::new();
//! let v1 = store.insert("job-42", 0u32).unwrap();
//! let (seen, version) = store.read("job-42").unwrap();
//! assert_eq!((seen, version), (0, v1));
//!
//! // Someone else commits first...
//! store.commit("job-42", v1, 7).unwrap();
//! // ...so our commit based on the old version is refused, naming both versions.
//! assert_eq!(
//!     store.commit("job-42", v1, seen + 1),
//!     Err(CommitError::Conflict { expected: v1, current: Version(2) })
//! );
//! // `update` re-reads and retries (three attempts by default).
//! let v3 = store.update("job-42", |n| *n += 1, &RetryPolicy::default()).unwrap();
//! assert_eq!(store.read("job-42"), Some((8, v3)));
//! ```

use crate::planted::{active, Bug};
use crate::sync::{thread, Arc, Mutex};
use crate::table::MAX_DURATION;
use rustc_hash::FxHashMap;
use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::time::Duration;

/// How many times a value has been committed. Compared, never interpreted otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

impl Version {
    /// The version of a key that has never been committed.
    pub const ABSENT: Version = Version(0);

    /// The version a successful commit on top of this one produces.
    pub fn next(self) -> Option<Version> {
        self.0.checked_add(1).map(Version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Why a commit did not replace the value. A refused commit changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// Someone committed since `expected` was read: re-read and try again.
    #[error("version conflict: expected {expected}, but the value is at {current}")]
    Conflict {
        /// The version the caller based its change on.
        expected: Version,
        /// The version the value is at now.
        current: Version,
    },
    /// `expected` was never handed out for this key: a caller bug, not a race. Retrying
    /// cannot help.
    #[error("version {expected} is from the future: the value is only at {current}")]
    FutureVersion {
        /// The version the caller claimed to have read.
        expected: Version,
        /// The version the value is at now.
        current: Version,
    },
    /// The key has been committed `u64::MAX` times; no further version exists.
    #[error("no version after {0} is left")]
    VersionExhausted(Version),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry<V> {
    value: V,
    version: Version,
}

/// The pure core: values with versions, and a commit whose check and replace are one step
/// (there is no `&mut self` gap between them for anyone to slip into).
///
/// ```
/// use lockstudio::versioned::{Version, Versions};
///
/// let mut v = Versions::new();
/// assert_eq!(v.commit("k", Version::ABSENT, 'a'), Ok(Version(1)));
/// assert_eq!(v.commit("k", Version(1), 'b'), Ok(Version(2)));
/// assert!(v.commit("k", Version(1), 'c').is_err()); // stale
/// assert!(v.commit("k", Version(5), 'c').is_err()); // from the future
/// assert_eq!(v.read("k"), Some((&'b', Version(2))));
/// ```
#[derive(Clone, Debug)]
pub struct Versions<K, V> {
    entries: FxHashMap<K, Entry<V>>,
}

impl<K, V> Default for Versions<K, V> {
    fn default() -> Self {
        Versions {
            entries: FxHashMap::default(),
        }
    }
}

impl<K: Eq + Hash, V> Versions<K, V> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key` and its version, if it was ever committed.
    pub fn read<Q>(&self, key: &Q) -> Option<(&V, Version)>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.get(key).map(|e| (&e.value, e.version))
    }

    /// The version of `key` ([`Version::ABSENT`] if it was never committed).
    pub fn version<Q>(&self, key: &Q) -> Version
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.get(key).map_or(Version::ABSENT, |e| e.version)
    }

    /// Replaces the value of `key` with `value` if its version is still `expected`; returns
    /// the new version (`expected + 1`). With `expected = ABSENT` this creates the key.
    pub fn commit(&mut self, key: K, expected: Version, value: V) -> Result<Version, CommitError> {
        let current = self.version(&key);
        check(expected, current)?;
        self.replace(key, current, value)
    }

    /// Creates `key` at version 1; a conflict if it exists.
    pub fn insert(&mut self, key: K, value: V) -> Result<Version, CommitError> {
        self.commit(key, Version::ABSENT, value)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key was ever committed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every key with its value and version, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V, Version)> + '_ {
        self.entries.iter().map(|(k, e)| (k, &e.value, e.version))
    }

    /// The replace half of a commit, with no check: `current` must be the version just seen.
    fn replace(&mut self, key: K, current: Version, value: V) -> Result<Version, CommitError> {
        let version = current
            .next()
            .ok_or(CommitError::VersionExhausted(current))?;
        self.entries.insert(key, Entry { value, version });
        Ok(version)
    }
}

/// The check half of a commit, as a pure function of the two versions.
fn check(expected: Version, current: Version) -> Result<(), CommitError> {
    match expected.cmp(&current) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(CommitError::Conflict { expected, current }),
        std::cmp::Ordering::Greater => Err(CommitError::FutureVersion { expected, current }),
    }
}

/// A retry policy that cannot be honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid retry policy: {0}")]
pub struct InvalidPolicy(pub &'static str);

/// How often [`VersionedStore::update`] tries, and how long it pauses between tries.
///
/// The delay after the `n`-th failed attempt is `first_delay * 2^(n-1)`, capped at
/// `max_delay`; there is no jitter (a [`Backoff`] may add its own), so runs are reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    first_delay: Duration,
    max_delay: Duration,
}

impl RetryPolicy {
    /// Version Cue's policy: three attempts.
    pub const DEFAULT_ATTEMPTS: u32 = 3;
    /// More attempts than this is a livelock, not a policy.
    pub const MAX_ATTEMPTS: u32 = 10_000;

    /// `attempts` tries (1..=[`RetryPolicy::MAX_ATTEMPTS`]) with no pause between them.
    pub fn new(attempts: u32) -> Result<Self, InvalidPolicy> {
        if attempts == 0 {
            return Err(InvalidPolicy("at least one attempt is needed"));
        }
        if attempts > Self::MAX_ATTEMPTS {
            return Err(InvalidPolicy(
                "more than RetryPolicy::MAX_ATTEMPTS attempts",
            ));
        }
        Ok(RetryPolicy {
            attempts,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        })
    }

    /// The same attempts with exponential backoff from `first` up to `max` (`first <= max`,
    /// `max` at most a year).
    pub fn with_backoff(self, first: Duration, max: Duration) -> Result<Self, InvalidPolicy> {
        if first > max {
            return Err(InvalidPolicy("the first delay exceeds the maximum delay"));
        }
        if max > MAX_DURATION {
            return Err(InvalidPolicy("the maximum delay exceeds a year"));
        }
        Ok(RetryPolicy {
            first_delay: first,
            max_delay: max,
            ..self
        })
    }

    /// How many attempts in total.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The pause after the `failed`-th failed attempt (1-based).
    pub fn delay_after(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let nanos = u64::try_from(self.first_delay.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(nanos.saturating_mul(factor)).min(self.max_delay)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: Self::DEFAULT_ATTEMPTS,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }
}

/// Every attempt of an update conflicted: the value is under unusually heavy contention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("optimistic lock failed after {attempts} attempts; the value was last seen at {last_seen}")]
pub struct OptimisticLockError {
    /// Attempts made (the policy's limit).
    pub attempts: u32,
    /// The version the last refused commit found.
    pub last_seen: Version,
}

/// What to do after a conflicted attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryStep {
    /// Pause for `delay`, then re-read and make attempt number `attempt` (1-based).
    Again {
        /// The number of the coming attempt.
        attempt: u32,
        /// How long to pause first.
        delay: Duration,
    },
    /// The policy's attempts are used up.
    GiveUp(OptimisticLockError),
}

/// The pure retry driver: counts attempts against a [`RetryPolicy`]. The blocking store
/// pauses with a [`Backoff`]; the simulator schedules the delay in virtual time instead.
///
/// ```
/// use lockstudio::versioned::{Retry, RetryPolicy, RetryStep, Version};
///
/// let mut retry = Retry::new(RetryPolicy::new(2).unwrap());
/// assert!(matches!(retry.on_conflict(Version(4)), RetryStep::Again { attempt: 2, .. }));
/// let RetryStep::GiveUp(err) = retry.on_conflict(Version(5)) else { panic!() };
/// assert_eq!((err.attempts, err.last_seen), (2, Version(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    policy: RetryPolicy,
    failed: u32,
}

impl Retry {
    /// A driver about to make its first attempt.
    pub fn new(policy: RetryPolicy) -> Self {
        Retry { policy, failed: 0 }
    }

    /// Attempts that have conflicted so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Records that an attempt conflicted, finding the value at `current`.
    pub fn on_conflict(&mut self, current: Version) -> RetryStep {
        self.failed = self.failed.saturating_add(1);
        if self.failed >= self.policy.attempts {
            return RetryStep::GiveUp(OptimisticLockError {
                attempts: self.failed,
                last_seen: current,
            });
        }
        RetryStep::Again {
            attempt: self.failed + 1,
            delay: self.policy.delay_after(self.failed),
        }
    }
}

/// How [`VersionedStore::update_with`] pauses between attempts. Injected so tests and model
/// checkers never sleep; any `FnMut(Duration)` is a `Backoff`.
pub trait Backoff {
    /// Pauses for (about) `delay` before the next attempt.
    fn pause(&mut self, delay: Duration);
}

impl<F: FnMut(Duration)> Backoff for F {
    fn pause(&mut self, delay: Duration) {
        self(delay)
    }
}

/// Pauses by sleeping the calling thread (through the sync facade); a zero delay returns at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadSleep;

impl Backoff for ThreadSleep {
    fn pause(&mut self, delay: Duration) {
        if !delay.is_zero() {
            crate::sync::sleep(delay);
        }
    }
}

/// Why [`VersionedStore::update`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The key was never committed, so there is nothing to update.
    #[error("no such key")]
    UnknownKey,
    /// Every attempt conflicted.
    #[error(transparent)]
    OptimisticLock(#[from] OptimisticLockError),
    /// A commit failed for a reason retrying cannot fix.
    #[error(transparent)]
    Commit(CommitError),
}

/// A thread-safe [`Versions`]: every commit is one critical section of the facade mutex.
/// Cloning shares the same store.
pub struct VersionedStore<K, V> {
    inner: Arc<Mutex<Versions<K, V>>>,
}

impl<K, V> Clone for VersionedStore<K, V> {
    fn clone(&self) -> Self {
        VersionedStore {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> Default for VersionedStore<K, V> {
    fn default() -> Self {
        VersionedStore {
            inner: Arc::new(Mutex::new(Versions::default())),
        }
    }
}

impl<K, V> fmt::Debug for VersionedStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionedStore").finish_non_exhaustive()
    }
}

impl<K: Eq + Hash, V> VersionedStore<K, V> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the value of `key` with its version.
    pub fn read<Q>(&self, key: &Q) -> Option<(V, Version)>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone,
    {
        self.inner.lock().read(key).map(|(v, ver)| (v.clone(), ver))
    }

    /// The version of `key` ([`Version::ABSENT`] if never committed).
    pub fn version<Q>(&self, key: &Q) -> Version
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.inner.lock().version(key)
    }

    /// [`Versions::commit`]: check and replace in one critical section.
    pub fn commit(&self, key: K, expected: Version, value: V) -> Result<Version, CommitError> {
        if active(Bug::NonAtomicCommit) {
            return self.commit_in_two_steps(key, expected, value);
        }
        self.inner.lock().commit(key, expected, value)
    }

    /// Creates `key` at version 1; a conflict if it exists.
    pub fn insert(&self, key: K, value: V) -> Result<Version, CommitError> {
        self.commit(key, Version::ABSENT, value)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// Whether no key was ever committed.
    pub fn is_empty(&self) -> bool {
        self.inner.lock().is_empty()
    }

    /// Reads `key`, applies `f` to a clone of the value and commits it; on a conflict re-reads
    /// and tries again, up to the policy's attempts, sleeping the policy's delays for real
    /// (the default policy has none). `f` may run once per attempt.
    pub fn update(
        &self,
        key: K,
        f: impl FnMut(&mut V),
        policy: &RetryPolicy,
    ) -> Result<Version, UpdateError>
    where
        K: Clone,
        V: Clone,
    {
        self.update_with(key, f, policy, &mut ThreadSleep)
    }

    /// [`VersionedStore::update`] pausing with `backoff` between attempts.
    pub fn update_with(
        &self,
        key: K,
        mut f: impl FnMut(&mut V),
        policy: &RetryPolicy,
        backoff: &mut impl Backoff,
    ) -> Result<Version, UpdateError>
    where
        K: Clone,
        V: Clone,
    {
        let mut retry = Retry::new(*policy);
        loop {
            // `f` runs outside the critical section: it may be slow, and that is the point
            // of optimistic concurrency.
            let (mut value, seen) = self.read(&key).ok_or(UpdateError::UnknownKey)?;
            f(&mut value);
            let current = match self.commit(key.clone(), seen, value) {
                Ok(version) => return Ok(version),
                Err(CommitError::Conflict { current, .. }) => current,
                Err(other) => return Err(UpdateError::Commit(other)),
            };
            match retry.on_conflict(current) {
                RetryStep::Again { delay, .. } => backoff.pause(delay),
                RetryStep::GiveUp(err) => return Err(err.into()),
            }
        }
    }

    /// The planted `NonAtomicCommit` bug: check, let go of the lock, then replace blindly, so
    /// two commits based on the same version can both succeed (a lost update).
    fn commit_in_two_steps(
        &self,
        key: K,
        expected: Version,
        value: V,
    ) -> Result<Version, CommitError> {
        check(expected, self.inner.lock().version(&key))?;
        thread::yield_now();
        let mut core = self.inner.lock();
        let current = core.version(&key);
        core.replace(key, current, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_validation() {
        assert!(RetryPolicy::new(0).is_err());
        assert!(RetryPolicy::new(RetryPolicy::MAX_ATTEMPTS + 1).is_err());
        let p = RetryPolicy::new(5).unwrap();
        assert!(p
            .with_backoff(Duration::from_secs(2), Duration::from_secs(1))
            .is_err());
        assert!(p
            .with_backoff(Duration::ZERO, MAX_DURATION + Duration::from_secs(1))
            .is_err());
        assert_eq!(RetryPolicy::default().attempts(), 3);
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let p = RetryPolicy::new(10)
            .unwrap()
            .with_backoff(Duration::from_millis(10), Duration::from_millis(50))
            .unwrap();
        let delays: Vec<_> = (1..=5).map(|n| p.delay_after(n).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 50, 50]);
        assert_eq!(p.delay_after(u32::MAX), Duration::from_millis(50));
    }

    #[test]
    fn exhausted_versions_are_an_error() {
        let mut v = Versions::new();
        v.entries.insert(
            "k",
            Entry {
                value: 1,
                version: Version(u64::MAX),
            },
        );
        assert_eq!(
            v.commit("k", Version(u64::MAX), 2),
            Err(CommitError::VersionExhausted(Version(u64::MAX)))
        );
        assert_eq!(v.read("k"), Some((&1, Version(u64::MAX))));
    }

    #[test]
    fn update_of_unknown_key_is_typed() {
        let store: VersionedStore<&str, u8> = VersionedStore::new();
        assert_eq!(
            store.update("nope", |v| *v += 1, &RetryPolicy::default()),
            Err(UpdateError::UnknownKey)
        );
    }

    #[test]
    fn update_gives_up_after_the_policy_attempts() {
        let store = VersionedStore::new();
        store.insert("k", 0u32).unwrap();
        let rival = store.clone();
        let mut pauses = Vec::new();
        let policy = RetryPolicy::new(3)
            .unwrap()
            .with_backoff(Duration::from_millis(1), Duration::from_secs(1))
            .unwrap();
        // A rival commits inside every attempt, between our read and our commit.
        let result = store.update_with(
            "k",
            |n| {
                let (v, ver) = rival.read("k").unwrap();
                rival.commit("k", ver, v + 100).unwrap();
                *n += 1;
            },
            &policy,
            &mut |d| pauses.push(d),
        );
        assert_eq!(
            result,
            Err(UpdateError::OptimisticLock(OptimisticLockError {
                attempts: 3,
                last_seen: Version(4)
            }))
        );
        assert_eq!(pauses, [Duration::from_millis(1), Duration::from_millis(2)]);
        assert_eq!(store.read("k"), Some((300, Version(4))));
    }
}
