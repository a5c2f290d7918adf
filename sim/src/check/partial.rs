//! `no-partial-image`: every image the server makes visible, serves or keeps is whole: the
//! size and checksum the photographer's workstation acknowledged.

use super::history::Record;
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::BTreeMap;

/// See the module docs.
#[derive(Default)]
pub struct NoPartialImage {
    whole: BTreeMap<u64, (u64, u64)>,
}

impl NoPartialImage {
    fn check(&self, at: Nanos, what: &str, image: u64, size: u64, sum: u64, found: &mut Found) {
        if let Some(&(want_size, want_sum)) = self.whole.get(&image) {
            if (size, sum) != (want_size, want_sum) {
                found.fail(
                    at,
                    format!("image {image} {what} with {size} bytes / checksum {sum:016x}; whole is {want_size} bytes / {want_sum:016x}"),
                );
            }
        }
    }
}

impl Invariant for NoPartialImage {
    fn name(&self) -> &'static str {
        "no-partial-image"
    }

    fn after(&mut self, _ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        match r {
            Record::Acked {
                image, size, sum, ..
            } => {
                self.whole.insert(*image, (*size, *sum));
            }
            Record::Visible { image, size, sum } => {
                self.check(at, "became visible", *image, *size, *sum, found)
            }
            Record::Served { image, size, sum } => {
                self.check(at, "was served", *image, *size, *sum, found)
            }
            Record::End(end) => {
                for &(image, size, sum) in &end.images {
                    self.check(at, "is on the server at the end", image, size, sum, found);
                }
            }
            _ => {}
        }
    }
}
