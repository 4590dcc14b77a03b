//! A test client: drives the server in process over `lsp_server::Connection::memory()`.
// Each test binary uses a part of the client.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use serde_json::Value;

#[allow(missing_debug_implementations)] // `Connection` has no `Debug`
pub struct Client {
    conn: Connection,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    next_id: i32,
    /// The last diagnostics published for each URI.
    pub diagnostics: HashMap<String, Value>,
}

impl Client {
    pub fn start() -> Client {
        let (client, server) = Connection::memory();
        let thread = std::thread::spawn(move || mig_lsp::run(server));
        let mut c = Client {
            conn: client,
            thread: Some(thread),
            next_id: 0,
            diagnostics: HashMap::new(),
        };
        let init = c.request("initialize", serde_json::json!({"capabilities": {}}));
        assert_eq!(
            init["result"]["capabilities"]["hoverProvider"], true,
            "initialize failed: {init}"
        );
        c.notify("initialized", serde_json::json!({}));
        c
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.into(),
                params,
            )))
            .expect("server alive");
    }

    /// Sends a request; returns the whole response (`result` or `error`) as JSON.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.into(),
                params,
            )))
            .expect("server alive");
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => return response_json(r),
                _ => {}
            }
        }
    }

    fn recv(&mut self) -> Message {
        let m = self
            .conn
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("a message from the server within 30 s");
        if let Message::Notification(n) = &m {
            if n.method == "textDocument/publishDiagnostics" {
                let uri = n.params["uri"].as_str().unwrap_or_default().to_string();
                self.diagnostics
                    .insert(uri, n.params["diagnostics"].clone());
            }
        }
        m
    }

    /// Waits for the next diagnostics of `uri`.
    pub fn wait_diagnostics(&mut self, uri: &str) -> Value {
        loop {
            if let Message::Notification(n) = self.recv() {
                if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri {
                    return n.params["diagnostics"].clone();
                }
            }
        }
    }

    pub fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            serde_json::json!({"textDocument": {
                "uri": uri, "languageId": "mig", "version": 0, "text": text}}),
        );
        uri
    }

    pub fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            serde_json::json!({"textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}]}),
        );
    }

    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null, "{r}");
        self.notify("exit", Value::Null);
        let result = self.thread.take().map(|t| t.join());
        assert!(
            matches!(result, Some(Ok(Ok(())))),
            "the server did not stop cleanly: {result:?}"
        );
    }
}

fn response_json(r: Response) -> Value {
    match r.response_result {
        Err(e) => serde_json::json!({"error": {"code": e.code, "message": e.message}}),
        Ok(v) => serde_json::json!({ "result": v }),
    }
}

pub fn uri(path: &Path) -> String {
    let u: lt::Uri = mig_lsp::lsp::path_to_uri(path).expect("file uri");
    u.as_str().to_string()
}
