//! System include directories, against GNU MIG's driver (which preprocesses with `gcc -E`):
//! a `.defs` file that includes a C library header (`<bits/utsname.h>`, as the Hurd's type files
//! do) is accepted with the same flags, and `-isystem`, `-idirafter`, `-nostdinc` and
//! `--sysroot` pick the same header as GNU MIG does: the array size the header defines shows in
//! both generated clients as `msgt_number`, so the test compares those numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::reference_root;

const DEFS: &str = "\
/* A type whose size comes from a C library header. */
subsystem uts 4200;
#include <mach/std_types.defs>
#define _SYS_UTSNAME_H /* <bits/utsname.h> expects <sys/utsname.h> to include it */
#include <bits/utsname.h>
type uts_name_t = array[_UTSNAME_LENGTH] of char;
routine uts_get(server: mach_port_t; out name: uts_name_t);
routine uts_set(server: mach_port_t; name: uts_name_t);
";

/// A directory holding `bits/utsname.h` that defines `_UTSNAME_LENGTH` as `len`.
fn fake_header(dir: &Path, len: u32) {
    std::fs::create_dir_all(dir.join("bits")).unwrap();
    std::fs::write(
        dir.join("bits/utsname.h"),
        format!("#define _UTSNAME_LENGTH {len}\n"),
    )
    .unwrap();
}

/// Runs `prog FLAGS uts.defs` in a fresh directory; returns the sorted `msgt_number` values of
/// the client stubs, or `None` when the run failed. A run fails when it exits non-zero or
/// reports an error: GNU's driver exits with `migcom`'s status, which is 0 when `gcc -E` fails
/// on a missing header and `migcom` compiles the text it did get (observed), so gcc's
/// `fatal error` on standard error is GNU's failure.
fn run(prog: &Path, flags: &[String], work: &Path) -> Option<Vec<u32>> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).unwrap();
    std::fs::write(work.join("uts.defs"), DEFS).unwrap();
    let out = Command::new(prog)
        .current_dir(work)
        .args(flags)
        .args(["-n", "-user", "u.c", "uts.defs"])
        .output()
        .expect("run mig");
    if !out.status.success() || String::from_utf8_lossy(&out.stderr).contains("error") {
        return None;
    }
    let text = std::fs::read_to_string(work.join("u.c")).unwrap();
    let mut v: Vec<u32> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix(".msgt_number")?;
            l.trim_start_matches([' ', '\t', '='])
                .trim_end_matches(',')
                .parse()
                .ok()
        })
        .collect();
    v.sort_unstable();
    Some(v)
}

#[test]
fn system_headers_are_found_as_gnu_mig_finds_them() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let gnu = root.join("usr/bin/x86_64-gnu-mig");
    let migc = PathBuf::from(env!("CARGO_BIN_EXE_migc"));
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("system-include");
    let sysroot = scratch.join("sysroot");
    fake_header(&sysroot.join("usr/include"), 17);
    let after = scratch.join("after");
    fake_header(&after, 23);
    let isystem = scratch.join("isystem");
    fake_header(&isystem, 31);
    let d = |p: &Path| p.display().to_string();
    let base = vec!["-D__x86_64__".to_string(), format!("-I{}", d(&include))];
    let with = |extra: &[String]| [base.clone(), extra.to_vec()].concat();
    // (what, flags for both, expected to be accepted); GNU's driver passes the flags to gcc.
    let cases: Vec<(&str, Vec<String>, bool)> = vec![
        ("host C library", with(&[]), true),
        ("-nostdinc", with(&["-nostdinc".into()]), false),
        (
            "--sysroot",
            with(&[format!("--sysroot={}", d(&sysroot))]),
            true,
        ),
        (
            "-isystem before the system directories",
            with(&["-isystem".into(), d(&isystem)]),
            true,
        ),
        (
            "-idirafter after the system directories",
            with(&[format!("-idirafter{}", d(&after))]),
            true,
        ),
        (
            "-idirafter with -nostdinc",
            with(&["-nostdinc".into(), format!("-idirafter{}", d(&after))]),
            true,
        ),
    ];
    for (i, (what, flags, accepted)) in cases.iter().enumerate() {
        let want = run(&gnu, flags, &scratch.join(format!("{i}-gnu")));
        let got = run(&migc, flags, &scratch.join(format!("{i}-migc")));
        assert_eq!(
            want.is_some(),
            *accepted,
            "{what}: GNU MIG's outcome changed"
        );
        assert_eq!(got, want, "{what}: migc and GNU MIG differ ({flags:?})");
    }
    // The header really came from where the flags say (seen in GNU's output).
    let sizes = |i: usize| run(&gnu, &cases[i].1, &scratch.join(format!("{i}-again")));
    assert!(sizes(2).unwrap().contains(&17), "--sysroot header not used");
    assert!(sizes(3).unwrap().contains(&31), "-isystem header not used");
    assert!(
        sizes(5).unwrap().contains(&23),
        "-idirafter header not used"
    );
}

#[test]
fn verbose_lists_the_directories_searched() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let out = Command::new(env!("CARGO_BIN_EXE_migc"))
        .args(["-v", "--check"])
        .arg(format!("-I{}", include.display()))
        .args(["-idirafter", "/after-dir"])
        .arg(include.join("mach/mach.defs"))
        .output()
        .expect("run migc");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let list: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("#include <...> search starts here:"))
        .skip(1)
        .take_while(|l| !l.starts_with("End of search list."))
        .map(str::trim)
        .collect();
    // gcc's own list for the same compiler, observed.
    let gcc = Command::new("gcc")
        .args(["-E", "-x", "c", "-v", "/dev/null"])
        .output()
        .expect("run gcc");
    let gcc_err = String::from_utf8_lossy(&gcc.stderr);
    let gcc_list: Vec<&str> = gcc_err
        .lines()
        .skip_while(|l| !l.starts_with("#include <...> search starts here:"))
        .skip(1)
        .take_while(|l| !l.starts_with("End of search list."))
        .map(str::trim)
        .collect();
    assert!(!gcc_list.is_empty(), "gcc -v printed no search list");
    let include = include.display().to_string();
    let want: Vec<&str> = std::iter::once(include.as_str())
        .chain(gcc_list)
        .chain(["/after-dir"])
        .collect();
    assert_eq!(list, want, "{err}");
}
