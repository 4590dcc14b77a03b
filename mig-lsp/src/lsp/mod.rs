//! The protocol side: positions (UTF-16 code units, as LSP counts them) and byte offsets,
//! `file:` URIs and paths, and the conversion of analysis results to LSP types.

pub mod capabilities;
pub mod to_proto;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

/// Line starts of a text, for converting between byte offsets and LSP positions.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped to the text and to a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, col as u32)
    }

    pub fn range(&self, r: &std::ops::Range<usize>) -> Range {
        Range::new(self.position(r.start), self.position(r.end))
    }

    /// The byte offset of a position; positions past a line's end clamp to it, past the last
    /// line to the end of the text.
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(p.line as usize + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1));
        let mut units = 0usize;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= p.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

/// The path of a `file:` URI; `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = PathBuf::from(String::from_utf8(out).ok()?);
    path.is_absolute().then_some(path)
}

/// The `file:` URI of a path (percent-encoding everything but unreserved characters and `/`).
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16() {
        let text = "ab\né𝄞x\n";
        let li = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(li.position(x), Position::new(1, 3));
        assert_eq!(li.offset(Position::new(1, 3)), x);
        assert_eq!(li.offset(Position::new(0, 99)), 2);
        assert_eq!(li.offset(Position::new(9, 0)), text.len());
        assert_eq!(li.position(999), Position::new(2, 0));
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/ü.defs");
        let uri = path_to_uri(p).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%BC.defs");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
        assert!(uri_to_path(&Uri::from_str("untitled:x").unwrap()).is_none());
    }
}
