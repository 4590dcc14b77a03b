//! The wire harness with GNU MIG on both sides: client stubs and server stubs of each
//! subsystem of gnumach-dev, linked into one program and talking in-process (see
//! `conformance::harness`).  Every driven routine must round-trip its values in three cases
//! (arrays and strings at 0, 1 and the maximum length), return the code of a failing server
//! function in a fourth, and its server stub must reject malformed requests the way GNU MIG's
//! server stubs were observed to: an id outside the subsystem with `MIG_BAD_ID` (-303) and
//! the demux returning FALSE; a size off by 8 bytes or a wrong type descriptor with
//! `MIG_BAD_ARGUMENTS` (-304), the demux returning TRUE; the server function never running.

use std::path::PathBuf;

use conformance::gnumach::{gnu_mig_command, reference_root};
use conformance::harness::{build_harness, compare_wire, run_harness, SUBSYSTEM_FILES};

/// Subsystems whose GNU MIG server stubs gcc rejects, with the stub function it stops in
/// (observed with GNU MIG 1.8+git20231217): mach4's `memory_object_create_proxy` passes an
/// inline port array as `In0P->object.name`. The harness repairs exactly that expression
/// (`conformance::harness::repair_inlined_port_arrays`) and tests the subsystem.
const GNU_SERVER_STUBS_REJECTED: &[(&str, &str, &str)] =
    &[("mach4", "_Xmemory_object_create_proxy", "In0P->object.name")];

/// Observed answers of GNU MIG's server stubs to malformed requests: defect, demux result,
/// RetCode.
const MALFORMED: &[(&str, i32, i32)] = &[
    ("id-below-base", 0, -303),
    ("id-past-end", 0, -303),
    ("size-plus-8", 1, -304),
    ("size-minus-8", 1, -304),
    ("wrong-type", 1, -304),
];

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wire-gnu")
}

fn check_malformed(subsystem: &str, line: &str, problems: &mut Vec<String>) {
    // malformed <routine> <defect> demux=<d> retcode=<r> server_calls=<n> body_parses=<b>
    let words: Vec<&str> = line.split(' ').collect();
    let field =
        |key: &str| -> Option<i32> { words.iter().find_map(|w| w.strip_prefix(key)?.parse().ok()) };
    let defect = words.get(2).copied().unwrap_or("");
    let Some((_, demux, retcode)) = MALFORMED.iter().find(|(d, _, _)| *d == defect) else {
        problems.push(format!("{subsystem}: unknown malformed line {line}"));
        return;
    };
    if field("demux=") != Some(*demux)
        || field("retcode=") != Some(*retcode)
        || field("server_calls=") != Some(0)
    {
        problems.push(format!("{subsystem}: {line}"));
    }
}

#[test]
fn all_subsystems_gnu_client_gnu_server() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let mig = gnu_mig_command(&root);
    let mig: Vec<&str> = mig.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    let mut left_out = Vec::new();
    let (mut covered, mut total, mut malformed, mut calls) = (0, 0, 0, 0);
    for (subsystem, _) in SUBSYSTEM_FILES {
        let build = build_harness(&root, subsystem, &mig, &mig, &out_dir())
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        let g = &build.generated;
        total += g.total;
        if !build.warnings.is_empty() && build.built {
            eprintln!("{subsystem}: gcc -Wall -Wextra:\n{}", build.warnings);
        }
        let expected: Vec<(&str, &str)> = GNU_SERVER_STUBS_REJECTED
            .iter()
            .filter(|(s, _, _)| s == subsystem)
            .map(|(_, f, e)| (*f, *e))
            .collect();
        let repaired: Vec<(&str, &str)> = build
            .repaired
            .iter()
            .map(|r| (r.function.as_str(), r.expression.as_str()))
            .collect();
        if repaired != expected {
            problems.push(format!(
                "{subsystem}: repaired {repaired:?} in GNU MIG's server stubs, expected {expected:?}"
            ));
        }
        for r in &build.repaired {
            if !r.gcc_error.contains(&r.function) {
                problems.push(format!(
                    "{subsystem}: expected gcc to reject GNU MIG's {}:\n{}",
                    r.function, r.gcc_error
                ));
            }
            eprintln!(
                "{subsystem}: {}: GNU MIG's server stub does not compile; `{}` repaired",
                r.function, r.expression
            );
        }
        let run = run_harness(&build).unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        // The byte records must not depend on the run: replay and compare.
        let again = run_harness(&build).unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        if !compare_wire(&run, &again).is_empty() {
            problems.push(format!(
                "{subsystem}: the request/reply records differ between two runs"
            ));
        }
        std::fs::write(build.dir.join("wire.txt"), run.wire.join("\n") + "\n")
            .unwrap_or_else(|e| panic!("{e}"));
        covered += g.covered.len();
        for s in &g.skipped {
            left_out.push(format!("{subsystem}: {}: {}", s.routine, s.reason));
        }
        problems.extend(run.failures.iter().map(|f| format!("{subsystem}: {f}")));
        for line in &run.malformed {
            check_malformed(subsystem, line, &mut problems);
        }
        malformed += run.malformed.len();
        calls += run.calls.len();
        // Every driven routine ran its cases and its malformed requests.
        for routine in &g.covered {
            let n = run
                .calls
                .iter()
                .filter(|l| l.split(' ').nth(1) == Some(routine.as_str()))
                .count();
            if n != 4 {
                problems.push(format!("{subsystem}: {routine}: {n} calls instead of 4"));
            }
            let m = run
                .malformed
                .iter()
                .filter(|l| l.split(' ').nth(1) == Some(routine.as_str()))
                .count();
            if m < 3 {
                problems.push(format!("{subsystem}: {routine}: {m} malformed requests"));
            }
        }
        eprintln!(
            "{subsystem}: routines covered: {}/{}",
            g.covered.len(),
            g.total
        );
    }
    eprintln!(
        "routines covered: {covered}/{total} ({calls} calls, {malformed} malformed requests)"
    );
    for l in &left_out {
        eprintln!("  left out: {l}");
    }
    if covered != total {
        problems.push(format!(
            "{covered} of {total} routines driven; every routine of every subsystem must be (left out: {left_out:?})"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
