//! The C outputs: which files GNU mig would write (its default names, `-n`, `/dev/null`,
//! `-i PREFIX`), one call into `mig_backend_c` each, and the `-MD` dependency file.

use std::path::{Path, PathBuf};

use mig_frontend::Parsed;
use mig_ir::Validated;

use crate::cli::Cli;
use crate::files::write_file;
use crate::Session;

/// The C files of one run: `None` when not written.
#[derive(Debug, Default)]
struct Plan {
    user: Option<PathBuf>,
    server: Option<PathBuf>,
    header: Option<PathBuf>,
    sheader: Option<PathBuf>,
    iheader: Option<PathBuf>,
}

/// GNU mig's choice: a named file, else (without `-n`) the default name; `/dev/null` writes
/// nothing.
/// `--emit rust*` implies `-n`: only the C files named on the command line are written.
fn plan(cli: &Cli, subsystem: &str) -> Plan {
    let no_defaults = cli.no_default_outputs || cli.emit.iter().any(|k| k.starts_with("rust"));
    let pick = |named: &Option<PathBuf>, default: Option<String>| -> Option<PathBuf> {
        let p = match named {
            Some(p) => p.clone(),
            None if !no_defaults => PathBuf::from(default?),
            None => return None,
        };
        (p != Path::new("/dev/null")).then_some(p)
    };
    Plan {
        user: if cli.split_user.is_some() {
            None
        } else if emits_obj(cli) {
            pick(&cli.user, Some(format!("{subsystem}User.o")))
        } else {
            pick(&cli.user, Some(format!("{subsystem}User.c")))
        },
        server: if emits_obj(cli) {
            pick(&cli.server, Some(format!("{subsystem}Server.o")))
        } else {
            pick(&cli.server, Some(format!("{subsystem}Server.c")))
        },
        header: pick(&cli.header, Some(format!("{subsystem}.h"))),
        sheader: pick(&cli.sheader, None),
        iheader: pick(&cli.iheader, None),
    }
}

/// `--emit obj`: `-user` is an object file (`mig_backend_obj`), headers are still C.
fn emits_obj(cli: &Cli) -> bool {
    cli.emit.iter().any(|k| k == "obj")
}

/// Generates and writes the C outputs and the dependency file. Returns false on errors.
pub fn write(cli: &Cli, session: &mut Session, module: &Validated, parsed: &Parsed) -> bool {
    let subsystem = module.module().subsystem.name.clone();
    let plan = plan(cli, &subsystem);
    let any = plan.user.is_some()
        || plan.server.is_some()
        || plan.header.is_some()
        || plan.sheader.is_some()
        || plan.iheader.is_some()
        || cli.split_user.is_some();
    if !any && !cli.make_deps {
        return true;
    }
    if let Err(errors) = mig_backend_c::check(module) {
        for e in errors {
            session.error(&format!("{}: {e}", module.target().name));
        }
        return false;
    }
    let file_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let opts = mig_backend_c::Options {
        prefix: cli.prefix.clone().unwrap_or_default(),
        subr_prefix: cli.subrprefix.clone().unwrap_or_default(),
        symtab: cli.symtab,
        user_header_name: plan.header.as_deref().map(file_name),
        server_header_name: plan.sheader.as_deref().map(file_name),
    };
    let mut ok = true;
    let mut written: Vec<PathBuf> = Vec::new();
    if emits_obj(cli) {
        if let Some(p) = &plan.user {
            ok &= crate::obj::write_user(session, module, p, &opts.prefix, &opts.subr_prefix);
            written.push(p.clone());
        }
        if let (Some(_), true) = (&plan.server, cli.symtab) {
            session.error(
                "--emit obj: -s (the server's symbol table) is not written by the object back end",
            );
            return false;
        }
        if let Some(p) = &plan.server {
            ok &= crate::obj::write_server(session, module, p, &opts.prefix, &opts.subr_prefix);
            written.push(p.clone());
        }
    }
    let mut out = |path: &Option<PathBuf>, text: &dyn Fn() -> String, ok: &mut bool| {
        if let Some(p) = path {
            *ok &= write_file(session, p, &text());
            written.push(p.clone());
        }
    };
    out(
        &plan.header,
        &|| mig_backend_c::user_header(module, &opts),
        &mut ok,
    );
    if !emits_obj(cli) {
        out(
            &plan.user,
            &|| mig_backend_c::user_source(module, &opts),
            &mut ok,
        );
    }
    if !emits_obj(cli) {
        out(
            &plan.server,
            &|| mig_backend_c::server_source(module, &opts),
            &mut ok,
        );
    }
    out(
        &plan.sheader,
        &|| mig_backend_c::server_header(module, &opts),
        &mut ok,
    );
    let iheader = plan
        .iheader
        .clone()
        .filter(|_| mig_backend_c::has_internal_header(module));
    out(
        &iheader,
        &|| mig_backend_c::internal_header(module, &opts),
        &mut ok,
    );
    if let Some(prefix) = &cli.split_user {
        for (routine, text) in mig_backend_c::user_sources_split(module, &opts) {
            let p = PathBuf::from(format!("{prefix}{routine}.c"));
            ok &= write_file(session, &p, &text);
            written.push(p);
        }
    }
    if cli.make_deps {
        ok &= write_deps(session, parsed, &written);
    }
    ok
}

/// `-MD`: `<stem>-mig.d`, naming every output and every file read, as GNU mig does.
fn write_deps(session: &mut Session, parsed: &Parsed, written: &[PathBuf]) -> bool {
    let main = parsed.db.get(parsed.main).name.clone();
    let stem = Path::new(&main)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".into());
    let targets: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    let mut deps: Vec<String> = Vec::new();
    for f in std::iter::once(PathBuf::from(&main)).chain(parsed.files_read.iter().cloned()) {
        let s = f.display().to_string();
        if !deps.contains(&s) && !s.starts_with('<') {
            deps.push(s);
        }
    }
    let text = format!("{}: {}\n", targets.join(" "), deps.join(" \\\n "));
    write_file(session, &PathBuf::from(format!("{stem}-mig.d")), &text)
}
