//! Boots Debian's GNU Mach under QEMU with the bootstrap program of `conformance/gnumach-boot/`
//! and checks its console lines: MIG user stubs talking to a real kernel.
//!
//! The expected lines were observed on GNU Mach 2:1.8+git20250702 (amd64-up) under QEMU TCG
//! with 128 MiB, with GNU MIG 1.8+git20231217's stubs; they repeat identically from boot to
//! boot.  Each variant differs only by the MIG command given to `build_with_mig`.

use std::path::PathBuf;
use std::time::Duration;

use conformance::gnumach::{
    boot, build_with_mig, gnu_mig_command, reference_root, stub_warnings, BootRun, EXPECTED,
};

/// QEMU's hard limit; a run takes well under 2 s.
const LIMIT: Duration = Duration::from_secs(30);

fn out_dir(variant: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gnumach-boot-{variant}"))
}

/// Builds with `mig_cmd`, boots, and checks the transcript line by line.
fn run_variant(variant: &str, mig_cmd: &[&str]) -> BootRun {
    let image = build_with_mig(mig_cmd, &out_dir(variant)).unwrap_or_else(|e| panic!("{e}"));
    let warnings = stub_warnings(&image);
    if !warnings.is_empty() {
        eprintln!("{variant}: gcc -Wall -Wextra on the user stubs:\n{warnings}");
    }
    let run = boot(&image, LIMIT).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{variant}: QEMU ran {:?}, exit {:?}",
        run.elapsed, run.exit_code
    );
    assert!(
        !run.timed_out,
        "{variant}: QEMU did not exit within {LIMIT:?}:\n{}",
        run.transcript
    );
    assert!(
        run.transcript.contains("GNU Mach 1.8"),
        "{variant}: no GNU Mach banner:\n{}",
        run.transcript
    );
    let lines = run.program_lines();
    for (i, expected) in EXPECTED.iter().enumerate() {
        let got = lines.get(i).map(String::as_str);
        assert_eq!(
            got,
            Some(*expected),
            "{variant}: program line {i} differs; the whole transcript:\n{}",
            run.transcript
        );
    }
    assert_eq!(
        lines.len(),
        EXPECTED.len(),
        "{variant}: extra program lines:\n{}",
        lines[EXPECTED.len().min(lines.len())..].join("\n")
    );
    assert_eq!(
        run.exit_code,
        Some(0),
        "{variant}: QEMU exit status after host_reboot"
    );
    run
}

#[test]
fn gnu_mig_stubs_on_gnu_mach() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let mig = gnu_mig_command(&root);
    let mig: Vec<&str> = mig.iter().map(String::as_str).collect();
    run_variant("gnu-mig", &mig);
}

/// The same program binary (GNU MIG's stubs) on Mach_R, booted by the same QEMU command with
/// the Mach_R image that `cargo xtask build` prints: GNU Mach's lines, except the kernel
/// version, which names the kernel.
#[test]
fn gnu_mig_stubs_on_mach_r() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let mig = gnu_mig_command(&root);
    let mig: Vec<&str> = mig.iter().map(String::as_str).collect();
    let image = build_with_mig(&mig, &out_dir("gnu-mig-mach-r")).unwrap_or_else(|e| panic!("{e}"));
    let kernel = conformance::suite::mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    let image = conformance::gnumach::BootImage { kernel, ..image };
    let run = boot(&image, LIMIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !run.timed_out,
        "Mach_R did not exit within {LIMIT:?}:\n{}",
        run.transcript
    );
    assert!(
        run.transcript.contains("Mach_R 0.1.0 booted via multiboot"),
        "not booted by Multiboot v1:\n{}",
        run.transcript
    );
    let lines = run.program_lines();
    assert_eq!(
        lines.len(),
        EXPECTED.len(),
        "program lines:\n{}",
        run.transcript
    );
    for (i, (got, expected)) in lines.iter().zip(EXPECTED).enumerate() {
        if expected.starts_with("ok host_get_kernel_version: ") {
            assert!(
                got.starts_with("ok host_get_kernel_version: Mach_R "),
                "line {i}: {got}"
            );
        } else {
            assert_eq!(got, expected, "line {i} differs:\n{}", run.transcript);
        }
    }
    assert_eq!(run.exit_code, Some(0), "QEMU exit status after host_reboot");
}
