//! `--emit obj`: the client and server stubs as x86_64 ELF objects from `mig_backend_obj` (with
//! the `obj` cargo feature; without it, a clear error).

use std::path::Path;

use mig_ir::Validated;

use crate::Session;

/// Writes the client stubs of `module` as an object file to `path`. Returns false on errors.
pub fn write_user(
    session: &mut Session,
    module: &Validated,
    path: &Path,
    prefix: &str,
    subr_prefix: &str,
) -> bool {
    write(session, module, path, prefix, subr_prefix, Side::User)
}

/// Writes the server stubs of `module` as an object file to `path`. Returns false on errors.
pub fn write_server(
    session: &mut Session,
    module: &Validated,
    path: &Path,
    prefix: &str,
    subr_prefix: &str,
) -> bool {
    write(session, module, path, prefix, subr_prefix, Side::Server)
}

#[derive(Clone, Copy)]
enum Side {
    User,
    Server,
}

#[cfg(feature = "obj")]
fn write(
    session: &mut Session,
    module: &Validated,
    path: &Path,
    prefix: &str,
    subr_prefix: &str,
    side: Side,
) -> bool {
    let opts = mig_backend_obj::Options {
        prefix: prefix.to_string(),
        subr_prefix: subr_prefix.to_string(),
    };
    let object = match side {
        Side::User => mig_backend_obj::user_object(module, &opts),
        Side::Server => mig_backend_obj::server_object(module, &opts),
    };
    match object {
        Ok(bytes) => crate::files::write_bytes(session, path, &bytes),
        Err(errors) => {
            for e in errors {
                session.error(&format!("--emit obj: {e}"));
            }
            false
        }
    }
}

#[cfg(not(feature = "obj"))]
fn write(
    session: &mut Session,
    _module: &Validated,
    _path: &Path,
    _prefix: &str,
    _subr_prefix: &str,
    _side: Side,
) -> bool {
    session.error("--emit obj: this migc was built without the `obj` feature (cargo build -p migc --features obj)");
    false
}
