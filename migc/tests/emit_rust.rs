//! `migc --emit rust|rust-client|rust-server -o FILE.rs FILE.defs`: writes the Rust stubs of
//! `mig-backend-rust` (and no default C files), identical to what the library returns.

use std::path::PathBuf;
use std::process::Command;

use conformance::gnumach::{reference_include, reference_root};

#[test]
fn emit_rust_writes_the_stubs_and_no_c_files() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emit-rust");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (kind, client, server) in [
        ("rust", true, true),
        ("rust-client", true, false),
        ("rust-server", false, true),
    ] {
        let out = dir.join(format!("{kind}.rs"));
        let status = Command::new(env!("CARGO_BIN_EXE_migc"))
            .current_dir(&dir)
            .arg("--emit")
            .arg(kind)
            .arg("-o")
            .arg(&out)
            .arg("-I")
            .arg(&include)
            .arg(include.join("mach/mach_port.defs"))
            .status()
            .unwrap();
        assert!(status.success(), "{kind}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("// Rust stubs of subsystem `mach_port`"));
        assert_eq!(text.contains("pub mod client"), client, "{kind}");
        assert_eq!(text.contains("pub mod server"), server, "{kind}");
    }
    let c_files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".rs"))
        .map(|e| e.file_name())
        .collect();
    assert!(c_files.is_empty(), "unexpected files: {c_files:?}");
}

#[test]
fn emit_rust_refuses_i686() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let out = Command::new(env!("CARGO_BIN_EXE_migc"))
        .args([
            "--target",
            "i686-gnu",
            "--emit",
            "rust",
            "-o",
            "/dev/null",
            "-I",
        ])
        .arg(&include)
        .arg(include.join("mach/mach_port.defs"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x86_64-gnu only"), "{err}");
    // And `--help` says so where it offers `--emit rust`.
    let help = Command::new(env!("CARGO_BIN_EXE_migc"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("rust (Rust stubs, client\n                           and server; target x86_64-gnu only)"),
        "{help}"
    );
}
