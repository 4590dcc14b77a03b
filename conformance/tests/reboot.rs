//! `host_reboot` with its flags on GNU Mach and on Mach_R: `conformance/suite/reboot.c`,
//! booted with `flags=N` as a second argument, prints its lines and calls
//! `host_reboot(host_priv, N)`. What the kernel does then is observed on GNU Mach under QEMU
//! `-no-reboot` in the same test run and required of Mach_R: whether QEMU exits (with which
//! status) or the machine keeps running (halted) for as long as the test waits, and the
//! program's lines. The kernels' own messages differ and are only printed.

use std::path::PathBuf;
use std::time::Duration;

use conformance::gnumach::{boot_module_scripted, SerialScript};
use conformance::suite::{build, mach_r_kernel, migc_binary, SuiteBuild, SuiteRun};

/// QEMU's hard limit for one boot.
const LIMIT: Duration = Duration::from_secs(90);

/// What a boot came to after the program's `host_reboot` line.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// QEMU exited with this status.
    Exited(Option<i32>),
    /// Still running `wait` after the line: halted (or waiting).
    Running,
}

fn suite() -> SuiteBuild {
    let migc = migc_binary().unwrap_or_else(|e| panic!("{e}"));
    let migc = migc.display().to_string();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suite-reboot");
    build(&[&migc, "-D__x86_64__"], &out).unwrap_or_else(|e| panic!("{e}"))
}

/// Boots `reboot.elf flags=N` on `kernel`; the program's lines and how the run ended, at most
/// `wait` after the `host_reboot(host_priv, ...)` line.
fn boot(
    build: &SuiteBuild,
    kernel: &std::path::Path,
    flags: i32,
    wait: Duration,
) -> (Vec<String>, End) {
    let line = format!("host_reboot(host_priv, {flags:x})");
    let script = SerialScript {
        stop_after: Some((line, wait)),
        ..SerialScript::default()
    };
    let stem = kernel
        .file_stem()
        .map_or_else(|| "kernel".into(), |s| s.to_string_lossy());
    let run = boot_module_scripted(
        &build.dir,
        kernel,
        &format!("reboot.elf flags={flags}"),
        &build.dir.join(format!("reboot-{flags}.{stem}.console")),
        &[],
        LIMIT,
        &script,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !run.timed_out,
        "flags {flags:#x}: no end within {LIMIT:?}:\n{}",
        run.raw
    );
    let suite_run = SuiteRun {
        program: "reboot".into(),
        raw: run.raw.clone(),
        exit_code: run.exit_code,
        timed_out: run.timed_out,
        stopped: run.stopped,
        elapsed: run.elapsed,
    };
    let cut = suite_run.cut();
    assert!(cut.begun, "flags {flags:#x}: no suite-begin:\n{}", run.raw);
    let end = if run.stopped {
        End::Running
    } else {
        End::Exited(run.exit_code)
    };
    let tail: String = suite_run
        .transcript()
        .lines()
        .skip_while(|l| !l.contains("host_reboot(host_priv"))
        .skip(1)
        .collect::<Vec<_>>()
        .join(" | ");
    eprintln!(
        "flags {flags:#x} on {stem}: {end:?} after {:?}; then: {tail}",
        run.elapsed
    );
    (cut.lines, end)
}

#[test]
fn host_reboot_flags_do_on_mach_r_what_they_do_on_gnu_mach() {
    let build = suite();
    let mach_r = mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    // RB_HALT (8), RB_DEBUGGER (0x1000: GNU Mach panics and reboots 15 to 25 s later),
    // RB_SINGLE (2), RB_ASKNAME (1).
    let cases = [(0x8, 3), (0x1000, 45), (0x2, 3), (0x1, 3)];
    let mut differing = Vec::new();
    for (flags, secs) in cases {
        let wait = Duration::from_secs(secs);
        let gnu = boot(&build, &build.gnumach, flags, wait);
        let ours = boot(&build, &mach_r, flags, wait);
        if gnu != ours {
            differing.push(format!(
                "flags {flags:#x}: GNU Mach {gnu:?}\n  Mach_R {ours:?}"
            ));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
