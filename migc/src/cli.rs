//! Command-line parsing, compatible with GNU `mig` (single-dash long flags such as `-user F`)
//! plus migc's own double-dash options. Hand-written because mig's flags do not fit clap.

use std::path::PathBuf;

/// Everything the command line says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cli {
    /// `--check`: parse and check only; write nothing.
    pub check: bool,
    pub dialect: Option<String>,
    pub target: Option<String>,
    /// `--emit KIND` (`ir`, ...), several allowed.
    pub emit: Vec<String>,
    /// `-o FILE` for `--emit`.
    pub output: Option<PathBuf>,
    pub include_dirs: Vec<PathBuf>,
    pub system_dirs: Vec<PathBuf>,
    /// `-idirafter DIR`: searched after the system directories.
    pub after_dirs: Vec<PathBuf>,
    /// `-nostdinc`: no standard system directories.
    pub nostdinc: bool,
    /// `--sysroot DIR`: the root of the standard system directories.
    pub sysroot: Option<PathBuf>,
    /// `-D`/`-U` in command-line order: (name, value) or (name, None) for `-U`.
    pub macros: Vec<MacroArg>,
    pub imacros: Vec<PathBuf>,
    /// `-undef`: no target macros (GNU MIG's legacy default).
    pub undef: bool,
    /// `-cc PROG`: an external preprocessor command.
    pub cc: Option<String>,
    /// `-n`: no default output files.
    pub no_default_outputs: bool,
    pub user: Option<PathBuf>,
    pub server: Option<PathBuf>,
    pub header: Option<PathBuf>,
    pub sheader: Option<PathBuf>,
    pub iheader: Option<PathBuf>,
    pub list: Option<PathBuf>,
    /// `-i PREFIX`: one user file per routine.
    pub split_user: Option<String>,
    pub prefix: Option<String>,
    pub subrprefix: Option<String>,
    /// `-MD`: write a make dependency file.
    pub make_deps: bool,
    /// `-q` (false) / `-Q` (true): warnings.
    pub warnings: bool,
    /// `-v` (true) / `-V` (false).
    pub verbose: bool,
    /// `-s` (true) / `-S` (false): symbol table in the server.
    pub symtab: bool,
    pub files: Vec<String>,
    /// Arguments for an external preprocessor (`-cc`), in order: `-D`, `-U`, `-I`, `-isystem`,
    /// `-imacros`, `-undef`, `-`, and any other single-dash flag (GNU mig passes those to cpp).
    pub cpp_args: Vec<String>,
    /// Flags accepted for compatibility that do nothing, with the reason (reported as warnings).
    pub ignored: Vec<(String, &'static str)>,
    pub help: bool,
    pub version: bool,
    /// Running as the `migcom` alias: standard input is preprocessed text (set by `migcom.rs`).
    pub migcom: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroArg {
    Define(String, Option<String>),
    Undef(String),
}

/// A command-line error: what is wrong, for `migc: error: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const HELP: &str = "\
migc: the Mach Interface Generator (a drop-in replacement for GNU MIG)

Usage: migc [OPTIONS] FILE...
       migc --check [--dialect D] [--target T] [-I DIR] [-D NAME[=VAL]] FILE...

Reads MIG interface definitions (.defs) and writes C stubs, message-id lists and other
outputs. A FILE of `-`, or no FILE, reads standard input. Called as `x86_64-gnu-migcom` (or
any name ending in `migcom`), migc is GNU's compiler proper: preprocessed text on standard
input, MIG flags only, no preprocessor.

migc options:
      --check              preprocess, parse and check every FILE; write nothing
      --dialect D          gnu (default), apple, osf or cmu
      --target T           x86_64-gnu (default) or i686-gnu: sizes, layouts, predefined macros
      --emit KIND          also write KIND: ir (the IR as JSON), rust (Rust stubs, client
                           and server; target x86_64-gnu only), rust-client, rust-server,
                           obj (-user and -server write x86_64 ELF objects, default
                           <subsystem>User.o and <subsystem>Server.o)
  -o FILE                  where --emit writes (default: standard output)
  -h, --help               print this help
      --version            print the version

GNU mig options:
  -user FILE               client stubs (default <subsystem>User.c)
  -server FILE             server stubs (default <subsystem>Server.c)
  -header FILE             client header (default <subsystem>.h)
  -sheader FILE            server header
  -iheader FILE            internal header (KernelServer subsystems)
  -list FILE               message ids: <subsystem> <base> <routine> <number> <request id> <reply id>
  -i PREFIX                one client file per routine, named PREFIX<routine>.c
  -n                       no default output files, only those named
  -prefix P                prefix for routine and demux function names
  -subrprefix P            prefix for runtime calls (mach_msg, mig_get_reply_port, ...)
  -s, -S                   symbol table in the server on / off
  -q, -Q                   warnings off / on
  -v, -V                   verbose (print the include search list) / silent
  -MD                      write a make dependency file <base>.d
  -cc PROG                 preprocess with PROG instead of the built-in preprocessor
  -migcom PATH             accepted and ignored (migc has no separate compiler pass)
  /dev/null as an output file disables that output.

Preprocessor options:
  -I DIR, -IDIR            add DIR to the include search path
  -isystem DIR             add DIR to the system include search path
  -idirafter DIR           add DIR after the standard system directories
  -nostdinc                do not search the standard system directories (those of `$CC -E`,
                           default gcc: /usr/local/include, the multiarch folder, /usr/include)
  --sysroot DIR            look for the standard system directories under DIR
  -D NAME[=VAL]            define a macro
  -U NAME                  undefine a macro
  -imacros FILE            read macros from FILE
  -undef                   define no target macros (GNU MIG's legacy default; yields 32-bit layouts)

Exit status: 0 on success, 1 when an input has errors, 2 on a usage error.
";

/// Parses arguments (without the program name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, CliError> {
    let mut cli = Cli {
        warnings: true,
        ..Cli::default()
    };
    let mut it = args.into_iter().peekable();
    let mut only_files = false;
    while let Some(arg) = it.next() {
        if arg == "-" {
            // GNU mig hands `-` to the preprocessor (`-cc cat - /dev/null` reads standard
            // input); without `-cc` it names standard input as a file.
            cli.cpp_args.push(arg.clone());
            cli.files.push(arg);
            continue;
        }
        if only_files || !arg.starts_with('-') {
            cli.files.push(arg);
            continue;
        }
        let mut value = |name: &str| -> Result<String, CliError> {
            it.next()
                .ok_or_else(|| CliError(format!("option `{name}` needs a value")))
        };
        match arg.as_str() {
            "--" => only_files = true,
            "--check" => cli.check = true,
            "--help" | "-h" | "-help" => cli.help = true,
            "--version" | "-version" => cli.version = true,
            "--dialect" => cli.dialect = Some(value("--dialect")?),
            "--target" => cli.target = Some(value("--target")?),
            "--emit" => cli.emit.push(value("--emit")?),
            "-o" => cli.output = Some(value("-o")?.into()),
            "-user" => cli.user = Some(value("-user")?.into()),
            "-server" => cli.server = Some(value("-server")?.into()),
            "-header" => cli.header = Some(value("-header")?.into()),
            "-sheader" => cli.sheader = Some(value("-sheader")?.into()),
            "-iheader" => cli.iheader = Some(value("-iheader")?.into()),
            "-list" => cli.list = Some(value("-list")?.into()),
            "-i" => cli.split_user = Some(value("-i")?),
            "-prefix" => cli.prefix = Some(value("-prefix")?),
            "-subrprefix" => cli.subrprefix = Some(value("-subrprefix")?),
            "-cc" => cli.cc = Some(value("-cc")?),
            "-migcom" => {
                value("-migcom")?;
                cli.ignored
                    .push(("-migcom".into(), "migc has no separate compiler pass"));
            }
            "-imacros" => {
                let v = value("-imacros")?;
                cli.cpp_args.extend(["-imacros".to_string(), v.clone()]);
                cli.imacros.push(v.into());
            }
            "-isystem" => {
                let v = value("-isystem")?;
                cli.cpp_args.extend(["-isystem".to_string(), v.clone()]);
                cli.system_dirs.push(v.into());
            }
            "-idirafter" => {
                let v = value("-idirafter")?;
                cli.cpp_args.extend(["-idirafter".to_string(), v.clone()]);
                cli.after_dirs.push(v.into());
            }
            "--sysroot" => {
                let v = value("--sysroot")?;
                cli.cpp_args.push(format!("--sysroot={v}"));
                cli.sysroot = Some(v.into());
            }
            "-nostdinc" => {
                cli.cpp_args.push(arg.clone());
                cli.nostdinc = true;
            }
            "--verbose" => cli.verbose = true,
            "-undef" => {
                cli.cpp_args.push(arg.clone());
                cli.undef = true;
            }
            "-n" => cli.no_default_outputs = true,
            "-MD" => cli.make_deps = true,
            "-q" => cli.warnings = false,
            "-Q" => cli.warnings = true,
            "-v" => cli.verbose = true,
            "-V" => cli.verbose = false,
            "-s" => cli.symtab = true,
            "-S" => cli.symtab = false,
            "-I" => {
                let v = value("-I")?;
                cli.cpp_args.push(format!("-I{v}"));
                cli.include_dirs.push(v.into());
            }
            "-D" => {
                let v = value("-D")?;
                cli.cpp_args.push(format!("-D{v}"));
                cli.macros.push(define(&v));
            }
            "-U" => {
                let v = value("-U")?;
                cli.cpp_args.push(format!("-U{v}"));
                cli.macros.push(MacroArg::Undef(v));
            }
            _ if arg.starts_with("--dialect=") => cli.dialect = Some(arg[10..].to_string()),
            _ if arg.starts_with("--target=") => cli.target = Some(arg[9..].to_string()),
            _ if arg.starts_with("--emit=") => cli.emit.push(arg[7..].to_string()),
            _ if arg.starts_with("--sysroot=") => {
                cli.cpp_args.push(arg.clone());
                cli.sysroot = Some(arg[10..].into());
            }
            _ if arg.starts_with("-idirafter") => {
                cli.cpp_args.push(arg.clone());
                cli.after_dirs.push(arg[10..].into());
            }
            _ if arg.starts_with("-isystem") => {
                cli.cpp_args.push(arg.clone());
                cli.system_dirs.push(arg[8..].into());
            }
            _ if arg.starts_with("-I") => {
                cli.cpp_args.push(arg.clone());
                cli.include_dirs.push(arg[2..].into());
            }
            _ if arg.starts_with("-D") => {
                cli.cpp_args.push(arg.clone());
                cli.macros.push(define(&arg[2..]));
            }
            _ if arg.starts_with("-U") => {
                cli.cpp_args.push(arg.clone());
                cli.macros.push(MacroArg::Undef(arg[2..].to_string()));
            }
            _ if arg.starts_with("--") => {
                return Err(CliError(format!("unknown option `{arg}`")));
            }
            // GNU mig passes any other single-dash flag to the preprocessor.
            _ => {
                cli.cpp_args.push(arg.clone());
                cli.ignored.push((
                    arg.clone(),
                    "a preprocessor flag the built-in preprocessor does not use",
                ));
            }
        }
    }
    Ok(cli)
}

fn define(s: &str) -> MacroArg {
    match s.split_once('=') {
        Some((n, v)) => MacroArg::Define(n.to_string(), Some(v.to_string())),
        None => MacroArg::Define(s.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Cli {
        parse_args(args.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn gnu_mach_invocation() {
        let c = p(&[
            "-n",
            "-cc",
            "cat",
            "-",
            "/dev/null",
            "-sheader",
            "X.server.h",
            "-server",
            "X.server.c",
            "-list",
            "X.server.msgids",
        ]);
        assert!(c.no_default_outputs);
        assert_eq!(c.cc.as_deref(), Some("cat"));
        assert_eq!(c.files, vec!["-", "/dev/null"]);
        assert_eq!(c.sheader, Some("X.server.h".into()));
        assert_eq!(c.list, Some("X.server.msgids".into()));
    }

    #[test]
    fn include_and_define_forms() {
        let c = p(&["-Ia", "-I", "b", "-DX=1", "-D", "Y", "-UZ", "f.defs"]);
        assert_eq!(c.include_dirs, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(
            c.macros,
            vec![
                MacroArg::Define("X".into(), Some("1".into())),
                MacroArg::Define("Y".into(), None),
                MacroArg::Undef("Z".into())
            ]
        );
    }

    #[test]
    fn system_search_flags() {
        let c = p(&[
            "-isystem",
            "s",
            "-isystemt",
            "-idirafter",
            "a",
            "-idirafterb",
            "-nostdinc",
            "--sysroot",
            "/r",
            "f.defs",
        ]);
        assert_eq!(c.system_dirs, vec![PathBuf::from("s"), PathBuf::from("t")]);
        assert_eq!(c.after_dirs, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert!(c.nostdinc);
        assert_eq!(c.sysroot, Some(PathBuf::from("/r")));
        assert_eq!(p(&["--sysroot=/q"]).sysroot, Some(PathBuf::from("/q")));
        assert_eq!(c.files, vec!["f.defs"]);
        assert!(c.ignored.is_empty());
    }

    #[test]
    fn missing_value_is_an_error() {
        let e = parse_args(["-user".to_string()]).unwrap_err();
        assert_eq!(e.0, "option `-user` needs a value");
        assert!(parse_args(["--bogus".to_string()]).is_err());
    }
}
