//! Kernel tasks: build the kernel (its own cargo workspace in `kernel/`) and the user test
//! programs (gcc, from `kernel/user/`), pack the programs into a ustar module, boot under
//! QEMU, and judge the serial transcript.

pub mod bench;
pub mod image;
pub mod iso;
pub mod qemu;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Kernel command-line word that starts the in-kernel test suite.
pub const TEST_CMDLINE: &str = "test";

/// The user programs: (program name in the archive, C source). `faults.c` is installed under
/// every name its `main` dispatches on.
const PROGRAMS: &[(&str, &str)] = &[
    ("hello", "hello.c"),
    ("traps", "traps.c"),
    ("garbage", "garbage.c"),
    ("bench_null", "bench_null.c"),
];
const FAULT_NAMES: &[&str] = &[
    "fault_null",
    "fault_kernel",
    "fault_wp",
    "fault_nx",
    "fault_div",
    "fault_ud",
    "fault_noncanon",
    "priv_hlt",
    "priv_cli",
    "priv_io",
    "priv_cr3",
    "priv_wrmsr",
    "priv_int80",
    "stack_overflow",
    "spin",
    "vm_exhaust",
];
/// `heap.c` is installed under every name its `main` dispatches on (the kernel heap filled
/// through ports, queued messages, threads, VM regions).
const HEAP_NAMES: &[&str] = &["heap_ports", "heap_queue", "heap_threads", "heap_regions"];

/// The repository root (parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}

/// `kernel/`.
pub fn kernel_dir() -> PathBuf {
    root().join("kernel")
}

/// Where xtask puts its outputs (`kernel/target/xtask`).
pub fn out_dir() -> PathBuf {
    kernel_dir().join("target").join("xtask")
}

/// Runs a command, failing with its name when it cannot start or exits non-zero.
pub fn run_cmd(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed: {status}", cmd.get_program()))
    }
}

/// Builds the kernel ELF (release profile) and returns its path.
pub fn build_kernel() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dir = kernel_dir();
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--bin", "mach_r"]);
    // Variables set for the outer cargo must not leak into the freestanding build.
    for v in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(v);
    }
    run_cmd(&mut cmd)?;
    Ok(dir.join("target/x86_64-unknown-linux-gnu/release/mach_r"))
}

fn gcc_program(src: &str, out: &Path) -> Result<(), String> {
    let user = kernel_dir().join("user");
    let mut cmd = Command::new("gcc");
    cmd.current_dir(&user).args([
        "-O2",
        "-g",
        "-ffreestanding",
        "-fno-builtin",
        "-nostdlib",
        "-static",
        "-fno-pie",
        "-no-pie",
        "-fno-stack-protector",
        "-fno-omit-frame-pointer",
        "-mno-red-zone",
        "-fcf-protection=none",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wl,-T,user.ld",
        "-Wl,--build-id=none",
        "-Wl,-z,noexecstack",
        "-o",
    ]);
    cmd.arg(out).args(["crt0.S", "lib.c", src]);
    run_cmd(&mut cmd)
}

/// Builds every user program; returns (name, ELF path) for each installed name.
pub fn build_user() -> Result<Vec<(String, PathBuf)>, String> {
    let dir = out_dir().join("user");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for (name, src) in PROGRAMS {
        let elf = dir.join(name);
        gcc_program(src, &elf)?;
        out.push(((*name).to_string(), elf));
    }
    let faults = dir.join("faults");
    gcc_program("faults.c", &faults)?;
    for name in FAULT_NAMES {
        out.push(((*name).to_string(), faults.clone()));
    }
    let heap = dir.join("heap");
    gcc_program("heap.c", &heap)?;
    for name in HEAP_NAMES {
        out.push(((*name).to_string(), heap.clone()));
    }
    Ok(out)
}

/// Writes a ustar archive of `files` (name, path) to `out`.
pub fn write_archive(files: &[(String, PathBuf)], out: &Path) -> Result<(), String> {
    let mut tar = Vec::new();
    for (name, path) in files {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut hdr = [0u8; 512];
        mach_r_boot::archive::write_header(&mut hdr, name.as_bytes(), data.len() as u64);
        tar.extend_from_slice(&hdr);
        tar.extend_from_slice(&data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    std::fs::write(out, tar).map_err(|e| format!("{}: {e}", out.display()))
}

/// Everything a boot needs.
#[derive(Debug)]
pub struct Artifacts {
    /// The kernel ELF (Multiboot v1 header: what QEMU's `-kernel` uses; also Multiboot2, Limine).
    pub kernel: PathBuf,
    /// The same image with the Multiboot v1 magic cleared, so `-kernel` boots it by PVH.
    pub kernel_pvh: PathBuf,
    /// ustar archive of the test programs (all but the benchmarks).
    pub test_tar: PathBuf,
    /// The names of the programs in `test_tar`.
    pub test_programs: Vec<String>,
    /// ustar archive of the benchmark programs.
    pub bench_tar: PathBuf,
}

/// Builds the kernel, the user programs and their archives.
pub fn build_all() -> Result<Artifacts, String> {
    let kernel = build_kernel()?;
    let kernel_pvh = out_dir().join("mach_r-pvh");
    std::fs::create_dir_all(out_dir()).map_err(|e| format!("{}: {e}", out_dir().display()))?;
    image::write_pvh_copy(&kernel, &kernel_pvh)?;
    let progs = build_user()?;
    let (bench, tests): (Vec<_>, Vec<_>) =
        progs.into_iter().partition(|(n, _)| n.starts_with("bench"));
    let test_tar = out_dir().join("user.tar");
    let bench_tar = out_dir().join("bench.tar");
    write_archive(&tests, &test_tar)?;
    write_archive(&bench, &bench_tar)?;
    println!(
        "kernel: {}\nkernel for PVH boots: {}\nuser programs: {} ({} programs)\nbenchmarks: {}",
        kernel.display(),
        kernel_pvh.display(),
        test_tar.display(),
        tests.len(),
        bench_tar.display()
    );
    Ok(Artifacts {
        kernel,
        kernel_pvh,
        test_tar,
        test_programs: tests.into_iter().map(|(n, _)| n).collect(),
        bench_tar,
    })
}

/// How the test suite boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootVia {
    /// `qemu-system-x86_64 -kernel` (PVH).
    Pvh,
    /// A GRUB Multiboot2 ISO.
    Grub,
    /// A Limine ISO from this directory.
    Limine(Option<PathBuf>),
}

impl BootVia {
    /// From the `test` flags.
    pub fn from_flags(grub: bool, limine: Option<Option<PathBuf>>) -> BootVia {
        match (grub, limine) {
            (true, _) => BootVia::Grub,
            (false, Some(dir)) => BootVia::Limine(dir),
            _ => BootVia::Pvh,
        }
    }
}

/// `cargo xtask run`: boots with the user programs and prints the serial output.
pub fn run(args: &[String]) -> Result<(), String> {
    let a = build_all()?;
    let mut q = qemu::Qemu::pvh(&a.kernel_pvh, &a.test_tar, &args.join(" "));
    q.echo = true;
    let r = q.run(std::time::Duration::from_secs(120))?;
    println!("qemu exited: {}", r.status_text());
    Ok(())
}

/// `cargo xtask test`: the suite via `via`; for PVH a second boot with the PIT fallback tick
/// and a third with GNU Mach's own QEMU command line (Multiboot v1, module strings).
pub fn test(via: BootVia, verbose: bool) -> Result<(), String> {
    let a = build_all()?;
    let (mut failed, plan) = test_boot(&a, &via, TEST_CMDLINE, verbose)?;
    if via == BootVia::Pvh {
        let (f, pit_plan) = test_boot(&a, &via, &format!("{TEST_CMDLINE} timer=pit"), verbose)?;
        failed += f;
        if pit_plan != plan {
            println!("problem: the two boots declared different tests: {plan:?} and {pit_plan:?}");
            failed += 1;
        }
        failed += gnu_boot(&a, verbose)?;
    }
    if failed == 0 {
        Ok(())
    } else {
        Err("kernel tests failed".into())
    }
}

/// Where test jobs write their results for `scripts/test.sh`'s summary (`target/test-results`).
pub fn results_dir() -> PathBuf {
    root().join("target").join("test-results")
}

/// Writes `target/test-results/kernel-TAG.txt` in `scripts/test.sh`'s format: one line per
/// test, `pass NAME` or `fail NAME REASON`, whole-run problems as failures of `NAME::run`.
fn write_results(tag: &str, verdict: &qemu::Verdict) -> Result<(), String> {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = String::new();
    for t in &verdict.tests {
        if t.passed {
            out.push_str(&format!("pass kernel[{tag}]::{}\n", t.name));
        } else {
            out.push_str(&format!("fail kernel[{tag}]::{} {}\n", t.name, t.detail));
        }
    }
    for p in &verdict.problems {
        out.push_str(&format!("fail kernel[{tag}]::run {p}\n"));
    }
    if verdict.tests.is_empty() && verdict.problems.is_empty() {
        out.push_str(&format!("fail kernel[{tag}]::run no test ran\n"));
    }
    let file = dir.join(format!("kernel-{tag}.txt"));
    std::fs::write(&file, out).map_err(|e| format!("{}: {e}", file.display()))
}

/// One test boot; returns the number of failures (tests and whole-run problems) and the
/// tests the kernel declared.
fn test_boot(
    a: &Artifacts,
    via: &BootVia,
    cmdline: &str,
    verbose: bool,
) -> Result<(usize, Vec<String>), String> {
    let (mut q, protocol) = match via {
        BootVia::Pvh => (qemu::Qemu::pvh(&a.kernel_pvh, &a.test_tar, cmdline), "pvh"),
        BootVia::Grub => {
            let iso = out_dir().join("mach_r-grub-test.iso");
            iso::grub(&a.kernel, &a.test_tar, cmdline, &iso)?;
            (qemu::Qemu::cdrom(&iso), "multiboot2")
        }
        BootVia::Limine(dir) => {
            let dir = match dir {
                Some(d) => d.clone(),
                None => std::env::var_os("LIMINE_DIR")
                    .map(PathBuf::from)
                    .ok_or("--limine needs a directory or LIMINE_DIR")?,
            };
            let iso = out_dir().join("mach_r-limine-test.iso");
            iso::limine(&dir, &a.kernel, &a.test_tar, cmdline, &iso)?;
            (qemu::Qemu::cdrom(&iso), "limine")
        }
    };
    q.echo = verbose;
    let result = q.run(std::time::Duration::from_secs(qemu::TEST_TIMEOUT_SECS))?;
    let tag = if cmdline.contains("timer=pit") {
        format!("{protocol}-pit")
    } else {
        protocol.to_string()
    };
    let log = out_dir().join(format!("serial-{tag}.log"));
    std::fs::write(&log, &result.transcript).map_err(|e| format!("{}: {e}", log.display()))?;
    let verdict = qemu::judge(&result, protocol, &a.test_programs);
    write_results(&tag, &verdict)?;
    for t in &verdict.tests {
        let status = if t.passed {
            "ok".to_string()
        } else {
            format!("FAILED ({})", t.detail)
        };
        println!("test kernel[{tag}]::{} ... {status}", t.name);
    }
    for p in &verdict.problems {
        println!("problem: {p}");
    }
    let passed = verdict.tests.iter().filter(|t| t.passed).count();
    let mut failed = verdict.tests.len() - passed + verdict.problems.len();
    if verdict.tests.is_empty() {
        failed += 1;
    }
    println!("serial transcript: {}", log.display());
    println!(
        "boot via {protocol} (`{cmdline}`): first line after {:.2} s, run ended after {:.2} s, {}",
        result.first_line_secs.unwrap_or(f64::NAN),
        result.total_secs,
        result.status_text()
    );
    println!("kernel[{tag}]: {passed} passed, {failed} failed");
    if failed != 0 && !verbose {
        eprintln!("--- serial transcript ---\n{}", result.transcript);
    }
    Ok((failed, verdict.plan))
}

/// The module strings of the GNU-command-line boot: `hello` started as GNU Mach starts its
/// bootstrap task, and `traps` created but left suspended (a second module, after a comma).
pub const GNU_MODULES: &str = "hello --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create) $(task-resume),traps --host-priv-port=${host-port} $(task-create)";

/// Boots the kernel image with the QEMU command line that boots GNU Mach (kernel file aside;
/// plus the `isa-debug-exit` device through which Mach_R ends the run), from the folder of
/// the user programs so module paths are bare names, and judges the transcript.
fn gnu_boot(a: &Artifacts, verbose: bool) -> Result<usize, String> {
    let mut q = qemu::Qemu::gnu_mach_shape(&a.kernel, GNU_MODULES);
    q.cwd = Some(out_dir().join("user"));
    q.echo = verbose;
    let result = q.run(std::time::Duration::from_secs(qemu::TEST_TIMEOUT_SECS))?;
    let log = out_dir().join("serial-multiboot.log");
    std::fs::write(&log, &result.transcript).map_err(|e| format!("{}: {e}", log.display()))?;
    let problems = qemu::judge_gnu_boot(&result);
    for p in &problems {
        println!("problem: {p}");
    }
    let passed = problems.is_empty();
    println!(
        "test kernel[multiboot]::gnu_command_line ... {}",
        if passed {
            "ok".to_string()
        } else {
            format!("FAILED ({})", problems.join("; "))
        }
    );
    write_results(
        "multiboot",
        &qemu::Verdict {
            tests: vec![qemu::TestVerdict {
                name: "gnu_command_line".into(),
                passed,
                detail: problems.join("; "),
            }],
            problems: Vec::new(),
            plan: vec!["gnu_command_line".into()],
        },
    )?;
    println!("serial transcript: {}", log.display());
    println!(
        "boot via multiboot (GNU Mach's command line): first line after {:.2} s, run ended after {:.2} s, {}",
        result.first_line_secs.unwrap_or(f64::NAN),
        result.total_secs,
        result.status_text()
    );
    let failed = usize::from(!passed);
    println!("kernel[multiboot]: {} passed, {failed} failed", 1 - failed);
    if failed != 0 && !verbose {
        eprintln!("--- serial transcript ---\n{}", result.transcript);
    }
    Ok(failed)
}

/// `cargo xtask iso`.
pub fn iso_command(
    grub: bool,
    limine: Option<PathBuf>,
    output: &Path,
    cmdline: &str,
) -> Result<(), String> {
    let a = build_all()?;
    match (grub, limine) {
        (true, _) => iso::grub(&a.kernel, &a.test_tar, cmdline, output)?,
        (false, Some(dir)) => iso::limine(&dir, &a.kernel, &a.test_tar, cmdline, output)?,
        (false, None) => return Err("iso: choose --grub or --limine DIR".into()),
    }
    println!("wrote {}", output.display());
    Ok(())
}
