//! migc against GNU MIG on the wire, through the in-process harness of
//! `conformance::harness`: for every subsystem of gnumach-dev, a migc client facing a GNU MIG
//! server and a GNU MIG client facing a migc server must put exactly the bytes in every
//! request and reply that GNU MIG on both sides puts there (the `request`, `reply`, `*-ool`
//! and `oneway` records), and their server stubs must answer malformed requests the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;

use conformance::gnumach::{gnu_mig_command, reference_root};
use conformance::harness::{build_harness, run_harness, HarnessRun, SUBSYSTEM_FILES};

fn out_dir(which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(which)
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

/// The `malformed` lines of a run, whole: defect, demux result, RetCode, server function
/// calls and whether the body parsed must all be what GNU MIG's stubs gave.
fn malformed(run: &HarnessRun) -> &[String] {
    &run.malformed
}

struct Pair {
    name: &'static str,
    run: Option<HarnessRun>,
    error: Option<String>,
}

#[test]
fn migc_and_gnu_mig_put_identical_bytes_on_the_wire() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let migc = [env!("CARGO_BIN_EXE_migc")];
    let mut problems = Vec::new();
    let (mut total, mut covered, mut identical_client, mut identical_server) = (0, 0, 0, 0);
    for (subsystem, _) in SUBSYSTEM_FILES {
        let reference = build_harness(&root, subsystem, &gnu, &gnu, &out_dir("wire-ref"))
            .unwrap_or_else(|e| panic!("{subsystem}: {e}"));
        total += reference.generated.total;
        // GNU MIG on both sides is the reference: when it does not build or run, the
        // subsystem's routines are not exchanged, which is a failure (mach4's one GNU defect
        // is repaired by the harness, see conformance/tests/wire_gnu.rs).
        let reference_run = match run_harness(&reference) {
            Ok(run) => run,
            Err(e) => {
                let e: String = e.chars().take(2000).collect();
                problems.push(format!("{subsystem}: GNU MIG's own harness: {e}"));
                continue;
            }
        };
        for s in &reference.generated.skipped {
            problems.push(format!(
                "{subsystem}: {}: not driven by the harness: {}",
                s.routine, s.reason
            ));
        }
        if !reference_run.failures.is_empty() {
            problems.push(format!(
                "{subsystem}: GNU MIG's own harness failed: {:?}",
                reference_run.failures
            ));
        }
        let reference_wire = by_routine(&reference_run.wire);
        let mut pairs = Vec::new();
        for (name, client, server, dir) in [
            (
                "migc client/GNU server",
                &migc[..],
                &gnu[..],
                "wire-migc-client",
            ),
            (
                "GNU client/migc server",
                &gnu[..],
                &migc[..],
                "wire-migc-server",
            ),
        ] {
            let mut pair = Pair {
                name,
                run: None,
                error: None,
            };
            match build_harness(&root, subsystem, client, server, &out_dir(dir)) {
                Ok(build) => match run_harness(&build) {
                    Ok(run) => pair.run = Some(run),
                    Err(e) => pair.error = Some(e),
                },
                Err(e) => pair.error = Some(e),
            }
            pairs.push(pair);
        }
        let mut sub_identical = [0usize; 2];
        for routine in &reference.generated.covered {
            covered += 1;
            let want = reference_wire.get(routine).cloned().unwrap_or_default();
            for (k, pair) in pairs.iter().enumerate() {
                let Some(run) = &pair.run else { continue };
                let got = by_routine(&run.wire)
                    .get(routine)
                    .cloned()
                    .unwrap_or_default();
                if got == want && !want.is_empty() {
                    sub_identical[k] += 1;
                } else {
                    let first = want
                        .iter()
                        .zip(&got)
                        .find(|(a, b)| a != b)
                        .map(|(a, b)| format!("\n    GNU:  {a}\n    migc: {b}"))
                        .unwrap_or_else(|| format!(" ({} records vs {})", want.len(), got.len()));
                    problems.push(format!("{subsystem}: {routine}: {}:{first}", pair.name));
                }
            }
        }
        identical_client += sub_identical[0];
        identical_server += sub_identical[1];
        for pair in &pairs {
            match (&pair.run, &pair.error) {
                (Some(run), _) => {
                    for f in &run.failures {
                        problems.push(format!("{subsystem}: {}: {f}", pair.name));
                    }
                    if malformed(run) != malformed(&reference_run) {
                        problems.push(format!(
                            "{subsystem}: {}: malformed requests answered differently:\n  GNU:  {:?}\n  migc: {:?}",
                            pair.name,
                            malformed(&reference_run),
                            malformed(run)
                        ));
                    }
                }
                (None, Some(e)) => {
                    let e: String = e.chars().take(2000).collect();
                    problems.push(format!("{subsystem}: {}: {e}", pair.name));
                }
                (None, None) => {}
            }
        }
        eprintln!(
            "{subsystem}: routines covered: {}/{}, identical: {} (migc client), {} (migc server)",
            reference.generated.covered.len(),
            reference.generated.total,
            sub_identical[0],
            sub_identical[1]
        );
    }
    eprintln!(
        "routines covered: {covered}/{total}, identical: {identical_client} (migc client/GNU server), {identical_server} (GNU client/migc server)"
    );
    // Every routine of every subsystem was exchanged, identically, in both pairings.
    if covered != total || identical_client != total || identical_server != total {
        problems.push(format!(
            "coverage: {covered}/{total} routines driven, {identical_client} identical with a migc client, {identical_server} with a migc server; all {total} must be"
        ));
    }
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (listed above)",
        problems.len()
    );
}
