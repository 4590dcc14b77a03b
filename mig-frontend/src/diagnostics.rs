//! Diagnostics: codespan-reporting diagnostics over the [`SourceDb`], located through the
//! preprocessor's [`OriginMap`] so they point at the original file, with the include chain.

use codespan_reporting::diagnostic::{Label, Severity};
use codespan_reporting::term::{self, termcolor::WriteColor};

use crate::source::{FileId, IncludeId, OriginMap, SourceDb, Span};

/// A diagnostic located in a file of the [`SourceDb`].
pub type Diagnostic = codespan_reporting::diagnostic::Diagnostic<FileId>;

/// A diagnostic about the unit text (lexer, parser, lowering), before it is located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitDiagnostic {
    pub severity: Severity,
    pub message: String,
    /// The primary span and its label text.
    pub primary: (Span, String),
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
}

impl UnitDiagnostic {
    pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        UnitDiagnostic {
            severity: Severity::Error,
            message: message.into(),
            primary: (span, label.into()),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        UnitDiagnostic {
            severity: Severity::Warning,
            ..UnitDiagnostic::error(message, span, label)
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Locates the diagnostic in the original files. Spans that map nowhere (text the
    /// preprocessor did not record) are attached to `fallback`.
    pub fn locate(&self, db: &SourceDb, origins: &OriginMap, fallback: FileId) -> Diagnostic {
        let mut labels = Vec::new();
        let mut include = None;
        let (span, text) = &self.primary;
        match origins.resolve(*span) {
            Some((file, range, inc)) => {
                include = Some(inc);
                labels.push(Label::primary(file, range).with_message(text.clone()));
            }
            None => labels.push(Label::primary(fallback, 0..0).with_message(text.clone())),
        }
        for (span, text) in &self.secondary {
            if let Some((file, range, _)) = origins.resolve(*span) {
                labels.push(Label::secondary(file, range).with_message(text.clone()));
            }
        }
        let mut notes = self.notes.clone();
        if let Some(inc) = include {
            notes.extend(include_notes(db, origins, inc));
        }
        Diagnostic::new(self.severity)
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// Notes naming the include chain that led to a file, innermost first
/// (`in file included from mach/mach.defs:33:1`).
pub fn include_notes(db: &SourceDb, origins: &OriginMap, include: IncludeId) -> Vec<String> {
    let mut notes = Vec::new();
    for step in origins.chain(include) {
        if let Some((_, range)) = step.at {
            let parent = origins.include(step.at.unwrap().0).file;
            let f = db.get(parent);
            let (line, col) = f.line_col(range.start as usize);
            notes.push(format!("in file included from {}:{}:{}", f.name, line, col));
        }
    }
    notes
}

/// True when any diagnostic is an error (or worse).
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity >= Severity::Error)
}

/// Renders diagnostics the way `rustc` does, into a writer (colour as the writer allows).
pub fn emit(
    out: &mut dyn WriteColor,
    db: &SourceDb,
    diags: &[Diagnostic],
) -> Result<(), codespan_reporting::files::Error> {
    let config = term::Config::default();
    for d in diags {
        term::emit_to_write_style(out, &config, db, d)?;
    }
    Ok(())
}

/// Renders diagnostics as plain text (for snapshots and logs).
pub fn render_plain(db: &SourceDb, diags: &[Diagnostic]) -> String {
    let mut buf = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
    // Rendering only fails on a file id or range the database does not have: say so in the text.
    if let Err(e) = emit(&mut buf, db, diags) {
        return format!("<diagnostic rendering failed: {e}>");
    }
    String::from_utf8_lossy(&buf.into_inner()).into_owned()
}
