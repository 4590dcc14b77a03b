//! Writing output files, shared by every output (`outputs.rs`, `stubs.rs`).

use std::path::Path;

use crate::Session;

/// Writes an output file; `/dev/null` disables the output as in GNU mig.
///
/// An existing regular file is unlinked first and written anew (as gcc does with `-o`):
/// truncating it in place makes ext4 flush the file on close (`auto_da_alloc`), which costs
/// more than generating it. Links and device files are written through, never removed.
pub fn write_file(session: &mut Session, path: &Path, text: &str) -> bool {
    write_bytes(session, path, text.as_bytes())
}

/// [`write_file`] for binary outputs (`--emit obj`).
pub fn write_bytes(session: &mut Session, path: &Path, text: &[u8]) -> bool {
    if path == Path::new("/dev/null") {
        return true;
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        let _ = std::fs::remove_file(path);
    }
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(e) => {
            session.error(&format!(
                "cannot write {}: {}",
                path.display(),
                mig_frontend::io_reason(&e)
            ));
            false
        }
    }
}
