//! The `inout` rule for inline variable-sized arguments, against GNU MIG: on
//! `mig-ir/test_data/err/inout_variable_inline.defs` both refuse the file and name the same
//! arguments, and migc reports it from the checker whatever is asked for (`--check`, C
//! stubs, Rust stubs), before any back end runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::reference_root;

fn defs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mig-ir/test_data/err/inout_variable_inline.defs")
}

/// The arguments named in `... line N: X: Inline variable-sized arguments can't be InOut`.
fn gnu_refused() -> BTreeSet<String> {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(root.join("usr/bin/x86_64-gnu-mig"))
        .arg("-n")
        .arg(defs())
        .output()
        .expect("run GNU mig");
    assert_eq!(out.status.code(), Some(1), "GNU mig accepted the file");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let (head, _) = l.split_once(": Inline variable-sized arguments can't be InOut")?;
            Some(head.rsplit(": ").next()?.to_string())
        })
        .collect()
}

/// The arguments of migc's `inline variable-sized argument `X` cannot be `inout`` errors.
fn migc_refused(args: &[&str], dir: &Path) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_migc"))
        .current_dir(dir)
        .args(args)
        .arg(defs())
        .output()
        .expect("run migc");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "migc {args:?} accepted the file:\n{stderr}"
    );
    assert!(
        !stderr.contains("cannot express"),
        "migc {args:?}: a back end, not the checker, refused:\n{stderr}"
    );
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("error: inline variable-sized argument `")?;
            Some(rest.split_once('`')?.0.to_string())
        })
        .collect()
}

#[test]
fn inline_variable_inout_is_refused_like_gnu_mig_for_every_output() {
    let gnu = gnu_refused();
    assert_eq!(gnu.len(), 3, "GNU mig refused {gnu:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("inout-rule");
    std::fs::create_dir_all(&dir).unwrap();
    for args in [
        &["--check"][..],
        &["-user", "u.c", "-server", "s.c", "-header", "u.h"][..],
        &["--emit", "rust", "-o", "r.rs"][..],
    ] {
        assert_eq!(migc_refused(args, &dir), gnu, "migc {args:?}");
        for f in ["u.c", "s.c", "u.h", "r.rs"] {
            assert!(!dir.join(f).exists(), "migc {args:?} wrote {f}");
        }
    }
}
