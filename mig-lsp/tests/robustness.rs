//! The server survives bad requests and broken files, and parses the editor's buffers:
//! unsaved text of an open included file changes the diagnostics of the file that includes it.

mod common;

use std::path::PathBuf;

use common::{uri, Client};
use serde_json::{json, Value};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mig-lsp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("inc/lib")).unwrap();
    dir
}

#[test]
fn bad_requests_get_errors_and_the_server_lives_on() {
    let dir = scratch("bad");
    let mut c = Client::start();
    let file = dir.join("broken.defs");
    let text = "routine (;;; type = = ^^^ \"open\n/* never closed";
    let u = c.open(&file, text);
    let diags = c.wait_diagnostics(&u);
    assert!(!diags.as_array().unwrap().is_empty());
    let pos = |l: u32, ch: u32| json!({"line": l, "character": ch});
    let requests = [
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": pos(99, 99)}),
        ),
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///not/open.defs"}, "position": pos(0, 0)}),
        ),
        (
            "textDocument/hover",
            json!({"textDocument": {"uri": "untitled:1"}, "position": pos(0, 0)}),
        ),
        ("textDocument/hover", json!({"nonsense": true})),
        (
            "textDocument/definition",
            json!({"textDocument": {"uri": u}, "position": pos(0, 3)}),
        ),
        (
            "textDocument/completion",
            json!({"textDocument": {"uri": u}, "position": pos(1, 5)}),
        ),
        (
            "textDocument/formatting",
            json!({"textDocument": {"uri": u}, "options": {"tabSize": 4, "insertSpaces": true}}),
        ),
        (
            "textDocument/rename",
            json!({"textDocument": {"uri": u}, "position": pos(0, 0), "newName": "x"}),
        ),
        (
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": u}}),
        ),
        (
            "textDocument/foldingRange",
            json!({"textDocument": {"uri": u}}),
        ),
        (
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": u}}),
        ),
        ("workspace/symbol", json!({"query": ""})),
        ("no/such/method", json!({})),
    ];
    let mut errors = 0;
    for (method, params) in requests {
        let r = c.request(method, params);
        assert!(r.get("result").is_some() || r.get("error").is_some(), "{r}");
        errors += usize::from(r.get("error").is_some());
    }
    // Not open, not a file URI, bad parameters, formatting refused, rename with no name there,
    // unknown method.
    assert_eq!(errors, 6);
    // Garbage notifications are ignored; the server still answers.
    c.notify("textDocument/didChange", json!({"bogus": 1}));
    c.notify("textDocument/didOpen", Value::Null);
    let r = c.request("workspace/symbol", json!({"query": "x"}));
    assert!(r.get("result").is_some(), "{r}");
    c.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn unsaved_buffers_of_included_files_are_parsed() {
    let dir = scratch("overlay");
    std::fs::write(dir.join(".mig-lsp.toml"), "include = [\"inc\"]\n").unwrap();
    let types = dir.join("inc/lib/types.defs");
    std::fs::write(&types, "type int32 = MACH_MSG_TYPE_INTEGER_32;\n").unwrap();
    let main = dir.join("main.defs");
    let text = "subsystem m 10;\n#include <lib/types.defs>\ntype port_t = MACH_MSG_TYPE_COPY_SEND;\nroutine r(p : port_t; v : int32);\n";
    std::fs::write(&main, text).unwrap();
    let mut c = Client::start();
    let mu = c.open(&main, text);
    assert_eq!(c.wait_diagnostics(&mu), json!([]));

    // Open the include and rename its type without saving: the main file now fails.
    let tu = c.open(&types, "type int32 = MACH_MSG_TYPE_INTEGER_32;\n");
    c.wait_diagnostics(&tu);
    c.change(&tu, 1, "type int64 = MACH_MSG_TYPE_INTEGER_64;\n");
    let d = loop {
        let d = c.wait_diagnostics(&mu);
        if d != json!([]) {
            break d;
        }
    };
    let message = d[0]["message"].as_str().unwrap();
    assert!(message.contains("undefined type `int32`"), "{message}");

    // An error inside the (unsaved) include shows on the #include line of the main file,
    // pointing at the real file.
    c.change(&tu, 2, "type int32 = ;\n");
    let d = loop {
        let d = c.wait_diagnostics(&mu);
        if d.to_string().contains("in included file") {
            break d;
        }
    };
    assert_eq!(d[0]["range"]["start"]["line"], 1, "{d}");
    assert_eq!(
        d[0]["relatedInformation"][0]["location"]["uri"],
        uri(&types)
    );

    // Go to definition of `int32` from the main file lands in the real include file.
    c.change(&tu, 3, "type int32 = MACH_MSG_TYPE_INTEGER_32;\n");
    loop {
        if c.wait_diagnostics(&mu) == json!([]) {
            break;
        }
    }
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": mu}, "position": {"line": 3, "character": 29}}),
    );
    assert_eq!(r["result"]["uri"], uri(&types), "{r}");

    // Closing the include goes back to the disk text.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": tu}}),
    );
    c.shutdown();
    std::fs::remove_dir_all(dir).ok();
}
