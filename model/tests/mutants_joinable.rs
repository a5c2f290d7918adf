//! Kills mutants `cargo mutants` found surviving in `model/src/joinable/` (see
//! `reports/mutation.md`): the accessors, `Debug` and `Display` output users read in logs and
//! errors, and the `std::io` adapters of the blocking shell.

use lockstudio::joinable::{
    JoinableBuffer, JoinableStream, Joined, ReaderId, Status, TransferError, TransferRegistry,
    WriteError,
};
use std::io::{Read, Write};

#[test]
fn a_buffer_reports_its_limit() {
    assert_eq!(JoinableBuffer::new(4096).limit(), 4096);
    assert_eq!(JoinableBuffer::new(7).limit(), 7);
}

#[test]
fn statuses_and_reader_ids_display_in_errors() {
    assert_eq!(ReaderId(12).to_string(), "reader#12");
    assert_eq!(Status::Open.to_string(), "open");
    assert_eq!(Status::Finished.to_string(), "finished");
    let failed = Status::Failed(TransferError::WriterDropped);
    assert_eq!(
        failed.to_string(),
        "failed: the writer went away without finishing the transfer"
    );
    let mut buffer = JoinableBuffer::new(8);
    buffer.finish().unwrap();
    let closed = buffer.write(b"x").unwrap_err();
    assert_eq!(closed, WriteError::Closed(Status::Finished));
    assert!(closed.to_string().ends_with("(finished)"), "{closed}");
    let stranger = buffer.read(ReaderId(99), &mut [0; 4]).unwrap_err();
    assert!(stranger.to_string().starts_with("reader#99 "), "{stranger}");
}

#[test]
fn a_registry_counts_and_describes_its_transfers() {
    let registry = TransferRegistry::new(64);
    assert!(registry.is_empty());
    let Joined::Started { writer, reader } = registry.join_or_start("img-7.jpg") else {
        panic!("the first caller must start the transfer");
    };
    assert!(!registry.is_empty());
    assert_eq!(registry.len(), 1);
    assert_eq!(
        format!("{registry:?}"),
        "TransferRegistry { limit: 64, .. }"
    );
    drop((writer, reader));
    assert!(registry.forget("img-7.jpg"));
    assert!(registry.is_empty());
}

#[test]
fn the_blocking_shell_describes_itself_and_counts_published_bytes() {
    let (mut writer, stream) = JoinableStream::new(32);
    let reader = stream.join();
    assert_eq!(stream.published_len(), 0);
    writer.write(b"abc").unwrap();
    assert_eq!(stream.published_len(), 3);
    assert_eq!(
        format!("{stream:?}"),
        "JoinableStream { published: 3, status: Open, readers: 1 }"
    );
    assert_eq!(
        format!("{writer:?}"),
        "JoinableWriter { closed: false, .. }"
    );
    assert_eq!(
        format!("{reader:?}"),
        format!("JoinableReader {{ id: {:?}, .. }}", reader.id())
    );
}

#[test]
fn the_io_adapters_move_every_byte_exactly_once() {
    let (mut writer, stream) = JoinableStream::new(64);
    let mut reader = stream.join();
    assert_eq!(Write::write(&mut writer, b"session").unwrap(), 7);
    writer.write_all(b".xml").unwrap();
    assert_eq!(stream.published_len(), 11);
    writer.finish().unwrap();
    let mut first = [0u8; 4];
    assert_eq!(Read::read(&mut reader, &mut first).unwrap(), 4);
    assert_eq!(&first, b"sess");
    let mut rest = Vec::new();
    Read::read_to_end(&mut reader, &mut rest).unwrap();
    assert_eq!(rest, b"ion.xml");
}
