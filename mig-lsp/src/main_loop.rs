//! The server's loop: the initialize handshake, then one message at a time, requests
//! answered in order, until `shutdown` and `exit`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lt;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::analysis::Workspace;
use crate::handlers::{notification, request};
use crate::lsp::capabilities::server_capabilities;
use crate::lsp::path_to_uri;
use crate::lsp::to_proto::{self, Texts};

/// The server's state: the workspace and the way out to the client.
#[derive(Debug)]
pub struct GlobalState {
    pub ws: Workspace,
    sender: Outbox,
}

/// Sends messages to the client.
struct Outbox(Box<dyn Fn(Message)>);

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbox")
    }
}

impl GlobalState {
    fn send(&self, m: Message) {
        (self.sender.0)(m);
    }

    /// Publishes the diagnostics of each of `paths`.
    pub fn publish(&self, paths: &[PathBuf]) {
        for path in paths {
            let Some(uri) = path_to_uri(path) else {
                continue;
            };
            let mut texts = Texts::new(&self.ws);
            let diagnostics = self
                .ws
                .diagnostics(path)
                .iter()
                .map(|d| to_proto::diagnostic(&mut texts, path, d))
                .collect();
            self.notify::<lt::notification::PublishDiagnostics>(lt::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            });
        }
    }

    pub fn clear_diagnostics(&self, path: &Path) {
        if let Some(uri) = path_to_uri(path) {
            self.notify::<lt::notification::PublishDiagnostics>(lt::PublishDiagnosticsParams {
                uri,
                diagnostics: Vec::new(),
                version: None,
            });
        }
    }

    fn notify<N: lt::notification::Notification>(&self, params: N::Params) {
        self.send(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )));
    }
}

/// Runs the server on a connection until the client says `exit`.
pub fn run(connection: Connection) -> Result<(), String> {
    let caps = serde_json::to_value(server_capabilities()).map_err(|e| e.to_string())?;
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    connection
        .initialize_finish(
            id,
            serde_json::json!({
                "capabilities": caps,
                "serverInfo": {"name": "mig-lsp", "version": env!("CARGO_PKG_VERSION")},
            }),
        )
        .map_err(|e| e.to_string())?;
    let out = connection.sender.clone();
    let mut state = GlobalState {
        ws: Workspace::new(),
        sender: Outbox(Box::new(move |m| {
            let _ = out.send(m);
        })),
    };
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let resp = dispatch_request(&state, req);
                state.send(Message::Response(resp));
            }
            Message::Notification(n) => {
                if n.method == lt::notification::Exit::METHOD {
                    return Ok(());
                }
                dispatch_notification(&mut state, n);
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

fn dispatch_request(state: &GlobalState, req: Request) -> Response {
    use lt::request as r;
    let id = req.id.clone();
    let result = match req.method.as_str() {
        r::HoverRequest::METHOD => handle(state, req, request::hover),
        r::GotoDefinition::METHOD => handle(state, req, request::definition),
        r::References::METHOD => handle(state, req, request::references),
        r::DocumentSymbolRequest::METHOD => handle(state, req, request::document_symbols),
        r::WorkspaceSymbolRequest::METHOD => handle(state, req, request::workspace_symbols),
        r::Completion::METHOD => handle(state, req, request::completion),
        r::SemanticTokensFullRequest::METHOD => handle(state, req, request::semantic_tokens),
        r::FoldingRangeRequest::METHOD => handle(state, req, request::folding),
        r::PrepareRenameRequest::METHOD => handle(state, req, request::prepare_rename),
        r::Rename::METHOD => handle(state, req, request::rename),
        r::Formatting::METHOD => handle(state, req, request::formatting),
        _ => Err((
            ErrorCode::MethodNotFound,
            format!("unknown request `{}`", req.method),
        )),
    };
    match result {
        Ok(value) => Response::new_ok(id, value),
        Err((code, message)) => Response::new_err(id, code as i32, message),
    }
}

/// Decodes the parameters, runs the handler (a panic becomes an error response), encodes.
fn handle<P, R>(
    state: &GlobalState,
    req: Request,
    f: fn(&GlobalState, P) -> Result<R, request::Error>,
) -> Result<serde_json::Value, (ErrorCode, String)>
where
    P: DeserializeOwned,
    R: Serialize,
{
    let params: P = serde_json::from_value(req.params)
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters: {e}")))?;
    let result = catch_unwind(AssertUnwindSafe(|| f(state, params)))
        .map_err(|_| {
            (
                ErrorCode::InternalError,
                "internal error (panic)".to_string(),
            )
        })?
        .map_err(|e| (ErrorCode::RequestFailed, e))?;
    serde_json::to_value(result).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn dispatch_notification(state: &mut GlobalState, n: Notification) {
    use lt::notification as n_;
    let method = n.method.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| match method.as_str() {
        n_::DidOpenTextDocument::METHOD => on(state, n, notification::did_open),
        n_::DidChangeTextDocument::METHOD => on(state, n, notification::did_change),
        n_::DidSaveTextDocument::METHOD => on(state, n, notification::did_save),
        n_::DidCloseTextDocument::METHOD => on(state, n, notification::did_close),
        _ => {}
    }));
    if outcome.is_err() {
        state.notify::<n_::LogMessage>(lt::LogMessageParams {
            typ: lt::MessageType::ERROR,
            message: format!("mig-lsp: internal error handling `{method}`"),
        });
    }
}

fn on<P: DeserializeOwned>(state: &mut GlobalState, n: Notification, f: fn(&mut GlobalState, P)) {
    match serde_json::from_value::<P>(n.params) {
        Ok(p) => f(state, p),
        Err(e) => state.notify::<lt::notification::LogMessage>(lt::LogMessageParams {
            typ: lt::MessageType::WARNING,
            message: format!("mig-lsp: invalid `{}` parameters: {e}", n.method),
        }),
    }
}
