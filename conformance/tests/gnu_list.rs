//! `-list` output and message sizes of migc's IR against GNU MIG, for every subsystem file of
//! `gnumach-dev` (x86_64-gnu). Needs the reference set (fetched by
//! `scripts/fetch-reference.sh` when missing) and gcc.
//!
//! The sizes come from GNU MIG's own generated code: user stubs assert each fixed request size
//! (`_Static_assert(sizeof(Request) == N, ...)`) or compute `msgh_size = N + <variable part>`,
//! and check each reply against `N` (`msgh_size != N` or `< N`); server stubs check each
//! request the same way and set each reply size (`msgh_size = N` or `N + ...`).

mod gnu;

use gnu::{routine_sections, Reference};

#[test]
fn list_files_are_byte_identical() {
    let Some(r) = Reference::find() else { return };
    let mut checked = 0;
    for f in r.subsystem_files() {
        let gnu = r.run_gnu(&f);
        let ours = gnu::lower_x86_64(&gnu.preprocessed, &f.name);
        let list = mig_ir::render_list(&ours);
        assert_eq!(list, gnu.list, "-list output of {} differs", f.name);
        checked += 1;
    }
    println!("list files: {checked}/{checked} byte-identical");
    assert_eq!(
        checked, 17,
        "expected the 17 subsystem files of gnumach-dev"
    );
}

#[test]
fn message_sizes_agree() {
    let Some(r) = Reference::find() else { return };
    let (agree, total, failures) = compare_sizes(&r, r.subsystem_files());
    println!("routines: {agree}/{total} sizes agree");
    assert!(
        failures.is_empty(),
        "size mismatches:\n{}",
        failures.join("\n")
    );
    assert!(
        total > 150,
        "expected every routine of gnumach-dev, got {total}"
    );
}

/// The IR snapshot inputs of mig-ir (`mig-ir/test_data/ok`) against GNU MIG too, except the
/// one GNU MIG crashes on.
#[test]
fn ir_test_data_agrees_with_gnu_mig() {
    let Some(r) = Reference::find() else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mig-ir/test_data/ok");
    let mut files: Vec<gnu::DefsFile> = std::fs::read_dir(&dir)
        .expect("mig-ir/test_data/ok")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "defs"))
        .filter(|p| !p.ends_with("type_before_subsystem.defs"))
        .map(|p| gnu::DefsFile {
            name: p.file_stem().unwrap().to_string_lossy().into_owned(),
            path: p,
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    for f in &files {
        let gnu = r.run_gnu(f);
        let ours = gnu::lower_x86_64(&gnu.preprocessed, &f.name);
        assert_eq!(
            mig_ir::render_list(&ours),
            gnu.list,
            "-list output of {} differs",
            f.name
        );
    }
    let (agree, total, failures) = compare_sizes(&r, files);
    println!("test_data routines: {agree}/{total} sizes agree");
    assert!(
        failures.is_empty(),
        "size mismatches:\n{}",
        failures.join("\n")
    );
}

/// Compares every routine's fixed request and reply sizes with GNU MIG's stubs.
fn compare_sizes(r: &Reference, files: Vec<gnu::DefsFile>) -> (usize, usize, Vec<String>) {
    let mut total = 0;
    let mut agree = 0;
    let mut failures = Vec::new();
    let reply_header = r.reply_header_size(&[]);
    for f in files {
        let gnu = r.run_gnu(&f);
        let ours = gnu::lower_x86_64(&gnu.preprocessed, &f.name);
        let user = routine_sections(&gnu.user, "/* Routine ", "/* SimpleRoutine ");
        let server = routine_sections(&gnu.server, "mig_internal void _X", "mig_internal void _X");
        for (routine, layout) in ours.routines() {
            total += 1;
            let mut problems = Vec::new();
            let mut check = |what: &str, gnu: Option<u32>, ours: Option<u32>| {
                if gnu != ours {
                    problems.push(format!("{what}: GNU MIG {gnu:?}, migc {ours:?}"));
                }
            };
            let req = &layout.request;
            let rep = layout.reply.as_ref();
            match user.get(&routine.name) {
                Some(text) => {
                    check(
                        "user request size",
                        gnu::request_size(text),
                        Some(req.fixed_size),
                    );
                    if !routine.is_simple() {
                        check(
                            "user reply check",
                            gnu::size_check(text, "msgh_size"),
                            rep.map(|l| l.fixed_size),
                        );
                    }
                }
                None => check("user stub", Some(1), None),
            }
            match server.get(&routine.name) {
                Some(text) => {
                    check(
                        "server request check",
                        gnu::size_check(text, "msgh_size"),
                        Some(req.fixed_size),
                    );
                    if !routine.is_simple() {
                        // A reply of only the return code is sized by the demux:
                        // `sizeof(mig_reply_header_t)`.
                        let size = gnu::reply_size(text).or(Some(reply_header));
                        check("server reply size", size, rep.map(|l| l.fixed_size));
                    }
                }
                None => check("server stub", Some(1), None),
            }
            if problems.is_empty() {
                agree += 1;
            } else {
                failures.push(format!(
                    "{}::{}: {}",
                    f.name,
                    routine.name,
                    problems.join("; ")
                ));
            }
        }
    }
    (agree, total, failures)
}
