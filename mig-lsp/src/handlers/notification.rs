//! Notifications: the editor's buffers (open, change, save, close). Each change analyses the
//! file and every open file that includes it again, and publishes their diagnostics.

use std::path::PathBuf;

use lsp_types as lt;

use crate::lsp::{uri_to_path, LineIndex};
use crate::main_loop::GlobalState;

pub fn did_open(state: &mut GlobalState, p: lt::DidOpenTextDocumentParams) {
    let Some(path) = uri_to_path(&p.text_document.uri) else {
        return;
    };
    let changed = state.ws.set_text(&path, p.text_document.text);
    state.publish(&changed);
}

pub fn did_change(state: &mut GlobalState, p: lt::DidChangeTextDocumentParams) {
    let Some(path) = uri_to_path(&p.text_document.uri) else {
        return;
    };
    let mut text = state.ws.text(&path).unwrap_or_default().to_string();
    for change in p.content_changes {
        match change.range {
            None => text = change.text,
            Some(range) => {
                let index = LineIndex::new(&text);
                let start = index.offset(range.start);
                let end = index.offset(range.end).max(start);
                text.replace_range(start..end, &change.text);
            }
        }
    }
    let changed = state.ws.set_text(&path, text);
    state.publish(&changed);
}

pub fn did_save(state: &mut GlobalState, p: lt::DidSaveTextDocumentParams) {
    // Settings files may have changed with it: analyse everything again.
    let _ = p;
    let changed = state.ws.reanalyse_all();
    state.publish(&changed);
}

pub fn did_close(state: &mut GlobalState, p: lt::DidCloseTextDocumentParams) {
    let Some(path) = uri_to_path(&p.text_document.uri) else {
        return;
    };
    let changed = state.ws.close(&path);
    state.clear_diagnostics(&path);
    let changed: Vec<PathBuf> = changed.into_iter().filter(|c| *c != path).collect();
    state.publish(&changed);
}
