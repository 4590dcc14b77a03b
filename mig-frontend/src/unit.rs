//! One compilation unit end to end: read, preprocess, lex, parse, check the dialect, and locate
//! every diagnostic in the original files.

use std::path::{Path, PathBuf};

use crate::ast;
use crate::check;
use crate::diagnostics::{Diagnostic, UnitDiagnostic};
use crate::dialect::Dialect;
use crate::lexer::{LexMode, Token};
use crate::parser;
use crate::preprocess::{self, PpOptions};
use crate::source::{FileId, OriginMap, SourceDb, Span};

/// What the front end needs to know besides the input.
#[derive(Debug, Clone, Default)]
pub struct FrontendOptions {
    pub dialect: Dialect,
    /// Preprocessor settings: include paths, macros, mode (`Full` or already `Preprocessed`).
    pub pp: PpOptions,
}

/// A parsed unit: the tree, the text it was parsed from, and everything needed to report on it.
#[derive(Debug)]
pub struct Parsed {
    /// Every file read (the main file, includes, files named by line markers).
    pub db: SourceDb,
    pub main: FileId,
    /// The preprocessed text that was parsed; spans in `file` index into it.
    pub unit: String,
    pub origins: OriginMap,
    pub file: ast::File,
    /// All tokens of `unit`, trivia included.
    pub tokens: Vec<Token>,
    /// Preprocessor, syntax and dialect diagnostics, located in the original files, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file the preprocessor opened (for `-MD` and `cargo:rerun-if-changed`).
    pub files_read: Vec<PathBuf>,
}

impl Parsed {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        crate::diagnostics::has_errors(&self.diagnostics)
    }

    /// Locates a diagnostic about the unit text (used by later passes such as lowering).
    pub fn locate(&self, d: &UnitDiagnostic) -> Diagnostic {
        d.locate(&self.db, &self.origins, self.main)
    }

    /// The unit text of a span.
    pub fn text(&self, span: Span) -> &str {
        self.unit.get(span.range()).unwrap_or("")
    }
}

/// Reads and parses a file. A file that cannot be read yields a diagnostic, not a panic.
pub fn parse_path(path: &Path, opts: &FrontendOptions) -> Parsed {
    match std::fs::read(path) {
        Ok(bytes) => parse_bytes(&path.display().to_string(), &bytes, opts),
        Err(e) => {
            let mut db = SourceDb::new();
            let main = db.add(crate::source::SourceFile::new(
                path.display().to_string(),
                "",
            ));
            let diag = Diagnostic::error().with_message(format!(
                "cannot read {}: {}",
                path.display(),
                io_reason(&e)
            ));
            Parsed {
                db,
                main,
                unit: String::new(),
                origins: OriginMap::new(),
                file: ast::File::default(),
                tokens: Vec::new(),
                diagnostics: vec![diag],
                files_read: Vec::new(),
            }
        }
    }
}

/// Parses bytes given under a display name (`<stdin>`, a path, a test case name).
pub fn parse_bytes(name: &str, bytes: &[u8], opts: &FrontendOptions) -> Parsed {
    let mut db = SourceDb::new();
    let (main, bad) = db.add_bytes(name, bytes);
    let mut parsed = parse_in(db, main, opts);
    if let Some(at) = bad {
        let byte = bytes.get(at).copied().unwrap_or(0);
        let d = Diagnostic::error()
            .with_message(format!(
                "{name} is not valid UTF-8: invalid byte 0x{byte:02X}"
            ))
            .with_labels(vec![codespan_reporting::diagnostic::Label::primary(
                main,
                at..at + 1,
            )
            .with_message("replaced by U+FFFD")]);
        parsed.diagnostics.insert(0, d);
    }
    parsed
}

/// Parses a file already in `db`.
pub fn parse_in(mut db: SourceDb, main: FileId, opts: &FrontendOptions) -> Parsed {
    let pp = preprocess::preprocess(&mut db, main, &opts.pp);
    let result = parser::parse(&pp.text, LexMode::Unit);
    let mut unit_diags = result.diagnostics;
    unit_diags.extend(check::check_dialect(&result.file, opts.dialect));
    let mut diagnostics = pp.diagnostics;
    diagnostics.extend(unit_diags.iter().map(|d| d.locate(&db, &pp.origins, main)));
    cap_diagnostics(&mut diagnostics);
    Parsed {
        db,
        main,
        unit: pp.text,
        origins: pp.origins,
        file: result.file,
        tokens: result.tokens,
        diagnostics,
        files_read: pp.files_read,
    }
}

/// Diagnostics shown for one unit at most; the rest are summarised in one more.
pub const MAX_DIAGNOSTICS: usize = 200;

/// Keeps the first [`MAX_DIAGNOSTICS`] and summarises the rest (an error if any of them is one,
/// so that the unit still counts as failed).
fn cap_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    if diagnostics.len() <= MAX_DIAGNOSTICS {
        return;
    }
    let rest = diagnostics.split_off(MAX_DIAGNOSTICS);
    let errors = rest
        .iter()
        .filter(|d| d.severity >= codespan_reporting::diagnostic::Severity::Error)
        .count();
    let summary = if errors > 0 {
        Diagnostic::error()
    } else {
        Diagnostic::warning()
    };
    diagnostics.push(summary.with_message(format!(
        "{} more diagnostics not shown ({} errors, {} warnings)",
        rest.len(),
        errors,
        rest.len() - errors
    )));
}

/// The reason of an I/O error without the "(os error N)" suffix, lowercased.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s,
    }
}
