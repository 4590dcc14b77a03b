//! The 17 subsystem files of gnumach-dev through the C back end, checked by gcc:
//! - every user and server file compiles with `gcc -Wall -Wextra -Werror` in `-std=c11` and
//!   `-std=gnu89`, for x86_64-gnu and (with `-m32`) i686-gnu, against the gnumach-dev headers;
//! - every request structure has the size GNU MIG's own generated code asserts
//!   (`_Static_assert(sizeof(Request) == N, ...)`): our files assert the layout size and gcc
//!   checks the assertion, and the asserted numbers must equal GNU MIG's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{gnu_mig_command, reference_include, reference_root, repo_root};
use conformance::harness::SUBSYSTEM_FILES;
use mig_ir::{Target, Validated};

fn generate(include: &Path, defs: &Path, target: &'static Target) -> Validated {
    let mut opts = mig_frontend::FrontendOptions::default();
    opts.pp.include_dirs.push(include.to_path_buf());
    opts.pp.predefined =
        mig_frontend::preprocess::predefined_macros(target.name).unwrap_or_default();
    let parsed = mig_frontend::parse_path(defs, &opts);
    let lowered = mig_ir::lower(&parsed.file, target);
    let v = lowered
        .module
        .unwrap_or_else(|| panic!("{}: does not lower", defs.display()));
    mig_backend_c::check(&v).unwrap_or_else(|e| panic!("{}: {e:?}", defs.display()));
    v
}

fn write_all(v: &Validated, dir: &Path) -> (PathBuf, PathBuf) {
    let name = v.module().subsystem.name.clone();
    let opts = mig_backend_c::Options {
        user_header_name: Some(format!("{name}.h")),
        symtab: true,
        ..Default::default()
    };
    std::fs::create_dir_all(dir).unwrap();
    let w = |f: &str, text: String| std::fs::write(dir.join(f), text).unwrap();
    w(&format!("{name}.h"), mig_backend_c::user_header(v, &opts));
    w(
        &format!("{name}_S.h"),
        mig_backend_c::server_header(v, &opts),
    );
    w(
        &format!("{name}_I.h"),
        mig_backend_c::internal_header(v, &opts),
    );
    w(
        &format!("{name}User.c"),
        mig_backend_c::user_source(v, &opts),
    );
    w(
        &format!("{name}Server.c"),
        mig_backend_c::server_source(v, &opts),
    );
    for (routine, text) in mig_backend_c::user_sources_split(v, &opts) {
        w(&format!("split_{routine}.c"), text);
    }
    (
        dir.join(format!("{name}User.c")),
        dir.join(format!("{name}Server.c")),
    )
}

fn gcc(args: &[&str], file: &Path, include: &Path, dir: &Path) -> Result<(), String> {
    let support = repo_root().join("conformance/gnumach-boot/include");
    let out = Command::new("gcc")
        .args(args)
        .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", support.display()))
        .arg(format!("-I{}", include.display()))
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let e = String::from_utf8_lossy(&out.stderr);
        Err(e.lines().take(12).collect::<Vec<_>>().join("\n"))
    }
}

fn out_dir(which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(which)
}

#[test]
fn gnumach_subsystems_compile_with_gcc_werror() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let mut failures = Vec::new();
    let mut compiled = 0;
    for target in [&mig_ir::target::X86_64_GNU, &mig_ir::target::I686_GNU] {
        let m32: &[&str] = if target.name == "i686-gnu" {
            &["-m32"]
        } else {
            &[]
        };
        for (subsystem, defs) in SUBSYSTEM_FILES {
            let v = generate(&include, &include.join(defs), target);
            let dir = out_dir("gcc").join(target.name).join(subsystem);
            let (user, server) = write_all(&v, &dir);
            let mut files = vec![user, server];
            if target.name == "x86_64-gnu" {
                files.push(dir.join(format!("split_{}.c", v.module().routines[0].name)));
            }
            for std in ["-std=c11", "-std=gnu89"] {
                for f in &files {
                    let mut args = m32.to_vec();
                    args.push(std);
                    match gcc(&args, f, &include, &dir) {
                        Ok(()) => compiled += 1,
                        Err(e) => {
                            failures.push(format!("{} {std} {}:\n{e}", target.name, f.display()))
                        }
                    }
                }
            }
        }
    }
    eprintln!("compiled: {compiled}, failed: {}", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `/* Routine x */` ... `_Static_assert(sizeof(Request) == N` for each routine of a user file.
fn request_asserts(text: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(r) = t
            .strip_prefix("/* Routine ")
            .or_else(|| t.strip_prefix("/* SimpleRoutine "))
            .and_then(|r| r.strip_suffix(" */"))
        {
            current = Some(r.to_string());
        } else if let Some(rest) = t.strip_prefix("_Static_assert(sizeof(Request) == ") {
            let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let (Some(r), Ok(n)) = (&current, n.parse()) {
                out.insert(r.clone(), n);
            }
        }
    }
    out
}

#[test]
fn request_sizes_match_gnu_mig_static_asserts() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let gnu = gnu_mig_command(&root);
    let (mut checked, mut problems) = (0, Vec::new());
    for (subsystem, defs) in SUBSYSTEM_FILES {
        let dir = out_dir("sizes").join(subsystem);
        let v = generate(&include, &include.join(defs), &mig_ir::target::X86_64_GNU);
        let (user, _) = write_all(&v, &dir);
        // gcc checks our assertions: sizeof(Request) is the number we assert.
        if let Err(e) = gcc(&["-std=c11"], &user, &include, &dir) {
            problems.push(format!("{subsystem}: {e}"));
        }
        let gnu_user = dir.join("gnu_user.c");
        let status = Command::new(&gnu[0])
            .args(&gnu[1..])
            .arg(format!("-I{}", include.display()))
            .args(["-n", "-user"])
            .arg(&gnu_user)
            .arg(include.join(defs))
            .status()
            .expect("GNU MIG runs");
        assert!(status.success(), "GNU MIG on {subsystem}");
        let theirs = request_asserts(&std::fs::read_to_string(&gnu_user).unwrap());
        let ours = request_asserts(&std::fs::read_to_string(&user).unwrap());
        for (routine, n) in &theirs {
            checked += 1;
            match ours.get(routine) {
                Some(m) if m == n => {}
                other => problems.push(format!(
                    "{subsystem}: {routine}: GNU MIG asserts sizeof(Request) == {n}, migc {other:?}"
                )),
            }
        }
        for routine in ours.keys() {
            if !theirs.contains_key(routine) {
                problems.push(format!(
                    "{subsystem}: {routine}: migc asserts a fixed request size, GNU MIG does not"
                ));
            }
        }
    }
    eprintln!("request sizes checked against GNU MIG: {checked}");
    assert!(checked >= 182, "too few sizes compared: {checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
