//! GNU MIG's compile-time and run-time checks in migc's C, against GNU MIG's output for every
//! subsystem file of gnumach-dev (user and server stubs, the plain configuration and the kernel
//! side of `-DKERNEL_SERVER` / `-DKERNEL_USER`):
//! - the `_Static_assert` size checks, per function, are the same conditions as GNU's;
//! - every descriptor is checked the same way: whole (`BAD_TYPECHECK`) or field by field;
//! - a C type whose size differs from what the `.defs` declares fails to compile with migc's
//!   stubs exactly when it does with GNU's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::corpus::{declares_subsystem, defs_files};
use conformance::gnumach::reference_root;
use conformance::run_with_stdin;

/// Per function: the `sizeof(X) == Y` conditions of its size checks (message structures
/// excluded: their text differs), and how each descriptor is checked (`Q` whole, `F` fields).
#[derive(Debug, Default, PartialEq)]
struct Checks {
    asserts: Vec<String>,
    typechecks: Vec<(String, char)>,
}

fn function_name(line: &str) -> Option<&str> {
    let rest = [
        "mig_internal void _X",
        "mig_external kern_return_t ",
        "kern_return_t ",
    ]
    .iter()
    .find_map(|p| line.strip_prefix(p))?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn checks(text: &str) -> BTreeMap<String, Checks> {
    let mut map: BTreeMap<String, Checks> = BTreeMap::new();
    let mut current = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(f) = function_name(l) {
            current = f.to_string();
        }
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("_Static_assert(sizeof(") {
            if !rest.starts_with("Request)")
                && !rest.starts_with("Reply)")
                && !rest.starts_with("mach_msg_type_t)")
            {
                let cond = rest.split(',').next().unwrap_or("").to_string();
                map.entry(current.clone()).or_default().asserts.push(cond);
            }
        }
        if t == "#if\tTypeCheck" || t == "#if TypeCheck" {
            let mut block = String::new();
            while i < lines.len() && !lines[i].contains("#endif") {
                block.push_str(lines[i]);
                i += 1;
            }
            let entry = if let Some(p) = block.find("BAD_TYPECHECK") {
                let arg = &block[p..];
                let name = arg.split("->").nth(1).and_then(|s| s.split(',').next());
                name.map(|n| (n.trim().to_string(), 'Q'))
            } else {
                block.find("Type.").and_then(|p| {
                    let head = &block[..p];
                    let start = head.rfind("->")? + 2;
                    Some((format!("{}Type", &head[start..]), 'F'))
                })
            };
            if let Some(e) = entry {
                let v = &mut map.entry(current.clone()).or_default().typechecks;
                // GNU checks a variable array's size in a second block of the same datum.
                if v.last() != Some(&e) {
                    v.push(e);
                }
            }
        }
        i += 1;
    }
    for c in map.values_mut() {
        c.asserts.sort();
    }
    map
}

fn gcc_e(include: &Path, file: &Path, define: Option<&str>) -> Vec<u8> {
    let out = Command::new("gcc")
        .args(["-E", "-x", "c", "-undef", "-ansi", "-D__x86_64__"])
        .args(define)
        .arg(format!("-I{}", include.display()))
        .arg(file)
        .output()
        .expect("run gcc -E");
    assert!(out.status.success());
    out.stdout
}

fn generate(prog: &Path, migc: bool, dir: &Path, text: &[u8]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(prog);
    cmd.current_dir(dir);
    if migc {
        cmd.args(["-cc", "cat", "-", "/dev/null"]);
    }
    cmd.args(["-n", "-user", "u.c", "-server", "s.c", "-header", "u.h"]);
    let out = run_with_stdin(cmd, text);
    assert!(
        out.status.success(),
        "{}: {}",
        prog.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn checks_match_gnu_mig_in_every_configuration() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let migc = PathBuf::from(env!("CARGO_BIN_EXE_migc"));
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-checks");
    let (mut functions, mut asserts, mut typechecks) = (0, 0, 0);
    let mut failures = Vec::new();
    let none = Checks::default();
    for file in defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
    {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        // (define, files compared): the kernel configurations' kernel side only (the other
        // side of a kernel subsystem is not built by anyone; GNU MIG types its ports there
        // as `mach_port_t`).
        for (define, outputs) in [
            (None, &["u.c", "s.c"][..]),
            (Some("-DKERNEL_SERVER"), &["s.c"][..]),
            (Some("-DKERNEL_USER"), &["u.c"][..]),
        ] {
            let text = gcc_e(&include, &file, define);
            let d = scratch.join(format!("{stem}{}", define.unwrap_or("")));
            generate(&migcom, false, &d.join("gnu"), &text);
            generate(&migc, true, &d.join("migc"), &text);
            for f in outputs {
                let read = |who: &str| std::fs::read_to_string(d.join(who).join(f)).unwrap();
                let (g, m) = (checks(&read("gnu")), checks(&read("migc")));
                for (name, want) in &g {
                    functions += 1;
                    asserts += want.asserts.len();
                    typechecks += want.typechecks.len();
                    let got = m.get(name).unwrap_or(&none);
                    if got != want {
                        failures.push(format!(
                            "{stem} {define:?} {f} {name}:\n  GNU  {want:?}\n  migc {got:?}"
                        ));
                    }
                }
            }
        }
    }
    println!(
        "checks: {functions} functions, {asserts} size assertions and {typechecks} descriptor \
         checks as GNU MIG's, {} differences",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(asserts > 500 && typechecks > 1000);
}

#[test]
fn a_type_of_the_wrong_size_fails_to_compile_as_with_gnu() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let support = conformance::gnumach::repo_root().join("conformance/gnumach-boot/include");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let migc = PathBuf::from(env!("CARGO_BIN_EXE_migc"));
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-checks-size");
    std::fs::create_dir_all(&scratch).unwrap();
    // The .defs says 64 bits; the header gives the C type 4 or 8 bytes.
    let defs = "subsystem sz 4300;\n#include <mach/std_types.defs>\nimport \"sz_types.h\";\n\
                type big_t = MACH_MSG_TYPE_INTEGER_64;\n\
                routine sz_set(server: mach_port_t; v: big_t);\n\
                routine sz_get(server: mach_port_t; out v: big_t);\n";
    std::fs::write(scratch.join("sz.defs"), defs).unwrap();
    let text = gcc_e(&include, &scratch.join("sz.defs"), None);
    let mut outcomes = Vec::new();
    for (ctype, label) in [("long", "right size"), ("int", "wrong size")] {
        for (prog, migc_p, who) in [(&migcom, false, "gnu"), (&migc, true, "migc")] {
            let d = scratch.join(format!("{who}-{ctype}"));
            generate(prog, migc_p, &d, &text);
            std::fs::write(d.join("sz_types.h"), format!("typedef {ctype} big_t;\n")).unwrap();
            let compiled: Vec<bool> = ["u.c", "s.c"]
                .iter()
                .map(|f| {
                    Command::new("gcc")
                        .args(["-std=gnu11", "-c", "-o", "/dev/null", "-w"])
                        .arg(format!("-I{}", d.display()))
                        .arg(format!("-I{}", support.display()))
                        .arg(format!("-I{}", include.display()))
                        .arg(d.join(f))
                        .status()
                        .unwrap()
                        .success()
                })
                .collect();
            outcomes.push((label, who, compiled));
        }
    }
    let gnu: Vec<_> = outcomes
        .iter()
        .filter(|o| o.1 == "gnu")
        .map(|o| &o.2)
        .collect();
    let ours: Vec<_> = outcomes
        .iter()
        .filter(|o| o.1 == "migc")
        .map(|o| &o.2)
        .collect();
    assert_eq!(
        gnu[0],
        &vec![true, true],
        "GNU's stubs with the right size: {outcomes:?}"
    );
    assert_eq!(
        gnu[1],
        &vec![false, false],
        "GNU's stubs with the wrong size: {outcomes:?}"
    );
    assert_eq!(ours, gnu, "{outcomes:?}");
}
