//! Source files, their text, and where every byte of preprocessed text came from.
//!
//! The preprocessor turns source files into one expanded text buffer (the *unit*). Everything
//! after it (lexer, parser, lowering) works with byte ranges ([`Span`]) into that buffer. The
//! [`OriginMap`] recorded by the preprocessor maps any unit offset back to a file, an offset in
//! that file and the include chain that led there, so diagnostics point at the original source.

use std::ops::Range;

use codespan_reporting::files::{self, Files};

/// Index of a file in a [`SourceDb`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` in the unit text (or, for raw-source tools, in one file).
/// Serialised as the string `"start..end"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}..{}", self.start, self.end))
    }
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

/// One file known to the compiler: a real file, standard input, a command-line buffer, or a
/// file named by a line marker whose text was reconstructed from preprocessed input.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as given, `<stdin>`, `<command line>`...).
    pub name: String,
    /// The text. Invalid UTF-8 was replaced by U+FFFD when the file was read (and diagnosed).
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Zero-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte range of a zero-based line (including its newline), clamped to the text.
    pub fn line_range(&self, line: usize) -> Option<Range<usize>> {
        let start = *self.line_starts.get(line)?;
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        Some(start..end)
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// All files read in one compilation. Implements codespan's [`Files`] so diagnostics render
/// with file names, lines and source snippets.
#[derive(Debug, Clone, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    pub fn new() -> SourceDb {
        SourceDb::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// Adds a file from bytes, replacing invalid UTF-8. Returns the id and, if the bytes were not
    /// valid UTF-8, the byte offset of the first bad byte (so the caller can diagnose it).
    pub fn add_bytes(&mut self, name: impl Into<String>, bytes: &[u8]) -> (FileId, Option<usize>) {
        match std::str::from_utf8(bytes) {
            Ok(text) => (self.add(SourceFile::new(name, text)), None),
            Err(e) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                (self.add(SourceFile::new(name, text)), Some(e.valid_up_to()))
            }
        }
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

impl<'a> Files<'a> for SourceDb {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| f.name.as_str())
            .ok_or(files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| f.text.as_str())
            .ok_or(files::Error::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(files::Error::FileMissing)?;
        Ok(f.line_index(byte_index.min(f.text.len())))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(files::Error::FileMissing)?;
        f.line_range(line_index).ok_or(files::Error::LineTooLarge {
            given: line_index,
            max: f.line_count().saturating_sub(1),
        })
    }
}

/// Index of an include-chain entry in an [`OriginMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct IncludeId(pub u32);

/// One step of an include chain: `file` was entered from the `#include` at `at`
/// (`None` for the main file or a file named on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncludeStep {
    pub file: FileId,
    pub at: Option<(IncludeId, Range32)>,
}

/// A compact byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Range32 {
    pub start: u32,
    pub end: u32,
}

impl Range32 {
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Where a stretch of unit text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The file the text was written in (for macro-expanded text: where the macro was invoked).
    pub file: FileId,
    /// Byte offset in `file` that corresponds to the first byte of the stretch.
    pub offset: u32,
    /// Include chain by which `file` was entered.
    pub include: IncludeId,
    /// True when the text is the result of a macro expansion: then every byte of the stretch
    /// maps to `offset..offset+len` of the invocation, not byte for byte.
    pub expanded: bool,
    /// Length in `file` of the original text (the invocation for expanded text).
    pub len: u32,
}

/// Maps unit offsets back to origins. Entries are sorted by `unit_start` and do not overlap;
/// an entry covers unit text from its `unit_start` up to the next entry's.
#[derive(Debug, Clone, Default)]
pub struct OriginMap {
    entries: Vec<(u32, Origin)>,
    includes: Vec<IncludeStep>,
}

impl OriginMap {
    pub fn new() -> OriginMap {
        OriginMap::default()
    }

    /// Records an include-chain step and returns its id.
    pub fn push_include(&mut self, step: IncludeStep) -> IncludeId {
        self.includes.push(step);
        IncludeId(self.includes.len() as u32 - 1)
    }

    pub fn include(&self, id: IncludeId) -> IncludeStep {
        self.includes[id.0 as usize]
    }

    /// Records that unit text from `unit_start` on comes from `origin`. Calls must come in
    /// increasing `unit_start` order; a call at the same start replaces the previous entry.
    pub fn push(&mut self, unit_start: usize, origin: Origin) {
        let unit_start = unit_start as u32;
        if let Some(last) = self.entries.last_mut() {
            if last.0 == unit_start {
                last.1 = origin;
                return;
            }
            debug_assert!(last.0 < unit_start, "origin entries out of order");
        }
        self.entries.push((unit_start, origin));
    }

    /// The origin entry covering a unit offset, and the entry's unit start.
    pub fn entry(&self, unit_offset: usize) -> Option<(usize, Origin)> {
        let unit_offset = unit_offset as u32;
        let i = match self.entries.binary_search_by_key(&unit_offset, |e| e.0) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let (start, origin) = self.entries[i];
        Some((start as usize, origin))
    }

    /// Maps a unit span to a file and a byte range in it. Expanded text maps to its whole
    /// invocation; a span crossing entries is clipped to the file of its start.
    pub fn resolve(&self, span: Span) -> Option<(FileId, Range<usize>, IncludeId)> {
        let (start_base, o) = self.entry(span.start as usize)?;
        let (file, include) = (o.file, o.include);
        let start = if o.expanded {
            o.offset as usize
        } else {
            o.offset as usize + (span.start as usize - start_base)
        };
        let end_probe = (span.end as usize).max(span.start as usize + 1) - 1;
        let end = match self.entry(end_probe) {
            Some((b, e)) if e.file == file && e.include == include => {
                if e.expanded {
                    (e.offset + e.len) as usize
                } else {
                    e.offset as usize + (span.end as usize - b).max(end_probe + 1 - b)
                }
            }
            _ => start + (o.len as usize).max(1),
        };
        let end = if span.is_empty() {
            start
        } else {
            end.max(start)
        };
        Some((file, start..end, include))
    }

    /// The include chain of `id`, innermost first: each element is the file that was entered and
    /// the place of the `#include` that entered it.
    pub fn chain(&self, id: IncludeId) -> Vec<IncludeStep> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        let mut guard = 0;
        while let Some(c) = cur {
            let step = self.include(c);
            out.push(step);
            cur = step.at.map(|(parent, _)| parent);
            guard += 1;
            if guard > 10_000 {
                break;
            }
        }
        out
    }

    pub fn entries(&self) -> &[(u32, Origin)] {
        &self.entries
    }
}
