//! Partial lowering: a unit where one routine is broken still yields every other routine, with
//! the message id and layouts it has in the same unit once the broken routine is fixed.

use mig_frontend::lexer::LexMode;
use mig_frontend::preprocess::{preprocess, PpOptions};
use mig_frontend::source::SourceDb;
use mig_ir::target::X86_64_GNU;
use mig_ir::{Lowered, ModuleView};

fn lower(text: &str) -> Lowered {
    let mut db = SourceDb::new();
    let (main, _) = db.add_bytes("p.defs", text.as_bytes());
    let pp = preprocess(&mut db, main, &PpOptions::default());
    let parsed = mig_frontend::parser::parse(&pp.text, LexMode::Unit);
    assert!(
        parsed.diagnostics.is_empty(),
        "syntax errors in the test file"
    );
    mig_ir::lower(&parsed.file, &X86_64_GNU)
}

const UNIT: &str = "subsystem part 5000;\n\
    type num = MACH_MSG_TYPE_INTEGER_32;\n\
    type port = MACH_MSG_TYPE_COPY_SEND;\n\
    routine first(server: port; x: num; out y: num);\n\
    routine second(server: port; z: BROKEN);\n\
    skip;\n\
    simpleroutine third(server: port; a: array[*:16] of num);\n";

#[test]
fn valid_routines_keep_ids_and_layouts() {
    let broken = lower(UNIT);
    assert!(
        broken.module.is_none(),
        "a unit with an error has no validated module"
    );
    assert!(broken
        .diagnostics
        .iter()
        .any(|d| d.message.contains("BROKEN")));
    let partial = broken.partial.expect("a partial module");
    assert_eq!(partial.broken(), ["second"]);
    let fixed = lower(&UNIT.replace("BROKEN", "num"));
    let full = fixed.module.expect("the fixed unit lowers");
    let names: Vec<&str> = partial
        .module()
        .routines
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["first", "third"]);
    for (i, r) in partial.module().routines.iter().enumerate() {
        let j = full
            .module()
            .routines
            .iter()
            .position(|f| f.name == r.name)
            .unwrap();
        let f = &full.module().routines[j];
        assert_eq!(
            (r.msgh_id, r.reply_msgh_id),
            (f.msgh_id, f.reply_msgh_id),
            "{}",
            r.name
        );
        assert_eq!(
            format!("{:?}", partial.layout(i)),
            format!("{:?}", ModuleView::layout(&full, j)),
            "{}",
            r.name
        );
    }
    assert_eq!(partial.module().routines[1].msgh_id, 5003);
}

#[test]
fn no_subsystem_no_partial_module() {
    let l = lower("type num = MACH_MSG_TYPE_INTEGER_32;\nroutine r(s: int; x: NOPE);\n");
    assert!(l.module.is_none() && l.partial.is_none());
}
