//! `acked-exactly-once`: every image acknowledged to a photographer is on the server exactly
//! once at the end of the heal phase, unless it was deleted on purpose (an image delete, or a
//! session delete fenced after its shoot); the server never shows an image twice, never one
//! nobody acknowledged, and never brings a deleted one back.

use super::history::{EndState, Record};
use super::{Ctx, Found, Invariant};
use crate::engine::Nanos;
use std::collections::{BTreeMap, BTreeSet};

/// See the module docs.
#[derive(Default)]
pub struct ExactlyOnce {
    /// image → (session, fence of its write reservation)
    acked: BTreeMap<u64, (u32, u64)>,
    deleted: BTreeSet<u64>,
    /// session → highest fence of a session delete
    session_deleted: BTreeMap<u32, u64>,
    visible: BTreeMap<u64, u32>,
}

impl ExactlyOnce {
    fn expected(&self, image: u64) -> bool {
        let Some(&(session, fence)) = self.acked.get(&image) else {
            return false;
        };
        !self.deleted.contains(&image)
            && self
                .session_deleted
                .get(&session)
                .is_none_or(|&d| d < fence)
    }

    fn end(&self, at: Nanos, end: &EndState, found: &mut Found) {
        let on_server: BTreeSet<u64> = end.images.iter().map(|(i, _, _)| *i).collect();
        if on_server.len() != end.images.len() {
            found.fail(at, "the server lists an image more than once".to_string());
        }
        let missing: Vec<u64> = self
            .acked
            .keys()
            .copied()
            .filter(|i| self.expected(*i) && !on_server.contains(i))
            .collect();
        if !missing.is_empty() {
            found.fail(
                at,
                format!(
                    "{} acknowledged images are not on the server after the heal phase: {:?}",
                    missing.len(),
                    &missing[..missing.len().min(10)]
                ),
            );
        }
        let extra: Vec<u64> = on_server
            .iter()
            .copied()
            .filter(|i| !self.expected(*i))
            .collect();
        if !extra.is_empty() {
            found.fail(
                at,
                format!(
                    "{} images are on the server that were deleted or never acknowledged: {:?}",
                    extra.len(),
                    &extra[..extra.len().min(10)]
                ),
            );
        }
    }
}

impl Invariant for ExactlyOnce {
    fn name(&self) -> &'static str {
        "acked-exactly-once"
    }

    fn after(&mut self, _ctx: &Ctx, at: Nanos, r: &Record, found: &mut Found) {
        match r {
            Record::Acked {
                image,
                session,
                fence,
                ..
            } => {
                self.acked.insert(*image, (*session, *fence));
            }
            Record::ImageDeleted { image } => {
                self.deleted.insert(*image);
            }
            Record::SessionDeleted { session, fence } => {
                let d = self.session_deleted.entry(*session).or_default();
                *d = (*d).max(*fence);
            }
            Record::Visible { image, .. } => {
                if !self.acked.contains_key(image) {
                    found.fail(
                        at,
                        format!("image {image} became visible but was never acknowledged"),
                    );
                }
                if self.deleted.contains(image) {
                    found.fail(
                        at,
                        format!("image {image} became visible again after it was deleted"),
                    );
                }
                let n = self.visible.entry(*image).or_default();
                *n += 1;
                if *n > 1 {
                    found.fail(at, format!("image {image} stored {n} times"));
                }
            }
            Record::End(end) => self.end(at, end, found),
            _ => {}
        }
    }
}
