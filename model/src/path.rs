//! Validated lock paths: absolute, `/`-separated, matched by whole segments.

use std::fmt;
use std::str::FromStr;

/// Most segments a path may have. Bounds the per-request walk, which is O(depth).
pub const MAX_DEPTH: usize = 64;
/// Most bytes a whole path may have.
pub const MAX_LEN: usize = 4096;
/// Most bytes one segment may have.
pub const MAX_SEGMENT_LEN: usize = 255;

/// Why a string is not a valid [`LockPath`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The string is empty.
    #[error("path is empty")]
    Empty,
    /// The path does not start with `/`.
    #[error("path must be absolute (start with '/')")]
    NotAbsolute,
    /// Two slashes in a row, or a trailing slash.
    #[error("empty segment at byte {at} (double or trailing '/')")]
    EmptySegment {
        /// Byte offset of the empty segment.
        at: usize,
    },
    /// A `.` or `..` segment: paths are never relative to anything.
    #[error("segment {segment:?} at byte {at} is not allowed ('.' and '..' are rejected)")]
    DotSegment {
        /// The offending segment.
        segment: String,
        /// Byte offset of the segment.
        at: usize,
    },
    /// A NUL or other control character.
    #[error("control character at byte {at}")]
    ControlChar {
        /// Byte offset of the character.
        at: usize,
    },
    /// More than [`MAX_DEPTH`] segments.
    #[error("path has more than {MAX_DEPTH} segments")]
    TooDeep,
    /// More than [`MAX_LEN`] bytes.
    #[error("path is longer than {MAX_LEN} bytes")]
    TooLong,
    /// A segment longer than [`MAX_SEGMENT_LEN`] bytes.
    #[error("segment at byte {at} is longer than {MAX_SEGMENT_LEN} bytes")]
    SegmentTooLong {
        /// Byte offset of the segment.
        at: usize,
    },
}

/// An absolute path in the lock namespace, such as `/studio/s1/img-7.jpg`; `/` is the root.
///
/// A hold on a path covers its whole subtree; `/a/b` is an ancestor of `/a/b/c` but not of
/// `/a/bc` (prefixes are matched by whole segments).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockPath {
    text: Box<str>,
}

impl LockPath {
    /// Validates `text`.
    ///
    /// ```
    /// use lockstudio::LockPath;
    /// let p = LockPath::parse("/studio/s1").unwrap();
    /// assert!(p.is_ancestor_of(&LockPath::parse("/studio/s1/img.jpg").unwrap()));
    /// assert!(LockPath::parse("/studio//s1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<LockPath, PathError> {
        validate(text)?;
        Ok(LockPath { text: text.into() })
    }

    /// The root, `/`.
    pub fn root() -> LockPath {
        LockPath { text: "/".into() }
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The segments from the root down; empty for `/`.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> + Clone + '_ {
        self.text[1..].split('/').filter(|s| !s.is_empty())
    }

    /// Number of segments (`/` has depth 0).
    pub fn depth(&self) -> usize {
        if self.is_root() {
            0
        } else {
            self.text.bytes().filter(|&b| b == b'/').count()
        }
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        &*self.text == "/"
    }

    /// The parent directory, or `None` for the root.
    pub fn parent(&self) -> Option<LockPath> {
        if self.is_root() {
            return None;
        }
        let cut = self.text.rfind('/').unwrap_or(0);
        let parent = if cut == 0 { "/" } else { &self.text[..cut] };
        Some(LockPath {
            text: parent.into(),
        })
    }

    /// This path with `segment` appended, validated.
    pub fn join(&self, segment: &str) -> Result<LockPath, PathError> {
        let text = if self.is_root() {
            format!("/{segment}")
        } else {
            format!("{}/{segment}", self.text)
        };
        LockPath::parse(&text)
    }

    /// The ancestor made of the first `len` bytes, which must end at a segment boundary of
    /// this (valid) path, so the prefix is valid too.
    pub(crate) fn prefix(&self, len: usize) -> LockPath {
        debug_assert!(len == self.text.len() || self.text.as_bytes().get(len) == Some(&b'/'));
        LockPath {
            text: self.text[..len].into(),
        }
    }

    /// Whether `self` is a strict ancestor of `other`, by whole segments.
    pub fn is_ancestor_of(&self, other: &LockPath) -> bool {
        if self.is_root() {
            return !other.is_root();
        }
        other.text.len() > self.text.len()
            && other.text.starts_with(&*self.text)
            && other.text.as_bytes()[self.text.len()] == b'/'
    }

    /// Whether the two paths are equal or one is an ancestor of the other, i.e. whether holds
    /// on them can conflict.
    pub fn overlaps(&self, other: &LockPath) -> bool {
        self == other || self.is_ancestor_of(other) || other.is_ancestor_of(self)
    }
}

fn validate(text: &str) -> Result<(), PathError> {
    if text.is_empty() {
        return Err(PathError::Empty);
    }
    if !text.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if text.len() > MAX_LEN {
        return Err(PathError::TooLong);
    }
    if let Some(at) = text.find(|c: char| c.is_control()) {
        return Err(PathError::ControlChar { at });
    }
    if text == "/" {
        return Ok(());
    }
    let mut at = 1;
    for (depth, segment) in text[1..].split('/').enumerate() {
        if depth >= MAX_DEPTH {
            return Err(PathError::TooDeep);
        }
        match segment {
            "" => return Err(PathError::EmptySegment { at }),
            "." | ".." => {
                return Err(PathError::DotSegment {
                    segment: segment.to_owned(),
                    at,
                });
            }
            s if s.len() > MAX_SEGMENT_LEN => return Err(PathError::SegmentTooLong { at }),
            _ => {}
        }
        at += segment.len() + 1;
    }
    Ok(())
}

impl FromStr for LockPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LockPath::parse(s)
    }
}

impl fmt::Display for LockPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for LockPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> LockPath {
        LockPath::parse(s).unwrap()
    }

    #[test]
    fn rejects_malformed_paths() {
        assert_eq!(LockPath::parse(""), Err(PathError::Empty));
        assert_eq!(LockPath::parse("a/b"), Err(PathError::NotAbsolute));
        assert_eq!(
            LockPath::parse("/a//b"),
            Err(PathError::EmptySegment { at: 3 })
        );
        assert_eq!(
            LockPath::parse("/a/"),
            Err(PathError::EmptySegment { at: 3 })
        );
        assert!(matches!(
            LockPath::parse("/a/../b"),
            Err(PathError::DotSegment { .. })
        ));
        assert!(matches!(
            LockPath::parse("/./b"),
            Err(PathError::DotSegment { .. })
        ));
        assert!(matches!(
            LockPath::parse("/a\0b"),
            Err(PathError::ControlChar { at: 2 })
        ));
        assert_eq!(
            LockPath::parse(&"/a".repeat(MAX_DEPTH + 1)),
            Err(PathError::TooDeep)
        );
        assert!(LockPath::parse(&"/a".repeat(MAX_DEPTH)).is_ok());
        let long = format!("/{}", "x".repeat(MAX_SEGMENT_LEN + 1));
        assert_eq!(
            LockPath::parse(&long),
            Err(PathError::SegmentTooLong { at: 1 })
        );
        assert_eq!(
            LockPath::parse(&"/abcdefgh".repeat(600)),
            Err(PathError::TooLong)
        );
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(p("/a/b").is_ancestor_of(&p("/a/b/c")));
        assert!(!p("/a/b").is_ancestor_of(&p("/a/bc")));
        assert!(!p("/a/b").is_ancestor_of(&p("/a/b")));
        assert!(p("/").is_ancestor_of(&p("/a")));
        assert!(!p("/").is_ancestor_of(&p("/")));
        assert!(p("/a").overlaps(&p("/a/b")) && p("/a/b").overlaps(&p("/a")));
        assert!(!p("/a/b").overlaps(&p("/a/c")));
    }

    #[test]
    fn structure_accessors() {
        assert_eq!(p("/").depth(), 0);
        assert_eq!(p("/a/b/c").depth(), 3);
        assert_eq!(p("/a/b").segments().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(p("/").segments().count(), 0);
        assert_eq!(p("/a/b").parent(), Some(p("/a")));
        assert_eq!(p("/a").parent(), Some(p("/")));
        assert_eq!(p("/").parent(), None);
        assert_eq!(p("/a").join("b").unwrap(), p("/a/b"));
        assert!(p("/a").join("").is_err());
    }
}
