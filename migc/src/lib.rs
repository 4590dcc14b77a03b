//! `migc`: the command. Flags in, front end, IR, back ends, files out. No compiler logic of
//! its own: everything it does is a call into the compiler crates.
//!
//! The command is a library with one entry, [`main`], so that its names (`migc`, GNU's driver
//! name `x86_64-gnu-mig`, GNU's compiler-proper name `x86_64-gnu-migcom`) are thin binaries
//! over one compiled crate. It is not an API for other programs: use the compiler crates.

#![forbid(unsafe_code)]

mod cli;
mod files;
mod fmt;
mod input;
mod migcom;
mod obj;
mod outputs;
mod stubs;

use std::io::Write;
use std::process::ExitCode;

use codespan_reporting::term::termcolor::{Buffer, BufferWriter, ColorChoice};
use mig_frontend::diagnostics::{self, Diagnostic};
use mig_frontend::dialect::Dialect;

use cli::Cli;

/// Exit status for an input with errors.
const EXIT_ERRORS: u8 = 1;
/// Exit status for a usage error.
const EXIT_USAGE: u8 = 2;

/// Which command the process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `migc` / `x86_64-gnu-mig`: GNU's `mig` driver (preprocessor included).
    Driver,
    /// `x86_64-gnu-migcom`: GNU's compiler proper. Reads preprocessed text on standard input,
    /// never runs a preprocessor, and refuses preprocessor flags as `migcom` does.
    Migcom,
}

impl Mode {
    /// The mode a program name asks for: a name ending in `migcom` (a symlink or copy named
    /// like GNU's `x86_64-gnu-migcom`) is the compiler proper, anything else the driver.
    pub fn from_program_name(argv0: &str) -> Mode {
        let name = std::path::Path::new(argv0)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with("migcom") {
            Mode::Migcom
        } else {
            Mode::Driver
        }
    }
}

/// The whole command: reads `std::env::args()` and returns the exit status.
pub fn main(mode: Mode) -> ExitCode {
    if mode == Mode::Driver && std::env::args().nth(1).as_deref() == Some("fmt") {
        return fmt::main(std::env::args().skip(2));
    }
    let parsed = cli::parse_args(std::env::args().skip(1)).and_then(|cli| match mode {
        Mode::Driver => Ok(cli),
        Mode::Migcom => migcom::restrict(cli),
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("migc: error: {e}");
            eprintln!("try `migc --help`");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if cli.help {
        print!("{}", cli::HELP);
        return ExitCode::SUCCESS;
    }
    if cli.version {
        println!(
            "migc {} (compatible with GNU MIG 1.8)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("migc: error: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Settings derived from the command line and shared by every input, and where one input's
/// messages are gathered (printed in input order, whichever thread compiled it).
#[allow(missing_debug_implementations)] // holds a terminal buffer
pub struct Session {
    pub dialect: Dialect,
    pub target: String,
    stderr: Buffer,
    pub warnings: bool,
    /// The standard system include directories, shared by every input (found once).
    pub std_dirs: mig_frontend::preprocess::StdDirs,
}

impl Session {
    /// The same settings with an empty message buffer, for one input.
    fn fork(&self, stderr: Buffer) -> Session {
        Session {
            dialect: self.dialect,
            target: self.target.clone(),
            stderr,
            warnings: self.warnings,
            std_dirs: self.std_dirs.clone(),
        }
    }

    /// Prints the gathered messages and empties the buffer.
    fn flush(&mut self, writer: &BufferWriter) {
        let _ = writer.print(&self.stderr);
        self.stderr.clear();
    }

    /// Prints diagnostics (warnings only when enabled); returns true if any is an error.
    pub fn report(&mut self, db: &mig_frontend::source::SourceDb, diags: &[Diagnostic]) -> bool {
        let shown: Vec<Diagnostic> = diags
            .iter()
            .filter(|d| {
                self.warnings || d.severity >= codespan_reporting::diagnostic::Severity::Error
            })
            .cloned()
            .collect();
        if let Err(e) = diagnostics::emit(&mut self.stderr, db, &shown) {
            eprintln!("migc: error: cannot render a diagnostic: {e}");
        }
        diagnostics::has_errors(diags)
    }

    /// An error that is not about a place in a file.
    pub fn error(&mut self, message: &str) {
        let _ = writeln!(self.stderr, "migc: error: {message}");
    }

    /// A warning about the command line itself.
    pub fn warn(&mut self, message: &str) {
        if self.warnings {
            let _ = writeln!(self.stderr, "migc: warning: {message}");
        }
    }
}

fn run(cli: &Cli) -> Result<u8, String> {
    let dialect = match &cli.dialect {
        None => Dialect::Gnu,
        Some(d) => Dialect::from_name(d)
            .ok_or_else(|| format!("unknown dialect `{d}` (expected gnu, apple, osf or cmu)"))?,
    };
    let target = cli
        .target
        .clone()
        .unwrap_or_else(|| "x86_64-gnu".to_string());
    if mig_frontend::preprocess::predefined_macros(&target).is_none() {
        return Err(format!(
            "unknown target `{target}` (expected x86_64-gnu or i686-gnu)"
        ));
    }
    let color = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let writer = BufferWriter::stderr(color);
    let mut session = Session {
        dialect,
        target,
        stderr: writer.buffer(),
        warnings: cli.warnings,
        std_dirs: input::std_dirs(cli),
    };
    if cli.verbose && cli.cc.is_none() && !cli.migcom {
        input::print_search_list(cli, &session);
    }
    if cli.cc.is_none() {
        for (flag, why) in &cli.ignored {
            session.warn(&format!("`{flag}` is accepted and ignored: {why}"));
        }
    }
    if cli.undef && session.target.starts_with("x86_64") && cli.cc.is_none() {
        session.warn(
            "-undef leaves __x86_64__ undefined: .defs files then select their 32-bit types \
             (GNU MIG's legacy default), which do not match a 64-bit kernel",
        );
    }
    session.flush(&writer);
    let jobs: Vec<(input::Input, Session)> = input::inputs(cli)
        .into_iter()
        .map(|i| (i, session.fork(writer.buffer())))
        .collect();
    let threads = if independent_outputs(cli) {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(jobs.len())
    } else {
        1
    };
    let mut failed = false;
    for (ok, mut s) in compile_all(cli, jobs, threads) {
        s.flush(&writer);
        failed |= !ok;
    }
    Ok(if failed { EXIT_ERRORS } else { 0 })
}

/// Preprocesses, parses, lowers and writes one input. Returns false on errors.
fn compile_one(cli: &Cli, session: &mut Session, inp: &input::Input) -> bool {
    let parsed = input::parse(cli, session, inp);
    if session.report(&parsed.db, &parsed.diagnostics) {
        return false;
    }
    outputs::compile(cli, session, &parsed)
}

/// Compiles every input, on `threads` threads when more than one, and returns the outcomes
/// in input order.
fn compile_all(
    cli: &Cli,
    jobs: Vec<(input::Input, Session)>,
    threads: usize,
) -> Vec<(bool, Session)> {
    if threads <= 1 {
        return jobs
            .into_iter()
            .map(|(i, mut s)| (compile_one(cli, &mut s, &i), s))
            .collect();
    }
    let mut shares: Vec<Vec<(usize, input::Input, Session)>> =
        (0..threads).map(|_| Vec::new()).collect();
    for (k, (i, s)) in jobs.into_iter().enumerate() {
        shares[k % threads].push((k, i, s));
    }
    let mut done: Vec<(usize, bool, Session)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || {
                    share
                        .into_iter()
                        .map(|(k, i, mut s)| (k, compile_one(cli, &mut s, &i), s))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(k, _, _)| *k);
    done.into_iter().map(|(_, ok, s)| (ok, s)).collect()
}

/// True when each input writes only files of its own (default names, `-MD` files), so inputs
/// can be compiled in parallel with the same result: nothing goes to standard output and no
/// output is named on the command line (every input would write it; the last one wins).
fn independent_outputs(cli: &Cli) -> bool {
    let own = |p: &Option<std::path::PathBuf>| {
        p.as_deref()
            .is_none_or(|p| p == std::path::Path::new("/dev/null"))
    };
    cli.emit.is_empty()
        && cli.split_user.is_none()
        && [
            &cli.user,
            &cli.server,
            &cli.header,
            &cli.sheader,
            &cli.iheader,
            &cli.list,
        ]
        .into_iter()
        .all(own)
}

#[cfg(test)]
mod tests {
    use super::Mode;

    #[test]
    fn program_name_selects_the_mode() {
        assert_eq!(
            Mode::from_program_name("/usr/lib/mig/x86_64-gnu-migcom"),
            Mode::Migcom
        );
        assert_eq!(Mode::from_program_name("migcom"), Mode::Migcom);
        assert_eq!(Mode::from_program_name("target/debug/migc"), Mode::Driver);
        assert_eq!(Mode::from_program_name("x86_64-gnu-mig"), Mode::Driver);
    }
}
