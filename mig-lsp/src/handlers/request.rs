//! Requests: each handler takes the state and the request's parameters and returns its
//! result, or an error message for the client.

use std::path::PathBuf;

use lsp_types as lt;

use crate::analysis::{completion, hover, ide, syntax};
use crate::lsp::to_proto::{self, Texts};
use crate::lsp::{path_to_uri, uri_to_path, LineIndex};
use crate::main_loop::GlobalState;

/// An error for the client: the message of the response.
pub type Error = String;

/// The path and byte offset of a position in an open document.
fn locate(
    state: &GlobalState,
    doc: &lt::TextDocumentPositionParams,
) -> Result<(PathBuf, usize), Error> {
    let path = uri_to_path(&doc.text_document.uri)
        .ok_or_else(|| format!("not a file URI: {}", doc.text_document.uri.as_str()))?;
    let text = state
        .ws
        .text(&path)
        .ok_or_else(|| format!("{} is not open", path.display()))?;
    let offset = LineIndex::new(text).offset(doc.position);
    Ok((path, offset))
}

fn open_path(state: &GlobalState, uri: &lt::Uri) -> Result<PathBuf, Error> {
    let path = uri_to_path(uri).ok_or_else(|| format!("not a file URI: {}", uri.as_str()))?;
    if !state.ws.is_open(&path) {
        return Err(format!("{} is not open", path.display()));
    }
    Ok(path)
}

pub fn hover(state: &GlobalState, p: lt::HoverParams) -> Result<Option<lt::Hover>, Error> {
    let (path, offset) = locate(state, &p.text_document_position_params)?;
    let (Some(unit), Some(text)) = (state.ws.unit(&path), state.ws.text(&path)) else {
        return Ok(None);
    };
    Ok(
        hover::hover(unit, &path, offset, text).map(|(markdown, range)| lt::Hover {
            contents: lt::HoverContents::Markup(lt::MarkupContent {
                kind: lt::MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(LineIndex::new(text).range(&range)),
        }),
    )
}

pub fn definition(
    state: &GlobalState,
    p: lt::GotoDefinitionParams,
) -> Result<Option<lt::GotoDefinitionResponse>, Error> {
    let (path, offset) = locate(state, &p.text_document_position_params)?;
    let mut texts = Texts::new(&state.ws);
    Ok(ide::definition(&state.ws, &path, offset)
        .and_then(|loc| texts.location(&loc))
        .map(lt::GotoDefinitionResponse::Scalar))
}

pub fn references(
    state: &GlobalState,
    p: lt::ReferenceParams,
) -> Result<Option<Vec<lt::Location>>, Error> {
    let (path, offset) = locate(state, &p.text_document_position)?;
    let mut texts = Texts::new(&state.ws);
    let locs = ide::references(&state.ws, &path, offset, p.context.include_declaration);
    Ok(Some(
        locs.iter().filter_map(|l| texts.location(l)).collect(),
    ))
}

pub fn document_symbols(
    state: &GlobalState,
    p: lt::DocumentSymbolParams,
) -> Result<Option<lt::DocumentSymbolResponse>, Error> {
    let path = open_path(state, &p.text_document.uri)?;
    let mut texts = Texts::new(&state.ws);
    let items = ide::document_symbols(&state.ws, &path);
    Ok(Some(lt::DocumentSymbolResponse::Nested(
        items
            .iter()
            .map(|i| to_proto::document_symbol(&mut texts, i))
            .collect(),
    )))
}

pub fn workspace_symbols(
    state: &GlobalState,
    p: lt::WorkspaceSymbolParams,
) -> Result<Option<lt::WorkspaceSymbolResponse>, Error> {
    let mut texts = Texts::new(&state.ws);
    let items = ide::workspace_symbols(&state.ws, &p.query);
    Ok(Some(lt::WorkspaceSymbolResponse::Flat(
        items
            .iter()
            .filter_map(|i| to_proto::symbol_information(&mut texts, i))
            .collect(),
    )))
}

pub fn completion(
    state: &GlobalState,
    p: lt::CompletionParams,
) -> Result<Option<lt::CompletionResponse>, Error> {
    let (path, offset) = locate(state, &p.text_document_position)?;
    let text = state.ws.text(&path).unwrap_or_default();
    let unit = state.ws.unit(&path).map(|u| u.as_ref());
    let dialect = unit.map_or_else(Default::default, |u| u.config.dialect);
    let items = completion::complete(unit, dialect, text, offset);
    Ok(Some(lt::CompletionResponse::Array(
        items.iter().map(to_proto::completion_item).collect(),
    )))
}

pub fn semantic_tokens(
    state: &GlobalState,
    p: lt::SemanticTokensParams,
) -> Result<Option<lt::SemanticTokensResult>, Error> {
    let path = open_path(state, &p.text_document.uri)?;
    let text = state.ws.text(&path).unwrap_or_default();
    let index = state.ws.unit(&path).map(|u| &u.index);
    let highlights = syntax::highlights(&path, text, index);
    Ok(Some(lt::SemanticTokensResult::Tokens(
        to_proto::semantic_tokens(text, &highlights),
    )))
}

pub fn folding(
    state: &GlobalState,
    p: lt::FoldingRangeParams,
) -> Result<Option<Vec<lt::FoldingRange>>, Error> {
    let path = open_path(state, &p.text_document.uri)?;
    let text = state.ws.text(&path).unwrap_or_default();
    Ok(Some(
        syntax::folding(text)
            .iter()
            .map(|(r, k)| to_proto::folding_range(text, r, *k))
            .filter(|f| f.start_line < f.end_line)
            .collect(),
    ))
}

pub fn prepare_rename(
    state: &GlobalState,
    p: lt::TextDocumentPositionParams,
) -> Result<Option<lt::PrepareRenameResponse>, Error> {
    let (path, offset) = locate(state, &p)?;
    let loc = ide::prepare_rename(&state.ws, &path, offset).map_err(|e| e.0)?;
    let mut texts = Texts::new(&state.ws);
    Ok(Some(lt::PrepareRenameResponse::Range(
        texts.range(&loc.file, &loc.range),
    )))
}

// `WorkspaceEdit::changes` is keyed by `Uri`, whose parsed form clippy thinks mutable.
#[allow(clippy::mutable_key_type)]
pub fn rename(
    state: &GlobalState,
    p: lt::RenameParams,
) -> Result<Option<lt::WorkspaceEdit>, Error> {
    let (path, offset) = locate(state, &p.text_document_position)?;
    let locs = ide::rename(&state.ws, &path, offset, &p.new_name).map_err(|e| e.0)?;
    let mut texts = Texts::new(&state.ws);
    let mut changes: std::collections::HashMap<lt::Uri, Vec<lt::TextEdit>> = Default::default();
    for loc in &locs {
        let Some(uri) = path_to_uri(&loc.file) else {
            continue;
        };
        let range = texts.range(&loc.file, &loc.range);
        changes
            .entry(uri)
            .or_default()
            .push(lt::TextEdit::new(range, p.new_name.clone()));
    }
    Ok(Some(lt::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

pub fn formatting(
    state: &GlobalState,
    p: lt::DocumentFormattingParams,
) -> Result<Option<Vec<lt::TextEdit>>, Error> {
    let path = open_path(state, &p.text_document.uri)?;
    let text = state.ws.text(&path).unwrap_or_default();
    match ide::format(&state.ws, &path)? {
        None => Ok(Some(Vec::new())),
        Some(formatted) => {
            let range = LineIndex::new(text).range(&(0..text.len()));
            Ok(Some(vec![lt::TextEdit::new(range, formatted)]))
        }
    }
}
