//! The built-in C preprocessor: includes, macros, conditionals and line markers, producing one
//! unit text and the [`OriginMap`] that locates every byte of it in the original files.
//!
//! Design: a single pass over a stack of files, each read by a [`lexer::Lexer`] that yields
//! preprocessing tokens with their byte ranges. Text untouched by macros is copied token by
//! token with its original spacing (and one origin entry covers a whole run of it); a macro
//! invocation is expanded gcc-style (a stack of replacement contexts, each disabling its macro;
//! an identifier read while its macro is disabled is painted and never expanded again) and its
//! output maps to the invocation. Work is linear in the input apart from macro expansion, which
//! is bounded by [`PpLimits`]. The preprocessor never panics and never recurses without bound:
//! include depth, argument nesting and `#if` nesting are limited and diagnosed.
//!
//! As gcc: `__has_include` / `__has_include_next` in `#if`, the `_Pragma` operator (handled as
//! `#pragma`: `once` is honoured, other pragmas are consumed), `__VA_OPT__` in variadic macros.
//! Not implemented (diagnosed or ignored): `#pragma push_macro`, directives inside macro
//! arguments.

mod directives;
mod expr;
mod lexer;
mod macros;
mod marker;
mod search;
mod target;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use codespan_reporting::diagnostic::Label;

use crate::diagnostics::{include_notes, Diagnostic};
use crate::source::{FileId, IncludeId, IncludeStep, Origin, OriginMap, SourceDb, SourceFile};

pub use expr::{ExprError, Value};
pub use lexer::{Kind, RawTok};
pub use search::{search_list, StdDirs};
pub use target::{predefined_macros, standard_macros};

use lexer::{Lexer, RawTok as Raw};
use macros::Macro;

/// One command-line macro action, applied in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroAction {
    /// `-D NAME` (value `1`) or `-D NAME=VALUE`; NAME may be `F(x)` for a function-like macro.
    Define(String, Option<String>),
    /// `-U NAME`.
    Undef(String),
}

/// What kind of input the preprocessor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PpMode {
    /// Source text: every directive and macro expansion.
    #[default]
    Full,
    /// Output of an external preprocessor: only line markers are interpreted; `#define`,
    /// `#undef` and `#pragma` lines are skipped; any other directive is an error.
    Preprocessed,
}

/// Bounds that turn runaway input into a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpLimits {
    /// Deepest `#include` nesting (GCC's limit is 200).
    pub max_include_depth: usize,
    /// Most tokens produced by macro expansion in the whole unit.
    pub max_expansion_tokens: u64,
    /// Largest unit text in bytes (spans are 32-bit).
    pub max_output_bytes: usize,
    /// Deepest nesting of macro invocations inside macro arguments.
    pub max_arg_nesting: u32,
}

impl Default for PpLimits {
    fn default() -> Self {
        PpLimits {
            max_include_depth: 200,
            max_expansion_tokens: 4_000_000,
            max_output_bytes: (u32::MAX / 2) as usize,
            max_arg_nesting: 200,
        }
    }
}

/// Options of one preprocessing run (the `-I`, `-isystem`, `-D`, `-U`, `-imacros` flags).
#[derive(Debug, Clone, Default)]
pub struct PpOptions {
    /// `-I` directories, searched in order for `"..."` (after the includer's directory) and `<...>`.
    pub include_dirs: Vec<PathBuf>,
    /// `-isystem` directories, searched after `include_dirs`.
    pub system_dirs: Vec<PathBuf>,
    /// The compiler's standard directories, searched after `system_dirs` (see `search.rs`).
    pub std_dirs: StdDirs,
    /// `-idirafter` directories, searched last.
    pub after_dirs: Vec<PathBuf>,
    pub macro_actions: Vec<MacroAction>,
    /// Files processed for their macros only, before the main file.
    pub imacros: Vec<PathBuf>,
    /// Predefined macros (name, value), e.g. from [`predefined_macros`] or [`standard_macros`].
    pub predefined: Vec<(String, String)>,
    pub mode: PpMode,
    pub limits: PpLimits,
}

impl PpOptions {
    /// Options with the predefined macros of a target (`x86_64-gnu`, `i686-gnu`), or with only
    /// the standard macros when `undef` is set (GCC's `-undef`) or the target is unknown.
    pub fn for_target(target: &str, undef: bool) -> PpOptions {
        let predefined = if undef {
            standard_macros()
        } else {
            predefined_macros(target).unwrap_or_else(standard_macros)
        };
        PpOptions {
            predefined,
            ..PpOptions::default()
        }
    }
}

/// The result: the unit text, where it came from, what went wrong, and which files were read.
#[derive(Debug, Clone, Default)]
pub struct Preprocessed {
    pub text: String,
    pub origins: OriginMap,
    pub diagnostics: Vec<Diagnostic>,
    /// Every file opened (main file if on disk, includes, `-imacros`), in first-open order.
    pub files_read: Vec<PathBuf>,
}

/// Preprocesses `main` (already in `db`); files it includes are added to `db`.
pub fn preprocess(db: &mut SourceDb, main: FileId, opts: &PpOptions) -> Preprocessed {
    if opts.mode == PpMode::Preprocessed {
        return marker::run(db, main, opts);
    }
    let mut pp = Pp::new(db, opts);
    pp.run(main);
    pp.finish()
}

/// The identity of a file on disk, the key for cycles, guards, `#pragma once` and the file
/// cache: its device and inode number where there are such (one `stat`, where
/// `fs::canonicalize` costs a `readlink` per path component), else its canonical path.
/// `None` when the file cannot be examined.
pub(super) fn file_key(path: &std::path::Path) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(PathBuf::from(format!("\0file:{}:{}", m.dev(), m.ino())))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok()
    }
}

/// A token detached from its file: macro bodies, arguments and expansion results.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Kind,
    pub text: Rc<str>,
    /// Whitespace came before it.
    pub ws: bool,
    /// Painted "blue": it names a macro that was disabled when it was read; never expand it.
    pub noexpand: bool,
    /// Byte range in the current file of the token, or of the invocation that produced it.
    pub pos: (u32, u32),
}

impl Token {
    pub fn new(kind: Kind, text: &str, ws: bool) -> Token {
        Token {
            kind,
            text: Rc::from(text),
            ws,
            noexpand: false,
            pos: (0, 0),
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && &*self.text == p
    }

    /// The empty token standing for an empty macro argument around `##`.
    fn placemarker() -> Token {
        Token::new(Kind::Other, "", false)
    }

    fn is_placemarker(&self) -> bool {
        self.text.is_empty()
    }
}

/// A conditional group (`#if` ... `#endif`) being read.
#[derive(Debug, Clone, Copy)]
struct Cond {
    /// Lines of the current branch are processed.
    active: bool,
    /// Some branch was taken already (later `#elif`/`#else` are skipped).
    taken: bool,
    /// The enclosing group is active.
    parent_active: bool,
    seen_else: bool,
    /// Where the `#if` is (for "unterminated" diagnostics).
    at: (u32, u32),
}

/// The multiple-include guard state of a file being read: `#ifndef X` first, nothing after
/// its `#endif`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Guard {
    Start,
    Inside(Rc<str>),
    Closed(Rc<str>),
    Broken,
}

/// A file on the include stack.
#[derive(Debug)]
struct FileState {
    file: FileId,
    lexer: Lexer,
    include: IncludeId,
    conds: Vec<Cond>,
    /// Index in the search path where it was found (for `#include_next`).
    dir_idx: Option<usize>,
    /// Its path on disk (None for buffers such as `<command line>`).
    path: Option<PathBuf>,
    /// Canonical path, the key for cycles, guards and `#pragma once`.
    canon: Option<PathBuf>,
    /// The next token read is the first of a line.
    bol: bool,
    guard: Guard,
    /// `#line` adjustments: presumed line = physical line + delta; presumed name.
    line_delta: i64,
    presumed_name: Option<Rc<str>>,
}

/// Where the last output token came from (for spacing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    File {
        file: FileId,
        include: IncludeId,
        end: u32,
    },
    Other,
}

/// Builds the [`OriginMap`], merging runs of text copied byte for byte into one entry.
#[derive(Debug, Default)]
struct OriginWriter {
    map: OriginMap,
    cur: Option<(usize, Origin)>,
}

impl OriginWriter {
    fn flush(&mut self, unit_pos: usize) {
        if let Some((start, mut o)) = self.cur.take() {
            if !o.expanded {
                o.len = (unit_pos - start) as u32;
            }
            self.map.push(start, o);
        }
    }

    /// Unit text from `unit_pos` on is `file` text from `offset` on, byte for byte.
    fn direct(&mut self, unit_pos: usize, file: FileId, include: IncludeId, offset: u32) {
        if let Some((start, o)) = &self.cur {
            if !o.expanded
                && o.file == file
                && o.include == include
                && o.offset as usize + (unit_pos - start) == offset as usize
            {
                return;
            }
        }
        self.flush(unit_pos);
        self.cur = Some((
            unit_pos,
            Origin {
                file,
                offset,
                include,
                expanded: false,
                len: 0,
            },
        ));
    }

    fn expanded(&mut self, unit_pos: usize, file: FileId, include: IncludeId, range: (u32, u32)) {
        self.flush(unit_pos);
        self.cur = Some((
            unit_pos,
            Origin {
                file,
                offset: range.0,
                include,
                expanded: true,
                len: range.1.saturating_sub(range.0),
            },
        ));
    }
}

/// The preprocessor's state for one run.
struct Pp<'a> {
    db: &'a mut SourceDb,
    opts: &'a PpOptions,
    out: String,
    origins: OriginWriter,
    diags: Vec<Diagnostic>,
    files_read: Vec<PathBuf>,
    macros: HashMap<Rc<str>, Rc<Macro>>,
    files: Vec<FileState>,
    /// Tokens given back to the top file's lexer (read again before it).
    pushback: Vec<Raw>,
    /// Newlines owed to the output (skipped lines, directives, comments), written before the
    /// next token so that lines keep their numbers.
    pending_newlines: u32,
    last: Last,
    /// Unit offset where the last output token starts.
    last_tok_start: usize,
    /// Output is discarded (built-ins, command line, `-imacros`).
    discard: bool,
    halted: bool,
    expansion_tokens: u64,
    /// End offset of the last file token consumed by the current macro invocation.
    session_end: u32,
    once: HashSet<PathBuf>,
    guards: HashMap<PathBuf, Rc<str>>,
    cache: HashMap<PathBuf, FileId>,
    counter: u64,
    base_file: Rc<str>,
}

impl<'a> Pp<'a> {
    fn new(db: &'a mut SourceDb, opts: &'a PpOptions) -> Pp<'a> {
        let mut pp = Pp {
            db,
            opts,
            out: String::new(),
            origins: OriginWriter::default(),
            diags: Vec::new(),
            files_read: Vec::new(),
            macros: HashMap::new(),
            files: Vec::new(),
            pushback: Vec::new(),
            pending_newlines: 0,
            last: Last::Nothing,
            last_tok_start: 0,
            discard: false,
            halted: false,
            expansion_tokens: 0,
            session_end: 0,
            once: HashSet::new(),
            guards: HashMap::new(),
            cache: HashMap::new(),
            counter: 0,
            base_file: Rc::from(""),
        };
        pp.define_builtins();
        pp
    }

    fn run(&mut self, main: FileId) {
        self.base_file = Rc::from(self.db.get(main).name.as_str());
        // Built-in and command-line macros, as buffers processed like files.
        let mut builtin = String::new();
        for (name, value) in &self.opts.predefined {
            builtin.push_str(&format!("#define {name} {value}\n"));
        }
        let mut cmdline = String::new();
        for a in &self.opts.macro_actions {
            match a {
                MacroAction::Define(name, value) => {
                    let value = value.as_deref().unwrap_or("1");
                    let value = value.replace(['\n', '\r'], " ");
                    cmdline.push_str(&format!("#define {name} {value}\n"));
                }
                MacroAction::Undef(name) => cmdline.push_str(&format!("#undef {name}\n")),
            }
        }
        self.discard = true;
        for (name, text) in [("<built-in>", builtin), ("<command line>", cmdline)] {
            if !text.is_empty() {
                let id = self.db.add(SourceFile::new(name, text));
                self.process_root(id, None);
            }
        }
        for path in self.opts.imacros.clone() {
            match self.read_file(&path) {
                Some(id) => self.process_root(id, Some(path)),
                None => {
                    let d = Diagnostic::error()
                        .with_message(format!("cannot read -imacros file '{}'", path.display()));
                    self.diags.push(d);
                }
            }
        }
        self.discard = false;
        self.last = Last::Nothing;
        self.pending_newlines = 0;
        let main_path = PathBuf::from(&self.db.get(main).name);
        let main_path = main_path.is_file().then_some(main_path);
        if let Some(p) = &main_path {
            self.files_read.push(p.clone());
        }
        self.process_root(main, main_path);
    }

    /// Reads a whole top-level file (main file, buffer or `-imacros` file).
    fn process_root(&mut self, file: FileId, path: Option<PathBuf>) {
        let include = self
            .origins
            .map
            .push_include(IncludeStep { file, at: None });
        let canon = path.as_ref().and_then(|p| file_key(p));
        self.push_file(file, include, path, canon, None);
        self.main_loop();
        // A halt leaves files on the stack.
        self.files.clear();
        self.pushback.clear();
    }

    fn push_file(
        &mut self,
        file: FileId,
        include: IncludeId,
        path: Option<PathBuf>,
        canon: Option<PathBuf>,
        dir_idx: Option<usize>,
    ) {
        self.pushback.clear();
        self.files.push(FileState {
            file,
            lexer: Lexer::new(),
            include,
            conds: Vec::new(),
            dir_idx,
            path,
            canon,
            bol: true,
            guard: Guard::Start,
            line_delta: 0,
            presumed_name: None,
        });
    }

    fn finish(mut self) -> Preprocessed {
        let end = self.out.len();
        self.origins.flush(end);
        Preprocessed {
            text: self.out,
            origins: self.origins.map,
            diagnostics: self.diags,
            files_read: self.files_read,
        }
    }

    /// The next raw token of the top file (pushed-back tokens first). Counts hidden newlines.
    fn file_next(&mut self) -> Raw {
        if let Some(t) = self.pushback.pop() {
            return t;
        }
        let Some(f) = self.files.last_mut() else {
            return Raw {
                kind: Kind::Eof,
                start: 0,
                end: 0,
                ws: false,
                spliced: false,
                unterminated: false,
            };
        };
        let t = f.lexer.next(&self.db.get(f.file).text);
        self.pending_newlines += std::mem::take(&mut f.lexer.hidden_newlines);
        t
    }

    fn top(&self) -> Option<&FileState> {
        self.files.last()
    }

    fn active(&self) -> bool {
        self.top()
            .and_then(|f| f.conds.last())
            .is_none_or(|c| c.active)
    }

    /// The spelling of a raw token of the top file.
    fn spelling(&self, t: &Raw) -> String {
        match self.top() {
            Some(f) => lexer::spelling(&self.db.get(f.file).text, t).into_owned(),
            None => String::new(),
        }
    }

    fn token_of(&self, t: &Raw) -> Token {
        Token {
            kind: t.kind,
            text: Rc::from(self.spelling(t)),
            ws: t.ws,
            noexpand: false,
            pos: (t.start, t.end),
        }
    }

    fn main_loop(&mut self) {
        while !self.halted {
            let Some(f) = self.files.last_mut() else {
                return;
            };
            let bol = f.bol;
            let raw = self.file_next();
            if let Some(f) = self.files.last_mut() {
                f.bol = raw.kind == Kind::Newline;
            }
            match raw.kind {
                Kind::Eof => {
                    self.end_file();
                    continue;
                }
                Kind::Newline => {
                    if self.active() {
                        self.emit_newline(raw);
                    } else {
                        self.pending_newlines += 1;
                    }
                    continue;
                }
                _ => {}
            }
            if bol && raw.kind == Kind::Punct && self.is_hash(&raw) {
                self.directive(raw);
                continue;
            }
            if !self.active() {
                self.skip_line();
                continue;
            }
            self.note_guard_breaker();
            if raw.kind == Kind::Ident {
                let name = self.spelling(&raw);
                if let Some(m) = self.macros.get(name.as_str()).cloned() {
                    self.expand_from_file(raw, m);
                    continue;
                }
            }
            if raw.unterminated {
                let q = if self.spelling(&raw).ends_with('"') {
                    '"'
                } else {
                    '\''
                };
                self.warn_at(
                    raw.range(),
                    format!("missing terminating {q} character"),
                    "",
                );
            }
            self.emit_file_tok(raw);
        }
    }

    fn is_hash(&self, t: &Raw) -> bool {
        let s = self.spelling(t);
        s == "#" || s == "%:"
    }

    /// Skips the rest of a line in a skipped group (its newline is owed to the output).
    fn skip_line(&mut self) {
        loop {
            let t = self.file_next();
            match t.kind {
                Kind::Newline => {
                    self.pending_newlines += 1;
                    if let Some(f) = self.files.last_mut() {
                        f.bol = true;
                    }
                    return;
                }
                Kind::Eof => {
                    self.pushback.push(t);
                    return;
                }
                _ => {}
            }
        }
    }

    /// A token outside the `#ifndef` guard (or before it) breaks the guard.
    fn note_guard_breaker(&mut self) {
        if let Some(f) = self.files.last_mut() {
            if matches!(f.guard, Guard::Start | Guard::Closed(_)) {
                f.guard = Guard::Broken;
            }
        }
    }

    fn end_file(&mut self) {
        let Some(f) = self.files.pop() else { return };
        self.pushback.clear();
        if let Some(start) = f.lexer.unterminated_comment {
            let s = start as usize;
            self.push_diag(
                f.file,
                f.include,
                s..s + 2,
                Diagnostic::error().with_message("unterminated comment"),
                "comment starts here",
            );
        }
        for c in &f.conds {
            self.push_diag(
                f.file,
                f.include,
                c.at.0 as usize..c.at.1 as usize,
                Diagnostic::error().with_message("unterminated conditional directive"),
                "this #if has no #endif",
            );
        }
        if let (Guard::Closed(name), Some(canon)) = (&f.guard, &f.canon) {
            if f.conds.is_empty() {
                self.guards.insert(canon.clone(), name.clone());
            }
        }
        self.last = Last::Other;
        if let Some(parent) = self.files.last_mut() {
            parent.bol = true;
        }
    }

    // ---- output ----

    fn flush_newlines(&mut self) {
        if self.pending_newlines > 0 {
            for _ in 0..self.pending_newlines {
                self.out.push('\n');
            }
            self.pending_newlines = 0;
            self.last = Last::Other;
            self.last_tok_start = self.out.len();
        }
    }

    fn check_output_size(&mut self) -> bool {
        if self.out.len() > self.opts.limits.max_output_bytes {
            if !self.halted {
                self.halted = true;
                let msg = format!(
                    "preprocessed output exceeds the limit of {} bytes",
                    self.opts.limits.max_output_bytes
                );
                self.diags.push(Diagnostic::error().with_message(msg));
            }
            return false;
        }
        true
    }

    fn emit_newline(&mut self, raw: Raw) {
        if self.discard {
            return;
        }
        let Some(f) = self.files.last() else { return };
        let (file, include) = (f.file, f.include);
        let pos = self.out.len();
        self.origins.direct(pos, file, include, raw.start);
        self.out.push('\n');
        self.last = Last::File {
            file,
            include,
            end: raw.end,
        };
        self.last_tok_start = self.out.len();
        self.flush_newlines();
        self.check_output_size();
    }

    /// Writes a token of the top file as it is written there.
    fn emit_file_tok(&mut self, raw: Raw) {
        if self.discard {
            return;
        }
        self.flush_newlines();
        let Some(f) = self.files.last() else { return };
        let (file, include) = (f.file, f.include);
        let src = &self.db.get(file).text;
        let gap = match self.last {
            Last::File {
                file: lf,
                include: li,
                end,
            } if lf == file && li == include && end <= raw.start => src
                .get(end as usize..raw.start as usize)
                .filter(|g| g.bytes().all(|c| c == b' ' || c == b'\t')),
            _ => None,
        };
        let text = lexer::spelling(src, &raw);
        match gap {
            Some(g) => self.out.push_str(g),
            None => {
                let prev = &self.out[self.last_tok_start..];
                if raw.ws || lexer::would_glue(prev, &text) {
                    self.out.push(' ');
                }
            }
        }
        let pos = self.out.len();
        self.origins.direct(pos, file, include, raw.start);
        self.out.push_str(&text);
        self.last = Last::File {
            file,
            include,
            end: raw.end,
        };
        self.last_tok_start = pos;
        self.check_output_size();
    }

    /// Writes the tokens of one macro invocation; they all map to `range` of the top file.
    fn emit_expansion(&mut self, toks: &[Token], range: (u32, u32)) {
        if self.discard {
            return;
        }
        self.flush_newlines();
        let Some(f) = self.files.last() else { return };
        let (file, include) = (f.file, f.include);
        let mut first = true;
        for t in toks {
            if t.is_placemarker() {
                continue;
            }
            let prev = &self.out[self.last_tok_start..];
            if (t.ws && !self.out.is_empty() && !self.out.ends_with([' ', '\n']))
                || lexer::would_glue(prev, &t.text)
            {
                self.out.push(' ');
            }
            let pos = self.out.len();
            if first {
                self.origins.expanded(pos, file, include, range);
                first = false;
            }
            self.out.push_str(&t.text);
            self.last_tok_start = pos;
            if !self.check_output_size() {
                return;
            }
        }
        if !first {
            self.last = Last::Other;
        }
    }

    // ---- diagnostics ----

    fn push_diag(
        &mut self,
        file: FileId,
        include: IncludeId,
        range: std::ops::Range<usize>,
        d: Diagnostic,
        label: &str,
    ) {
        let len = self.db.get(file).text.len();
        let range = range.start.min(len)..range.end.min(len).max(range.start.min(len));
        let notes = include_notes(self.db, &self.origins.map, include);
        let d = d
            .with_labels(vec![Label::primary(file, range).with_message(label)])
            .with_notes(notes);
        self.diags.push(d);
    }

    /// An error at a byte range of the top file.
    fn error_at(&mut self, range: std::ops::Range<usize>, msg: impl Into<String>, label: &str) {
        let msg: String = msg.into();
        if let Some(f) = self.top() {
            let (file, include) = (f.file, f.include);
            self.push_diag(
                file,
                include,
                range,
                Diagnostic::error().with_message(msg),
                label,
            );
        } else {
            self.diags.push(Diagnostic::error().with_message(msg));
        }
    }

    fn warn_at(&mut self, range: std::ops::Range<usize>, msg: impl Into<String>, label: &str) {
        let msg: String = msg.into();
        if let Some(f) = self.top() {
            let (file, include) = (f.file, f.include);
            self.push_diag(
                file,
                include,
                range,
                Diagnostic::warning().with_message(msg),
                label,
            );
        }
    }
}
