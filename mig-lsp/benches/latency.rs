//! Benchmark (not a test): time from a `didChange` notification to the `publishDiagnostics`
//! that answers it, for GNU Mach's `mach.defs` (gnumach-dev reference set) and the largest
//! `.defs` file of the corpus, with the server in process (`Connection::memory`).
//! Run: `cargo bench -p mig-lsp --bench latency`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types as lt;
use lsp_types::request::Request as _;

const ROUNDS: usize = 50;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn largest_corpus_file() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/corpus");
    let mut stack = vec![dir];
    let mut best: Option<(u64, PathBuf)> = None;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let link = e.file_type().is_ok_and(|t| t.is_symlink());
            if p.is_dir() && !link {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "defs") {
                let len = e.metadata().map_or(0, |m| m.len());
                if best.as_ref().is_none_or(|(l, _)| len > *l) {
                    best = Some((len, p));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

fn send_notification<N: lt::notification::Notification>(c: &Connection, params: N::Params) {
    c.sender
        .send(Message::Notification(Notification::new(
            N::METHOD.into(),
            params,
        )))
        .expect("server is running");
}

/// Waits for the diagnostics of `uri`, returning how many there were.
fn wait_diagnostics(c: &Connection, uri: &lt::Uri) -> usize {
    loop {
        match c.receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(Message::Notification(n)) if n.method == "textDocument/publishDiagnostics" => {
                let p: lt::PublishDiagnosticsParams =
                    serde_json::from_value(n.params).expect("diagnostics");
                if &p.uri == uri {
                    return p.diagnostics.len();
                }
            }
            Ok(_) => {}
            Err(e) => panic!("no diagnostics from the server: {e}"),
        }
    }
}

fn measure(name: &str, path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("{name}: {} not found; skipped", path.display());
        return;
    };
    let (client, server) = Connection::memory();
    let thread = std::thread::spawn(move || mig_lsp::run(server));
    client
        .sender
        .send(Message::Request(Request::new(
            RequestId::from(1),
            lt::request::Initialize::METHOD.into(),
            lt::InitializeParams::default(),
        )))
        .unwrap();
    let _ = client.receiver.recv();
    send_notification::<lt::notification::Initialized>(&client, lt::InitializedParams {});
    let uri = mig_lsp::lsp::path_to_uri(path).expect("uri");
    send_notification::<lt::notification::DidOpenTextDocument>(
        &client,
        lt::DidOpenTextDocumentParams {
            text_document: lt::TextDocumentItem::new(uri.clone(), "mig".into(), 0, text.clone()),
        },
    );
    let n = wait_diagnostics(&client, &uri);
    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        // Alternate between the file and the file with a comment appended.
        let new_text = if i % 2 == 0 {
            format!("{text}\n/* edit {i} */\n")
        } else {
            text.clone()
        };
        let start = Instant::now();
        send_notification::<lt::notification::DidChangeTextDocument>(
            &client,
            lt::DidChangeTextDocumentParams {
                text_document: lt::VersionedTextDocumentIdentifier::new(uri.clone(), i as i32 + 1),
                content_changes: vec![lt::TextDocumentContentChangeEvent {
                    range: None,
                    range_length: None,
                    text: new_text,
                }],
            },
        );
        wait_diagnostics(&client, &uri);
        times.push(start.elapsed());
    }
    client
        .sender
        .send(Message::Request(Request::new(
            RequestId::from(2),
            lt::request::Shutdown::METHOD.into(),
            (),
        )))
        .unwrap();
    let _ = client.receiver.recv_timeout(Duration::from_secs(10));
    send_notification::<lt::notification::Exit>(&client, ());
    let _ = thread.join();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name} ({}, {} bytes, {n} diagnostics): change -> diagnostics over {ROUNDS} edits: \
         median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        path.display(),
        text.len(),
        ms(times[ROUNDS / 2]),
        ms(times[ROUNDS * 9 / 10]),
        ms(times[ROUNDS - 1]),
    );
}

fn main() {
    let mach =
        repo_root().join(".cache/reference/root/usr/include/x86_64-linux-gnu/mach/mach.defs");
    measure("mach.defs (gnumach-dev)", &mach);
    match largest_corpus_file() {
        Some(p) => measure("largest corpus file", &p),
        None => println!("largest corpus file: ../shared/corpus not found; skipped"),
    }
}
