//! The `migcom` convention: GNU MIG's compiler proper reads preprocessed text on standard input
//! and knows only MIG's own flags. `x86_64-gnu-migcom` (or any name ending in `migcom`) is migc
//! in that role, so `MIGCOM=` pipelines (`cpp ... | $MIGCOM -user X -server Y -header Z`) and
//! GNU's driver with `MIGDIR=` pointing at migc's binaries both work.

use crate::cli::{Cli, CliError};

/// Checks a command line for the `migcom` role and marks it so. Like GNU's `migcom`, a file
/// name, a preprocessor flag, `-cc` or `-MD` is a usage error: there is no preprocessor to
/// hand them to, and silently dropping an `-I` or `-D` would change what the text means.
pub fn restrict(mut cli: Cli) -> Result<Cli, CliError> {
    if let Some(f) = cli.files.iter().find(|f| f.as_str() != "-") {
        return Err(CliError(format!(
            "bad argument `{f}`: migcom reads preprocessed text on standard input \
             (use migc or x86_64-gnu-mig to read files)"
        )));
    }
    if let Some(flag) = cli.cpp_args.iter().find(|a| a.as_str() != "-") {
        return Err(CliError(format!(
            "unknown flag `{flag}`: migcom runs no preprocessor (use migc or x86_64-gnu-mig)"
        )));
    }
    for (set, flag) in [(cli.cc.is_some(), "-cc"), (cli.make_deps, "-MD")] {
        if set {
            return Err(CliError(format!(
                "unknown flag `{flag}`: migcom runs no preprocessor (use migc or x86_64-gnu-mig)"
            )));
        }
    }
    cli.files.clear();
    cli.migcom = true;
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_args;

    fn migcom(args: &[&str]) -> Result<Cli, CliError> {
        restrict(parse_args(args.iter().map(|s| s.to_string())).unwrap())
    }

    #[test]
    fn mig_flags_are_accepted_and_input_is_standard_input() {
        let c = migcom(&[
            "-user", "u.c", "-server", "s.c", "-header", "h.h", "-n", "-q",
        ])
        .unwrap();
        assert!(c.migcom);
        assert!(c.files.is_empty());
        assert_eq!(c.user, Some("u.c".into()));
        assert!(migcom(&["-list", "x", "-"]).unwrap().files.is_empty());
    }

    #[test]
    fn preprocessor_flags_and_files_are_refused() {
        for args in [
            &["-I/x"][..],
            &["-Dfoo"],
            &["-undef"],
            &["-isystem", "d"],
            &["-cc", "gcc"],
            &["-MD"],
            &["a.defs"],
        ] {
            assert!(migcom(args).is_err(), "{args:?} accepted");
        }
    }
}
