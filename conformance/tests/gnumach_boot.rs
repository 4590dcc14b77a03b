//! Boots Debian's GNU Mach under QEMU with the bootstrap program of `conformance/gnumach-boot/`
//! and checks its console lines: MIG user stubs talking to a real kernel.
//!
//! The expected lines were observed on GNU Mach 2:1.8+git20250702 (amd64-up) under QEMU TCG
//! with 128 MiB, with GNU MIG 1.8+git20231217's stubs; they repeat identically from boot to
//! boot.  Each variant differs only by the MIG command given to `build_with_mig`.
//! The same program binaries (the C one with GNU MIG's stubs, the Rust one of
//! `conformance/gnumach-boot-rust/`) also boot on Mach_R by the same QEMU command and must
//! print the same lines, the kernel version aside.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use conformance::gnumach::{
    boot, build_with_mig, gnu_mig_command, reference_include, reference_root, repo_root,
    stub_warnings, BootImage, BootRun, EXPECTED,
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

/// Boots `image` (a bootstrap program and the Mach_R kernel) by GNU Mach's QEMU command and
/// requires GNU Mach's lines, except the kernel version, which names the kernel.
fn check_on_mach_r(what: &str, image: &BootImage) {
    let run = boot(image, LIMIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !run.timed_out,
        "{what}: Mach_R did not exit within {LIMIT:?}:\n{}",
        run.transcript
    );
    assert!(
        run.transcript.contains("Mach_R 0.1.0 booted via multiboot"),
        "{what}: not booted by Multiboot v1:\n{}",
        run.transcript
    );
    let lines = run.program_lines();
    assert_eq!(
        lines.len(),
        EXPECTED.len(),
        "{what}: program lines:\n{}",
        run.transcript
    );
    for (i, (got, expected)) in lines.iter().zip(EXPECTED).enumerate() {
        if expected.starts_with("ok host_get_kernel_version: ") {
            assert!(
                got.starts_with("ok host_get_kernel_version: Mach_R "),
                "{what}: line {i}: {got}"
            );
        } else {
            assert_eq!(
                got, expected,
                "{what}: line {i} differs:\n{}",
                run.transcript
            );
        }
    }
    assert_eq!(
        run.exit_code,
        Some(0),
        "{what}: QEMU exit status after host_reboot"
    );
}

/// The same program binary (GNU MIG's stubs) on Mach_R, booted by the same QEMU command with
/// the Mach_R image that `cargo xtask build` prints.
#[test]
fn gnu_mig_stubs_on_mach_r() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let mig = gnu_mig_command(&root);
    let mig: Vec<&str> = mig.iter().map(String::as_str).collect();
    let image = build_with_mig(&mig, &out_dir("gnu-mig-mach-r")).unwrap_or_else(|e| panic!("{e}"));
    let kernel = conformance::suite::mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    check_on_mach_r("C program", &BootImage { kernel, ..image });
}

/// The Rust bootstrap program (`conformance/gnumach-boot-rust/`, built as
/// `mig-backend-rust/tests/gnumach_boot.rs` builds it for GNU Mach: cargo, release, its own
/// workspace) on Mach_R by the same QEMU command: GNU Mach's lines.
#[test]
fn rust_program_on_mach_r() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target_dir = tmp.join("gnumach-boot-rust-mach-r-target");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target-dir"])
        .arg(&target_dir)
        .current_dir(repo_root().join("conformance/gnumach-boot-rust"))
        .env("MIGC_REFERENCE_INCLUDE", reference_include(&root))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the Rust bootstrap program failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = out_dir("rust-mach-r");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The module's file name is argv[0] and the kernel's line prefix: the C program's name.
    let program = dir.join("gnumach-boot.elf");
    std::fs::copy(
        target_dir.join("x86_64-unknown-linux-gnu/release/gnumach-boot"),
        &program,
    )
    .unwrap();
    let kernel = conformance::suite::mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    check_on_mach_r(
        "Rust program",
        &BootImage {
            dir,
            program,
            kernel,
        },
    );
}
