//! Inputs: which files a run reads, and how each is turned into a parsed unit (built-in
//! preprocessor, or an external one given with `-cc`).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use mig_frontend::preprocess::{MacroAction, PpMode, PpOptions, StdDirs};
use mig_frontend::{parse_bytes, FrontendOptions, Parsed};

use crate::cli::{Cli, MacroArg};
use crate::Session;

/// One input: a path, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(String),
}

/// The inputs of a run. With `-cc`, `-` is a preprocessor argument (as in GNU mig), so only the
/// other names are inputs; without it, `-` is standard input. No input at all is standard
/// input, as GNU's `migcom` reads it (`cpp ... | migc -user X -server Y -header Z`).
pub fn inputs(cli: &Cli) -> Vec<Input> {
    let named: Vec<Input> = cli
        .files
        .iter()
        .filter(|f| !(cli.cc.is_some() && f.as_str() == "-"))
        .map(|f| {
            if f == "-" {
                Input::Stdin
            } else {
                Input::File(f.clone())
            }
        })
        .collect();
    if named.is_empty() {
        vec![Input::Stdin]
    } else {
        named
    }
}

fn pp_options(cli: &Cli, session: &Session, mode: PpMode) -> PpOptions {
    let predefined = if cli.undef {
        Vec::new()
    } else {
        mig_frontend::preprocess::predefined_macros(&session.target).unwrap_or_default()
    };
    PpOptions {
        include_dirs: cli.include_dirs.clone(),
        system_dirs: cli.system_dirs.clone(),
        std_dirs: session.std_dirs.clone(),
        after_dirs: cli.after_dirs.clone(),
        macro_actions: cli
            .macros
            .iter()
            .map(|m| match m {
                MacroArg::Define(n, v) => MacroAction::Define(n.clone(), v.clone()),
                MacroArg::Undef(n) => MacroAction::Undef(n.clone()),
            })
            .collect(),
        imacros: cli.imacros.clone(),
        predefined,
        mode,
        ..PpOptions::default()
    }
}

/// The standard system directories of a run: none with `-nostdinc`, else those of the
/// compiler GNU mig would preprocess with (`$CC`, default `gcc`), found on first use.
pub fn std_dirs(cli: &Cli) -> StdDirs {
    if cli.nostdinc || cli.cc.is_some() || cli.migcom {
        return StdDirs::None;
    }
    let cc = std::env::var("CC")
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    StdDirs::host(cc, cli.sysroot.clone())
}

/// `-v`: the include search list, in `gcc -v`'s form.
pub fn print_search_list(cli: &Cli, session: &Session) {
    let opts = pp_options(cli, session, PpMode::Full);
    let mut text = format!(
        "migc: standard system directories: {}
#include \"...\" search starts here:\n\
         #include <...> search starts here:\n",
        opts.std_dirs.source()
    );
    for (dir, _) in mig_frontend::preprocess::search_list(&opts) {
        text.push_str(&format!(" {}\n", dir.display()));
    }
    text.push_str("End of search list.\n");
    eprint!("{text}");
}

/// Reads, preprocesses and parses one input.
pub fn parse(cli: &Cli, session: &Session, input: &Input) -> Parsed {
    let (name, bytes, mode) = match (&cli.cc, input) {
        (Some(cc), _) => {
            let file = match input {
                Input::File(f) => Some(f.as_str()),
                Input::Stdin => None,
            };
            let name = file.unwrap_or("<stdin>").to_string();
            match run_cc(cc, &cli.cpp_args, file) {
                Ok(out) => (name, Ok(out), PpMode::Preprocessed),
                Err(e) => (name, Err(e), PpMode::Preprocessed),
            }
        }
        (None, Input::Stdin) => {
            let mut buf = Vec::new();
            let r = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map(|_| buf)
                .map_err(|e| {
                    format!(
                        "cannot read standard input: {}",
                        mig_frontend::io_reason(&e)
                    )
                });
            // The migcom alias never preprocesses: its input is `cpp` output already.
            let mode = if cli.migcom {
                PpMode::Preprocessed
            } else {
                PpMode::Full
            };
            ("<stdin>".to_string(), r, mode)
        }
        (None, Input::File(f)) => {
            let opts = FrontendOptions {
                dialect: session.dialect,
                pp: pp_options(cli, session, PpMode::Full),
            };
            return mig_frontend::parse_path(&PathBuf::from(f), &opts);
        }
    };
    let opts = FrontendOptions {
        dialect: session.dialect,
        pp: pp_options(cli, session, mode),
    };
    match bytes {
        Ok(bytes) => parse_bytes(&name, &bytes, &opts),
        Err(message) => {
            let mut parsed = parse_bytes(&name, b"", &opts);
            parsed.diagnostics =
                vec![mig_frontend::diagnostics::Diagnostic::error().with_message(message)];
            parsed
        }
    }
}

/// Runs the external preprocessor as GNU mig does: `PROG CPPFLAGS FILE`, PROG split at
/// white space; standard input is passed through (for `-cc cat -`).
fn run_cc(cc: &str, cpp_args: &[String], file: Option<&str>) -> Result<Vec<u8>, String> {
    let mut words = cc.split_whitespace();
    let prog = words.next().ok_or("`-cc` names no program")?;
    let mut cmd = Command::new(prog);
    cmd.args(words).args(cpp_args);
    if let Some(f) = file {
        cmd.arg(f);
    }
    cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
    let out = cmd.output().map_err(|e| {
        format!(
            "cannot run preprocessor `{cc}`: {}",
            mig_frontend::io_reason(&e)
        )
    })?;
    if !out.status.success() {
        return Err(format!("preprocessor `{cc}` failed ({})", out.status));
    }
    Ok(out.stdout)
}
