//! Lock levels and the two conflict relations every other module is built on.

use std::fmt;
use std::str::FromStr;

/// How strongly a hold claims a path (and, for directories, its whole subtree).
///
/// Ordered `Read < Write < Delete`: an owner's effective level on a path is the strongest one
/// it holds there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Shared access. Joins a held `Write` (joinable write); excluded only by `Delete`.
    Read,
    /// One writer; readers may join. Excludes other writers and deleters.
    Write,
    /// Absolutely exclusive until released: no other owner may hold anything that overlaps.
    Delete,
}

impl Level {
    /// All levels, weakest first.
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Delete];

    /// Index `0..3`, weakest first, for per-level counters.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name used in specs, scenarios and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Delete => "delete",
        }
    }

    /// Whether a hold at `held` by another owner on an overlapping path (the same path, an
    /// ancestor or a descendant) keeps a request at `self` from being granted.
    ///
    /// A read request is refused only by a delete hold; write and delete requests are refused
    /// by any overlapping hold (an ancestor's hold covers the path at its level; a
    /// descendant's hold acts as a read on the path).
    pub const fn blocked_by_hold(self, held: Level) -> bool {
        !matches!((self, held), (Level::Read, Level::Read | Level::Write))
    }

    /// Whether a request at `self` must wait behind an earlier *queued* request at `earlier`
    /// from another owner on an overlapping path (FIFO per conflict).
    ///
    /// Symmetric and stricter than [`Level::blocked_by_hold`]: only two reads pass each other,
    /// so a stream of readers cannot starve a queued writer or deleter.
    pub const fn queues_behind(self, earlier: Level) -> bool {
        !matches!((self, earlier), (Level::Read, Level::Read))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level name that is not `read`, `write` or `delete`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown lock level {0:?} (expected read, write or delete)")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Level::Read),
            "write" => Ok(Level::Write),
            "delete" => Ok(Level::Delete),
            other => Err(UnknownLevel(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_matrix_matches_spec() {
        use Level::*;
        // rows: held; columns: requested R, W, D (true = waits)
        let expected = [
            (Read, [false, true, true]),
            (Write, [false, true, true]),
            (Delete, [true, true, true]),
        ];
        for (held, row) in expected {
            for (req, waits) in Level::ALL.into_iter().zip(row) {
                assert_eq!(
                    req.blocked_by_hold(held),
                    waits,
                    "held {held}, requested {req}"
                );
            }
        }
    }

    #[test]
    fn queue_matrix_only_lets_reads_pass_reads() {
        for a in Level::ALL {
            for b in Level::ALL {
                assert_eq!(a.queues_behind(b), !(a == Level::Read && b == Level::Read));
                assert_eq!(a.queues_behind(b), b.queues_behind(a), "symmetric");
            }
        }
    }

    #[test]
    fn parse_round_trips_and_rejects_unknown() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>(), Ok(l));
        }
        assert!("Write".parse::<Level>().is_err());
    }
}
