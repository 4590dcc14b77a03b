//! `migc -n -list F` against GNU MIG's `-list` for every subsystem file of gnumach-dev, through
//! the `migc` binary: once as GNU Mach's build runs it (`-n -cc cat - /dev/null -list F` with
//! `gcc -E` output on standard input) and once with migc's built-in preprocessor.

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

#[test]
fn list_output_is_byte_identical_to_gnu_mig() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("list-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<_> = defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    let mut identical = 0;
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let pre = gcc_e(&include, file);
        let gnu = dir.join(format!("{stem}.gnu"));
        let mut cmd = Command::new(&migcom);
        cmd.args([
            "-user",
            "/dev/null",
            "-server",
            "/dev/null",
            "-header",
            "/dev/null",
            "-list",
        ])
        .arg(&gnu);
        let out = run_with_stdin(cmd, &pre);
        assert!(out.status.success(), "GNU migcom failed on {stem}");

        let stdin_list = dir.join(format!("{stem}.stdin"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_migc"));
        cmd.args(["-n", "-cc", "cat", "-", "/dev/null", "-list"])
            .arg(&stdin_list);
        let out = run_with_stdin(cmd, &pre);
        assert!(
            out.status.success(),
            "migc (stdin) failed on {stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let builtin_list = dir.join(format!("{stem}.builtin"));
        let out = Command::new(env!("CARGO_BIN_EXE_migc"))
            .args(["-n", "-list"])
            .arg(&builtin_list)
            .arg(format!("-I{}", include.display()))
            .arg(file)
            .output()
            .expect("run migc");
        assert!(
            out.status.success(),
            "migc (built-in preprocessor) failed on {stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let want = std::fs::read(&gnu).unwrap();
        assert!(!want.is_empty(), "GNU MIG wrote an empty list for {stem}");
        assert_eq!(
            std::fs::read(&stdin_list).unwrap(),
            want,
            "{stem}: -cc cat - list differs"
        );
        assert_eq!(
            std::fs::read(&builtin_list).unwrap(),
            want,
            "{stem}: built-in list differs"
        );
        identical += 1;
    }
    println!("migc -n -list: {identical}/{} gnumach-dev subsystem files byte-identical (stdin and built-in preprocessor)", files.len());
    assert_eq!(
        identical, 17,
        "expected the 17 subsystem files of gnumach-dev"
    );
}
