//! The GNU Mach bootstrap program of `conformance/gnumach-boot/` built with migc's user stubs
//! boots under QEMU and prints exactly the lines it prints when built with GNU MIG's: both
//! variants are built and booted here, and their program lines compared.

use std::path::PathBuf;
use std::time::Duration;

use conformance::gnumach::{boot, build_with_mig, gnu_mig_command, reference_root, stub_warnings};

/// QEMU's hard limit; a run takes a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

fn out_dir(variant: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gnumach-boot-{variant}"))
}

fn program_lines(variant: &str, mig: &[&str]) -> Vec<String> {
    let image = build_with_mig(mig, &out_dir(variant)).unwrap_or_else(|e| panic!("{e}"));
    let warnings = stub_warnings(&image);
    assert!(
        variant != "migc" || warnings.is_empty(),
        "migc's user stubs draw gcc warnings:\n{warnings}"
    );
    let run = boot(&image, LIMIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !run.timed_out,
        "{variant}: QEMU did not exit within {LIMIT:?}:\n{}",
        run.transcript
    );
    eprintln!(
        "{variant}: QEMU ran {:?}, exit {:?}",
        run.elapsed, run.exit_code
    );
    run.program_lines()
}

#[test]
fn migc_stubs_on_gnu_mach_print_what_gnu_mig_stubs_print() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let migc = [env!("CARGO_BIN_EXE_x86_64-gnu-mig")];
    let with_gnu = program_lines("gnu-mig-reference", &gnu);
    let with_migc = program_lines("migc", &migc);
    for l in &with_migc {
        eprintln!("migc: {l}");
    }
    assert!(
        with_gnu.iter().any(|l| l.contains("passed, 0 failures")),
        "the GNU MIG build did not pass: {with_gnu:#?}"
    );
    assert_eq!(with_migc, with_gnu, "program lines differ");
}
