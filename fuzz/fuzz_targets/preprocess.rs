//! Fuzz target: the built-in preprocessor on arbitrary bytes as the main file, in both modes.
//! It must never panic, hang or overflow the stack; small limits keep each run short.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mig_frontend::preprocess::{preprocess, MacroAction, PpLimits, PpMode, PpOptions};
use mig_frontend::source::{SourceDb, Span};

fuzz_target!(|data: &[u8]| {
    let limits = PpLimits {
        max_include_depth: 20,
        max_expansion_tokens: 20_000,
        max_output_bytes: 1 << 20,
        max_arg_nesting: 50,
    };
    for mode in [PpMode::Full, PpMode::Preprocessed] {
        let mut db = SourceDb::new();
        let (main, _) = db.add_bytes("fuzz.defs", data);
        let opts = PpOptions {
            mode,
            limits,
            macro_actions: vec![
                MacroAction::Define("F(x)".into(), Some("x ## x #x".into())),
                MacroAction::Undef("__FILE__".into()),
            ],
            ..PpOptions::for_target("x86_64-gnu", false)
        };
        let r = preprocess(&mut db, main, &opts);
        // Every unit offset resolves into a file of the database.
        for i in (0..=r.text.len()).step_by(7) {
            if let Some((file, range, _)) = r.origins.resolve(Span::new(i, i + 1)) {
                assert!((file.0 as usize) < db.len());
                assert!(range.start <= range.end);
            }
        }
        let _ = mig_frontend::diagnostics::render_plain(&db, &r.diagnostics);
    }
});
