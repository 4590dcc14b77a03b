//! Navigation and edits over the open files: go to definition, find references, rename,
//! document and workspace symbols, formatting.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mig_frontend::lexer::Keyword;

use super::index::{Loc, Symbol, SymbolKind};
use super::syntax::{include_lines, resolve_include};
use super::{Unit, Workspace};

/// The declaration a symbol is known by across units: where its name is declared.
fn identity(sym: &Symbol) -> (PathBuf, usize) {
    (sym.def.file.clone(), sym.def.range.start)
}

/// The symbol under the cursor, in the unit of `file`.
fn symbol_at<'u>(unit: &'u Unit, file: &Path, offset: usize) -> Option<&'u Symbol> {
    let occ = unit.index.at(file, offset)?;
    unit.index.symbols.get(occ.symbol)
}

/// The file an `#include` line under the cursor leads to.
fn include_at(ws: &Workspace, file: &Path, offset: usize) -> Option<PathBuf> {
    let text = ws.text(file)?;
    let unit = ws.unit(file)?;
    let line = include_lines(text)
        .into_iter()
        .find(|l| l.range.start <= offset && offset <= l.range.end)?;
    resolve_include(file, &line, &unit.config)
}

/// Where the name (or include) under the cursor is declared.
pub fn definition(ws: &Workspace, file: &Path, offset: usize) -> Option<Loc> {
    if let Some(target) = include_at(ws, file, offset) {
        return Some(Loc {
            file: target,
            range: 0..0,
        });
    }
    let unit = ws.unit(file)?;
    Some(symbol_at(unit, file, offset)?.def.clone())
}

/// Every place the name under the cursor is used, in the units of all open files (with its
/// declaration when `include_declaration`); for an `#include` line, every include line of the
/// open files that leads to the same file.
pub fn references(
    ws: &Workspace,
    file: &Path,
    offset: usize,
    include_declaration: bool,
) -> Vec<Loc> {
    if let Some(target) = include_at(ws, file, offset) {
        let mut out = BTreeSet::new();
        for unit in ws.units() {
            for path in unit.real_paths.iter().collect::<BTreeSet<_>>() {
                let Some(text) = ws.text_or_disk(path) else {
                    continue;
                };
                for line in include_lines(&text) {
                    if resolve_include(path, &line, &unit.config).as_ref() == Some(&target) {
                        out.insert(Loc {
                            file: path.clone(),
                            range: line.range,
                        });
                    }
                }
            }
        }
        return out.into_iter().collect();
    }
    let Some(unit) = ws.unit(file) else {
        return Vec::new();
    };
    let Some(sym) = symbol_at(unit, file, offset) else {
        return Vec::new();
    };
    occurrences(ws, sym, include_declaration)
        .into_iter()
        .map(|(loc, _)| loc)
        .collect()
}

/// Occurrences of a symbol in every unit, deduplicated, with their `expanded` flag.
fn occurrences(ws: &Workspace, sym: &Symbol, include_declaration: bool) -> Vec<(Loc, bool)> {
    let id = identity(sym);
    let mut out = std::collections::BTreeMap::new();
    for unit in ws.units() {
        for o in &unit.index.occurrences {
            let s = &unit.index.symbols[o.symbol];
            if s.kind == sym.kind && identity(s) == id && (include_declaration || !o.is_def) {
                out.entry(o.loc.clone()).or_insert(o.expanded);
            }
        }
    }
    out.into_iter().collect()
}

/// Why a rename cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

/// The range of the name that can be renamed under the cursor.
pub fn prepare_rename(ws: &Workspace, file: &Path, offset: usize) -> Result<Loc, RenameError> {
    let unit = ws
        .unit(file)
        .ok_or_else(|| RenameError("the file is not open".into()))?;
    let occ = unit
        .index
        .at(file, offset)
        .ok_or_else(|| RenameError("no type or routine name here".into()))?;
    let sym = &unit.index.symbols[occ.symbol];
    if !matches!(sym.kind, SymbolKind::Type | SymbolKind::Routine) {
        return Err(RenameError("only types and routines can be renamed".into()));
    }
    Ok(occ.loc.clone())
}

/// The edits that rename the type or routine under the cursor across the open files and the
/// files they include: (file, range, new text).
pub fn rename(
    ws: &Workspace,
    file: &Path,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Loc>, RenameError> {
    prepare_rename(ws, file, offset)?;
    let valid = new_name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(RenameError(format!("`{new_name}` is not an identifier")));
    }
    if Keyword::from_ident(new_name).is_some() {
        return Err(RenameError(format!("`{new_name}` is a MIG keyword")));
    }
    let unit = ws
        .unit(file)
        .ok_or_else(|| RenameError("the file is not open".into()))?;
    let sym = symbol_at(unit, file, offset).ok_or_else(|| RenameError("no name here".into()))?;
    let occ = occurrences(ws, sym, true);
    if let Some((loc, _)) = occ.iter().find(|(_, expanded)| *expanded) {
        return Err(RenameError(format!(
            "`{}` is used through a macro expansion in {} (at byte {}): rename it by hand",
            sym.name,
            loc.file.display(),
            loc.range.start
        )));
    }
    // Only edit text that spells the name (a name produced by a line marker or a macro would
    // locate elsewhere).
    let mut edits = Vec::new();
    for (loc, _) in occ {
        let text = ws.text_or_disk(&loc.file).unwrap_or_default();
        if text.get(loc.range.clone()) == Some(sym.name.as_str()) {
            edits.push(loc);
        }
    }
    Ok(edits)
}

/// A declaration for the outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineItem {
    pub name: String,
    pub kind: SymbolKind,
    pub detail: String,
    pub full: Loc,
    pub selection: Loc,
    pub children: Vec<OutlineItem>,
}

/// The declarations of a file, arguments under their routine.
pub fn document_symbols(ws: &Workspace, file: &Path) -> Vec<OutlineItem> {
    let Some(unit) = ws.unit(file) else {
        return Vec::new();
    };
    let mut out: Vec<OutlineItem> = Vec::new();
    let mut routine_slot = std::collections::HashMap::new();
    for (i, s) in unit.index.symbols_in(file) {
        if s.expanded {
            continue;
        }
        let item = OutlineItem {
            name: s.name.clone(),
            kind: s.kind,
            detail: s.detail.clone(),
            full: s.full.clone(),
            selection: s.def.clone(),
            children: Vec::new(),
        };
        match s.parent.and_then(|p| routine_slot.get(&p)) {
            Some(&slot) => {
                let parent: &mut OutlineItem = &mut out[slot];
                parent.children.push(item);
            }
            None => {
                if s.kind == SymbolKind::Routine {
                    routine_slot.insert(i, out.len());
                }
                if s.kind != SymbolKind::Argument {
                    out.push(item);
                }
            }
        }
    }
    out
}

/// Declarations of every unit whose name contains `query` (ignoring case), arguments aside.
pub fn workspace_symbols(ws: &Workspace, query: &str) -> Vec<OutlineItem> {
    let q = query.to_ascii_lowercase();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for unit in ws.units() {
        for s in &unit.index.symbols {
            if s.kind == SymbolKind::Argument || !s.name.to_ascii_lowercase().contains(&q) {
                continue;
            }
            if seen.insert((s.kind as u8, identity(s))) {
                out.push(OutlineItem {
                    name: s.name.clone(),
                    kind: s.kind,
                    detail: s.detail.clone(),
                    full: s.full.clone(),
                    selection: s.def.clone(),
                    children: Vec::new(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.name, &a.selection).cmp(&(&b.name, &b.selection)));
    out
}

/// The formatted text of an open file, or why it cannot be formatted; `None` when unchanged.
pub fn format(ws: &Workspace, file: &Path) -> Result<Option<String>, String> {
    let text = ws.text(file).ok_or("the file is not open")?;
    let formatted = mig_frontend::format::format(text).map_err(|e| e.message)?;
    Ok((formatted != text).then_some(formatted))
}
