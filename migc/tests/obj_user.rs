//! The object back end's client side (`migc --emit obj`, the `obj` feature) against the C
//! stubs, for every gnumach-dev subsystem:
//! - `nm`: each `<subsystem>User.o` defines and references exactly the global symbols of the
//!   gcc -O2 compiled C stub of the same subsystem;
//! - the wire: the in-process harness (`conformance::harness`) with the object client facing
//!   GNU MIG's server puts exactly the bytes in every request and reply that GNU MIG's stubs
//!   on both sides put there, returns the same codes, and the server answers the malformed
//!   requests as with GNU MIG's client;
//! - calls: a program linked with the C stub and one linked with the object of
//!   `tests/obj_calls/objtest.defs` (a 32-byte structure by value, a symbolic msgoption, a
//!   variable array in the reply) make the same `mach_msg` calls with the same bytes and
//!   return the same codes for well-formed and malformed replies;
//! - `--target i686-gnu` is refused with an error naming the x86_64-only back end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{gnu_mig_command, reference_include, reference_root, repo_root};
use conformance::harness::{
    build_harness, build_program, mig_stubs, repair_inlined_port_arrays, run_harness, HarnessRun,
    StubFiles, SUBSYSTEM_FILES,
};

const MIGC: &str = env!("CARGO_BIN_EXE_migc");

fn out_dir(which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(which)
}

/// Runs migc with GNU MIG's driver flags on `defs`; panics with its message on failure.
fn migc(include: &Path, defs: &Path, flags: &[&str]) {
    let out = Command::new(MIGC)
        .arg("-D__x86_64__")
        .arg(format!("-I{}", include.display()))
        .arg("-n")
        .args(flags)
        .arg(defs)
        .output()
        .unwrap_or_else(|e| panic!("cannot run migc: {e}"));
    assert!(
        out.status.success(),
        "migc {flags:?} {}: {}",
        defs.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `nm -g` of an object as (type, name) lines, addresses dropped.
fn global_symbols(object: &Path) -> Vec<String> {
    let out = Command::new("nm")
        .arg("-g")
        .arg(object)
        .output()
        .unwrap_or_else(|e| panic!("cannot run nm: {e}"));
    assert!(out.status.success(), "nm {}", object.display());
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w[w.len().saturating_sub(2)..].join(" ")
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn user_objects_have_the_symbols_of_gcc_compiled_c_stubs() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let dir = out_dir("obj-nm");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let support = repo_root().join("conformance/gnumach-boot/include");
    let mut problems = Vec::new();
    let (mut defined, mut undefined) = (0, 0);
    for (subsystem, defs) in SUBSYSTEM_FILES {
        let defs = include.join(defs);
        let c = dir.join(format!("{subsystem}User.c"));
        let h = dir.join(format!("{subsystem}.h"));
        let gcc_o = dir.join(format!("{subsystem}User.gcc.o"));
        let obj = dir.join(format!("{subsystem}User.o"));
        let f = |p: &Path| p.display().to_string();
        migc(&include, &defs, &["-user", &f(&c), "-header", &f(&h)]);
        migc(&include, &defs, &["--emit", "obj", "-user", &f(&obj)]);
        let cc = Command::new("gcc")
            .args(["-std=gnu11", "-O2", "-c"])
            .arg(format!("-I{}", dir.display()))
            .arg(format!("-I{}", support.display()))
            .arg(format!("-I{}", include.display()))
            .arg(&c)
            .arg("-o")
            .arg(&gcc_o)
            .output()
            .unwrap();
        assert!(
            cc.status.success(),
            "gcc {}: {}",
            c.display(),
            String::from_utf8_lossy(&cc.stderr)
        );
        let want = global_symbols(&gcc_o);
        let got = global_symbols(&obj);
        defined += want.iter().filter(|l| l.starts_with("T ")).count();
        undefined += want.iter().filter(|l| l.starts_with("U ")).count();
        if want != got {
            problems.push(format!(
                "{subsystem}: nm differs\n  gcc -O2: {want:?}\n  object:  {got:?}"
            ));
        }
    }
    eprintln!(
        "{} subsystems: {defined} defined and {undefined} undefined symbols in gcc's objects",
        SUBSYSTEM_FILES.len()
    );
    assert!(defined > 0, "no stub functions at all");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The records of each routine, keyed by routine name (the second word of a record).
fn by_routine(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in lines {
        let routine = l.split(' ').nth(1).unwrap_or("").to_string();
        m.entry(routine).or_default().push(l.clone());
    }
    m
}

/// The harness of `subsystem` with the client stubs as migc's object (built against migc's
/// user header; the harness reads the routines from migc's C stubs of the same run) and GNU
/// MIG's server stubs (mach4's one known GNU defect repaired as in the GNU/GNU harness).
fn object_client_run(root: &Path, subsystem: &str, gnu: &[&str]) -> Result<HarnessRun, String> {
    let migc_cmd = [MIGC, "-D__x86_64__"];
    let stubs: StubFiles = mig_stubs(root, subsystem, &migc_cmd, gnu, &out_dir("obj-wire"))?;
    let (_, defs) = SUBSYSTEM_FILES
        .iter()
        .find(|(s, _)| *s == subsystem)
        .expect("listed");
    let obj = stubs.dir.join(format!("{subsystem}User.o"));
    let f = |p: &Path| p.display().to_string();
    migc(
        &stubs.include,
        &stubs.include.join(defs),
        &["--emit", "obj", "-prefix", "cli_", "-user", &f(&obj)],
    );
    let text = std::fs::read_to_string(&stubs.server_c).map_err(|e| e.to_string())?;
    let (fixed, done) = repair_inlined_port_arrays(&text);
    let server = if done.is_empty() {
        stubs.server_c.clone()
    } else {
        let p = stubs.dir.join(format!("{subsystem}Server.repaired.c"));
        std::fs::write(&p, fixed).map_err(|e| e.to_string())?;
        p
    };
    let build = build_program(&stubs, &[obj, server])?;
    run_harness(&build)
}

#[test]
fn object_client_and_gnu_server_put_gnu_bytes_on_the_wire() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    let (mut total, mut identical, mut records) = (0, 0, 0);
    for (subsystem, _) in SUBSYSTEM_FILES {
        let reference = build_harness(&root, subsystem, &gnu, &gnu, &out_dir("obj-wire-ref"))
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        let reference_run =
            run_harness(&reference).unwrap_or_else(|e| panic!("{subsystem}: GNU/GNU: {e}"));
        assert!(
            reference_run.failures.is_empty(),
            "{subsystem}: GNU MIG's own harness failed: {:?}",
            reference_run.failures
        );
        total += reference.generated.total;
        let run = match object_client_run(&root, subsystem, &gnu) {
            Ok(run) => run,
            Err(e) => {
                let e: String = e.chars().take(3000).collect();
                problems.push(format!("{subsystem}: {e}"));
                continue;
            }
        };
        problems.extend(run.failures.iter().map(|f| format!("{subsystem}: {f}")));
        if run.malformed != reference_run.malformed {
            problems.push(format!(
                "{subsystem}: malformed requests answered differently:\n  GNU:    {:?}\n  object: {:?}",
                reference_run.malformed, run.malformed
            ));
        }
        if run.calls.len() != reference_run.calls.len() {
            problems.push(format!(
                "{subsystem}: {} calls, GNU/GNU made {}",
                run.calls.len(),
                reference_run.calls.len()
            ));
        }
        let want = by_routine(&reference_run.wire);
        let got = by_routine(&run.wire);
        let mut same = 0;
        for routine in &reference.generated.covered {
            let w = want.get(routine).cloned().unwrap_or_default();
            let g = got.get(routine).cloned().unwrap_or_default();
            records += w.len();
            if w == g && !w.is_empty() {
                same += 1;
            } else {
                let first = w
                    .iter()
                    .zip(&g)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("\n    GNU:    {a}\n    object: {b}"))
                    .unwrap_or_else(|| format!(" ({} records vs {})", w.len(), g.len()));
                problems.push(format!("{subsystem}: {routine}:{first}"));
            }
        }
        for s in &reference.generated.skipped {
            problems.push(format!(
                "{subsystem}: {}: not driven by the harness: {}",
                s.routine, s.reason
            ));
        }
        eprintln!(
            "{subsystem}: {same}/{} routines identical, {} malformed requests",
            reference.generated.total,
            run.malformed.len()
        );
        identical += same;
    }
    eprintln!(
        "object client/GNU server: {identical}/{total} routines identical ({records} records)"
    );
    if identical != total {
        problems.push(format!("{identical}/{total} routines identical"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_object_back_end_refuses_i686() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let dir = out_dir("obj-i686");
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("mach_portUser.o");
    let _ = std::fs::remove_file(&obj);
    let out = Command::new(MIGC)
        .args(["--target", "i686-gnu", "--emit", "obj", "-n", "-user"])
        .arg(&obj)
        .arg(format!("-I{}", include.display()))
        .arg(include.join("mach/mach_port.defs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(
        !out.status.success(),
        "migc accepted --target i686-gnu --emit obj"
    );
    assert!(
        stderr.contains("x86_64 only") && stderr.contains("i686-gnu"),
        "unclear error: {stderr}"
    );
    assert!(!obj.exists(), "an object was written for i686");
}

/// Builds `obj_calls/main.c` with the stubs of `obj_calls/objtest.defs` as `stubs` (migc's C
/// file or its object) and returns what the program printed.
fn calls_run(dir: &Path, include: &Path, stubs: &Path, name: &str) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/obj_calls");
    let exe = dir.join(name);
    let cc = Command::new("gcc")
        .args(["-std=gnu11", "-O2", "-Wall"])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", src.display()))
        .arg(format!(
            "-I{}",
            repo_root()
                .join("conformance/gnumach-boot/include")
                .display()
        ))
        .arg(format!("-I{}", include.display()))
        .arg(src.join("main.c"))
        .arg(stubs)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "gcc {name}: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success(), "{name} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn object_stubs_call_mach_msg_and_check_replies_as_c_stubs() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let dir = out_dir("obj-calls");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let defs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/obj_calls/objtest.defs");
    let f = |p: &Path| p.display().to_string();
    let (c, h, o) = (
        dir.join("objtestUser.c"),
        dir.join("objtest.h"),
        dir.join("objtestUser.o"),
    );
    migc(&include, &defs, &["-user", &f(&c), "-header", &f(&h)]);
    migc(&include, &defs, &["--emit", "obj", "-user", &f(&o)]);
    let with_c = calls_run(&dir, &include, &c, "calls-c");
    let with_obj = calls_run(&dir, &include, &o, "calls-obj");
    eprintln!("{with_obj}");
    // The C stub's own figures: the 32-byte structure is in the request, and the option and
    // timeout reach mach_msg (MACH_SEND_MSG|MACH_RCV_MSG|MACH_SEND_INTERRUPT|MACH_RCV_TIMEOUT).
    assert!(
        with_c.contains("04 03 02 01 08 06 04 02"),
        "the structure is not in the C stub's request:\n{with_c}"
    );
    assert!(
        with_c.contains("option=0x143 ") && with_c.contains("timeout=250 "),
        "unexpected C stub options:\n{with_c}"
    );
    // Replies to obj_get, well-formed and malformed: the C stub's answers cover every code.
    for code in [
        "mode 0 -> 0 cnt=3 data=100 101 102 -1",
        "mode 2 -> 5 ",
        "-> -300 ",
        "-> -301 ",
        "-> -307 cnt=4 data=100 101 -1",
        "-> -308 ",
    ] {
        assert!(
            with_c.contains(code),
            "no `{code}` from the C stub:\n{with_c}"
        );
    }
    assert_eq!(
        with_obj, with_c,
        "the object stubs call mach_msg differently"
    );
}
