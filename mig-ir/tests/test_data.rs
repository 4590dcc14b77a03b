//! Data-driven tests: every `test_data/ok/*.defs` lowers without error and its IR JSON is
//! snapshotted; every `test_data/err/*.defs` fails to lower and its rendered diagnostics are
//! snapshotted (`cargo insta review` to accept changes).

use std::path::{Path, PathBuf};

use mig_frontend::diagnostics::{has_errors, render_plain, Diagnostic};
use mig_frontend::lexer::LexMode;
use mig_frontend::preprocess::{preprocess, PpOptions};
use mig_frontend::source::SourceDb;
use mig_ir::target::X86_64_GNU;

struct Outcome {
    json: Option<String>,
    diagnostics: String,
    errors: bool,
}

/// Preprocesses (built-in preprocessor), parses and lowers one file for x86_64-gnu.
fn run(path: &Path) -> Outcome {
    let bytes = std::fs::read(path).expect("test file");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut db = SourceDb::new();
    let (main, _) = db.add_bytes(name, &bytes);
    let pp = preprocess(&mut db, main, &PpOptions::default());
    let parsed = mig_frontend::parser::parse(&pp.text, LexMode::Unit);
    let mut diags: Vec<Diagnostic> = pp.diagnostics.clone();
    diags.extend(
        parsed
            .diagnostics
            .iter()
            .map(|d| d.locate(&db, &pp.origins, main)),
    );
    assert!(
        !has_errors(&diags),
        "{}: syntax errors:\n{}",
        path.display(),
        render_plain(&db, &diags)
    );
    let lowered = mig_ir::lower(&parsed.file, &X86_64_GNU);
    let located: Vec<Diagnostic> = lowered
        .diagnostics
        .iter()
        .map(|d| d.locate(&db, &pp.origins, main))
        .collect();
    Outcome {
        json: lowered.module.as_ref().map(|m| m.to_json()),
        diagnostics: render_plain(&db, &located),
        errors: has_errors(&located),
    }
}

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("test_data dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "defs"))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn ok() {
    let files = files("ok");
    assert!(!files.is_empty());
    for path in &files {
        let out = run(path);
        assert!(
            !out.errors,
            "{}: unexpected errors:\n{}",
            path.display(),
            out.diagnostics
        );
        let json = out.json.expect("a module when there is no error");
        let text = if out.diagnostics.is_empty() {
            json
        } else {
            format!("{}\n{json}", out.diagnostics)
        };
        insta::with_settings!({ snapshot_suffix => "", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("ok__{}", stem(path)), text);
        });
    }
}

#[test]
fn err() {
    let files = files("err");
    assert!(!files.is_empty());
    for path in &files {
        let out = run(path);
        assert!(out.errors, "{}: expected an error", path.display());
        assert!(
            out.json.is_none(),
            "{}: a module despite errors",
            path.display()
        );
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("err__{}", stem(path)), out.diagnostics);
        });
    }
}
