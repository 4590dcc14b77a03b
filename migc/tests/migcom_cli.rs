//! The `migcom` convention, against GNU MIG on every subsystem file of gnumach-dev:
//! - GNU's own driver (`x86_64-gnu-mig`) run with `MIGDIR` pointing at migc's binaries uses
//!   migc's `x86_64-gnu-migcom` and writes the same `-list` as with GNU's `migcom`;
//! - `gcc -E ... | x86_64-gnu-migcom -user U -server S -header H -list L` (GNU's test-suite
//!   shape) writes the same list as GNU's `migcom` given the same text, and the same C as
//!   `migc` given the same text with no file argument (standard input, no `-`);
//! - like GNU's `migcom`, the alias refuses file names and preprocessor flags.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::corpus::{declares_subsystem, defs_files, reference_root};
use conformance::run_with_stdin;

fn gcc_e(include: &Path, file: &Path) -> Vec<u8> {
    let out = Command::new("gcc")
        .args(["-E", "-x", "c", "-undef", "-ansi", "-D__x86_64__"])
        .arg(format!("-I{}", include.display()))
        .arg(file)
        .output()
        .expect("run gcc -E");
    assert!(out.status.success(), "gcc -E failed on {}", file.display());
    out.stdout
}

/// Runs `prog ARGS` in `dir` with `input` on standard input; panics with its stderr on failure.
fn run_in(dir: &Path, prog: &Path, args: &[&str], input: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(prog);
    cmd.current_dir(dir).args(args);
    let out = run_with_stdin(cmd, input);
    assert!(
        out.status.success(),
        "{} {args:?} failed in {}: {}",
        prog.display(),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

const OUTPUTS: [&str; 8] = [
    "-user", "u.c", "-server", "s.c", "-header", "h.h", "-list", "l",
];

#[test]
fn migcom_alias_and_stdin_form_match_gnu_migcom() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let gnu_migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let gnu_driver = root.join("usr/bin/x86_64-gnu-mig");
    let alias = PathBuf::from(env!("CARGO_BIN_EXE_x86_64-gnu-migcom"));
    let migc = PathBuf::from(env!("CARGO_BIN_EXE_migc"));
    let bin_dir = alias.parent().unwrap().to_path_buf();
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("migcom-cli");
    let _ = std::fs::remove_dir_all(&scratch);
    let files: Vec<_> = defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    let mut checked = 0;
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let pre = gcc_e(&include, file);
        let d = scratch.join(&stem);
        run_in(&d.join("gnu"), &gnu_migcom, &OUTPUTS, &pre);
        run_in(&d.join("alias"), &alias, &OUTPUTS, &pre);
        run_in(&d.join("stdin"), &migc, &OUTPUTS, &pre);

        // GNU's driver, with migc's binaries as its MIGDIR: `gcc -E ... | $MIGDIR/x86_64-gnu-migcom`.
        let dd = d.join("driver");
        std::fs::create_dir_all(&dd).unwrap();
        let out = Command::new(&gnu_driver)
            .current_dir(&dd)
            .env("MIGDIR", &bin_dir)
            .args(["-undef", "-ansi", "-D__x86_64__"])
            .arg(format!("-I{}", include.display()))
            .args(["-n", "-list", "l"])
            .arg(file)
            .output()
            .expect("run GNU's driver");
        assert!(
            out.status.success(),
            "GNU driver with MIGDIR=migc failed on {stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let read = |sub: &str, f: &str| std::fs::read(d.join(sub).join(f)).unwrap();
        let want = read("gnu", "l");
        assert!(
            !want.is_empty(),
            "GNU migcom wrote an empty list for {stem}"
        );
        assert_eq!(
            read("alias", "l"),
            want,
            "{stem}: alias -list differs from GNU's"
        );
        assert_eq!(
            read("driver", "l"),
            want,
            "{stem}: GNU driver + migc's migcom differs"
        );
        assert_eq!(read("stdin", "l"), want, "{stem}: migc on stdin differs");
        for f in ["u.c", "s.c", "h.h"] {
            assert!(
                !read("alias", f).is_empty(),
                "{stem}: alias wrote an empty {f}"
            );
            assert_eq!(
                read("alias", f),
                read("stdin", f),
                "{stem}: {f} of the alias differs from migc's"
            );
        }
        checked += 1;
    }
    println!(
        "migcom alias: {checked}/{} gnumach-dev subsystem files, lists identical to GNU migcom's",
        files.len()
    );
    assert_eq!(
        checked, 17,
        "expected the 17 subsystem files of gnumach-dev"
    );
}

#[test]
fn migcom_alias_refuses_what_gnu_migcom_refuses() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let gnu_migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let alias = PathBuf::from(env!("CARGO_BIN_EXE_x86_64-gnu-migcom"));
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("migcom-refuse");
    std::fs::create_dir_all(&scratch).unwrap();
    // Standard input from a file: a refusing program may exit before reading a pipe.
    let input = scratch.join("in.defs");
    std::fs::write(&input, b"subsystem s 100;\n").unwrap();
    for args in [
        &["-n", "-I/x"][..],
        &["-n", "-Dfoo"],
        &["-n", "-cc", "gcc"],
        &["-n", "-MD"],
        &["-n", "a.defs"],
    ] {
        for prog in [&gnu_migcom, &alias] {
            let out = Command::new(prog)
                .current_dir(&scratch)
                .args(args)
                .stdin(std::fs::File::open(&input).unwrap())
                .output()
                .expect("run migcom");
            assert!(
                !out.status.success(),
                "{} accepted {args:?}",
                prog.display()
            );
        }
    }
}
