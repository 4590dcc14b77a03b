//! Boots Debian's GNU Mach under QEMU with the bootstrap program of `conformance/gnumach-boot/`
//! and checks its console lines: MIG user stubs talking to a real kernel.
//!
//! The expected lines were observed on GNU Mach 2:1.8+git20250702 (amd64-up) under QEMU TCG
//! with 128 MiB, with GNU MIG 1.8+git20231217's stubs; they repeat identically from boot to
//! boot.  Each variant differs only by the MIG command given to `build_with_mig`.

use std::path::PathBuf;
use std::time::Duration;

use conformance::gnumach::{
    boot, build_with_mig, gnu_mig_command, reference_root, stub_warnings, BootRun,
};

/// QEMU's hard limit; a run takes well under 2 s.
const LIMIT: Duration = Duration::from_secs(30);

/// The program's lines, in order, as GNU Mach answers them.
const EXPECTED: &[&str] = &[
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
