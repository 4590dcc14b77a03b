//! Helpers shared by the GNU MIG comparison tests: finding the reference set, running GNU MIG
//! (gcc -E, then migcom) on a file, lowering the same preprocessed text with migc, and reading
//! numbers out of GNU MIG's generated C.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mig_frontend::diagnostics::{render_plain, Diagnostic};
use mig_frontend::lexer::LexMode;
use mig_frontend::preprocess::{self, PpMode, PpOptions};
use mig_frontend::source::SourceDb;

pub struct Reference {
    pub root: PathBuf,
}

pub struct DefsFile {
    pub name: String,
    pub path: PathBuf,
}

pub struct GnuOutput {
    pub preprocessed: String,
    pub list: String,
    pub user: String,
    pub server: String,
}

impl Reference {
    /// The reference set, fetched by `scripts/fetch-reference.sh` when missing. Always `Some`:
    /// a missing reference or gcc fails the test instead of skipping it (CI installs both).
    pub fn find() -> Option<Reference> {
        let root = conformance::corpus::reference_root().unwrap_or_else(|e| panic!("{e}"));
        let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
        assert!(migcom.exists(), "no GNU MIG at {}", migcom.display());
        let gcc = Command::new("gcc")
            .arg("--version")
            .stdout(Stdio::null())
            .status();
        assert!(gcc.is_ok_and(|s| s.success()), "gcc not found: install gcc");
        Some(Reference { root })
    }

    pub fn include(&self) -> PathBuf {
        self.root.join("usr/include/x86_64-linux-gnu")
    }

    /// `gcc -E -x c -undef -ansi -D__x86_64__ -I<include>` of a file.
    pub fn preprocess(&self, path: &Path, extra: &[&str]) -> String {
        let out = Command::new("gcc")
            .args(["-E", "-x", "c", "-undef", "-ansi"])
            .args(extra)
            .arg(format!("-I{}", self.include().display()))
            .arg(path)
            .output()
            .expect("gcc runs");
        assert!(out.status.success(), "gcc -E {} failed", path.display());
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Every `.defs` of gnumach-dev that declares a subsystem, sorted by name.
    pub fn subsystem_files(&self) -> Vec<DefsFile> {
        let mut files = Vec::new();
        let mut dirs = vec![self.include()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("include dir").flatten() {
                let p = e.path();
                // `mach/machine` is a symbolic link to `mach/x86_64`: visit each file once.
                if e.file_type().is_ok_and(|t| t.is_symlink()) {
                    continue;
                }
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "defs") {
                    let text = self.preprocess(&p, &["-D__x86_64__"]);
                    if text
                        .lines()
                        .any(|l| l.trim_start().starts_with("subsystem"))
                    {
                        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                        files.push(DefsFile { name, path: p });
                    }
                }
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        files
    }

    /// Runs GNU MIG on a file; returns its preprocessed input and outputs.
    pub fn run_gnu(&self, f: &DefsFile) -> GnuOutput {
        let preprocessed = self.preprocess(&f.path, &["-D__x86_64__"]);
        let dir = std::env::temp_dir().join(format!("migc-gnu-{}-{}", std::process::id(), f.name));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let migcom = self.root.join("usr/lib/mig/x86_64-gnu-migcom");
        let mut child = Command::new(migcom)
            .current_dir(&dir)
            .args([
                "-user", "u.c", "-server", "s.c", "-header", "u.h", "-sheader", "s.h", "-list",
                "l.txt",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("migcom runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin
                .write_all(preprocessed.as_bytes())
                .expect("write to migcom");
        }
        let out = child.wait_with_output().expect("migcom finishes");
        assert!(
            out.status.success(),
            "GNU MIG failed on {}: {}",
            f.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect("GNU MIG output");
        let g = GnuOutput {
            preprocessed,
            list: read("l.txt"),
            user: read("u.c"),
            server: read("s.c"),
        };
        let _ = std::fs::remove_dir_all(&dir);
        g
    }
}

/// Parses already-preprocessed text and lowers it for a target; panics with the rendered
/// diagnostics on any error.
pub fn lower(text: &str, name: &str, target: &'static mig_ir::Target) -> mig_ir::Validated {
    let opts = PpOptions {
        mode: PpMode::Preprocessed,
        ..PpOptions::default()
    };
    let mut db = SourceDb::new();
    let (main, _) = db.add_bytes(format!("{name}.defs"), text.as_bytes());
    let pp = preprocess::preprocess(&mut db, main, &opts);
    let parsed = mig_frontend::parser::parse(&pp.text, LexMode::Unit);
    let locate = |ds: &[mig_frontend::diagnostics::UnitDiagnostic]| -> Vec<Diagnostic> {
        ds.iter()
            .map(|d| d.locate(&db, &pp.origins, main))
            .collect()
    };
    let mut syntax = pp.diagnostics.clone();
    syntax.extend(locate(&parsed.diagnostics));
    assert!(
        !mig_frontend::diagnostics::has_errors(&syntax),
        "{name}: syntax errors:\n{}",
        render_plain(&db, &syntax)
    );
    let lowered = mig_ir::lower(&parsed.file, target);
    let rendered = render_plain(&db, &locate(&lowered.diagnostics));
    match lowered.module {
        Some(m) => m,
        None => panic!("{name}: lowering failed:\n{rendered}"),
    }
}

pub fn lower_x86_64(text: &str, name: &str) -> mig_ir::Validated {
    lower(text, name, &mig_ir::target::X86_64_GNU)
}

/// Splits generated C into per-routine sections, keyed by the identifier after a marker.
pub fn routine_sections(text: &str, a: &str, b: &str) -> HashMap<String, String> {
    let mut starts: Vec<(usize, String)> = Vec::new();
    for marker in [a, b] {
        for (i, _) in text.match_indices(marker) {
            let rest = &text[i + marker.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !starts.iter().any(|(j, _)| *j == i) {
                starts.push((i, name));
            }
        }
    }
    starts.sort();
    let mut out = HashMap::new();
    for (k, (i, name)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(text.len(), |(j, _)| *j);
        out.insert(name.clone(), text[*i..end].to_string());
    }
    out
}

/// The number after the earliest occurrence of any of `patterns` (immediately followed by
/// digits).
fn number_after(text: &str, patterns: &[&str]) -> Option<u32> {
    let mut best: Option<(usize, u32)> = None;
    for p in patterns {
        for (i, _) in text.match_indices(p) {
            let digits: String = text[i + p.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse() {
                if best.is_none_or(|(j, _)| i < j) {
                    best = Some((i, n));
                }
                break;
            }
        }
    }
    best.map(|(_, n)| n)
}

/// User stub: the fixed request size.
pub fn request_size(user: &str) -> Option<u32> {
    number_after(user, &["sizeof(Request) == "]).or_else(|| number_after(user, &["msgh_size = "]))
}

/// The first size check (`!= N` for fixed, `< N` for variable messages).
pub fn size_check(text: &str, lhs: &str) -> Option<u32> {
    number_after(text, &[&format!("{lhs} != "), &format!("{lhs} < ")])
}

/// Server stub: the fixed reply size.
pub fn reply_size(server: &str) -> Option<u32> {
    number_after(server, &["msgh_size = "])
}

impl Reference {
    /// Compiles `source` with gcc against the gnumach-dev headers (plus `flags`), runs it and
    /// returns its standard output.
    pub fn run_c(&self, name: &str, source: &str, flags: &[&str]) -> String {
        let dir = std::env::temp_dir().join(format!("migc-c-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let src = dir.join("t.c");
        let exe = dir.join("t");
        std::fs::write(&src, source).expect("write C source");
        let out = Command::new("gcc")
            .args(flags)
            .arg(format!("-I{}", self.include().display()))
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .output()
            .expect("gcc runs");
        assert!(
            out.status.success(),
            "gcc {name} failed:\n{}\n--- source ---\n{source}",
            String::from_utf8_lossy(&out.stderr)
        );
        let run = Command::new(&exe).output().expect("compiled program runs");
        assert!(run.status.success(), "{name} failed to run");
        let _ = std::fs::remove_dir_all(&dir);
        String::from_utf8(run.stdout).expect("utf-8")
    }

    /// `sizeof(mig_reply_header_t)`: the reply size of routines whose reply carries only the
    /// return code (GNU MIG's demux sets it, not the stub).
    pub fn reply_header_size(&self, flags: &[&str]) -> u32 {
        let src = "#include <stdio.h>\n#include <mach/mig_errors.h>\n\
                   int main(void) { printf(\"%zu\\n\", sizeof(mig_reply_header_t)); return 0; }\n";
        self.run_c("reply-header", src, flags)
            .trim()
            .parse()
            .expect("a number")
    }
}
