//! Data-driven tests: every `test_data/ok/*.defs` parses without a diagnostic and its syntax tree
//! is snapshotted; every `test_data/err/*.defs` produces diagnostics, snapshotted as rendered.
//! A first line `// dialect: NAME` selects the dialect (default gnu). Target: x86_64-gnu.

use std::path::Path;

use mig_frontend::diagnostics::render_plain;
use mig_frontend::dialect::Dialect;
use mig_frontend::preprocess::{predefined_macros, PpOptions};
use mig_frontend::source::Span;
use mig_frontend::{parse_path, FrontendOptions, Parsed};

fn parse_case(path: &Path) -> Parsed {
    let text = std::fs::read(path).expect("test case readable");
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let dialect = first
        .strip_prefix("// dialect: ")
        .map(|d| Dialect::from_name(d.trim()).expect("known dialect in test header"))
        .unwrap_or_default();
    let opts = FrontendOptions {
        dialect,
        pp: PpOptions {
            predefined: predefined_macros("x86_64-gnu").expect("target known"),
            ..PpOptions::default()
        },
    };
    // Relative paths keep file names in snapshots independent of the checkout location.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = path.strip_prefix(manifest).unwrap_or(path);
    std::env::set_current_dir(manifest).expect("cd to the crate");
    parse_path(rel, &opts)
}

/// Replaces every `span: "start..end"` (unit offsets, which depend on the preprocessor's
/// spacing) by the place in the original file: `"file:line:col-line:col"`.
fn locate_spans(parsed: &Parsed, v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "span" {
                    if let Some(s) = val.as_str() {
                        *val = serde_json::Value::String(locate(parsed, s));
                        continue;
                    }
                }
                locate_spans(parsed, val);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| locate_spans(parsed, i)),
        _ => {}
    }
}

fn locate(parsed: &Parsed, span: &str) -> String {
    let (a, b) = span.split_once("..").expect("span form");
    let span = Span::new(a.parse().unwrap(), b.parse().unwrap());
    let Some((file, range, _)) = parsed.origins.resolve(span) else {
        return format!("unlocated {span:?}");
    };
    let f = parsed.db.get(file);
    let (l1, c1) = f.line_col(range.start);
    let (l2, c2) = f.line_col(range.end);
    let name = std::path::Path::new(&f.name)
        .file_name()
        .map_or(f.name.clone(), |n| n.to_string_lossy().into_owned());
    format!("{name}:{l1}:{c1}-{l2}:{c2}")
}

#[test]
fn ok_cases_parse_cleanly() {
    insta::glob!("../test_data/ok", "*.defs", |path| {
        let parsed = parse_case(path);
        assert!(
            parsed.diagnostics.is_empty(),
            "{} has diagnostics:\n{}",
            path.display(),
            render_plain(&parsed.db, &parsed.diagnostics)
        );
        assert!(!parsed.file.statements.is_empty());
        let mut tree = serde_json::to_value(&parsed.file).expect("tree serialises");
        locate_spans(&parsed, &mut tree);
        insta::assert_yaml_snapshot!(tree);
    });
}

#[test]
fn err_cases_report_diagnostics() {
    insta::glob!("../test_data/err", "*.defs", |path| {
        let parsed = parse_case(path);
        assert!(
            !parsed.diagnostics.is_empty(),
            "{} produced no diagnostic",
            path.display()
        );
        insta::assert_snapshot!(render_plain(&parsed.db, &parsed.diagnostics));
    });
}
