//! `migc fmt`: in-place formatting, `--check` (status 1 and the list of files that would
//! change), refusal of files it cannot format, and standard input.

use std::io::Write;
use std::process::{Command, Stdio};

fn migc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migc"))
        .args(args)
        .output()
        .expect("run migc")
}

#[test]
fn check_then_format_in_place() {
    let dir = std::env::temp_dir().join(format!("migc-fmt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let messy = dir.join("messy.defs");
    let tidy = dir.join("tidy.defs");
    std::fs::write(&messy, "subsystem  t 100;\nroutine f(a:int;out b:int);\n").unwrap();
    std::fs::write(&tidy, "subsystem t 100;\n").unwrap();
    let (m, t) = (messy.to_str().unwrap(), tidy.to_str().unwrap());

    let out = migc(&["fmt", "--check", m, t]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{m}\n"));
    assert!(std::fs::read_to_string(&messy).unwrap().contains("a:int"));

    let out = migc(&["fmt", m, t]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "subsystem t 100;\nroutine f(\n        a : int;\n    out b : int);\n"
    );
    assert_eq!(migc(&["fmt", "--check", m, t]).status.code(), Some(0));

    std::fs::write(&messy, "type a = \"unterminated\n").unwrap();
    let out = migc(&["fmt", m]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("messy.defs:1:10: cannot format"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn standard_input_to_standard_output() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migc"))
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"skip ;   /* c */\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "skip; /* c */\n");
    assert_eq!(migc(&["fmt"]).status.code(), Some(2));
    assert_eq!(migc(&["fmt", "--bogus", "x"]).status.code(), Some(2));
}
