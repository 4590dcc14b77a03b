//! The 17 subsystem files of gnumach-dev through the Rust back end for x86_64-gnu: client
//! and server stubs of every file compile as one `no_std` crate against `mach-rt`, under
//! `#![deny(warnings)]` and `cargo clippy -- -D warnings` (which also evaluates every
//! compile-time layout assertion).

mod common;

use std::path::PathBuf;

use conformance::gnumach::{reference_include, reference_root};
use conformance::harness::SUBSYSTEM_FILES;

#[test]
fn gnumach_subsystems_generate_and_compile() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let mut modules = Vec::new();
    let mut routines = 0;
    for (name, defs) in SUBSYSTEM_FILES {
        let v = common::lower(&include.join(defs), std::slice::from_ref(&include));
        routines += v.module().routines.len();
        let text = mig_backend_rust::generate(&v, &mig_backend_rust::Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        // Deterministic.
        let again = mig_backend_rust::generate(&v, &mig_backend_rust::Options::default()).unwrap();
        assert_eq!(text, again, "{name}: output differs between two runs");
        modules.push((name.to_string(), text));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-gnumach");
    if let Err(e) = common::compile_crate(&dir, &modules, "") {
        panic!("generated Rust for gnumach-dev does not compile:\n{e}");
    }
    eprintln!(
        "{} subsystems, {routines} routines: client and server compile",
        modules.len()
    );
    assert_eq!(modules.len(), 17);
}
