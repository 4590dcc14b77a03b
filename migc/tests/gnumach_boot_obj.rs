//! The GNU Mach bootstrap program of `conformance/gnumach-boot/` linked with migc's object
//! client stubs (`--emit obj -user X.o` for mach, mach_host, mach_port and device; no C
//! compiler between their `.defs` and the link) boots under QEMU and prints exactly the lines
//! the program built with GNU MIG's C stubs prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use conformance::gnumach::{
    boot, build_with_mig, gnu_mig_command, reference_root, repo_root, shell_quote, BootImage,
};

/// QEMU's hard limit; a run takes a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

fn out_dir(variant: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gnumach-boot-{variant}"))
}

/// The Makefile's build with `OBJMIG`: headers from `mig`, user stubs as objects of `objmig`.
fn build_with_objects(mig: &[&str], objmig: &[&str], out: &Path) -> BootImage {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    let line = |c: &[&str]| {
        c.iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let output = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(repo_root().join("conformance/gnumach-boot"))
        .arg(format!("OUT={}", out.display()))
        .arg(format!("REF={}", root.display()))
        .arg(format!("MIG={}", line(mig)))
        .arg(format!("OBJMIG={}", line(objmig)))
        .output()
        .unwrap_or_else(|e| panic!("cannot run make: {e}"));
    assert!(
        output.status.success(),
        "building with object stubs failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    BootImage {
        dir: out.to_path_buf(),
        program: out.join("gnumach-boot.elf"),
        kernel: out.join("gnumach.elf32"),
    }
}

fn program_lines(variant: &str, image: &BootImage) -> Vec<String> {
    let run = boot(image, LIMIT).unwrap_or_else(|e| panic!("{e}"));
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
fn object_stubs_on_gnu_mach_print_what_gnu_mig_stubs_print() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let migc = [env!("CARGO_BIN_EXE_migc"), "-D__x86_64__"];
    let reference =
        build_with_mig(&gnu, &out_dir("obj-gnu-reference")).unwrap_or_else(|e| panic!("{e}"));
    let objects = build_with_objects(&migc, &migc, &out_dir("obj"));
    // The stubs really are migc's objects: no C stub file was written or compiled.
    for s in ["mach", "mach_host", "mach_port", "device"] {
        assert!(objects.dir.join(format!("{s}User.o")).exists(), "{s}User.o");
        assert!(
            !objects.dir.join(format!("{s}User.c")).exists(),
            "{s}User.c was written"
        );
    }
    let with_gnu = program_lines("gnu-mig-reference", &reference);
    let with_obj = program_lines("migc objects", &objects);
    for l in &with_obj {
        eprintln!("objects: {l}");
    }
    assert!(
        with_gnu.iter().any(|l| l.contains("passed, 0 failures")),
        "the GNU MIG build did not pass: {with_gnu:#?}"
    );
    assert_eq!(with_obj, with_gnu, "program lines differ");
}
