//! Owners: opaque tokens that holds belong to.

use std::fmt;

/// Who a hold belongs to. A token, not a thread: a hold taken with an owner on one thread may
/// be released with the same owner on another. Owners never block themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(u64);

impl Owner {
    /// An owner with the given id. Ids are the caller's to allocate; equal ids are one owner.
    pub const fn new(id: u64) -> Self {
        Owner(id)
    }

    /// The id this owner was made from.
    pub const fn id(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "owner#{}", self.0)
    }
}
