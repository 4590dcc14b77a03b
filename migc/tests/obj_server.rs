//! The object back end's server side (`migc --emit obj -server X.o`) against the C it
//! replaces, for every subsystem of gnumach-dev:
//! - `nm` of the object lists the symbols (names and kinds: `t _X<routine>`, `T <demux>`,
//!   `D <demux>_routines`, `U <server function>`) that gcc -O2's object of migc's C server
//!   file lists;
//! - in the in-process wire harness (`conformance::harness`), a GNU MIG client facing the
//!   object server puts exactly the bytes on the wire that GNU MIG on both sides puts there
//!   (every `request`, `reply`, `*-ool` and `oneway` record), and the object server answers the
//!   malformed requests as GNU MIG's server stubs do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{gnu_mig_command, reference_root};
use conformance::harness::{build_harness, build_program, mig_stubs, run_harness, SUBSYSTEM_FILES};

fn out_dir(which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(which)
}

fn include(root: &Path) -> PathBuf {
    root.join("usr/include/x86_64-linux-gnu")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `migc --emit obj -server <out>` for `defs`.
fn server_object(include: &Path, defs: &Path, out: &Path) {
    run(Command::new(env!("CARGO_BIN_EXE_migc"))
        .args(["--emit", "obj", "-n"])
        .arg(format!("-I{}", include.display()))
        .arg("-server")
        .arg(out)
        .arg(defs));
}

/// `nm` of an object as sorted "kind name" lines (addresses dropped).
fn symbols(object: &Path) -> Vec<String> {
    let text = run(Command::new("nm").arg(object));
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 2).then(|| format!("{} {}", w[w.len() - 2], w[w.len() - 1]))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn server_objects_define_the_symbols_of_gccs_objects() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let inc = include(&root);
    let support =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/gnumach-boot/include");
    let dir = out_dir("obj-server-nm");
    std::fs::create_dir_all(&dir).unwrap();
    let mut problems = Vec::new();
    for (subsystem, defs) in SUBSYSTEM_FILES {
        let defs = inc.join(defs);
        let c = dir.join(format!("{subsystem}Server.c"));
        let header = dir.join(format!("{subsystem}.h"));
        run(Command::new(env!("CARGO_BIN_EXE_migc"))
            .arg("-n")
            .arg(format!("-I{}", inc.display()))
            .arg("-server")
            .arg(&c)
            .arg("-header")
            .arg(&header)
            .arg(&defs));
        let gcc_o = dir.join(format!("{subsystem}Server.gcc.o"));
        run(Command::new("gcc")
            .args(["-O2", "-c"])
            .arg(format!("-I{}", dir.display()))
            .arg(format!("-I{}", support.display()))
            .arg(format!("-I{}", inc.display()))
            .arg(&c)
            .arg("-o")
            .arg(&gcc_o));
        let obj = dir.join(format!("{subsystem}Server.o"));
        server_object(&inc, &defs, &obj);
        // Deterministic: a second run writes the same bytes.
        let again = dir.join(format!("{subsystem}Server.again.o"));
        server_object(&inc, &defs, &again);
        if std::fs::read(&obj).unwrap() != std::fs::read(&again).unwrap() {
            problems.push(format!("{subsystem}: two runs wrote different objects"));
        }
        let (want, got) = (symbols(&gcc_o), symbols(&obj));
        assert!(!want.is_empty(), "{subsystem}: gcc's object has no symbols");
        if want != got {
            problems.push(format!(
                "{subsystem}: nm differs:\n  gcc:    {want:?}\n  object: {got:?}"
            ));
        }
        eprintln!(
            "{subsystem}: {} symbols, identical: {}",
            want.len(),
            want == got
        );
    }
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

#[test]
fn the_server_symbol_table_is_refused() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let inc = include(&root);
    let dir = out_dir("obj-server-symtab");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_migc"))
        .args(["--emit", "obj", "-n", "-s"])
        .arg(format!("-I{}", inc.display()))
        .arg("-server")
        .arg(dir.join("machServer.o"))
        .arg(inc.join("mach/mach.defs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "-s with --emit obj -server succeeded"
    );
    assert!(
        stderr.contains("-s (the server's symbol table)"),
        "{stderr}"
    );
    assert!(!dir.join("machServer.o").exists());
}

#[test]
fn gnu_client_and_object_server_put_gnu_mig_bytes_on_the_wire() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let inc = include(&root);
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let migc = [env!("CARGO_BIN_EXE_migc")];
    let mut problems = Vec::new();
    let (mut total, mut identical, mut malformed) = (0, 0, 0);
    for (subsystem, defs) in SUBSYSTEM_FILES {
        let reference = build_harness(&root, subsystem, &gnu, &gnu, &out_dir("obj-wire-ref"))
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        let reference_run =
            run_harness(&reference).unwrap_or_else(|e| panic!("{subsystem}: GNU MIG: {e}"));
        // The program is generated from GNU MIG's client and migc's C server text (their
        // prototypes and descriptors); the server linked is the object.
        let stubs = mig_stubs(&root, subsystem, &gnu, &migc, &out_dir("obj-wire-server"))
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        let obj = stubs.dir.join(format!("{subsystem}Server.o"));
        server_object(&inc, &inc.join(defs), &obj);
        let build = build_program(&stubs, &[stubs.user_c.clone(), obj])
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        let run = match run_harness(&build) {
            Ok(run) => run,
            Err(e) => {
                let e: String = e.chars().take(2000).collect();
                problems.push(format!("{subsystem}: {e}"));
                continue;
            }
        };
        problems.extend(run.failures.iter().map(|f| format!("{subsystem}: {f}")));
        let want = by_routine(&reference_run.wire);
        let got = by_routine(&run.wire);
        let mut sub = 0;
        for routine in &reference.generated.covered {
            total += 1;
            let w = want.get(routine).cloned().unwrap_or_default();
            let g = got.get(routine).cloned().unwrap_or_default();
            if w == g && !w.is_empty() {
                sub += 1;
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
        identical += sub;
        if run.malformed != reference_run.malformed {
            problems.push(format!(
                "{subsystem}: malformed requests answered differently:\n  GNU:    {:?}\n  object: {:?}",
                reference_run.malformed, run.malformed
            ));
        }
        malformed += run.malformed.len();
        eprintln!(
            "{subsystem}: routines {}/{}, identical with the object server: {sub}, malformed requests: {}",
            reference.generated.covered.len(),
            reference.generated.total,
            run.malformed.len()
        );
    }
    eprintln!("identical: {identical}/{total} routines, {malformed} malformed requests");
    assert!(total > 0, "no routine was driven");
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (listed above)",
        problems.len()
    );
}
