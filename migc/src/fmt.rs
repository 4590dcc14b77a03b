//! `migc fmt [--check] FILE...`: lays `.defs` files out in the standard style
//! (`mig_frontend::format`), in place, or with `--check` lists the files that would change.

use std::process::ExitCode;

use mig_frontend::format::format;
use mig_frontend::source::SourceFile;

const USAGE: &str = "\
Usage: migc fmt [--check] FILE...

Formats MIG interface definitions in place: one statement per line, routine arguments one per
line in aligned columns, type translations on the following lines. Comments and preprocessor
lines are kept; the meaning of the file never changes. A FILE of `-` formats standard input to
standard output.

      --check   write nothing; list the files that would change and exit with status 1 if any
  -h, --help    print this help
";

/// Runs the subcommand on the arguments after `fmt`.
pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    let mut check = false;
    let mut files = Vec::new();
    let mut only_files = false;
    for a in args {
        match a.as_str() {
            "--check" if !only_files => check = true,
            "--help" | "-h" if !only_files => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--" if !only_files => only_files = true,
            s if s.starts_with('-') && s != "-" && !only_files => {
                eprintln!("migc fmt: error: unknown option `{s}`");
                return ExitCode::from(crate::EXIT_USAGE);
            }
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("migc fmt: error: no input files");
        eprint!("{USAGE}");
        return ExitCode::from(crate::EXIT_USAGE);
    }
    let mut failed = false;
    let mut would_change = false;
    for f in &files {
        match one(f, check) {
            Ok(true) if check => {
                println!("{f}");
                would_change = true;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("migc fmt: error: {e}");
                failed = true;
            }
        }
    }
    if failed || would_change {
        ExitCode::from(crate::EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

/// Formats one file; true when its text changes.
fn one(name: &str, check: bool) -> Result<bool, String> {
    let text = if name == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            format!(
                "cannot read standard input: {}",
                mig_frontend::io_reason(&e)
            )
        })?;
        s
    } else {
        let bytes = std::fs::read(name)
            .map_err(|e| format!("cannot read {name}: {}", mig_frontend::io_reason(&e)))?;
        String::from_utf8(bytes).map_err(|_| format!("{name} is not valid UTF-8"))?
    };
    let formatted = format(&text).map_err(|e| {
        let (line, col) = SourceFile::new(name, text.as_str()).line_col(e.span.start as usize);
        format!("{name}:{line}:{col}: {e}")
    })?;
    let changed = formatted != text;
    if name == "-" {
        if !check {
            print!("{formatted}");
        }
    } else if changed && !check {
        std::fs::write(name, &formatted)
            .map_err(|e| format!("cannot write {name}: {}", mig_frontend::io_reason(&e)))?;
    }
    Ok(changed)
}
