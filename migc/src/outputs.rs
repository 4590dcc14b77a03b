//! After parsing: lowering to the IR (with its diagnostics) and writing the requested outputs.
//! Each output is one call into a compiler crate; this module only decides names and writes.

use std::io::Write;

use mig_frontend::dialect::Dialect;
use mig_frontend::Parsed;
use mig_ir::{Target, Validated};

use crate::cli::Cli;
use crate::files::write_file;
use crate::Session;

/// Lowers a parsed unit and writes what the command line asks for. Returns false on errors.
///
/// The IR describes the GNU message format, so only `--dialect gnu` is lowered. With
/// `--check`, files of other dialects are checked by the front end alone.
pub fn compile(cli: &Cli, session: &mut Session, parsed: &Parsed) -> bool {
    if session.dialect != Dialect::Gnu {
        if cli.check {
            return true;
        }
        session.error(&format!(
            "code generation for {} interfaces is not supported: the targets ({}) use the GNU \
             message format; use --check to check the file",
            session.dialect.title(),
            target_names()
        ));
        return false;
    }
    let Some(target) = Target::by_name(&session.target) else {
        session.error(&format!("unknown target `{}`", session.target));
        return false;
    };
    let lowered = mig_ir::lower(&parsed.file, target);
    let located: Vec<_> = lowered
        .diagnostics
        .iter()
        .map(|d| parsed.locate(d))
        .collect();
    if session.report(&parsed.db, &located) {
        return false;
    }
    let Some(module) = lowered.module else {
        session.error("the interface could not be lowered (no diagnostic was given: a bug)");
        return false;
    };
    if cli.check {
        return true;
    }
    write_outputs(cli, session, &module) && crate::stubs::write(cli, session, &module, parsed)
}

fn target_names() -> String {
    mig_ir::target::TARGETS
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_outputs(cli: &Cli, session: &mut Session, module: &Validated) -> bool {
    let mut ok = true;
    if let Some(path) = &cli.list {
        ok &= write_file(session, path, &mig_ir::render_list(module));
    }
    for kind in &cli.emit {
        match kind.as_str() {
            "ir" => {
                let json = module.to_json();
                ok &= match &cli.output {
                    Some(path) => write_file(session, path, &json),
                    None => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(json.as_bytes()).is_ok() && out.write_all(b"\n").is_ok()
                    }
                };
            }
            "rust" | "rust-client" | "rust-server" => {
                let opts = mig_backend_rust::Options {
                    client: kind != "rust-server",
                    server: kind != "rust-client",
                };
                ok &= match mig_backend_rust::generate(module, &opts) {
                    Ok(text) => match &cli.output {
                        Some(path) => write_file(session, path, &text),
                        None => std::io::stdout().lock().write_all(text.as_bytes()).is_ok(),
                    },
                    Err(errors) => {
                        for e in errors {
                            session.error(&e.to_string());
                        }
                        false
                    }
                };
            }
            // Written by `stubs.rs` in place of the C user stubs.
            "obj" => {}
            other => {
                session.error(&format!(
                    "unknown --emit kind `{other}` (expected ir, rust, rust-client, rust-server, obj)"
                ));
                ok = false;
            }
        }
    }
    ok
}
