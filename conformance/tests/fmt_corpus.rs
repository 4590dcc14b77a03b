//! `migc fmt` over every `.defs` file of the three corpora (GNU reference set, XNU, MkLinux):
//! the formatter accepts each file, is idempotent, keeps every token, comment and
//! preprocessor line in order, and does not change the meaning: files that declare a subsystem
//! lower to the same IR (JSON) before and after; files that do not lower alone (type-only
//! includes, missing corpus includes) must preprocess to the same significant tokens and give
//! the same diagnostics.

use std::path::Path;

use conformance::corpus::{corpus_families, declares_subsystem, defs_files, gnu_family, Family};
use conformance::skip::corpus_or_skip;
use mig_frontend::dialect::Dialect;
use mig_frontend::format::format;
use mig_frontend::lexer::{lex, LexMode, TokenKind};
use mig_frontend::preprocess::{predefined_macros, MacroAction, PpOptions};
use mig_frontend::{parse_bytes, FrontendOptions, Parsed};
use mig_ir::target::Target;

fn options(f: &Family) -> FrontendOptions {
    FrontendOptions {
        dialect: Dialect::from_name(f.dialect).unwrap_or_default(),
        pp: PpOptions {
            include_dirs: f.include_dirs.clone(),
            macro_actions: f
                .defines
                .iter()
                .map(|d| MacroAction::Define(d.to_string(), None))
                .collect(),
            predefined: predefined_macros("x86_64-gnu").unwrap_or_default(),
            ..PpOptions::default()
        },
    }
}

/// Every token that is not white space, as (kind, text).
fn items(text: &str, mode: LexMode) -> Vec<(TokenKind, String)> {
    let (tokens, _) = lex(text, mode);
    tokens
        .into_iter()
        .filter(|t| !matches!(t.kind, TokenKind::Whitespace | TokenKind::Newline))
        .map(|t| (t.kind, text[t.span.range()].to_string()))
        .collect()
}

/// What a unit means: its IR when it lowers (and true), else its significant tokens and
/// diagnostics.
fn meaning(p: &Parsed, target: &'static Target) -> (bool, String) {
    let lowered = mig_ir::lower(&p.file, target);
    if let Some(v) = lowered.module {
        return (true, v.to_json());
    }
    let mut s: Vec<String> = items(&p.unit, LexMode::Unit)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    s.extend(p.diagnostics.iter().map(|d| d.message.clone()));
    s.extend(lowered.diagnostics.iter().map(|d| d.message.clone()));
    (false, s.join(" "))
}

/// Checks one file; true when its meaning was compared as IR.
fn check_file(
    path: &Path,
    opts: &FrontendOptions,
    target: &'static Target,
) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let once = format(&text).map_err(|e| format!("refused: {e}"))?;
    let twice = format(&once).map_err(|e| format!("refused its own output: {e}"))?;
    if twice != once {
        return Err("not idempotent".into());
    }
    if items(&text, LexMode::Raw) != items(&once, LexMode::Raw) {
        return Err("tokens, comments or directives changed".into());
    }
    let name = path.display().to_string();
    let before = parse_bytes(&name, text.as_bytes(), opts);
    let after = parse_bytes(&name, once.as_bytes(), opts);
    let (as_ir, before) = meaning(&before, target);
    if before != meaning(&after, target).1 {
        return Err("meaning changed (IR or preprocessed tokens differ)".into());
    }
    Ok(as_ir)
}

/// Checks every file of `families`; panics with the failures.
fn check_families(families: &[Family]) {
    let target = Target::by_name("x86_64-gnu").expect("x86_64-gnu target");
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for f in families {
        let opts = options(f);
        let files = defs_files(&f.dir);
        assert!(!files.is_empty(), "{}: no .defs files", f.name);
        let (mut subsystems, mut as_ir) = (0, 0);
        for path in &files {
            match check_file(path, &opts, target) {
                Ok(ir) => as_ir += usize::from(ir),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
            subsystems += usize::from(declares_subsystem(path));
        }
        counts.push(format!(
            "{}: {} files, {} with a subsystem, {} compared as IR",
            f.name,
            files.len(),
            subsystems,
            as_ir
        ));
    }
    println!("{}", counts.join("\n"));
    assert!(
        failures.is_empty(),
        "{} files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The GNU reference set: needs no corpus.
#[test]
fn fmt_is_idempotent_and_meaning_preserving_on_every_gnu_file() {
    check_families(&[gnu_family()]);
}

/// The Apple and OSF corpora (a visible skip without `../shared/corpus`).
#[test]
fn fmt_is_idempotent_and_meaning_preserving_on_every_corpus_file() {
    let Some(corpus) =
        corpus_or_skip("fmt_is_idempotent_and_meaning_preserving_on_every_corpus_file")
    else {
        return;
    };
    let scratch = std::env::temp_dir().join("migc-fmt-corpus");
    check_families(&corpus_families(&corpus, &scratch));
}
