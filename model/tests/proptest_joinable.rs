//! `JoinableBuffer` against a reference model: random writer and reader operations,
//! compared at every step, plus the stream properties of `specs/joinable.md` (readers see a
//! prefix of what was written, from offset 0; failure is never an end-of-stream).

use lockstudio::joinable::{JoinableBuffer, Progress, ReaderId, Status, TransferError, WriteError};
use proptest::prelude::*;
use std::collections::BTreeMap;

const LIMIT: usize = 24;

#[derive(Clone, Debug)]
enum Op {
    Write(Vec<u8>),
    Finish,
    Fail,
    Abandon,
    Join,
    Read { nth: usize, len: usize },
    Leave { nth: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Op::Write),
        1 => Just(Op::Finish),
        1 => Just(Op::Fail),
        1 => Just(Op::Abandon),
        2 => Just(Op::Join),
        6 => (0..4usize, 0..7usize).prop_map(|(nth, len)| Op::Read { nth, len }),
        1 => (0..4usize).prop_map(|nth| Op::Leave { nth }),
    ]
}

/// The obvious model, written from the spec.
struct Reference {
    written: Vec<u8>,
    status: Status,
    cursors: BTreeMap<u64, usize>,
    next: u64,
}

impl Reference {
    fn new() -> Self {
        Reference {
            written: Vec::new(),
            status: Status::Open,
            cursors: BTreeMap::new(),
            next: 1,
        }
    }

    fn close(&mut self, to: Status) -> Result<(), WriteError> {
        if self.status != Status::Open {
            return Err(WriteError::Closed(self.status.clone()));
        }
        self.status = to;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        if self.status != Status::Open {
            return Err(WriteError::Closed(self.status.clone()));
        }
        if self.written.len() + bytes.len() > LIMIT {
            self.status = Status::Failed(TransferError::TooLarge { limit: LIMIT });
            return Err(WriteError::TooLarge { limit: LIMIT });
        }
        self.written.extend_from_slice(bytes);
        Ok(())
    }

    fn read(&mut self, id: u64, len: usize) -> Result<(Progress, Vec<u8>), TransferError> {
        let Some(&at) = self.cursors.get(&id) else {
            return Err(TransferError::NotJoined(ReaderId(id)));
        };
        if let Status::Failed(err) = &self.status {
            return Err(err.clone());
        }
        if len == 0 {
            return Ok((Progress::Data(0), Vec::new()));
        }
        let end = (at + len).min(self.written.len());
        if end > at {
            self.cursors.insert(id, end);
            return Ok((Progress::Data(end - at), self.written[at..end].to_vec()));
        }
        match self.status {
            Status::Open => Ok((Progress::Pending, Vec::new())),
            _ => Ok((Progress::Eof, Vec::new())),
        }
    }
}

proptest! {
    #[test]
    fn buffer_matches_reference(ops in prop::collection::vec(op(), 0..120)) {
        let mut buffer = JoinableBuffer::new(LIMIT);
        let mut reference = Reference::new();
        // Readers ever joined, with everything each has received; departed ones stay listed
        // so reads by stale ids are exercised too.
        let mut readers: Vec<(ReaderId, Vec<u8>)> = Vec::new();
        for op in ops {
            match op {
                Op::Write(bytes) => prop_assert_eq!(buffer.write(&bytes), reference.write(&bytes)),
                Op::Finish => prop_assert_eq!(buffer.finish(), reference.close(Status::Finished)),
                Op::Fail => prop_assert_eq!(
                    buffer.fail("boom"),
                    reference.close(Status::Failed(TransferError::Failed("boom".into())))
                ),
                Op::Abandon => {
                    let changed = reference
                        .close(Status::Failed(TransferError::WriterDropped))
                        .is_ok();
                    prop_assert_eq!(buffer.abandon(), changed);
                }
                Op::Join => {
                    let id = buffer.join();
                    prop_assert_eq!(id, ReaderId(reference.next));
                    reference.cursors.insert(reference.next, 0);
                    reference.next += 1;
                    readers.push((id, Vec::new()));
                }
                Op::Read { nth, len } => {
                    let Some((id, seen)) = readers.get_mut(nth) else { continue };
                    let mut buf = vec![0u8; len];
                    let ready = buffer.ready(*id);
                    let got = buffer.read(*id, &mut buf);
                    if len > 0 {
                        prop_assert_eq!(ready, got != Ok(Progress::Pending));
                    }
                    let want = reference.read(id.0, len);
                    match (&got, &want) {
                        (Ok(progress), Ok((p, bytes))) => {
                            prop_assert_eq!(progress, p);
                            if let Progress::Data(n) = progress {
                                prop_assert_eq!(&buf[..*n], &bytes[..]);
                                seen.extend_from_slice(&buf[..*n]);
                            }
                            if *progress == Progress::Eof {
                                prop_assert_eq!(buffer.status(), &Status::Finished);
                                prop_assert_eq!(&seen[..], buffer.published());
                            }
                        }
                        _ => prop_assert_eq!(got, want.map(|(p, _)| p)),
                    }
                    // Whatever a reader received is exactly the start of what was written.
                    prop_assert!(buffer.published().starts_with(seen));
                }
                Op::Leave { nth } => {
                    let Some((id, _)) = readers.get(nth) else { continue };
                    prop_assert_eq!(buffer.leave(*id), reference.cursors.remove(&id.0).is_some());
                }
            }
            prop_assert_eq!(buffer.status(), &reference.status);
            prop_assert_eq!(buffer.published(), &reference.written[..]);
            prop_assert_eq!(buffer.readers(), reference.cursors.len());
            let caught_up = reference.cursors.values().filter(|&&at| at == reference.written.len());
            prop_assert_eq!(buffer.caught_up(), caught_up.count());
        }
    }
}
