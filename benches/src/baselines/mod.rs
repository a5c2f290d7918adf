//! Lock tables lockstudio is measured against. They live here, in the bench crate only, so
//! nothing in the product depends on them.
//!
//! std's and parking_lot's `RwLock` are used directly by the benches; the tables here are the
//! two flat designs a service would reach for first ([`FlatTable`], [`DashTable`]) and the
//! hierarchical design Partyline ships ([`ScanTable`]).

mod dash;
mod flat;
mod scan;

pub use dash::DashTable;
pub use flat::{Emptied, FlatTable, Refused};
pub use scan::{ScanRefused, ScanTable};

/// The reader/writer count a flat table keeps per key: `> 0` readers, [`WRITER`] one writer,
/// `0` a key that is remembered but free (a warm entry).
pub type Count = i64;

/// The count of a write-held key.
pub const WRITER: Count = -1;

/// Takes a read on `count` if no writer holds it.
fn add_reader(count: &mut Count) -> bool {
    if *count < 0 {
        return false;
    }
    *count += 1;
    true
}

/// Takes the write on `count` if nobody holds it.
fn add_writer(count: &mut Count) -> bool {
    if *count != 0 {
        return false;
    }
    *count = WRITER;
    true
}

/// Gives back one hold; returns whether the key is now free.
fn remove_one(count: &mut Count) -> Option<bool> {
    match *count {
        0 => None,
        WRITER => {
            *count = 0;
            Some(true)
        }
        n => {
            *count = n - 1;
            Some(*count == 0)
        }
    }
}
