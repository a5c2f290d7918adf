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

    /// `LOCKSTUDIO_BUG` plants exactly the named bug, and nothing when unset or unknown. The
    /// variable is read by the process, so each case runs this test again in a child process
    /// with its own environment (setting it here would race the other tests).
    #[cfg(feature = "planted-bugs")]
    #[test]
    fn the_selector_plants_exactly_the_named_bug() {
        const CHILD: &str = "LOCKSTUDIO_PLANTED_SELECTOR_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let chosen = std::env::var("LOCKSTUDIO_BUG").ok();
            for bug in Bug::ALL {
                let named = chosen.as_deref() == Some(bug.name().as_str());
                assert_eq!(active(bug), named, "{} with {chosen:?}", bug.name());
            }
            return;
        }
        let me = std::env::current_exe().expect("the test binary's path");
        let first = Bug::ALL[0].name();
        let last = Bug::ALL[Bug::ALL.len() - 1].name();
        for choice in [
            Some(first.as_str()),
            Some(last.as_str()),
            Some("no-such-bug"),
            None,
        ] {
            let mut child = std::process::Command::new(&me);
            child
                .args([
                    "--exact",
                    "planted::tests::the_selector_plants_exactly_the_named_bug",
                ])
                .env(CHILD, "1");
            match choice {
                Some(name) => child.env("LOCKSTUDIO_BUG", name),
                None => child.env_remove("LOCKSTUDIO_BUG"),
            };
            let status = child.status().expect("the test binary runs");
            assert!(
                status.success(),
                "selector wrong with LOCKSTUDIO_BUG={choice:?}"
            );
        }
    }
}
