//! The analysis answers every question at every position of real and broken files without
//! panicking: GNU Mach's `.defs` files (the reference set, when fetched), each also cut short
//! at several points, are opened, and hover, definition, references, completion, rename,
//! highlighting, folding, symbols and formatting are asked everywhere.

use std::path::{Path, PathBuf};

use mig_lsp::analysis::{completion, hover, ide, syntax, Workspace};

fn reference_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.cache/reference/root/usr/include/x86_64-linux-gnu/mach");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "defs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn ask_everything(ws: &Workspace, path: &Path, text: &str) {
    let unit = ws.unit(path).expect("analysed");
    for offset in (0..=text.len()).step_by(17) {
        if !text.is_char_boundary(offset) {
            continue;
        }
        let _ = hover::hover(unit, path, offset, text);
        let _ = ide::definition(ws, path, offset);
        let _ = ide::references(ws, path, offset, true);
        let _ = ide::rename(ws, path, offset, "renamed_t");
        let _ = completion::complete(Some(unit), unit.config.dialect, text, offset);
    }
    let _ = syntax::highlights(path, text, Some(&unit.index));
    let _ = syntax::folding(text);
    let _ = ide::document_symbols(ws, path);
    let _ = ide::workspace_symbols(ws, "t");
    let _ = ide::format(ws, path);
    let _ = ws.diagnostics(path);
}

#[test]
fn every_position_of_real_and_truncated_files() {
    let files = reference_files();
    if files.is_empty() {
        // The reference set is fetched by scripts/fetch-reference.sh (run by scripts/test.sh);
        // without it, use the fixtures.
        eprintln!("reference set not fetched: using the fixtures only");
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut all = files;
    all.push(fixtures.join("routines.defs"));
    all.push(fixtures.join("errors.defs"));
    let mut ws = Workspace::new();
    let mut hovered_routines = 0;
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        ws.set_text(&path, text.clone());
        ask_everything(&ws, &path, &text);
        if ws.unit(&path).is_some_and(|u| u.module.is_some()) {
            hovered_routines += 1;
        }
        for cut in [text.len() / 3, text.len() / 2, text.len() * 4 / 5] {
            let mut cut = cut;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let broken = text[..cut].to_string();
            ws.set_text(&path, broken.clone());
            ask_everything(&ws, &path, &broken);
        }
        ws.close(&path);
    }
    assert!(hovered_routines > 0, "no file lowered to an IR");
}
