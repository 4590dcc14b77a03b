//! Already-preprocessed input (`PpMode::Preprocessed`): line markers (`# N "file" flags`,
//! `#line N "file"`) place each line in its original file; `#define`, `#undef` and `#pragma`
//! lines are skipped; nothing is expanded.
//!
//! A file named by a marker that exists on disk is read and lines map into it (column for
//! column); otherwise a synthetic file of that name is built from the input lines at their line
//! numbers (blank lines between), so diagnostics still show the right name, line and text.

use std::collections::HashMap;
use std::path::Path;

use codespan_reporting::diagnostic::Label;

use super::{PpOptions, Preprocessed};
use crate::diagnostics::Diagnostic;
use crate::source::{
    FileId, IncludeId, IncludeStep, Origin, OriginMap, Range32, SourceDb, SourceFile,
};

/// A file lines can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FileRef {
    /// The input itself (lines before the first marker).
    Main,
    Disk(FileId),
    Synth(usize),
}

/// A place: line (1-based) and byte column in a file.
#[derive(Debug, Clone, Copy)]
struct Loc {
    file: FileRef,
    line: u64,
    col: usize,
}

#[derive(Debug)]
struct Synth {
    name: String,
    /// Per line (index = line - 1), the range of the input holding its text.
    lines: Vec<Option<(usize, usize)>>,
}

#[derive(Debug, Clone, Copy)]
struct PendingStep {
    file: FileRef,
    /// Parent step and the place of the include in the parent.
    at: Option<(usize, Loc)>,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    file: FileRef,
    step: usize,
    /// Number of the next line.
    line: u64,
}

struct State {
    synth: Vec<Synth>,
    names: HashMap<String, FileRef>,
    steps: Vec<PendingStep>,
    stack: Vec<Level>,
    entries: Vec<(usize, Loc, usize)>,
    diags: Vec<Diagnostic>,
    files_read: Vec<std::path::PathBuf>,
}

pub(super) fn run(db: &mut SourceDb, main: FileId, opts: &PpOptions) -> Preprocessed {
    let mut st = State {
        synth: Vec::new(),
        names: HashMap::new(),
        steps: vec![PendingStep {
            file: FileRef::Main,
            at: None,
        }],
        stack: vec![Level {
            file: FileRef::Main,
            step: 0,
            line: 1,
        }],
        entries: Vec::new(),
        diags: Vec::new(),
        files_read: Vec::new(),
    };
    let main_path = Path::new(&db.get(main).name);
    if main_path.is_file() {
        st.files_read.push(main_path.to_path_buf());
    }
    let mut out = String::new();
    let len = db.get(main).text.len();
    let mut pos = 0;
    while pos < len {
        let text = &db.get(main).text;
        let end = text[pos..].find('\n').map_or(len, |i| pos + i);
        let line = &text[pos..end];
        let trimmed = line.trim_start_matches([' ', '\t']);
        if let Some(rest) = trimmed.strip_prefix('#') {
            let hash = pos + (line.len() - trimmed.len());
            let rest = rest.to_string();
            directive(db, main, &mut st, &rest, hash, end);
            out.push('\n');
        } else {
            let top = *st.stack.last().unwrap_or(&Level {
                file: FileRef::Main,
                step: 0,
                line: 1,
            });
            let loc = Loc {
                file: top.file,
                line: top.line,
                col: 0,
            };
            st.entries.push((out.len(), loc, top.step));
            out.push_str(line);
            out.push('\n');
            if let FileRef::Synth(i) = top.file {
                let lines = &mut st.synth[i].lines;
                let idx = (top.line as usize).saturating_sub(1);
                if idx < 10_000_000 {
                    if lines.len() <= idx {
                        lines.resize(idx + 1, None);
                    }
                    if lines[idx].is_none() {
                        lines[idx] = Some((pos, end));
                    }
                }
            }
            if top.file == FileRef::Main {
                // Lines before any marker map byte for byte.
                if let Some((_, l, _)) = st.entries.last_mut() {
                    l.col = pos;
                    l.line = 0;
                }
            }
        }
        if let Some(top) = st.stack.last_mut() {
            top.line += 1;
        }
        if out.len() > opts.limits.max_output_bytes {
            st.diags.push(Diagnostic::error().with_message(format!(
                "preprocessed output exceeds the limit of {} bytes",
                opts.limits.max_output_bytes
            )));
            break;
        }
        pos = end + 1;
    }
    finish(db, main, st, out)
}

/// One `#` line: a marker, `#line`, a skipped `#define`/`#undef`/`#pragma`, or an error.
fn directive(db: &mut SourceDb, main: FileId, st: &mut State, rest: &str, hash: usize, end: usize) {
    let body = rest.trim_start_matches([' ', '\t']);
    let word_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let word = &body[..word_end];
    let after = &body[word_end..];
    if word.is_empty() && after.trim().is_empty() {
        return;
    }
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        marker(db, st, word, after, hash, end, main);
        return;
    }
    match word {
        "line" => {
            let a = after.trim_start();
            let n_end = a.find([' ', '\t']).unwrap_or(a.len());
            marker(db, st, &a[..n_end], &a[n_end..], hash, end, main);
        }
        "define" | "undef" | "pragma" => {}
        _ => {
            let d = Diagnostic::error()
                .with_message(format!(
                    "unexpected directive '#{word}' in preprocessed input"
                ))
                .with_labels(vec![Label::primary(main, hash..end).with_message(
                    "only line markers, #define, #undef and #pragma are allowed",
                )]);
            st.diags.push(d);
        }
    }
}

/// `# N "file" flags`: the next line is line N of `file`; flag 1 enters it, 2 returns to it.
#[allow(clippy::too_many_arguments)]
fn marker(
    db: &mut SourceDb,
    st: &mut State,
    num: &str,
    after: &str,
    hash: usize,
    end: usize,
    main: FileId,
) {
    let Ok(line) = num.parse::<u64>() else {
        let d = Diagnostic::error()
            .with_message(format!("invalid line number '{num}' in line marker"))
            .with_labels(vec![Label::primary(main, hash..end)]);
        st.diags.push(d);
        return;
    };
    let after = after.trim_start();
    let (name, flags) = match after.strip_prefix('"') {
        Some(s) => {
            let mut name = String::new();
            let mut it = s.char_indices();
            let mut close = s.len();
            while let Some((i, c)) = it.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = it.next() {
                            name.push(n);
                        }
                    }
                    '"' => {
                        close = i + 1;
                        break;
                    }
                    c => name.push(c),
                }
            }
            (Some(name), &s[close.min(s.len())..])
        }
        None => (None, ""),
    };
    let flags: Vec<&str> = flags.split_whitespace().collect();
    // The line counter is incremented after this line: store line - 1.
    let next = line.saturating_sub(1);
    let Some(name) = name else {
        if let Some(top) = st.stack.last_mut() {
            top.line = next;
        }
        return;
    };
    let file = file_ref(db, st, &name);
    if flags.contains(&"1") {
        let parent = *st.stack.last().unwrap_or(&Level {
            file: FileRef::Main,
            step: 0,
            line: 1,
        });
        let at = Loc {
            file: parent.file,
            line: parent.line.saturating_sub(1).max(1),
            col: 0,
        };
        st.steps.push(PendingStep {
            file,
            at: Some((parent.step, at)),
        });
        st.stack.push(Level {
            file,
            step: st.steps.len() - 1,
            line: next,
        });
        return;
    }
    if flags.contains(&"2") {
        if let Some(i) = st.stack.iter().rposition(|l| l.file == file) {
            st.stack.truncate(i + 1);
        }
    }
    match st.stack.last_mut() {
        Some(top) if top.file == file => top.line = next,
        Some(top) => {
            let parent = st.steps[top.step].at;
            st.steps.push(PendingStep { file, at: parent });
            *top = Level {
                file,
                step: st.steps.len() - 1,
                line: next,
            };
        }
        None => {}
    }
}

fn file_ref(db: &mut SourceDb, st: &mut State, name: &str) -> FileRef {
    if let Some(&f) = st.names.get(name) {
        return f;
    }
    let path = Path::new(name);
    let f = match path.is_file().then(|| std::fs::read(path).ok()).flatten() {
        Some(bytes) => {
            let (id, bad) = db.add_bytes(name, &bytes);
            st.files_read.push(path.to_path_buf());
            if let Some(off) = bad {
                st.diags.push(
                    Diagnostic::warning()
                        .with_message(format!("invalid utf-8 in '{name}'"))
                        .with_labels(vec![Label::primary(id, off..off + 1)]),
                );
            }
            FileRef::Disk(id)
        }
        None => {
            st.synth.push(Synth {
                name: name.to_string(),
                lines: Vec::new(),
            });
            FileRef::Synth(st.synth.len() - 1)
        }
    };
    st.names.insert(name.to_string(), f);
    f
}

/// Builds the synthetic files and resolves every place to a file offset.
fn finish(db: &mut SourceDb, main: FileId, st: State, out: String) -> Preprocessed {
    let mut synth_ids = Vec::new();
    let mut synth_starts: Vec<Vec<usize>> = Vec::new();
    for s in &st.synth {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(s.lines.len());
        for l in &s.lines {
            starts.push(text.len());
            if let Some((a, b)) = l {
                text.push_str(db.get(main).text.get(*a..*b).unwrap_or(""));
            }
            text.push('\n');
        }
        synth_ids.push(db.add(SourceFile::new(s.name.clone(), text)));
        synth_starts.push(starts);
    }
    let resolve = |db: &SourceDb, loc: Loc| -> (FileId, usize) {
        match loc.file {
            FileRef::Main => (main, loc.col),
            FileRef::Disk(id) => {
                let f = db.get(id);
                let line = (loc.line as usize).saturating_sub(1);
                let start = f.line_range(line).map_or(f.text.len(), |r| r.start);
                (id, start + loc.col)
            }
            FileRef::Synth(i) => {
                let starts = &synth_starts[i];
                let line = (loc.line as usize).saturating_sub(1);
                let start = starts
                    .get(line)
                    .copied()
                    .unwrap_or_else(|| db.get(synth_ids[i]).text.len());
                (synth_ids[i], start + loc.col)
            }
        }
    };
    let mut map = OriginMap::new();
    for step in &st.steps {
        let (file, _) = resolve(
            db,
            Loc {
                file: step.file,
                line: 1,
                col: 0,
            },
        );
        let at = step.at.map(|(parent, loc)| {
            let (_, off) = resolve(db, loc);
            (
                IncludeId(parent as u32),
                Range32 {
                    start: off as u32,
                    end: off as u32 + 1,
                },
            )
        });
        map.push_include(IncludeStep { file, at });
    }
    let mut prev: Option<(usize, FileId, usize, usize)> = None;
    for (unit, loc, step) in &st.entries {
        let (file, off) = resolve(db, *loc);
        if let Some((pu, pf, po, ps)) = prev {
            if pf == file && ps == *step && po + (unit - pu) == off {
                continue;
            }
        }
        map.push(
            *unit,
            Origin {
                file,
                offset: off as u32,
                include: IncludeId(*step as u32),
                expanded: false,
                len: 0,
            },
        );
        prev = Some((*unit, file, off, *step));
    }
    Preprocessed {
        text: out,
        origins: map,
        diagnostics: st.diags,
        files_read: st.files_read,
    }
}
