//! The differential suite of `conformance/suite/`: build every program once, boot each on a
//! kernel image, cut the program's lines out of the serial console.
//!
//! A program is one `.c` file of `conformance/suite/` (`bench-*` are the benchmarks). The
//! programs are built once by the suite's Makefile with the user stubs of a MIG given as a
//! command line ([`build`]); [`boot`] runs one as the bootstrap task of a kernel image under
//! QEMU with GNU Mach's command line (`-kernel IMAGE -append console=com0 -initrd 'prog.elf
//! --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create)
//! $(task-resume)'`), so the same binary boots on GNU Mach and on Mach_R. [`SuiteRun`]
//! separates the program's lines (between `suite-begin <prog>` and `suite-end <prog>`, ending
//! in `\n`) from the kernel's (ending in `\r\n`).
//!
//!
//! Two conventions let a program go beyond a plain run ([`script`]): a program that reads the
//! console prints `suite-input` when it wants the next chunk of `input/<prog>.txt` written
//! to the serial line; a program that ends by a fault prints `suite-fault <prog>` just before
//! it, and the run ends there (QEMU is stopped a moment later, whether or not it exits); the
//! program's `suite-after-fault` line must then never appear.
//!
//! This module does not decide what a correct transcript is: the expected transcript is what
//! GNU Mach printed (`conformance/suite/expected/<prog>.txt`), and the tests compare.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::gnumach::{reference_root, repo_root, shell_quote};

/// The suite's source folder.
pub fn suite_dir() -> PathBuf {
    repo_root().join("conformance/suite")
}

/// The line a program prints to ask for the next chunk of its input.
pub const INPUT_TRIGGER: &str = "suite-input";

/// How long a run goes on after its `suite-fault` line (for the kernel's own lines).
pub const FAULT_GRACE: Duration = Duration::from_secs(1);

/// The input a program reads from the serial line: `input/<program>.txt`, if there is one.
pub fn input_path(program: &str) -> PathBuf {
    suite_dir().join("input").join(format!("{program}.txt"))
}

/// One line of an input file as bytes: `\n`, `\r`, `\t`, `\\` and `\xHH` are escapes,
/// everything else stands for itself (the line's own end is not part of it).
pub fn unescape(line: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut bytes = line.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let v = std::str::from_utf8(&hex)
                    .ok()
                    .filter(|h| h.len() == 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad \\x escape in input line {line:?}"))?;
                out.push(v);
            }
            other => {
                return Err(format!(
                    "unknown escape {:?} in input line {line:?}",
                    other.map(char::from)
                ))
            }
        }
    }
    Ok(out)
}

/// What a boot of `program` feeds the serial line and when it ends early: the chunks of
/// [`input_path`] (one per line), sent one per `suite-input` line; the stop after
/// `suite-fault <program>`.
pub fn script(program: &str) -> Result<crate::gnumach::SerialScript, String> {
    let path = input_path(program);
    let input = if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.lines().map(unescape).collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    Ok(crate::gnumach::SerialScript {
        input,
        trigger: INPUT_TRIGGER.to_string(),
        stop_after: Some((format!("suite-fault {program}"), FAULT_GRACE)),
    })
}

/// The programs of the suite, sorted: the stems of the `.c` files of [`suite_dir`].
pub fn programs() -> Result<Vec<String>, String> {
    let dir = suite_dir();
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// True for the benchmark programs, whose figures vary without `-icount` and are never
/// compared.
pub fn is_benchmark(program: &str) -> bool {
    program.starts_with("bench-")
}

/// The programs expected to print GNU Mach's transcript on Mach_R: `conformance/suite/mach_r.list`,
/// one name a line, `#` comments and blank lines ignored.
pub fn mach_r_list() -> Result<Vec<String>, String> {
    let path = suite_dir().join("mach_r.list");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// The transcript GNU Mach printed for `program`, as recorded in `expected/<program>.txt`.
pub fn expected_path(program: &str) -> PathBuf {
    suite_dir().join("expected").join(format!("{program}.txt"))
}

/// The suite built once.
#[derive(Debug, Clone)]
pub struct SuiteBuild {
    /// The output folder: stubs, objects, `<prog>.elf` and `gnumach.elf32`.
    pub dir: PathBuf,
    /// The programs built, sorted.
    pub programs: Vec<String>,
    /// GNU Mach converted to ELF32 for QEMU's multiboot loader.
    pub gnumach: PathBuf,
}

impl SuiteBuild {
    /// The ELF64 image of `program`.
    pub fn program(&self, program: &str) -> PathBuf {
        self.dir.join(format!("{program}.elf"))
    }
}

/// Builds every program of the suite into `out` with the user stubs that `mig_cmd` generates
/// (a command taking GNU MIG's driver flags; migc is `[migc, "-D__x86_64__"]`). `out` is
/// emptied first.
pub fn build(mig_cmd: &[&str], out: &Path) -> Result<SuiteBuild, String> {
    let root = reference_root()?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mig = mig_cmd
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(suite_dir())
        .arg(format!("OUT={}", out.display()))
        .arg(format!("REF={}", root.display()))
        .arg(format!("MIG={mig}"))
        .output()
        .map_err(|e| format!("cannot run make: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the suite with `{mig}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let build = SuiteBuild {
        dir: out.to_path_buf(),
        programs: programs()?,
        gnumach: out.join("gnumach.elf32"),
    };
    for p in &build.programs {
        if !build.program(p).is_file() {
            return Err(format!(
                "make did not produce {}",
                build.program(p).display()
            ));
        }
    }
    Ok(build)
}

/// What one boot of one program gave.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    /// The program booted.
    pub program: String,
    /// The serial console as received (`\r` kept: it tells kernel lines from program lines).
    pub raw: String,
    /// QEMU's exit code (0 after `host_reboot` under `-no-reboot`), `None` when killed.
    pub exit_code: Option<i32>,
    /// True when the run hit the time limit and QEMU was killed.
    pub timed_out: bool,
    /// True when the run was stopped after the program's `suite-fault` line.
    pub stopped: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// The lines of one program's run, cut out of the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cut {
    /// `suite-begin <prog>` was seen.
    pub begun: bool,
    /// `suite-end <prog>` was seen after it.
    pub ended: bool,
    /// `suite-fault <prog>` was seen after it (the program ends by a fault there).
    pub faulted: bool,
    /// A `suite-after-fault` line was printed: the program went on after its fault.
    pub after_fault: bool,
    /// The program's lines from `suite-begin` to `suite-end`, both included.
    pub lines: Vec<String>,
    /// Kernel lines (ending in `\r\n`) printed between the markers, in order.
    pub kernel_lines: Vec<String>,
}

impl SuiteRun {
    /// Cuts the program's lines out of the console: a program line ends in `\n` alone; the
    /// kernel's lines end in `\r\n`. The first program line follows the kernel's
    /// `start <prog>.elf: ` prefix on the same line.
    pub fn cut(&self) -> Cut {
        let begin = format!("suite-begin {}", self.program);
        let end = format!("suite-end {}", self.program);
        let fault = format!("suite-fault {}", self.program);
        let mut cut = Cut {
            after_fault: self.raw.contains("suite-after-fault"),
            ..Cut::default()
        };
        for piece in self.raw.split_inclusive('\n') {
            let kernel = piece.ends_with("\r\n");
            let text = piece.trim_end_matches(['\n', '\r']);
            if !cut.begun {
                if let Some(at) = text.find(&begin) {
                    if text[at..] == begin {
                        cut.begun = true;
                        cut.lines.push(begin.clone());
                    }
                }
                continue;
            }
            if kernel || !piece.ends_with('\n') {
                cut.kernel_lines.push(text.replace('\r', ""));
                continue;
            }
            // GNU Mach's console puts a `\r` before the first character written after a
            // kernel line: not part of the program's output.
            let text = text.replace('\r', "");
            if text == end || text == fault {
                cut.ended = text == end;
                cut.faulted = text == fault;
                cut.lines.push(text);
                break;
            }
            cut.lines.push(text);
        }
        cut
    }

    /// The console without `\r`, for messages.
    pub fn transcript(&self) -> String {
        self.raw.replace('\r', "")
    }
}

/// Extra QEMU arguments of a boot (for example `-icount shift=0,sleep=off`).
pub type QemuArgs<'a> = &'a [&'a str];

/// Boots `kernel` (a Multiboot image for QEMU's `-kernel`) with `program` of `build` as its
/// bootstrap task, with its [`script`], and waits at most `limit` for QEMU to exit.
pub fn boot(
    build: &SuiteBuild,
    program: &str,
    kernel: &Path,
    extra: QemuArgs,
    limit: Duration,
) -> Result<SuiteRun, String> {
    let run = crate::gnumach::boot_module_scripted(
        &build.dir,
        kernel,
        &format!("{program}.elf"),
        // One log per program and kernel: the tests boot both kernels at the same time.
        &build.dir.join(format!(
            "{program}.{}.console",
            kernel
                .file_stem()
                .map_or_else(|| "kernel".into(), |s| s.to_string_lossy())
        )),
        extra,
        limit,
        &script(program)?,
    )?;
    Ok(SuiteRun {
        program: program.to_string(),
        raw: run.raw,
        exit_code: run.exit_code,
        timed_out: run.timed_out,
        stopped: run.stopped,
        elapsed: run.elapsed,
    })
}

/// Boots `kernel` with the boot-script lines `modules` (the `-initrd` argument: lines
/// separated by commas, run from the build folder) and cuts the lines of `program`, the one
/// that prints.
pub fn boot_script(
    build: &SuiteBuild,
    program: &str,
    modules: &str,
    kernel: &Path,
    limit: Duration,
) -> Result<SuiteRun, String> {
    let run = crate::gnumach::boot_modules(
        &build.dir,
        kernel,
        modules,
        &build.dir.join(format!(
            "{program}.script.{}.console",
            kernel
                .file_stem()
                .map_or_else(|| "kernel".into(), |s| s.to_string_lossy())
        )),
        &[],
        limit,
    )?;
    Ok(SuiteRun {
        program: program.to_string(),
        raw: run.raw,
        exit_code: run.exit_code,
        timed_out: run.timed_out,
        stopped: run.stopped,
        elapsed: run.elapsed,
    })
}

/// The Mach_R kernel image: runs `cargo xtask build` from the repository root and returns the
/// path it prints as `kernel: PATH`.
pub fn mach_r_kernel() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(repo_root())
        .args(["xtask", "build"])
        .output()
        .map_err(|e| format!("cannot run cargo xtask build: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "cargo xtask build failed ({}):\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("kernel: "))
        .map(|p| PathBuf::from(p.trim()))
        .ok_or_else(|| format!("cargo xtask build printed no `kernel: PATH` line:\n{stdout}"))
}

/// migc, built by `cargo build --release -p migc` (quick when it is up to date) in the
/// workspace's target folder.
pub fn migc_binary() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .current_dir(repo_root())
        .args(["build", "--release", "-p", "migc", "--bin", "migc"])
        .status()
        .map_err(|e| format!("cannot run cargo build -p migc: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release -p migc failed: {status}"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let migc = target.join("release/migc");
    if migc.is_file() {
        Ok(migc)
    } else {
        Err(format!("{} was not built", migc.display()))
    }
}

/// The first line where two transcripts differ, as a message (`None` when identical).
pub fn first_difference(expected: &[String], got: &[String]) -> Option<String> {
    for i in 0..expected.len().max(got.len()) {
        let (e, g) = (expected.get(i), got.get(i));
        if e != g {
            return Some(format!(
                "line {}: expected {:?}, got {:?}",
                i + 1,
                e.map(String::as_str).unwrap_or("<end>"),
                g.map(String::as_str).unwrap_or("<end>")
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(raw: &str) -> SuiteRun {
        SuiteRun {
            program: "ports".into(),
            raw: raw.into(),
            exit_code: Some(0),
            timed_out: false,
            stopped: false,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn cut_ends_at_a_fault_and_sees_lines_after_it() {
        let cut =
            run("start ports.elf: suite-begin ports\na: 1\nsuite-fault ports\n[fault] x\n").cut();
        assert!(cut.begun && cut.faulted && !cut.ended && !cut.after_fault);
        assert_eq!(
            cut.lines,
            ["suite-begin ports", "a: 1", "suite-fault ports"]
        );
        let on = run("suite-begin ports\nsuite-fault ports\nsuite-after-fault ports: 1\n").cut();
        assert!(on.faulted && on.after_fault);
    }

    #[test]
    fn input_lines_unescape() {
        assert_eq!(unescape("ab").unwrap(), b"ab");
        assert_eq!(unescape("x\\r\\n\\t\\\\\\x41").unwrap(), b"x\r\n\t\\A");
        assert!(unescape("\\q").is_err());
        assert!(unescape("\\x4").is_err());
    }

    #[test]
    fn cut_separates_kernel_lines_and_strips_the_start_prefix() {
        let raw =
            "GNU Mach 1.8\r\ntask loaded: ports.elf\r\n\r\nstart ports.elf: suite-begin ports\n\
                   a: 1\ntask ports.elf destroying a bogus port 400, most probably a bug.\r\n\
                   \rb: 2\nsuite-end ports\n";
        let cut = run(raw).cut();
        assert!(cut.begun && cut.ended);
        assert_eq!(
            cut.lines,
            ["suite-begin ports", "a: 1", "b: 2", "suite-end ports"]
        );
        assert_eq!(
            cut.kernel_lines,
            ["task ports.elf destroying a bogus port 400, most probably a bug."]
        );
    }

    #[test]
    fn cut_reports_a_missing_end() {
        let cut = run("start ports.elf: suite-begin ports\na: 1\npanic\r\n").cut();
        assert!(cut.begun && !cut.ended);
        assert_eq!(cut.lines, ["suite-begin ports", "a: 1"]);
        assert_eq!(cut.kernel_lines, ["panic"]);
        let none = run("suite-begin portset\n").cut();
        assert!(!none.begun);
    }

    #[test]
    fn differences_name_the_line() {
        let a = vec!["x".to_string(), "y".to_string()];
        let b = vec!["x".to_string()];
        assert_eq!(first_difference(&a, &a), None);
        assert_eq!(
            first_difference(&a, &b).as_deref(),
            Some("line 2: expected \"y\", got \"<end>\"")
        );
    }
}
