//! The differential suite (`conformance/suite/`) linked with migc's object client stubs
//! (`make ... OBJMIG=`: `--emit obj -user X.o` for mach, mach_host, mach_port, device and
//! mach_i386, no C stub compiled): every program booted on Debian's GNU Mach prints exactly
//! `conformance/suite/expected/<prog>.txt`, what it printed there built with compiled C stubs
//! (the benchmarks, whose figures vary without `-icount`, must print their `bench ` line).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use conformance::gnumach::{reference_root, shell_quote};
use conformance::suite::{
    boot, expected_path, first_difference, is_benchmark, programs, suite_dir, SuiteBuild,
};

/// QEMU's hard limit for one program (as the suite's own test).
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn suite_programs_with_object_stubs_print_what_gnu_mach_printed() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suite-obj");
    let _ = std::fs::remove_dir_all(&out);
    let migc = format!("{} -D__x86_64__", shell_quote(env!("CARGO_BIN_EXE_migc")));
    let made = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(suite_dir())
        .arg(format!("OUT={}", out.display()))
        .arg(format!("REF={}", root.display()))
        .arg(format!("MIG={migc}"))
        .arg(format!("OBJMIG={migc}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run make: {e}"));
    assert!(
        made.status.success(),
        "building the suite with object stubs failed:\n{}{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    let build = SuiteBuild {
        dir: out.clone(),
        programs: programs().unwrap_or_else(|e| panic!("{e}")),
        gnumach: out.join("gnumach.elf32"),
    };
    assert!(
        !out.join("machUser.c").exists(),
        "a C stub file was written: the objects were not used"
    );
    let mut problems = Vec::new();
    let mut compared = 0;
    for program in &build.programs {
        let run = match boot(&build, program, &build.gnumach, &[], LIMIT) {
            Ok(run) => run,
            Err(e) => {
                problems.push(format!("{program}: {e}"));
                continue;
            }
        };
        let cut = run.cut();
        if run.timed_out || !cut.begun || !(cut.ended || cut.faulted) || cut.after_fault {
            problems.push(format!(
                "{program}: incomplete run (timed out {}, begun {}, ended {}, faulted {}):\n{}",
                run.timed_out,
                cut.begun,
                cut.ended,
                cut.faulted,
                run.transcript()
            ));
            continue;
        }
        if is_benchmark(program) {
            if !cut.lines.iter().any(|l| l.starts_with("bench ")) {
                problems.push(format!("{program}: no `bench ` line: {:?}", cut.lines));
            }
            continue;
        }
        let text = std::fs::read_to_string(expected_path(program))
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let want: Vec<String> = text.lines().map(str::to_string).collect();
        if let Some(d) = first_difference(&want, &cut.lines) {
            problems.push(format!("{program}: {d}"));
        }
        compared += 1;
        eprintln!("{program}: {} lines as recorded", cut.lines.len());
    }
    eprintln!(
        "{compared} programs identical to their GNU Mach transcripts with object stubs, {} programs in all",
        build.programs.len()
    );
    assert!(compared > 0, "no program compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
