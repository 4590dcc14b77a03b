//! Analysis results to LSP types.

use std::collections::HashMap;
use std::path::Path;

use codespan_reporting::diagnostic::Severity;
use lsp_types as lt;

use super::{path_to_uri, LineIndex};
use crate::analysis::completion::{Item, ItemKind};
use crate::analysis::ide::OutlineItem;
use crate::analysis::index::{Loc, SymbolKind};
use crate::analysis::syntax::{FoldKind, Highlight};
use crate::analysis::{FileDiagnostic, Workspace};

/// Text of files by path, read once per response (buffers for open files, else the disk).
#[derive(Debug)]
pub struct Texts<'w> {
    ws: &'w Workspace,
    cache: HashMap<std::path::PathBuf, String>,
}

impl<'w> Texts<'w> {
    pub fn new(ws: &'w Workspace) -> Texts<'w> {
        Texts {
            ws,
            cache: HashMap::new(),
        }
    }

    pub fn get(&mut self, path: &Path) -> &str {
        let ws = self.ws;
        self.cache
            .entry(path.to_path_buf())
            .or_insert_with(|| ws.text_or_disk(path).unwrap_or_default())
    }

    pub fn range(&mut self, path: &Path, r: &std::ops::Range<usize>) -> lt::Range {
        LineIndex::new(self.get(path)).range(r)
    }

    pub fn location(&mut self, loc: &Loc) -> Option<lt::Location> {
        let range = self.range(&loc.file, &loc.range);
        Some(lt::Location::new(path_to_uri(&loc.file)?, range))
    }
}

pub fn severity(s: Severity) -> lt::DiagnosticSeverity {
    match s {
        Severity::Bug | Severity::Error => lt::DiagnosticSeverity::ERROR,
        Severity::Warning => lt::DiagnosticSeverity::WARNING,
        Severity::Note => lt::DiagnosticSeverity::INFORMATION,
        Severity::Help => lt::DiagnosticSeverity::HINT,
    }
}

pub fn diagnostic(texts: &mut Texts, file: &Path, d: &FileDiagnostic) -> lt::Diagnostic {
    let range = texts.range(file, &d.range);
    let related: Vec<lt::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|(loc, message)| {
            Some(lt::DiagnosticRelatedInformation {
                location: texts.location(loc)?,
                message: message.clone(),
            })
        })
        .collect();
    lt::Diagnostic {
        range,
        severity: Some(severity(d.severity)),
        source: Some("migc".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

fn symbol_kind(k: SymbolKind) -> lt::SymbolKind {
    match k {
        SymbolKind::Subsystem => lt::SymbolKind::MODULE,
        SymbolKind::Type => lt::SymbolKind::STRUCT,
        SymbolKind::Routine => lt::SymbolKind::FUNCTION,
        SymbolKind::Argument => lt::SymbolKind::VARIABLE,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written
pub fn document_symbol(texts: &mut Texts, item: &OutlineItem) -> lt::DocumentSymbol {
    let range = texts.range(&item.full.file, &item.full.range);
    let selection_range = texts.range(&item.selection.file, &item.selection.range);
    lt::DocumentSymbol {
        name: item.name.clone(),
        detail: (!item.detail.is_empty()).then(|| item.detail.clone()),
        kind: symbol_kind(item.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range,
        children: (!item.children.is_empty()).then(|| {
            item.children
                .iter()
                .map(|c| document_symbol(texts, c))
                .collect()
        }),
    }
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must still be written
pub fn symbol_information(texts: &mut Texts, item: &OutlineItem) -> Option<lt::SymbolInformation> {
    Some(lt::SymbolInformation {
        name: item.name.clone(),
        kind: symbol_kind(item.kind),
        tags: None,
        deprecated: None,
        location: texts.location(&item.selection)?,
        container_name: None,
    })
}

pub fn completion_item(i: &Item) -> lt::CompletionItem {
    let kind = match i.kind {
        ItemKind::Keyword | ItemKind::Direction | ItemKind::Translation => {
            lt::CompletionItemKind::KEYWORD
        }
        ItemKind::Flag => lt::CompletionItemKind::PROPERTY,
        ItemKind::Type => lt::CompletionItemKind::STRUCT,
        ItemKind::IpcType => lt::CompletionItemKind::ENUM_MEMBER,
    };
    lt::CompletionItem {
        label: i.label.clone(),
        kind: Some(kind),
        detail: Some(i.detail.clone()),
        ..Default::default()
    }
}

/// Semantic tokens, delta-encoded; tokens over several lines are cut per line.
pub fn semantic_tokens(text: &str, highlights: &[Highlight]) -> lt::SemanticTokens {
    let index = LineIndex::new(text);
    let mut data = Vec::new();
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for h in highlights {
        let mut start = h.range.start;
        while start < h.range.end {
            let line_end = text[start..h.range.end]
                .find('\n')
                .map_or(h.range.end, |i| start + i);
            let p = index.position(start);
            let len: usize = text[start..line_end].chars().map(char::len_utf16).sum();
            if len > 0 {
                let delta_line = p.line - prev_line;
                let delta_start = if delta_line == 0 {
                    p.character - prev_start
                } else {
                    p.character
                };
                data.push(lt::SemanticToken {
                    delta_line,
                    delta_start,
                    length: len as u32,
                    token_type: super::capabilities::token_type(h.class),
                    token_modifiers_bitset: u32::from(h.declaration),
                });
                prev_line = p.line;
                prev_start = p.character;
            }
            start = line_end + 1;
        }
    }
    lt::SemanticTokens {
        result_id: None,
        data,
    }
}

pub fn folding_range(text: &str, r: &std::ops::Range<usize>, kind: FoldKind) -> lt::FoldingRange {
    let index = LineIndex::new(text);
    lt::FoldingRange {
        start_line: index.position(r.start).line,
        end_line: index.position(r.end).line,
        kind: Some(match kind {
            FoldKind::Comment => lt::FoldingRangeKind::Comment,
            FoldKind::Region => lt::FoldingRangeKind::Region,
        }),
        ..Default::default()
    }
}
