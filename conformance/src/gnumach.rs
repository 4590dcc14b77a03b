//! Booting GNU Mach under QEMU with the bootstrap program of `conformance/gnumach-boot/`.
//!
//! The program is built by its Makefile with the user stubs of a MIG given as a command line
//! ([`build_with_mig`]), so the same checks run with GNU MIG's stubs and with migc's
//! (`migc/tests/gnumach_boot_migc.rs`).
//! [`boot`] runs it as the first task of Debian's GNU Mach and returns the console transcript.
//! This module does not decide what a correct transcript is: the tests do.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::paths::{reference_include, reference_root, repo_root};

/// GNU MIG's driver with the flag that selects x86_64 stubs (its preprocessor is run with
/// `-undef`, so `__x86_64__` must be given).
pub fn gnu_mig_command(root: &Path) -> Vec<String> {
    vec![
        root.join("usr/bin/x86_64-gnu-mig").display().to_string(),
        "-D__x86_64__".to_string(),
    ]
}

/// Quotes one word for `sh`.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "%+,./:=@_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A built bootstrap program and the kernel converted for QEMU.
#[derive(Debug, Clone)]
pub struct BootImage {
    /// The output folder: holds the generated stubs, the objects and the two images.
    pub dir: PathBuf,
    /// The program, `gnumach-boot.elf` (ELF64).
    pub program: PathBuf,
    /// GNU Mach converted to ELF32 for QEMU's multiboot loader.
    pub kernel: PathBuf,
}

/// Builds the bootstrap program into `out` with the user stubs that `mig_cmd` generates.
///
/// `mig_cmd` is a command line taking GNU MIG's driver flags (`-I`, `-n`, `-user F`,
/// `-header F`, a `.defs` file); for GNU MIG that is [`gnu_mig_command`].  `out` is emptied first.
pub fn build_with_mig(mig_cmd: &[&str], out: &Path) -> Result<BootImage, String> {
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
        .arg(repo_root().join("conformance/gnumach-boot"))
        .arg(format!("OUT={}", out.display()))
        .arg(format!("REF={}", root.display()))
        .arg(format!("MIG={mig}"))
        .output()
        .map_err(|e| format!("cannot run make: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the bootstrap program with `{mig}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(BootImage {
        dir: out.to_path_buf(),
        program: out.join("gnumach-boot.elf"),
        kernel: out.join("gnumach.elf32"),
    })
}

/// The stub compiler's warnings of a build, one `<subsystem>User.warnings` file per stub file,
/// concatenated (empty when gcc -Wall -Wextra had nothing to say).
pub fn stub_warnings(image: &BootImage) -> String {
    let mut all = String::new();
    let Ok(entries) = std::fs::read_dir(&image.dir) else {
        return all;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "warnings"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if !text.is_empty() {
            let _ = writeln!(all, "== {}\n{text}", file.display());
        }
    }
    all
}

/// What one QEMU run gave.
#[derive(Debug, Clone)]
pub struct BootRun {
    /// The serial console with `\r` removed.
    pub transcript: String,
    /// QEMU's exit code (0 after `host_reboot` under `-no-reboot`), `None` when killed.
    pub exit_code: Option<i32>,
    /// True when the run hit the time limit and QEMU was killed.
    pub timed_out: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl BootRun {
    /// The program's lines: from the one carrying the kernel's `start <program>: ` prefix
    /// (which is removed) to the end, without kernel lines.
    pub fn program_lines(&self) -> Vec<String> {
        let prefix = "start gnumach-boot.elf: ";
        let mut lines = Vec::new();
        let mut started = false;
        for line in self.transcript.lines() {
            if let Some(rest) = line.strip_prefix(prefix) {
                started = true;
                lines.push(rest.to_string());
            } else if started {
                lines.push(line.to_string());
            }
        }
        lines
    }
}

/// Boots GNU Mach with `image` as its bootstrap task (QEMU, 128 MiB, TCG) and waits at most
/// `limit` for QEMU to exit.
pub fn boot(image: &BootImage, limit: Duration) -> Result<BootRun, String> {
    let run = boot_module(
        &image.dir,
        &image.kernel,
        "gnumach-boot.elf",
        &image.dir.join("console.log"),
        &[],
        limit,
    )?;
    Ok(BootRun {
        transcript: run.raw.replace('\r', ""),
        exit_code: run.exit_code,
        timed_out: run.timed_out,
        elapsed: run.elapsed,
    })
}

/// What one QEMU boot left: the serial console as written, QEMU's exit code (`None` when
/// killed), whether the limit killed it, and how long it ran.
#[derive(Debug)]
pub struct RawRun {
    /// The serial console, unchanged.
    pub raw: String,
    /// QEMU's exit code.
    pub exit_code: Option<i32>,
    /// True when the run hit the time limit.
    pub timed_out: bool,
    /// True when the run was stopped after the script's `stop_after` line.
    pub stopped: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// What a boot writes to the serial line, and when it may end without QEMU exiting.
#[derive(Debug, Clone, Default)]
pub struct SerialScript {
    /// Chunks of input: the k-th is written to the serial line (QEMU's standard input) when
    /// the console shows the k-th `trigger` line.
    pub input: Vec<Vec<u8>>,
    /// The line (without its `\n`) that asks for the next chunk.
    pub trigger: String,
    /// A line after which the run is over even if QEMU does not exit (a program that ends by
    /// a fault): QEMU is stopped `grace` after the line appears.
    pub stop_after: Option<(String, Duration)>,
}

impl SerialScript {
    /// True when the boot needs neither input nor an early stop.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty() && self.stop_after.is_none()
    }
}

/// Boots `kernel` by GNU Mach's QEMU command (`-kernel`, `-append console=com0`, one module)
/// with `program` (a file in `dir`) as its bootstrap task, the serial console written to
/// `log`, `extra` QEMU arguments, and waits at most `limit` for QEMU to exit. QEMU runs in
/// `dir`, so the module's first word (its path and argv[0]) is the bare file name and the
/// transcript does not depend on where the build went.
pub fn boot_module(
    dir: &Path,
    kernel: &Path,
    program: &str,
    log: &Path,
    extra: &[&str],
    limit: Duration,
) -> Result<RawRun, String> {
    boot_module_scripted(
        dir,
        kernel,
        program,
        log,
        extra,
        limit,
        &SerialScript::default(),
    )
}

/// The suite's one module line for `program`.
fn module_line(program: &str) -> String {
    format!(
        "{program} --host-priv-port=${{host-port}} --device-master-port=${{device-port}} \
         $(task-create) $(task-resume)"
    )
}

/// Like [`boot_module`] with the whole `-initrd` argument given: boot-script lines separated
/// by commas, one module each (GNU Mach's boot script, `$(name=task-create)` and `${name}`
/// across lines).
pub fn boot_modules(
    dir: &Path,
    kernel: &Path,
    modules: &str,
    log: &Path,
    extra: &[&str],
    limit: Duration,
) -> Result<RawRun, String> {
    boot_initrd_scripted(
        dir,
        kernel,
        modules,
        log,
        extra,
        limit,
        &SerialScript::default(),
    )
}

fn qemu_command(dir: &Path, kernel: &Path, module: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.current_dir(dir)
        .args(["-m", "128", "-kernel"])
        .arg(kernel)
        .args(["-append", "console=com0", "-initrd", module])
        .args(["-nographic", "-no-reboot", "-serial", "stdio"])
        .args(["-display", "none", "-monitor", "none"])
        .args(extra);
    cmd
}

/// [`boot_module`] with serial input and an early end ([`SerialScript`]): QEMU's standard
/// output is read as it comes (and copied to `log`); each `trigger` line makes the next chunk
/// of input go to QEMU's standard input, which `-serial stdio` makes the serial line's input.
/// With an empty script, QEMU's standard input is closed.
pub fn boot_module_scripted(
    dir: &Path,
    kernel: &Path,
    program: &str,
    log: &Path,
    extra: &[&str],
    limit: Duration,
    script: &SerialScript,
) -> Result<RawRun, String> {
    boot_initrd_scripted(
        dir,
        kernel,
        &module_line(program),
        log,
        extra,
        limit,
        script,
    )
}

/// [`boot_module_scripted`] with the `-initrd` argument (the module lines) given.
fn boot_initrd_scripted(
    dir: &Path,
    kernel: &Path,
    module: &str,
    log: &Path,
    extra: &[&str],
    limit: Duration,
    script: &SerialScript,
) -> Result<RawRun, String> {
    let log_file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let mut cmd = qemu_command(dir, kernel, module, extra);
    if script.is_empty() {
        cmd.stdin(Stdio::null()).stdout(log_file);
    } else {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    }
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
    // The console as it arrives (scripted boots only), filled by a reader thread.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let reader = child.stdout.take().map(|mut out| {
        let seen = std::sync::Arc::clone(&seen);
        let mut log_file = log_file_clone(log);
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Some(f) = log_file.as_mut() {
                    let _ = f.write_all(&buf[..n]);
                }
                seen.lock().map(|mut s| s.extend_from_slice(&buf[..n])).ok();
            }
        })
    });
    let mut stdin = child.stdin.take();
    let trigger = format!("{}\n", script.trigger);
    let mut sent = 0;
    let mut stop_at: Option<Instant> = None;
    let mut stopped = false;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if !script.is_empty() {
            let text = seen.lock().map(|s| s.clone()).unwrap_or_default();
            let asked = count(&text, trigger.as_bytes());
            while sent < asked && sent < script.input.len() {
                if let Some(w) = stdin.as_mut() {
                    use std::io::Write;
                    let _ = w.write_all(&script.input[sent]).and_then(|()| w.flush());
                }
                sent += 1;
            }
            if let (None, Some((line, grace))) = (stop_at, &script.stop_after) {
                if count(&text, format!("{line}\n").as_bytes()) > 0 {
                    stop_at = Some(Instant::now() + *grace);
                }
            }
        }
        if stop_at.is_some_and(|t| Instant::now() >= t) {
            let _ = child.kill();
            let _ = child.wait();
            stopped = true;
            break None;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    if let Some(r) = reader {
        let _ = r.join();
    }
    let raw = if script.is_empty() {
        std::fs::read(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?
    } else {
        seen.lock().map(|s| s.clone()).unwrap_or_default()
    };
    Ok(RawRun {
        raw: String::from_utf8_lossy(&raw).into_owned(),
        exit_code: status.and_then(|s| s.code()),
        timed_out,
        stopped,
        elapsed: started.elapsed(),
    })
}

/// The log file opened again for the reader thread (it was created, empty, before the boot).
fn log_file_clone(log: &Path) -> Option<std::fs::File> {
    std::fs::OpenOptions::new().append(true).open(log).ok()
}

/// How many times `needle` occurs in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The bootstrap program's lines, in order, as GNU Mach 2:1.8+git20250702 (amd64-up, QEMU TCG,
/// 128 MiB) answers them: observed with GNU MIG's stubs, and required of every other build of
/// the program (migc's C stubs, the Rust program).
pub const EXPECTED: &[&str] = &[
    "gnumach-boot: argc=3 host-priv-port=1 device-master-port=2",
    "ok host_info basic: max_cpus=1 avail_cpus=1 memory_size=134021120 cpu_type=21 cpu_subtype=1",
    "ok host_get_kernel_version: GNU Mach 1.8+git20250702-up-amd64",
    "ok vm_allocate round trip: size=12288 zero-filled, read back checksum=4680806a904ce800",
    "ok vm_deallocate: no region left at the address (vm_region finds a later region)",
    "ok task_info basic: count=30 suspend_count=0 base_priority=25",
    "ok mach_port_allocate receive: mach_port_type=0x20000",
    "ok mach_port_insert_right make-send: mach_port_type=0x30000",
    "ok mach_msg to self: id=4242 size=80 bits=0x80001100 inline data and out-of-line copy match",
    "ok mach_port_destroy: mach_port_type now returns 0xf",
    "gnumach-boot: passed, 0 failures",
];
