//! Data-driven tests: every `test_data/ok/*.defs` parses without a diagnostic and its syntax tree
//! is snapshotted; every `test_data/err/*.defs` produces diagnostics, snapshotted as rendered.
//! A first line `// dialect: NAME` selects the dialect (default gnu). Target: x86_64-gnu.

use std::path::Path;

use mig_frontend::diagnostics::render_plain;
use mig_frontend::dialect::Dialect;
use mig_frontend::preprocess::{predefined_macros, PpOptions};
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
        insta::assert_yaml_snapshot!(parsed.file);
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
