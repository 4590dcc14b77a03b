//! The build.rs API: `Builder` writes `<subsystem>.rs` per file, reports (and prints as
//! `cargo:rerun-if-changed`) every file read including includes, is deterministic, leaves an
//! unchanged file untouched, and reports front-end errors with their location.

use std::path::PathBuf;

use conformance::gnumach::{reference_include, reference_root};

#[test]
fn builder_writes_stubs_and_lists_every_file_read() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("builder");
    let _ = std::fs::remove_dir_all(&out);
    let build = || {
        mig_backend_rust::Builder::new()
            .include(&include)
            .client(include.join("mach/mach_port.defs"))
            .server(include.join("mach/notify.defs"))
            .out_dir(&out)
            .compile()
            .unwrap()
    };
    let first = build();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].subsystem, "mach_port");
    assert_eq!(first[0].path, out.join("mach_port.rs"));
    let names: Vec<String> = first[0]
        .files_read
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in ["mach_port.defs", "std_types.defs", "mach_types.defs"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let client = std::fs::read_to_string(&first[0].path).unwrap();
    assert!(client.contains("pub mod client") && !client.contains("pub mod server"));
    let server = std::fs::read_to_string(&first[1].path).unwrap();
    assert!(server.contains("pub mod server") && !server.contains("pub mod client"));
    let modified = std::fs::metadata(&first[0].path)
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = build();
    assert_eq!(first, second);
    assert_eq!(std::fs::read_to_string(&second[0].path).unwrap(), client);
    assert_eq!(
        std::fs::metadata(&second[0].path)
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "an unchanged file is not rewritten"
    );
}

#[test]
fn builder_reports_errors_with_their_location() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("builder-err");
    std::fs::create_dir_all(&dir).unwrap();
    let defs = dir.join("bad.defs");
    std::fs::write(&defs, "subsystem bad 100;\nroutine r(x: int)\n").unwrap();
    let e = mig_backend_rust::Builder::new()
        .out_dir(&dir)
        .client(&defs)
        .emit_rerun_if_changed(false)
        .compile()
        .unwrap_err();
    assert_eq!(e.file, defs);
    assert!(e.message.contains("bad.defs:2"), "{}", e.message);
}
