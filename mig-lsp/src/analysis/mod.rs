//! The analysis of `.defs` files, with no knowledge of LSP: open buffers in, diagnostics,
//! names, hovers, completions, tokens and edits out, all in real paths and byte offsets.
//!
//! Every open file is analysed as a compilation unit of its own, exactly as `migc --check`
//! would compile it with the file's project settings ([`config`]): preprocessing through its
//! includes (reading the open buffers of included files, [`overlay`]), parsing, dialect
//! checks, and, for files that declare a subsystem, lowering to the IR for the target.
//! Questions about a file are answered from its unit; questions about a name across files
//! (references, rename, workspace symbols) from the units of every open file.

pub mod completion;
pub mod config;
pub mod hover;
pub mod ide;
pub mod index;
pub mod overlay;
pub mod signature;
pub mod syntax;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codespan_reporting::diagnostic::{LabelStyle, Severity};
use mig_frontend::source::{FileId, SourceDb, SourceFile};
use mig_frontend::Parsed;
use mig_ir::Validated;

use config::Config;
use index::{Index, Loc};
use overlay::Overlay;

/// A diagnostic of one file, located in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiagnostic {
    pub severity: Severity,
    pub message: String,
    pub range: Range<usize>,
    /// Other places the diagnostic names (secondary labels, the real place of a problem in an
    /// included file), with their messages.
    pub related: Vec<(Loc, String)>,
}

/// One analysed unit: an open file compiled as a main file.
#[derive(Debug)]
pub struct Unit {
    pub path: PathBuf,
    pub config: Config,
    pub parsed: Parsed,
    /// The module, when the unit declares a subsystem and lowers without error.
    pub module: Option<Validated>,
    /// When lowering found errors: every routine it could validate (types, ids, layouts).
    pub partial: Option<mig_ir::Partial>,
    pub index: Index,
    /// Diagnostics of the front end and the IR, located in the original files.
    pub diagnostics: Vec<mig_frontend::diagnostics::Diagnostic>,
    /// Real paths of the files of the unit's database, by id.
    pub real_paths: Vec<PathBuf>,
}

impl Unit {
    /// The lowered module to show: the validated one, else the partial one of a unit whose
    /// routines are not all valid.
    pub fn view(&self) -> Option<&dyn mig_ir::ModuleView> {
        match (&self.module, &self.partial) {
            (Some(m), _) => Some(m),
            (None, Some(p)) => Some(p),
            (None, None) => None,
        }
    }

    /// True when `routine` did not lower (its declaration has an error).
    pub fn routine_is_broken(&self, routine: &str) -> bool {
        self.partial
            .as_ref()
            .is_some_and(|p| p.broken().iter().any(|b| b == routine))
    }

    pub fn real_path(&self, id: FileId) -> &Path {
        self.real_paths
            .get(id.0 as usize)
            .map_or(Path::new(""), PathBuf::as_path)
    }

    /// True when the unit read `path` (the main file or an include).
    pub fn reads(&self, path: &Path) -> bool {
        self.real_paths.iter().any(|p| p == path)
    }
}

/// The open files and their units.
#[derive(Debug, Default)]
pub struct Workspace {
    open: HashMap<PathBuf, String>,
    units: HashMap<PathBuf, Arc<Unit>>,
    overlay: Overlay,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Opens or changes a file. Returns the open files whose analysis changed (the file and
    /// every open file whose unit read it), analysed again.
    pub fn set_text(&mut self, path: &Path, text: String) -> Vec<PathBuf> {
        self.open.insert(path.to_path_buf(), text);
        self.reanalyse_dependents(path)
    }

    /// Closes a file; open files that read it are analysed again (from the disk).
    pub fn close(&mut self, path: &Path) -> Vec<PathBuf> {
        self.open.remove(path);
        self.units.remove(path);
        self.overlay.retain_open(&self.open);
        self.reanalyse_dependents(path)
    }

    /// Analyses every open file again (after a save, or a settings file changed).
    pub fn reanalyse_all(&mut self) -> Vec<PathBuf> {
        let paths: Vec<PathBuf> = self.open.keys().cloned().collect();
        for p in &paths {
            self.analyse(p);
        }
        paths
    }

    fn reanalyse_dependents(&mut self, path: &Path) -> Vec<PathBuf> {
        let mut todo: Vec<PathBuf> = self
            .units
            .iter()
            .filter(|(p, u)| p.as_path() != path && u.reads(path))
            .map(|(p, _)| p.clone())
            .collect();
        if self.open.contains_key(path) {
            todo.insert(0, path.to_path_buf());
        }
        for p in &todo {
            self.analyse(p);
        }
        todo
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.open.contains_key(path)
    }

    pub fn text(&self, path: &Path) -> Option<&str> {
        self.open.get(path).map(String::as_str)
    }

    /// The text of a file: its buffer if open, else its contents on disk.
    pub fn text_or_disk(&self, path: &Path) -> Option<String> {
        match self.open.get(path) {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(path).ok(),
        }
    }

    pub fn unit(&self, path: &Path) -> Option<&Arc<Unit>> {
        self.units.get(path)
    }

    pub fn units(&self) -> impl Iterator<Item = &Arc<Unit>> {
        self.units.values()
    }

    pub fn open_paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.open.keys()
    }

    fn analyse(&mut self, path: &Path) {
        let Some(text) = self.open.get(path).cloned() else {
            return;
        };
        let config = Config::for_file(path);
        let unit = analyse_unit(path, text, config, &self.open, &mut self.overlay);
        self.units.insert(path.to_path_buf(), Arc::new(unit));
    }

    /// The diagnostics of an open file, in that file.
    pub fn diagnostics(&self, path: &Path) -> Vec<FileDiagnostic> {
        match self.units.get(path) {
            Some(u) => file_diagnostics(u),
            None => Vec::new(),
        }
    }
}

/// Compiles one file as `migc --check` would, with the open buffers in effect.
pub fn analyse_unit(
    path: &Path,
    text: String,
    config: Config,
    open: &HashMap<PathBuf, String>,
    overlay: &mut Overlay,
) -> Unit {
    let opts = config.frontend_options();
    let shadowed = overlay.apply(path, &opts.pp, open);
    let opts = mig_frontend::FrontendOptions {
        dialect: opts.dialect,
        pp: shadowed.pp,
    };
    let mut db = SourceDb::new();
    let main = db.add(SourceFile::new(
        shadowed.main_name.to_string_lossy().into_owned(),
        text,
    ));
    let parsed = mig_frontend::parse_in(db, main, &opts);
    let real_paths: Vec<PathBuf> = parsed
        .db
        .iter()
        .map(|(id, f)| {
            if id == main {
                path.to_path_buf()
            } else {
                overlay.real_path(Path::new(&f.name))
            }
        })
        .collect();
    let mut diagnostics = parsed.diagnostics.clone();
    for p in &config.problems {
        diagnostics.insert(
            0,
            mig_frontend::diagnostics::Diagnostic::warning().with_message(p.clone()),
        );
    }
    let declares_subsystem = parsed
        .file
        .statements
        .iter()
        .any(|s| matches!(s.kind, mig_frontend::ast::StatementKind::Subsystem(_)));
    let (mut module, mut partial) = (None, None);
    // Syntax errors stop here: a statement the parser skipped may be a routine, and every
    // routine after it would get a wrong message id.
    if declares_subsystem && !parsed.has_errors() {
        let lowered = mig_ir::lower(&parsed.file, config.target);
        diagnostics.extend(lowered.diagnostics.iter().map(|d| parsed.locate(d)));
        module = lowered.module;
        partial = lowered.partial;
    }
    let index = {
        let real = |name: &str| -> PathBuf {
            if name == shadowed.main_name.to_string_lossy() {
                path.to_path_buf()
            } else {
                overlay.real_path(Path::new(name))
            }
        };
        index::build(&parsed, &real)
    };
    Unit {
        path: path.to_path_buf(),
        config,
        parsed,
        module,
        partial,
        index,
        diagnostics,
        real_paths,
    }
}

/// The unit's diagnostics, as they belong in its main file: those located elsewhere (in an
/// include) are shown on the `#include` line that leads there, with the real place attached.
pub fn file_diagnostics(unit: &Unit) -> Vec<FileDiagnostic> {
    let main = unit.parsed.main;
    let includes = syntax::include_lines(&unit.parsed.db.get(main).text);
    let mut out = Vec::new();
    for d in &unit.diagnostics {
        let primary_at = d
            .labels
            .iter()
            .position(|l| l.style == LabelStyle::Primary)
            .or((!d.labels.is_empty()).then_some(0));
        let primary = primary_at.map(|i| &d.labels[i]);
        let mut related: Vec<(Loc, String)> = d
            .labels
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != primary_at)
            .map(|(_, l)| {
                (
                    Loc {
                        file: unit.real_path(l.file_id).to_path_buf(),
                        range: l.range.clone(),
                    },
                    if l.message.is_empty() {
                        d.message.clone()
                    } else {
                        l.message.clone()
                    },
                )
            })
            .collect();
        let mut message = d.message.clone();
        let range = match primary {
            Some(l) if l.file_id == main => {
                if !l.message.is_empty() && l.message != "here" {
                    message = format!("{message}: {}", l.message);
                }
                l.range.clone()
            }
            Some(l) => {
                let file = unit.real_path(l.file_id).to_path_buf();
                related.insert(
                    0,
                    (
                        Loc {
                            file: file.clone(),
                            range: l.range.clone(),
                        },
                        l.message.clone(),
                    ),
                );
                message = format!("in included file {}: {message}", file.display());
                include_leading_to(unit, &includes, l.file_id)
            }
            None => 0..0,
        };
        for n in &d.notes {
            message.push_str("\nnote: ");
            message.push_str(n);
        }
        out.push(FileDiagnostic {
            severity: d.severity,
            message,
            range,
            related,
        });
    }
    out
}

/// The range of the `#include` line of the main file through which `file` was read (found
/// by the include chains of the origin map), or the start of the file.
fn include_leading_to(unit: &Unit, includes: &[syntax::IncludeLine], file: FileId) -> Range<usize> {
    let origins = &unit.parsed.origins;
    for &(_, o) in origins.entries() {
        if o.file != file {
            continue;
        }
        for step in origins.chain(o.include) {
            if let Some((parent, range)) = step.at {
                if origins.include(parent).file == unit.parsed.main {
                    return range.range();
                }
            }
        }
    }
    // No text came from the file (an include guard, or an error before any): match the
    // directive by the file name.
    let target = unit.real_path(file);
    includes
        .iter()
        .find(|i| target.ends_with(&i.name))
        .map_or(0..0, |i| i.range.clone())
}
