//! The catalog of deliberately planted bugs that prove the checkers bite.
//!
//! Compiled to nothing unless the `planted-bugs` feature is on: then one bug at a time is
//! selected by name through the `LOCKSTUDIO_BUG` environment variable (read on every check,
//! so a test process can pick its bug before it starts any thread). Normal builds call
//! [`active`], which is a constant `false` the optimizer removes.

/// A realistic bug the checkers must catch. See `reports/planted-bugs.md` for which checker
/// caught each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Conflict check ignores holds on ancestors.
    SkipAncestorCheck,
    /// Conflict check ignores holds below the path (intention counts).
    SkipDescendantCheck,
    /// A new reader joins past a queued writer (no FIFO for reads).
    ReaderBargesQueue,
    /// Two grants share a fencing token.
    ReuseFenceToken,
    /// A release by an owner that holds nothing takes another owner's hold.
    ReleaseByNonOwner,
    /// A re-entrant acquisition is not counted, so the first release drops the hold.
    ReentrantOffByOne,
    /// A read is granted while another owner holds delete on the same path.
    DeleteAdmitsReader,
    /// The deadlock search only looks one waiter deep (misses 3-cycles).
    DeadlockMissesLongCycle,
    /// A lease expiry releases the hold but wakes nobody.
    ForgetWakeOnExpiry,
    /// The blocking manager wakes a waiter before publishing its grant (lost wake-up).
    NotifyBeforePublish,
    /// The blocking manager re-checks its condition with `if` instead of `while`.
    WaitWithoutLoop,
    /// `VersionedStore::commit` checks the version and replaces in two separate steps.
    NonAtomicCommit,
    /// A joinable reader sees end-of-stream when the writer failed.
    JoinableEofOnFailure,
}

impl Bug {
    /// Every bug in the catalog.
    pub const ALL: [Bug; 13] = [
        Bug::SkipAncestorCheck,
        Bug::SkipDescendantCheck,
        Bug::ReaderBargesQueue,
        Bug::ReuseFenceToken,
        Bug::ReleaseByNonOwner,
        Bug::ReentrantOffByOne,
        Bug::DeleteAdmitsReader,
        Bug::DeadlockMissesLongCycle,
        Bug::ForgetWakeOnExpiry,
        Bug::NotifyBeforePublish,
        Bug::WaitWithoutLoop,
        Bug::NonAtomicCommit,
        Bug::JoinableEofOnFailure,
    ];

    /// The name used in `LOCKSTUDIO_BUG`: the variant name in kebab case.
    pub fn name(self) -> String {
        let text = format!("{self:?}");
        let mut out = String::new();
        for (i, c) in text.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The bug with that name, if any.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// Whether `bug` is planted in this process.
#[cfg(feature = "planted-bugs")]
pub fn active(bug: Bug) -> bool {
    std::env::var("LOCKSTUDIO_BUG").is_ok_and(|v| v == bug.name())
}

/// Whether `bug` is planted in this process: never, without the `planted-bugs` feature.
#[cfg(not(feature = "planted-bugs"))]
#[inline(always)]
pub const fn active(_bug: Bug) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for bug in Bug::ALL {
            assert_eq!(Bug::from_name(&bug.name()), Some(bug));
        }
        assert_eq!(Bug::SkipAncestorCheck.name(), "skip-ancestor-check");
        assert_eq!(Bug::from_name("no-such-bug"), None);
    }
}
