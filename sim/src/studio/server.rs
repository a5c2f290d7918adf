//! The server: the leased reservation table, the fenced image store, session metadata under
//! optimistic versions, and the requests worker threads send it.

use super::client::Upload;
use super::event::{Msg, Refusal, Reply};
use super::World;
use crate::check::history::{PathId, Record};
use crate::engine::Nanos;
use crate::report::metrics::Counter;
use crate::workload::Workload;
use lockstudio::fence::{Fence, FencedStore};
use lockstudio::versioned::{CommitError, Version, Versions};
use lockstudio::LockTable;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Who waits for a queued server request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    pub t: u32,
    pub gen: u32,
    pub path: PathId,
    pub session: u32,
    pub since: Nanos,
}

/// An image as the server stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub session: u32,
    pub size: u64,
    pub sum: u64,
}

/// The server's state. The reservation table, store, metadata and job records are on disk:
/// a restart loses connections and running job steps, not them.
pub(crate) struct Server {
    pub table: LockTable,
    pub tick_at: Option<Nanos>,
    pub tickets: BTreeMap<u64, Route>,
    /// Down (restarting) until this time.
    pub down_until: Nanos,
    /// Visible images, fenced by the token of the reservation they were written under: a
    /// delete leaves a tombstone with a newer token, so a late upload never resurrects one.
    pub store: FencedStore<u64, Stored>,
    /// Per session, the visible images (for picking one to view or delete) and their index.
    session_images: Vec<Vec<u64>>,
    position: FxHashMap<u64, usize>,
    /// Per session, the token of the latest session delete: older uploads are refused.
    pub session_fences: Vec<Fence>,
    /// Per session, the token of the latest accepted fenced metadata write.
    pub meta_fences: Vec<Fence>,
    /// Per session, its image count, committed optimistically.
    pub meta: Versions<u32, u64>,
}

impl Server {
    pub(crate) fn new(w: &Workload) -> Server {
        let n = w.sessions as usize;
        Server {
            table: LockTable::new(),
            tick_at: None,
            tickets: BTreeMap::new(),
            down_until: 0,
            store: FencedStore::new(),
            session_images: vec![Vec::new(); n],
            position: FxHashMap::default(),
            session_fences: vec![Fence::new(); n],
            meta_fences: vec![Fence::new(); n],
            meta: Versions::new(),
        }
    }

    pub(crate) fn is_down(&self, now: Nanos) -> bool {
        self.down_until > now
    }

    /// A uniformly drawn visible image of `session`.
    pub(crate) fn pick_image(&self, session: u32, rng: &mut ChaCha8Rng) -> Option<u64> {
        let list = self.session_images.get(session as usize)?;
        (!list.is_empty()).then(|| list[rng.gen_range(0..list.len())])
    }

    pub(crate) fn meta_of(&self, session: u32) -> (u64, Version) {
        self.meta
            .read(&session)
            .map_or((0, Version::ABSENT), |(v, ver)| (*v, ver))
    }

    fn list(&mut self, image: u64, session: u32) {
        let list = &mut self.session_images[session as usize];
        self.position.insert(image, list.len());
        list.push(image);
    }

    fn unlist(&mut self, image: u64, session: u32) {
        let Some(i) = self.position.remove(&image) else {
            return;
        };
        let list = &mut self.session_images[session as usize];
        list.swap_remove(i);
        if let Some(&moved) = list.get(i) {
            self.position.insert(moved, i);
        }
    }

    /// Every visible image as `(image, size, sum)`, in no particular order.
    pub(crate) fn visible(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.session_images
            .iter()
            .flatten()
            .filter_map(|i| self.store.get(i).map(|(s, _)| (*i, s.size, s.sum)))
    }
}

/// What the server did with a whole, checksummed upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreOutcome {
    /// Now visible.
    Stored,
    /// Already visible (a repeat after a lost reply): nothing changes.
    Duplicate,
    /// A newer delete (of the image or its session) fenced it out.
    Stale,
    /// The bytes are not the image: refused.
    Corrupt,
}

impl World {
    pub(crate) fn at_server(&mut self, t: u32, gen: u32, msg: Msg) {
        if self.server.is_down(self.now) {
            match msg {
                Msg::Release { .. } => self.metrics.count(Counter::LostReleases),
                Msg::Renew { .. } => self.metrics.count(Counter::LeaseRenewFailures),
                _ => self.reply(t, gen, Reply::Refused(Refusal::Down)),
            }
            return;
        }
        match msg {
            Msg::Reserve {
                owner,
                path,
                level,
                session,
            } => self.server_call_request(t, gen, owner, path, level, session),
            Msg::Renew { owner, path } => {
                let ok = self.server_call_renew(owner, path);
                self.metrics.count(if ok {
                    Counter::LeaseRenewals
                } else {
                    Counter::LeaseRenewFailures
                });
            }
            Msg::Release { owner, path, level } => self.server_call_release(owner, path, level),
            Msg::Commit {
                owner,
                path,
                session,
                fence,
                expected,
                value,
            } => {
                if let Some(token) = fence {
                    // A fenced write: the lease must still be live and the token not older
                    // than one already accepted for this session.
                    let live = self.server_fence_ok(owner, path, token);
                    if !live
                        || self.server.meta_fences[session as usize]
                            .check(token)
                            .is_err()
                    {
                        return self.reply(t, gen, Reply::Refused(Refusal::Fenced));
                    }
                }
                match self.server.meta.commit(session, expected, value) {
                    Ok(_) => {
                        if let Some(token) = fence {
                            let _ = self.server.meta_fences[session as usize].accept(token);
                            self.note(Record::FencedWrite {
                                path,
                                owner,
                                fence: token,
                            });
                        }
                        self.reply(t, gen, Reply::Committed);
                    }
                    Err(CommitError::Conflict { .. } | CommitError::FutureVersion { .. }) => {
                        let (value, version) = self.server.meta_of(session);
                        self.reply(t, gen, Reply::Conflict { value, version });
                    }
                    Err(CommitError::VersionExhausted(_)) => {
                        self.reply(t, gen, Reply::Refused(Refusal::Other))
                    }
                }
            }
            Msg::DeleteImage {
                owner,
                path,
                image,
                fence,
            } => {
                if !self.server_fence_ok(owner, path, fence) {
                    return self.reply(t, gen, Reply::Refused(Refusal::Fenced));
                }
                match self.server.store.delete(image, fence) {
                    Ok(old) => {
                        self.note(Record::FencedWrite { path, owner, fence });
                        if let Some(old) = old {
                            self.server.unlist(image, old.session);
                            self.metrics.count(Counter::ImagesDeleted);
                        }
                        self.note(Record::ImageDeleted { image });
                        self.reply(t, gen, Reply::Deleted);
                    }
                    Err(_) => self.reply(t, gen, Reply::Refused(Refusal::Fenced)),
                }
            }
            Msg::DeleteSession {
                owner,
                path,
                session,
                fence,
            } => {
                if !self.server_fence_ok(owner, path, fence)
                    || self.server.session_fences[session as usize]
                        .accept(fence)
                        .is_err()
                {
                    return self.reply(t, gen, Reply::Refused(Refusal::Fenced));
                }
                self.note(Record::FencedWrite { path, owner, fence });
                let images = std::mem::take(&mut self.server.session_images[session as usize]);
                for image in images {
                    self.server.position.remove(&image);
                    if self.server.store.delete(image, fence).is_ok() {
                        self.metrics.count(Counter::ImagesDeleted);
                        self.note(Record::ImageDeleted { image });
                    }
                }
                self.metrics.count(Counter::SessionsDeleted);
                self.note(Record::SessionDeleted { session, fence });
                self.reply(t, gen, Reply::Deleted);
            }
            Msg::Submit {
                owner,
                path,
                level,
                session,
            } => {
                let images = self.server.session_images[session as usize].len() as u32;
                let steps = images.clamp(1, self.w.server.export_max_images.max(1));
                self.server_call_release(owner, path, level);
                self.submit_job(true, steps, Some((t, gen)));
            }
            Msg::Poll { job } => self.poll_job(t, gen, job),
        }
    }

    /// Keeps a whole upload: only with the right size and checksum, only once, and never
    /// past a newer delete of the image or its session.
    pub(crate) fn store_upload(&mut self, item: &Upload, bytes: u64, got_sum: u64) -> StoreOutcome {
        let Upload {
            image,
            session,
            fence,
            size,
            sum,
            ..
        } = *item;
        if bytes != size || got_sum != sum {
            return StoreOutcome::Corrupt;
        }
        if self.server.session_fences[session as usize]
            .check(fence)
            .is_err()
        {
            self.metrics.count(Counter::UploadsStale);
            return StoreOutcome::Stale;
        }
        if self.server.store.get(&image).is_some() {
            self.metrics.count(Counter::UploadDuplicates);
            return StoreOutcome::Duplicate;
        }
        match self
            .server
            .store
            .write(image, fence, Stored { session, size, sum })
        {
            Ok(_) => {
                self.server.list(image, session);
                self.metrics.count(Counter::UploadsStored);
                self.note(Record::Visible {
                    image,
                    size: bytes,
                    sum: got_sum,
                });
                // A thumbnail is rendered for every stored image: a short-pool job nobody waits for.
                self.submit_job(false, 1, None);
                StoreOutcome::Stored
            }
            Err(_) => {
                self.metrics.count(Counter::UploadsStale);
                StoreOutcome::Stale
            }
        }
    }

    /// The image a download serves, if it is visible: (size, sum).
    pub(crate) fn serve(&self, image: u64) -> Option<(u64, u64)> {
        self.server.store.get(&image).map(|(s, _)| (s.size, s.sum))
    }
}
