//! Where things live: the repository, the fetched GNU reference set and the corpora beside
//! the checkout. The one place that knows these paths.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the workspace folder holding `scripts/` and `conformance/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance/ has a parent folder")
        .to_path_buf()
}

/// The reference set's root (`.cache/reference/root`, or `$MIGC_REFERENCE_DIR/root`), fetched
/// with `scripts/fetch-reference.sh` when its stamp file is missing.
pub fn reference_root() -> Result<PathBuf, String> {
    let repo = repo_root();
    let cache = std::env::var_os("MIGC_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".cache/reference"));
    if !cache.join("stamp").exists() {
        let status = Command::new("bash")
            .arg(repo.join("scripts/fetch-reference.sh"))
            .status()
            .map_err(|e| format!("cannot run scripts/fetch-reference.sh: {e}"))?;
        if !status.success() {
            return Err(format!("scripts/fetch-reference.sh failed: {status}"));
        }
    }
    Ok(cache.join("root"))
}

/// The include folder of gnumach-dev (headers and `.defs`) under a reference root.
pub fn reference_include(root: &Path) -> PathBuf {
    root.join("usr/include/x86_64-linux-gnu")
}

/// `../shared/corpus` beside the checkout (or `$MIGC_CORPUS_DIR`), if present. It may
/// legitimately be absent (a clone without `../shared`); tests that need it report a skip
/// (see [`crate::skip`]).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = corpus_path();
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// Where [`corpus_dir`] looks.
pub fn corpus_path() -> PathBuf {
    std::env::var_os("MIGC_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"))
}
