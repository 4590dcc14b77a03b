//! Several inputs in one command (compiled on several threads when each writes only its own
//! files): every output is byte-identical to a run of that input alone, and messages come in
//! input order, every time.

use std::path::PathBuf;
use std::process::Command;

use conformance::corpus::{declares_subsystem, defs_files};
use conformance::gnumach::reference_root;

#[test]
fn one_command_equals_one_run_per_file_and_keeps_message_order() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let inc = format!("-I{}", include.display());
    let migc = env!("CARGO_BIN_EXE_migc");
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("many-inputs");
    let _ = std::fs::remove_dir_all(&scratch);
    let (all, each) = (scratch.join("all"), scratch.join("each"));
    std::fs::create_dir_all(&all).unwrap();
    std::fs::create_dir_all(&each).unwrap();
    let mut files: Vec<PathBuf> = defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    // Two broken inputs among them: their errors must come in this order.
    for (i, name) in ["broken_a.defs", "broken_b.defs"].iter().enumerate() {
        let p = scratch.join(name);
        std::fs::write(
            &p,
            format!(
                "subsystem broken{i} {};\nroutine r(x: nope_{i});\n",
                9000 + i * 100
            ),
        )
        .unwrap();
        files.insert(3 + 8 * i, p);
    }
    for _ in 0..5 {
        let out = Command::new(migc)
            .current_dir(&all)
            .arg(&inc)
            .args(&files)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "errors in two inputs");
        let err = String::from_utf8_lossy(&out.stderr);
        let (a, b) = (err.find("nope_0"), err.find("nope_1"));
        assert!(
            a.is_some() && b.is_some() && a < b,
            "messages out of order:\n{err}"
        );
    }
    for f in &files {
        let out = Command::new(migc)
            .current_dir(&each)
            .arg(&inc)
            .arg(f)
            .output()
            .unwrap();
        assert_eq!(out.status.success(), !f.starts_with(&scratch));
    }
    let mut names: Vec<_> = std::fs::read_dir(&each)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        3 * 17,
        "user, server and header of the 17 subsystems"
    );
    for n in &names {
        assert_eq!(
            std::fs::read(all.join(n)).unwrap(),
            std::fs::read(each.join(n)).unwrap(),
            "{n:?} differs"
        );
    }
}
