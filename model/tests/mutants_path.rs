//! Tests written to kill mutants that `cargo mutants` found surviving in `model/src/path.rs`
//! (see `reports/mutation.md`). Public API only.

use lockstudio::LockPath;

fn p(s: &str) -> LockPath {
    LockPath::parse(s).unwrap()
}

/// Kills `path.rs: replace <impl Debug for LockPath>::fmt with Ok(Default::default())`:
/// `{:?}` of a path is its quoted text (what assertion messages and traces show).
#[test]
fn lock_path_debug_is_its_quoted_text() {
    let path = p("/studio/s1/img-7");
    assert_eq!(format!("{path:?}"), "\"/studio/s1/img-7\"");
    assert_eq!(
        format!("{:?}", vec![path.clone()]),
        "[\"/studio/s1/img-7\"]"
    );
    assert_eq!(format!("{:?}", p("/")), "\"/\"");
}

/// Kills `path.rs: replace == with != in LockPath::depth` (which counted the non-`/` bytes):
/// the depth is the number of segments.
#[test]
fn depth_counts_segments() {
    assert_eq!(p("/").depth(), 0);
    assert_eq!(p("/s").depth(), 1);
    assert_eq!(p("/studio").depth(), 1);
    assert_eq!(p("/studio/s1/img-7").depth(), 3);
    let deep = p("/a/b/c/d/e");
    assert_eq!(deep.depth(), deep.segments().count());
}

/// Kills `path.rs: replace > with >= in validate` (segment length): a segment of exactly
/// `MAX_SEGMENT_LEN` bytes is valid, one byte more is not.
#[test]
fn segment_length_limit_is_inclusive() {
    use lockstudio::path::MAX_SEGMENT_LEN;
    let longest = "x".repeat(MAX_SEGMENT_LEN);
    let path = LockPath::parse(&format!("/s/{longest}")).expect("a segment at the limit");
    assert_eq!(path.depth(), 2);
    let too_long = "x".repeat(MAX_SEGMENT_LEN + 1);
    assert!(LockPath::parse(&format!("/s/{too_long}")).is_err());
}

/// Kills `path.rs: replace > with >= in validate` (total length): a path of exactly
/// `MAX_LEN` bytes is valid, one byte more is not.
#[test]
fn path_length_limit_is_inclusive() {
    use lockstudio::path::{MAX_LEN, MAX_SEGMENT_LEN};
    // Sixteen segments of 255 bytes, each with its slash: exactly 4,096 bytes.
    let segment = format!("/{}", "x".repeat(MAX_SEGMENT_LEN));
    let longest = segment.repeat(MAX_LEN / segment.len());
    assert_eq!(longest.len(), MAX_LEN);
    let path = LockPath::parse(&longest).expect("a path at the length limit");
    assert_eq!(path.depth(), MAX_LEN / segment.len());
    assert!(LockPath::parse(&format!("{longest}y")).is_err());
}
