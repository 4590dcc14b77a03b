//! What the names of a unit are: every subsystem, type, routine and argument declared, and
//! every place a type name is used, resolved to its declaration and located in the original
//! files (through includes and line markers).
//!
//! MIG scoping is sequential: a type name refers to the last declaration before the use
//! (redefinition is an error the IR reports); an argument's in-place type (`arg : name = ...`)
//! is visible only in that argument.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

use mig_frontend::ast::{self, StatementKind, TypeSpec, TypeSpecKind};
use mig_frontend::source::Span;
use mig_frontend::Parsed;

/// A place in a file: its real path and a byte range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: PathBuf,
    pub range: Range<usize>,
}

impl Ord for Loc {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.file, self.range.start, self.range.end).cmp(&(
            &other.file,
            other.range.start,
            other.range.end,
        ))
    }
}

impl PartialOrd for Loc {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Subsystem,
    Type,
    Routine,
    Argument,
}

/// A declaration.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The name in the declaration.
    pub def: Loc,
    /// The whole declaration (statement or argument).
    pub full: Loc,
    /// Unit offset of the name (for sequential scoping).
    pub unit_start: u32,
    /// The routine of an argument.
    pub parent: Option<usize>,
    /// `routine`, `simpleroutine` ... for routines; the direction for arguments.
    pub detail: String,
    /// True when the declaration comes out of a macro expansion.
    pub expanded: bool,
}

/// A name in the source: a declaration or a use.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub symbol: usize,
    pub loc: Loc,
    pub is_def: bool,
    /// The name was produced by a macro expansion (its location is the invocation).
    pub expanded: bool,
}

/// The names of one unit.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    pub occurrences: Vec<Occurrence>,
    /// Uses of names declared nowhere (predefined types such as `int`, or errors).
    pub unresolved: Vec<(String, Loc)>,
}

impl Index {
    /// The occurrence under a byte offset of a file.
    pub fn at(&self, file: &std::path::Path, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| {
                o.loc.file == file && o.loc.range.start <= offset && offset <= o.loc.range.end
            })
            .min_by_key(|o| o.loc.range.len())
    }

    /// Declarations in a file.
    pub fn symbols_in<'a>(
        &'a self,
        file: &'a std::path::Path,
    ) -> impl Iterator<Item = (usize, &'a Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.def.file == file)
    }
}

/// Builds the index of a parsed unit; `real` maps names of the source database to real paths.
pub fn build(parsed: &Parsed, real: &dyn Fn(&str) -> PathBuf) -> Index {
    let mut b = Builder {
        parsed,
        real,
        index: Index::default(),
        scope: HashMap::new(),
    };
    for st in &parsed.file.statements {
        b.statement(st);
    }
    b.index
}

struct Builder<'a> {
    parsed: &'a Parsed,
    real: &'a dyn Fn(&str) -> PathBuf,
    index: Index,
    /// Type name -> declarations (unit offset, symbol), in order.
    scope: HashMap<String, Vec<(u32, usize)>>,
}

impl Builder<'_> {
    fn locate(&self, span: Span) -> Option<(Loc, bool)> {
        let (file, range, _) = self.parsed.origins.resolve(span)?;
        let expanded = self
            .parsed
            .origins
            .entry(span.start as usize)
            .is_some_and(|(_, o)| o.expanded);
        let name = &self.parsed.db.get(file).name;
        Some((
            Loc {
                file: (self.real)(name),
                range,
            },
            expanded,
        ))
    }

    fn declare(
        &mut self,
        name: &ast::Ident,
        kind: SymbolKind,
        full: Span,
        parent: Option<usize>,
        detail: String,
    ) -> Option<usize> {
        let (def, expanded) = self.locate(name.span)?;
        let full = self.locate(full).map_or_else(|| def.clone(), |(l, _)| l);
        let full = if full.file == def.file {
            Loc {
                file: full.file,
                range: full.range.start.min(def.range.start)..full.range.end.max(def.range.end),
            }
        } else {
            def.clone()
        };
        let id = self.index.symbols.len();
        self.index.symbols.push(Symbol {
            name: name.name.clone(),
            kind,
            def: def.clone(),
            full,
            unit_start: name.span.start,
            parent,
            detail,
            expanded,
        });
        self.index.occurrences.push(Occurrence {
            symbol: id,
            loc: def,
            is_def: true,
            expanded,
        });
        Some(id)
    }

    fn statement(&mut self, st: &ast::Statement) {
        match &st.kind {
            StatementKind::Subsystem(s) => {
                self.declare(&s.name, SymbolKind::Subsystem, st.span, None, String::new());
            }
            StatementKind::Type(t) => {
                if let Some(spec) = &t.spec {
                    self.spec(spec, &HashMap::new());
                }
                if let Some(id) =
                    self.declare(&t.name, SymbolKind::Type, st.span, None, String::new())
                {
                    self.scope
                        .entry(t.name.name.clone())
                        .or_default()
                        .push((t.name.span.start, id));
                }
            }
            StatementKind::Routine(r) => self.routine(r, st.span),
            _ => {}
        }
    }

    fn routine(&mut self, r: &ast::Routine, span: Span) {
        let kind = format!("{:?}", r.kind.node).to_lowercase();
        let Some(rid) = self.declare(&r.name, SymbolKind::Routine, span, None, kind) else {
            return;
        };
        for a in &r.args {
            let dir = a
                .direction
                .as_ref()
                .map_or("in".to_string(), |d| format!("{:?}", d.node).to_lowercase());
            self.declare(&a.name, SymbolKind::Argument, a.span, Some(rid), dir);
            if let Some(ty) = &a.ty {
                self.spec(ty, &HashMap::new());
            }
        }
        if let Some(ret) = &r.returns {
            self.spec(ret, &HashMap::new());
        }
    }

    /// Records the type names used in a type spec; `local` holds in-place declarations.
    fn spec(&mut self, spec: &TypeSpec, local: &HashMap<String, usize>) {
        match &spec.kind {
            TypeSpecKind::Named(n) => self.use_type(n, local),
            TypeSpecKind::Array { element, .. }
            | TypeSpecKind::StructArray { element, .. }
            | TypeSpecKind::Pointer(element)
            | TypeSpecKind::PointerTo(element)
            | TypeSpecKind::ValueOf(element) => self.spec(element, local),
            TypeSpecKind::PointerToIfNot(a, b) => {
                self.spec(a, local);
                self.spec(b, local);
            }
            TypeSpecKind::Struct { fields } => {
                for f in fields {
                    self.spec(&f.ty, local);
                }
            }
            TypeSpecKind::Inline {
                name, spec: inner, ..
            } => {
                self.spec(inner, local);
                self.declare(name, SymbolKind::Type, spec.span, None, String::new());
            }
            TypeSpecKind::Ipc { .. } | TypeSpecKind::CString { .. } | TypeSpecKind::Polymorphic => {
            }
        }
    }

    fn use_type(&mut self, n: &ast::Ident, local: &HashMap<String, usize>) {
        let Some((loc, expanded)) = self.locate(n.span) else {
            return;
        };
        let target = local.get(&n.name).copied().or_else(|| {
            let decls = self.scope.get(&n.name)?;
            decls
                .iter()
                .rev()
                .find(|(at, _)| *at < n.span.start)
                .or(decls.first())
                .map(|&(_, id)| id)
        });
        match target {
            Some(symbol) => self.index.occurrences.push(Occurrence {
                symbol,
                loc,
                is_def: false,
                expanded,
            }),
            None => self.index.unresolved.push((n.name.clone(), loc)),
        }
    }
}
