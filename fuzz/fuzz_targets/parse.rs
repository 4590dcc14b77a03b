//! Fuzz target: the lexer, parser and dialect checks on arbitrary text (as unit text and as raw
//! source), the whole front end through `parse_bytes`, and lowering of whatever tree results.
//! None of it may panic; diagnostics must render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mig_frontend::dialect::Dialect;
use mig_frontend::lexer::LexMode;
use mig_frontend::preprocess::{PpMode, PpOptions};
use mig_frontend::{parse_bytes, FrontendOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for mode in [LexMode::Unit, LexMode::Raw] {
        let r = mig_frontend::parser::parse(&text, mode);
        for d in &r.diagnostics {
            assert!(d.primary.0.start <= d.primary.0.end);
            assert!(d.primary.0.end as usize <= text.len());
        }
        for dialect in Dialect::ALL {
            let _ = mig_frontend::check::check_dialect(&r.file, dialect);
        }
    }
    let opts = FrontendOptions {
        dialect: Dialect::Gnu,
        pp: PpOptions {
            mode: PpMode::Preprocessed,
            ..PpOptions::for_target("x86_64-gnu", false)
        },
    };
    let parsed = parse_bytes("fuzz.defs", data, &opts);
    let _ = mig_frontend::diagnostics::render_plain(&parsed.db, &parsed.diagnostics);
    for target in mig_ir::target::TARGETS {
        let lowered = mig_ir::lower(&parsed.file, target);
        let located: Vec<_> = lowered.diagnostics.iter().map(|d| parsed.locate(d)).collect();
        let _ = mig_frontend::diagnostics::render_plain(&parsed.db, &located);
    }
});
