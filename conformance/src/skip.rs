//! Visible skips. A test whose material may legitimately be absent (the corpora on a clone
//! without `../shared`) calls [`skip`] and returns: the skip is printed and recorded in
//! `target/test-results/cargo-skips.txt`, which `scripts/test.sh` counts and lists (and, with
//! `../shared` present, turns into a failure). Everything that does not need the material
//! lives in another test and still runs.

use std::io::Write as _;
use std::path::PathBuf;

use crate::paths::repo_root;

/// Where test jobs write results (`$TEST_RESULTS_DIR`, or `target/test-results`).
pub fn results_dir() -> PathBuf {
    std::env::var_os("TEST_RESULTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/test-results"))
}

/// The name `scripts/test.sh` gives the running test: `<test binary>::<test>`, as cargo
/// prints it under `Running ... (target/debug/deps/<test binary>-<hash>)`.
fn qualified(test: &str) -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let binary = match exe.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => exe,
    };
    format!("{binary}::{test}")
}

/// Records that the test `test` (its name as cargo prints it, `module::function` for tests
/// in a module) skipped its work because of `reason`, and prints it.
pub fn skip(test: &str, reason: &str) {
    let name = qualified(test);
    let reason = reason.replace('\n', " ");
    eprintln!("skipped {name}: {reason}");
    println!("skipped {name}: {reason}");
    let dir = results_dir();
    let line = format!("skip {name} {reason}\n");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("cargo-skips.txt"))?
            .write_all(line.as_bytes())
    });
    if let Err(e) = written {
        panic!("cannot record the skip of {name} in {}: {e}", dir.display());
    }
}

/// `../shared/corpus`, or a recorded skip of `test` naming what is missing.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let corpus = crate::paths::corpus_dir();
    if corpus.is_none() {
        let reason = format!(
            "no corpus at {} (a checkout without ../shared): the Apple and OSF corpora were not checked",
            crate::paths::corpus_path().display()
        );
        skip(test, &reason);
    }
    corpus
}
