//! Misuse that the types turn into compile errors. Each `tests/compile_fail/*.rs` says on its
//! first line what rustc must answer (`// expect: E0382`, or `// expect: ok` for the control
//! that uses the same stubs correctly); it is compiled with rustc against the stubs of
//! `test_data/rights.defs` and `mach-rt`, and must fail with exactly that error code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{reference_include, reference_root};

/// The newest `lib<name>-*.rlib` in `deps`.
fn rlib(deps: &Path, name: &str) -> PathBuf {
    let prefix = format!("lib{name}-");
    std::fs::read_dir(deps)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy();
            f.starts_with(&prefix) && f.ends_with(".rlib")
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no {prefix}*.rlib in {}", deps.display()))
}

#[test]
fn misuse_does_not_compile() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = common::lower(
        &here.join("test_data/rights.defs"),
        std::slice::from_ref(&include),
    );
    let text = mig_backend_rust::generate(&v, &mig_backend_rust::Options::default()).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-compile-fail");
    common::compile_crate(&dir, &[("rights".to_string(), text)], "")
        .unwrap_or_else(|e| panic!("the stubs do not compile:\n{e}"));
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--lib", "--target-dir"])
        .arg(dir.join("target"))
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(built.success(), "cargo build of the stubs");
    let deps = dir.join("target/debug/deps");
    let generated = rlib(&deps, "generated");
    let runtime = rlib(&deps, "mach_rt");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(here.join("tests/compile_fail"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    let mut problems = Vec::new();
    for case in &cases {
        let src = std::fs::read_to_string(case).unwrap();
        let expect = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// expect: "))
            .unwrap_or_else(|| panic!("{}: no `// expect:` line", case.display()))
            .trim()
            .to_string();
        let out = Command::new("rustc")
            .args([
                "--edition",
                "2021",
                "--crate-type",
                "lib",
                "--emit",
                "metadata",
            ])
            .args(["--crate-name", "case", "--out-dir"])
            .arg(dir.join("cases"))
            .arg("-L")
            .arg(format!("dependency={}", deps.display()))
            .arg("--extern")
            .arg(format!("generated={}", generated.display()))
            .arg("--extern")
            .arg(format!("mach_rt={}", runtime.display()))
            .arg(case)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = case.file_name().unwrap().to_string_lossy();
        if expect == "ok" {
            if !out.status.success() {
                problems.push(format!("{name}: should compile:\n{stderr}"));
            }
        } else if out.status.success() {
            problems.push(format!("{name}: compiled, expected error {expect}"));
        } else if !stderr.contains(&format!("error[{expect}]")) {
            problems.push(format!("{name}: expected error {expect}, got:\n{stderr}"));
        } else {
            eprintln!("{name}: error[{expect}] as expected");
        }
    }
    assert!(cases.len() >= 10);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
