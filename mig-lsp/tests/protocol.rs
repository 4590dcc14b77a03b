//! Protocol tests: each `tests/fixtures/*.defs` file lists the requests to make in its header
//! (`// lsp: METHOD ARGS`); the server runs in process, opens the fixture, and the responses
//! are snapshotted (`tests/snapshots/`), with the fixture directory's URI replaced by
//! `file:///fixtures`.
//!
//! Requests: `hover NEEDLE`, `definition NEEDLE`, `references NEEDLE`, `completion NEEDLE`,
//! `rename NEEDLE NEW`, `symbols`, `workspace_symbols QUERY`, `folding`, `semantic_tokens`,
//! `formatting`, `diagnostics`. A NEEDLE is text of the file after the header (`name#2` for
//! its second occurrence); the cursor is at the needle's start, or at `|` inside it.

mod common;

use std::path::{Path, PathBuf};

use common::{uri, Client};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The LSP position of a needle in the body of the fixture.
fn position(text: &str, body_start: usize, needle: &str) -> Value {
    let (needle, nth) = match needle.rsplit_once('#') {
        Some((n, k)) if k.parse::<usize>().is_ok() => (n, k.parse::<usize>().unwrap_or(1)),
        _ => (needle, 1),
    };
    let cursor = needle.find('|').unwrap_or(0);
    let plain = needle.replace('|', "");
    let at = text[body_start..]
        .match_indices(&plain)
        .nth(nth.saturating_sub(1))
        .map(|(i, _)| body_start + i + cursor)
        .unwrap_or_else(|| panic!("needle `{plain}` #{nth} not found"));
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

fn run_fixture(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture");
    let requests: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with("// lsp:"))
        .map(|l| l["// lsp:".len()..].trim())
        .collect();
    let body_start = text
        .lines()
        .take(requests.len())
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let mut client = Client::start();
    let uri = client.open(path, &text);
    let diagnostics = client.wait_diagnostics(&uri);
    let doc = json!({ "uri": uri });
    let mut out = Vec::new();
    for req in requests {
        let (method, args) = req.split_once(' ').unwrap_or((req, ""));
        let pos = |needle: &str| position(&text, body_start, needle);
        let response = match method {
            "diagnostics" => diagnostics.clone(),
            "hover" => client.request(
                "textDocument/hover",
                json!({"textDocument": doc, "position": pos(args)}),
            ),
            "definition" => client.request(
                "textDocument/definition",
                json!({"textDocument": doc, "position": pos(args)}),
            ),
            "references" => client.request(
                "textDocument/references",
                json!({"textDocument": doc, "position": pos(args),
                       "context": {"includeDeclaration": true}}),
            ),
            "completion" => {
                let r = client.request(
                    "textDocument/completion",
                    json!({"textDocument": doc, "position": pos(args)}),
                );
                // Labels only: the full items are long and say the same.
                let labels: Vec<String> = r["result"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|i| i["label"].as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                json!({ "labels": labels.join(" ") })
            }
            "rename" => {
                let (needle, new) = args.rsplit_once(' ').expect("rename NEEDLE NEW");
                let p = pos(needle);
                let prepare = client.request(
                    "textDocument/prepareRename",
                    json!({"textDocument": doc, "position": p}),
                );
                let edit = client.request(
                    "textDocument/rename",
                    json!({"textDocument": doc, "position": p, "newName": new}),
                );
                json!({"prepare": prepare, "edit": edit})
            }
            "symbols" => client.request(
                "textDocument/documentSymbol",
                json!({ "textDocument": doc }),
            ),
            "workspace_symbols" => client.request("workspace/symbol", json!({ "query": args })),
            "folding" => {
                client.request("textDocument/foldingRange", json!({ "textDocument": doc }))
            }
            "semantic_tokens" => client.request(
                "textDocument/semanticTokens/full",
                json!({ "textDocument": doc }),
            ),
            "formatting" => client.request(
                "textDocument/formatting",
                json!({"textDocument": doc,
                       "options": {"tabSize": 4, "insertSpaces": true}}),
            ),
            other => panic!("unknown request `{other}` in {}", path.display()),
        };
        out.push(json!({ "request": req, "response": response }));
    }
    client.shutdown();
    let dir_uri = uri_of_dir(&fixtures());
    serde_json::to_string_pretty(&out)
        .unwrap()
        .replace(&dir_uri, "file:///fixtures")
        .replace(&fixtures().display().to_string(), "/fixtures")
}

fn uri_of_dir(dir: &Path) -> String {
    uri(dir)
}

#[test]
fn fixtures_snapshots() {
    insta::glob!("fixtures/*.defs", |path| {
        let out = run_fixture(path);
        insta::assert_snapshot!(out);
    });
}
