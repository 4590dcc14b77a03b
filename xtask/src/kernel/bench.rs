//! `cargo xtask bench kernel`: boot times (wall clock, TCG) and the guest-instruction cost
//! of a null trap round trip under `-icount shift=0,sleep=off`, where the guest TSC counts
//! instructions, and the differential suite's IPC benchmarks on GNU Mach and Mach_R. Figures
//! are printed, never asserted.

use super::qemu::{judge, Qemu, EXIT_PASS};
use super::{build_all, iso, out_dir, TEST_CMDLINE};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// Runs the kernel benchmarks.
pub fn run() -> Result<(), String> {
    let a = build_all()?;
    println!("== bench kernel ==");
    let (mut first, mut total) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let r = Qemu::pvh(&a.kernel_pvh, &a.test_tar, TEST_CMDLINE)
            .run(Duration::from_secs(super::qemu::TEST_TIMEOUT_SECS))?;
        let v = judge(&r, "pvh", &a.test_programs);
        if !v.problems.is_empty() || v.tests.iter().any(|t| !t.passed) {
            return Err(format!(
                "the test boot failed during the benchmark: {:?}",
                v.problems
            ));
        }
        first.push(r.first_line_secs.unwrap_or(f64::NAN));
        total.push(r.total_secs);
    }
    println!("boot via pvh (TCG, wall clock, median of 3): first serial line {:.3} s, end of the test run {:.3} s", median(&mut first), median(&mut total));

    if Command::new("grub-mkrescue")
        .arg("--version")
        .output()
        .is_ok()
    {
        let isofile = out_dir().join("mach_r-grub-bench.iso");
        iso::grub(&a.kernel, &a.test_tar, TEST_CMDLINE, &isofile)?;
        let r = Qemu::cdrom(&isofile).run(Duration::from_secs(super::qemu::TEST_TIMEOUT_SECS))?;
        println!("boot via multiboot2 (GRUB ISO, one run): first serial line {:.3} s, end of the test run {:.3} s ({})", r.first_line_secs.unwrap_or(f64::NAN), r.total_secs, r.status_text());
    }

    let r = Qemu::pvh(&a.kernel_pvh, &a.bench_tar, "bench")
        .arg("-icount")
        .arg("shift=0,sleep=off")
        .run(Duration::from_secs(120))?;
    if r.status != Some(EXIT_PASS) {
        return Err(format!(
            "the -icount benchmark boot failed ({}):\n{}",
            r.status_text(),
            r.transcript
        ));
    }
    for line in r.transcript.lines() {
        if let Some(t) = line.strip_prefix("[boot] guest tsc ") {
            println!("guest instructions from reset (firmware included) to the first serial line (-icount): {t}");
        }
        if let Some(b) = line.split("BENCH ").nth(1) {
            println!("trap round trip (-icount, guest instructions): {b}");
        }
    }
    gnumach_boot();
    suite_benchmarks(&a.kernel);
    Ok(())
}

/// Boots Debian's GNU Mach for comparison when the reference set is present (optional).
fn gnumach_boot() {
    let gz = super::root().join(".cache/reference/root/boot/gnumach-1.8-amd64-up.gz");
    if !gz.is_file() {
        println!(
            "GNU Mach comparison skipped: {} not present (scripts/fetch-reference.sh)",
            gz.display()
        );
        return;
    }
    let dir = out_dir().join("gnumach");
    let _ = std::fs::create_dir_all(&dir);
    let elf = dir.join("gnumach");
    let elf32 = dir.join("gnumach.elf32");
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "gunzip -c '{}' > '{}' && objcopy -O elf32-i386 '{}' '{}'",
            gz.display(),
            elf.display(),
            elf.display(),
            elf32.display()
        ))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("GNU Mach comparison skipped: could not unpack the kernel");
        return;
    }
    let mut q = Qemu::kernel_only(&elf32, "console=com0");
    q.marker = "GNU Mach".into();
    q.stop_at_marker = true;
    match q.run(Duration::from_secs(60)) {
        Ok(r) => println!(
            "GNU Mach 1.8 (same QEMU, -kernel, wall clock, one run): first `GNU Mach` line {:.3} s",
            r.first_line_secs.unwrap_or(f64::NAN)
        ),
        Err(e) => println!("GNU Mach boot failed: {e}"),
    }
    // The same bench_null binary, unchanged, as GNU Mach's bootstrap task.
    let prog = out_dir().join("user/bench_null");
    let module = format!(
        "{} --host-priv-port=${{host-port}} --device-master-port=${{device-port}} $(task-create) $(task-resume)",
        prog.display()
    );
    let mut q = Qemu::kernel_only(&elf32, "console=com0")
        .arg("-initrd")
        .arg(module)
        .arg("-icount")
        .arg("shift=0,sleep=off");
    q.marker = "BENCH mach_task_self".into();
    q.stop_at_marker = true;
    match q.run(Duration::from_secs(60)) {
        Ok(r) if r.first_line_secs.is_some() => {
            for line in r.transcript.lines() {
                if let Some(b) = line.split("BENCH ").nth(1) {
                    println!(
                        "GNU Mach 1.8, same bench_null binary (-icount, guest instructions): {b}"
                    );
                }
            }
        }
        Ok(r) => println!("GNU Mach did not run bench_null:\n{}", r.transcript),
        Err(e) => println!("GNU Mach bench failed: {e}"),
    }
}

/// The differential suite's benchmark programs (`conformance/suite/bench-*.c`): the same
/// binaries, built once with migc's user stubs, booted on GNU Mach and on Mach_R (`mach_r`, the
/// image `cargo xtask build` prints as `kernel: PATH`) under `-icount shift=0,sleep=off`;
/// prints each kernel's guest instructions per iteration and the ratio Mach_R / GNU Mach.
fn suite_benchmarks(mach_r: &Path) {
    let root = super::root();
    let reference = root.join(".cache/reference/root");
    if !reference.join("boot/gnumach-1.8-amd64-up.gz").is_file() {
        println!(
            "suite benchmarks skipped: the reference set is missing (scripts/fetch-reference.sh)"
        );
        return;
    }
    let migc = root.join("target/release/migc");
    let built = Command::new("cargo")
        .current_dir(&root)
        .args(["build", "--release", "-p", "migc", "--bin", "migc"])
        .status()
        .is_ok_and(|s| s.success());
    if !built || !migc.is_file() {
        println!("suite benchmarks skipped: cargo build --release -p migc failed");
        return;
    }
    let out = out_dir().join("suite");
    let make = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(root.join("conformance/suite"))
        .arg(format!("OUT={}", out.display()))
        .arg(format!("REF={}", reference.display()))
        .arg(format!("MIG={} -D__x86_64__", migc.display()))
        .output();
    match make {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            println!(
                "suite benchmarks skipped: building conformance/suite failed:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            return;
        }
        Err(e) => {
            println!("suite benchmarks skipped: cannot run make: {e}");
            return;
        }
    }
    let gnumach = out.join("gnumach.elf32");
    for (program, what) in [
        (
            "bench-self",
            "null message to self (send+receive in one mach_msg)",
        ),
        ("bench-rpc", "null kernel RPC mach_port_type (migc's stub)"),
        (
            "bench-threads",
            "round trip between two threads (two messages)",
        ),
        (
            "bench-tasks",
            "null RPC round trip between two tasks (two messages)",
        ),
        (
            "bench-vm",
            "vm_allocate + touch + vm_deallocate of one page",
        ),
        (
            "bench-ool",
            "64 KiB out-of-line to self (send+receive, vm_deallocate)",
        ),
    ] {
        let gnu = suite_bench_boot(&gnumach, &out, program, 60);
        let ours = suite_bench_boot(mach_r, &out, program, 20);
        let show = |r: &Result<u64, String>| match r {
            Ok(n) => n.to_string(),
            Err(e) => e.clone(),
        };
        let ratio = match (&gnu, &ours) {
            (Ok(g), Ok(m)) if *g > 0 => {
                format!(", Mach_R / GNU Mach = {:.2}", *m as f64 / *g as f64)
            }
            _ => String::new(),
        };
        println!(
            "{what} (-icount, guest instructions per iteration, {program}): GNU Mach {}, Mach_R {}{ratio}",
            show(&gnu),
            show(&ours)
        );
    }
}

/// Boots one suite benchmark on `kernel` under `-icount` and returns its per-iteration
/// figure (the number before ` per `), or what went wrong.
pub(crate) fn suite_bench_boot(
    kernel: &Path,
    dir: &Path,
    program: &str,
    secs: u64,
) -> Result<u64, String> {
    let module = format!(
        "{} --host-priv-port=${{host-port}} --device-master-port=${{device-port}} $(task-create) $(task-resume)",
        dir.join(format!("{program}.elf")).display()
    );
    let mut q = Qemu::kernel_only(kernel, "console=com0")
        .arg("-initrd")
        .arg(module)
        .arg("-icount")
        .arg("shift=0,sleep=off");
    q.marker = format!("suite-end {program}");
    q.stop_at_marker = true;
    let r = q.run(Duration::from_secs(secs))?;
    let line = r
        .transcript
        .lines()
        .find_map(|l| l.split("bench ").nth(1).map(str::to_string))
        .ok_or_else(|| format!("no figure ({})", r.status_text()))?;
    // "..., 1043 per iteration" or "..., 3213 per round trip (two messages)".
    line.split(", ")
        .find(|part| part.contains(" per "))
        .and_then(|part| part.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unreadable figure: {line}"))
}
