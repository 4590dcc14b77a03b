//! The differential suite (`conformance/suite/`): every program built once with migc's user
//! stubs, booted on Debian's GNU Mach and, for the programs of `mach_r.list`, on Mach_R by the
//! same QEMU command; the transcripts must be identical.
//!
//! On GNU Mach each transcript must be complete (`suite-begin` .. `suite-end`, QEMU ending by
//! `host_reboot`) and equal to `conformance/suite/expected/<prog>.txt`, which is what GNU Mach
//! printed (`SUITE_BLESS=1` rewrites those files from the current GNU Mach run instead of
//! comparing). A program that reads the console gets `input/<prog>.txt` on the serial line,
//! one line per `suite-input` it prints; one that ends by a fault prints `suite-fault <prog>`
//! instead of `suite-end` and is stopped a moment later (it must not print its
//! `suite-after-fault` line; QEMU's exit status is not asked for). The benchmark programs (`bench-*`) print figures that vary without `-icount`:
//! they are only checked for a complete run here; `cargo xtask bench kernel` reports them.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use conformance::suite::{
    boot, build, expected_path, first_difference, is_benchmark, mach_r_kernel, mach_r_list,
    migc_binary, programs, SuiteBuild, SuiteRun,
};

/// QEMU's hard limit for one program; a GNU Mach run takes about 0.3 s.
const LIMIT: Duration = Duration::from_secs(30);

fn suite() -> &'static SuiteBuild {
    static BUILD: OnceLock<SuiteBuild> = OnceLock::new();
    BUILD.get_or_init(|| {
        let migc = migc_binary().unwrap_or_else(|e| panic!("{e}"));
        let migc = migc.display().to_string();
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suite-migc");
        build(&[&migc, "-D__x86_64__"], &out).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Boots one program and requires a complete run; returns the run and its program lines.
fn complete_run(build: &SuiteBuild, program: &str, kernel: &std::path::Path) -> Vec<String> {
    let run: SuiteRun = boot(build, program, kernel, &[], LIMIT).unwrap_or_else(|e| panic!("{e}"));
    let cut = run.cut();
    let all = run.transcript();
    assert!(
        !run.timed_out,
        "{program}: QEMU did not exit within {LIMIT:?}:\n{all}"
    );
    assert!(
        cut.begun,
        "{program}: no `suite-begin {program}` line:\n{all}"
    );
    assert!(
        cut.ended || cut.faulted,
        "{program}: no `suite-end {program}` or `suite-fault {program}` line (crash?):\n{all}"
    );
    assert!(
        !cut.after_fault,
        "{program}: a `suite-after-fault` line: the program went on after its fault:\n{all}"
    );
    if cut.ended {
        assert_eq!(
            run.exit_code,
            Some(0),
            "{program}: QEMU's exit status:\n{all}"
        );
    }
    eprintln!(
        "{program}: {} lines, {} kernel lines, {:?}",
        cut.lines.len(),
        cut.kernel_lines.len(),
        run.elapsed
    );
    for k in &cut.kernel_lines {
        eprintln!("{program}: kernel: {k}");
    }
    cut.lines
}

fn expected(program: &str) -> Vec<String> {
    let path = expected_path(program);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{program}: cannot read {}: {e}", path.display()));
    text.lines().map(str::to_string).collect()
}

#[test]
fn every_program_runs_on_gnu_mach_as_recorded() {
    let build = suite();
    let bless = std::env::var_os("SUITE_BLESS").is_some();
    let mut differing = Vec::new();
    for program in &build.programs {
        let lines = complete_run(build, program, &build.gnumach);
        if is_benchmark(program) {
            assert!(
                lines.iter().any(|l| l.starts_with("bench ")),
                "{program}: no `bench ` line: {lines:?}"
            );
            continue;
        }
        if bless {
            let mut text = lines.join("\n");
            text.push('\n');
            std::fs::write(expected_path(program), text).expect("write the expected transcript");
            continue;
        }
        if let Some(d) = first_difference(&expected(program), &lines) {
            differing.push(format!("{program}: {d}"));
        }
    }
    assert!(
        differing.is_empty(),
        "GNU Mach's transcripts differ from conformance/suite/expected/:\n{}",
        differing.join("\n")
    );
}

#[test]
fn mach_r_list_names_recorded_programs() {
    let all = programs().unwrap_or_else(|e| panic!("{e}"));
    let list = mach_r_list().unwrap_or_else(|e| panic!("{e}"));
    for name in &list {
        assert!(
            all.contains(name),
            "mach_r.list names {name}, not a suite program"
        );
        assert!(
            !is_benchmark(name),
            "mach_r.list names the benchmark {name}"
        );
        assert!(
            expected_path(name).is_file(),
            "{name}: no expected transcript"
        );
    }
    for name in all.iter().filter(|p| !is_benchmark(p)) {
        assert!(
            expected_path(name).is_file(),
            "{name}: no expected/{name}.txt (run with SUITE_BLESS=1 on GNU Mach)"
        );
    }
}

#[test]
fn mach_r_prints_what_gnu_mach_printed() {
    let list = mach_r_list().unwrap_or_else(|e| panic!("{e}"));
    if list.is_empty() {
        eprintln!(
            "conformance/suite/mach_r.list is empty: no program is expected to run on Mach_R \
             yet, so nothing is booted on Mach_R"
        );
        return;
    }
    let kernel = mach_r_kernel().unwrap_or_else(|e| panic!("{e}"));
    let build = suite();
    let mut differing = Vec::new();
    for program in &list {
        let lines = complete_run(build, program, &kernel);
        if let Some(d) = first_difference(&expected(program), &lines) {
            differing.push(format!("{program}: {d}"));
        }
    }
    assert!(
        differing.is_empty(),
        "Mach_R's transcripts differ from GNU Mach's:\n{}",
        differing.join("\n")
    );
}
