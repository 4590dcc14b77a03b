//! Data-driven tests: every `test_data/*.defs` is lowered for x86_64-gnu and its generated
//! Rust (client and server) is snapshotted (`cargo insta review` to accept changes); all of
//! them then compile together as one `no_std` crate under `#![deny(warnings)]` and clippy.

mod common;

use std::path::{Path, PathBuf};

use conformance::gnumach::{reference_include, reference_root};

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("test_data")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "defs"))
        .collect();
    v.sort();
    v
}

#[test]
fn generated_rust_snapshots_and_compiles() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let mut modules = Vec::new();
    for path in files() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let v = common::lower(&path, std::slice::from_ref(&include));
        let text = mig_backend_rust::generate(&v, &mig_backend_rust::Options::default())
            .unwrap_or_else(|e| panic!("{stem}: {e:?}"));
        insta::assert_snapshot!(format!("{stem}.rs"), text);
        modules.push((stem, text));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-test-data");
    if let Err(e) = common::compile_crate(&dir, &modules, "") {
        panic!("generated Rust for test_data does not compile:\n{e}");
    }
}

#[test]
fn client_only_and_server_only_compile() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/arrays.defs");
    let v = common::lower(&path, std::slice::from_ref(&include));
    let client = mig_backend_rust::Options {
        client: true,
        server: false,
    };
    let server = mig_backend_rust::Options {
        client: false,
        server: true,
    };
    let c = mig_backend_rust::generate(&v, &client).unwrap();
    let s = mig_backend_rust::generate(&v, &server).unwrap();
    assert!(c.contains("pub mod client") && !c.contains("pub mod server"));
    assert!(s.contains("pub mod server") && !s.contains("pub mod client"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-sides");
    let modules = vec![
        ("client_side".to_string(), c),
        ("server_side".to_string(), s),
    ];
    if let Err(e) = common::compile_crate(&dir, &modules, "") {
        panic!("one-sided output does not compile:\n{e}");
    }
}
