//! Shared by the tests: lowering a `.defs` file and compiling generated Rust in a scratch
//! cargo project that depends on `mach-rt` by path.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mig_ir::Validated;

pub fn lower(defs: &Path, include: &[PathBuf]) -> Validated {
    let mut opts = mig_frontend::FrontendOptions::default();
    opts.pp.include_dirs = include.to_vec();
    opts.pp.predefined =
        mig_frontend::preprocess::predefined_macros("x86_64-gnu").unwrap_or_default();
    let parsed = mig_frontend::parse_path(defs, &opts);
    let lowered = mig_ir::lower(&parsed.file, &mig_ir::target::X86_64_GNU);
    lowered
        .module
        .unwrap_or_else(|| panic!("{}: {:?}", defs.display(), lowered.diagnostics))
}

pub fn runtime_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("mach-rt")
}

/// Writes a `no_std` library crate at `dir` holding one module per `(name, text)` and runs
/// `cargo clippy --all-targets -- -D warnings` on it (every rustc and clippy warning is an
/// error). Returns the diagnostics on failure.
pub fn compile_crate(dir: &Path, modules: &[(String, String)], extra: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"generated\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nmach-rt = {{ path = \"{}\" }}\n\n[workspace]\n",
        runtime_dir().display()
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    let mut lib = String::from(
        "//! Generated stubs, compiled by a test.\n#![no_std]\n#![forbid(unsafe_code)]\n#![deny(warnings, missing_docs, missing_debug_implementations)]\n\n",
    );
    for (name, text) in modules {
        write_if_changed(&dir.join("src").join(format!("{name}.rs")), text);
        lib.push_str(&format!(
            "/// Stubs of `{name}`.\npub mod {name} {{\n    include!(\"{name}.rs\");\n}}\n"
        ));
    }
    lib.push_str(extra);
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    let out = Command::new(env!("CARGO"))
        .args([
            "clippy",
            "--quiet",
            "--offline",
            "--all-targets",
            "--target-dir",
        ])
        .arg(dir.join("target"))
        .args(["--", "-D", "warnings"])
        .current_dir(dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}
