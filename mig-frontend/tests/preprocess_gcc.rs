//! The built-in preprocessor agrees with `gcc -E` on every `.defs` file of the corpora.
//!
//! Both outputs are split into C preprocessing tokens (whitespace normalised away) and compared
//! as sequences. A file that includes a header absent from the corpus must be reported by both
//! (same missing name); those are counted apart, and gcc's partial output must be a prefix of ours.

use std::path::{Path, PathBuf};
use std::process::Command;

use mig_frontend::preprocess::{preprocess, MacroAction, PpOptions};
use mig_frontend::source::SourceDb;

struct Set {
    name: &'static str,
    /// Directory gcc runs in; include dirs and files are relative to it.
    root: PathBuf,
    /// Directories (relative to root) whose `.defs` files are checked, recursively.
    dirs: Vec<&'static str>,
    includes: Vec<&'static str>,
    defines: Vec<&'static str>,
    /// Expected number of `.defs` files.
    count: usize,
}

fn defs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && !p.is_symlink() {
            defs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "defs") {
            out.push(p);
        }
    }
}

/// C preprocessing tokens of a text (enough to compare outputs: identifiers, numbers,
/// literals, punctuators longest-match, any other character alone).
fn tokens(s: &str) -> Vec<String> {
    const PUNCTS: &[&str] = &[
        "%:%:", "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&",
        "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "<:", ":>", "<%", "%>", "%:",
    ];
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            if i < b.len()
                && (b[i] == b'"' || b[i] == b'\'')
                && matches!(&s[start..i], "L" | "u" | "U" | "u8")
            {
                i = quoted(b, i);
            }
        } else if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while i < b.len() {
                let d = b[i];
                let sign =
                    (d == b'+' || d == b'-') && matches!(b[i - 1], b'e' | b'E' | b'p' | b'P');
                if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || sign {
                    i += 1;
                } else {
                    break;
                }
            }
        } else if c == b'"' || c == b'\'' {
            i = quoted(b, i);
        } else if let Some(p) = PUNCTS.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            i += p.len();
        } else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
        out.push(s[start..i].to_string());
    }
    out
}

fn quoted(b: &[u8], mut i: usize) -> usize {
    let q = b[i];
    i += 1;
    while i < b.len() && b[i] != q && b[i] != b'\n' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    (i + 1).min(b.len())
}

fn context(toks: &[String], at: usize) -> String {
    let lo = at.saturating_sub(5);
    let hi = (at + 5).min(toks.len());
    toks[lo..hi].join(" ")
}

/// The missing header named in gcc's "fatal error: NAME: No such file or directory".
fn gcc_missing(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        let rest = l.split("fatal error: ").nth(1)?;
        rest.strip_suffix(": No such file or directory")
            .map(str::to_string)
    })
}

#[derive(Default)]
struct Tally {
    files: usize,
    agree: usize,
    missing_both: usize,
    failures: Vec<String>,
}

fn check_set(set: &Set, t: &mut Tally) {
    let mut files = Vec::new();
    for d in &set.dirs {
        defs_files(&set.root.join(d), &mut files);
    }
    assert_eq!(
        files.len(),
        set.count,
        "{}: expected {} .defs files, found {}",
        set.name,
        set.count,
        files.len()
    );
    let opts = PpOptions {
        include_dirs: set.includes.iter().map(|i| set.root.join(i)).collect(),
        macro_actions: set
            .defines
            .iter()
            .map(|d| MacroAction::Define(d.to_string(), None))
            .collect(),
        ..PpOptions::for_target("x86_64-gnu", true)
    };
    for file in files {
        t.files += 1;
        let rel = file.strip_prefix(&set.root).unwrap_or(&file).to_path_buf();
        let mut cmd = Command::new("gcc");
        cmd.current_dir(&set.root)
            .args(["-E", "-P", "-undef", "-x", "c"]);
        for i in &set.includes {
            cmd.arg("-I").arg(i);
        }
        for d in &set.defines {
            cmd.arg(format!("-D{d}"));
        }
        let gcc = cmd.arg(&rel).output().expect("gcc runs");
        let gcc_out = String::from_utf8_lossy(&gcc.stdout).into_owned();
        let gcc_err = String::from_utf8_lossy(&gcc.stderr).into_owned();

        let mut db = SourceDb::new();
        let bytes = std::fs::read(&file).expect("corpus file reads");
        let (main, _) = db.add_bytes(file.to_string_lossy(), &bytes);
        let ours = preprocess(&mut db, main, &opts);
        let our_errors: Vec<String> = ours
            .diagnostics
            .iter()
            .filter(|d| d.severity >= codespan_reporting::diagnostic::Severity::Error)
            .map(|d| d.message.clone())
            .collect();
        let (gt, ot) = (tokens(&gcc_out), tokens(&ours.text));
        let name = format!("{}/{}", set.name, rel.display());

        if !gcc.status.success() {
            let Some(missing) = gcc_missing(&gcc_err) else {
                t.failures.push(format!("{name}: gcc failed: {gcc_err}"));
                continue;
            };
            let expected = format!("cannot find include file '{missing}'");
            if !our_errors.contains(&expected) {
                t.failures.push(format!(
                    "{name}: gcc reports missing '{missing}', we report {our_errors:?}"
                ));
                continue;
            }
            // gcc stops at the missing header: its output is a prefix of ours.
            if let Some(i) = (0..gt.len()).find(|&i| ot.get(i) != Some(&gt[i])) {
                t.failures.push(format!(
                    "{name}: differs before the missing include at token {i}: gcc `{}` / ours `{}`",
                    context(&gt, i),
                    context(&ot, i)
                ));
                continue;
            }
            println!("missing include (gcc and we agree): {name}: '{missing}'");
            t.missing_both += 1;
            continue;
        }
        if !our_errors.is_empty() {
            t.failures
                .push(format!("{name}: gcc succeeds, we report {our_errors:?}"));
            continue;
        }
        if gt != ot {
            let i = (0..gt.len().max(ot.len()))
                .find(|&i| gt.get(i) != ot.get(i))
                .unwrap_or(0);
            t.failures.push(format!(
                "{name}: token {i} differs (gcc {} tokens, ours {}): gcc `{}` / ours `{}`",
                gt.len(),
                ot.len(),
                context(&gt, i),
                context(&ot, i)
            ));
            continue;
        }
        t.agree += 1;
    }
}

/// Runs `sets`, prints the tally and asserts that `files` files were compared, all agreeing.
fn check_sets(sets: &[Set], files: usize) {
    assert!(
        Command::new("gcc").arg("--version").output().is_ok(),
        "gcc absent: cannot compare with gcc -E (install gcc)"
    );
    let mut t = Tally::default();
    for s in sets {
        check_set(s, &mut t);
    }
    for f in &t.failures {
        println!("MISMATCH {f}");
    }
    println!(
        "{}/{} files agree with gcc -E ({} of them: the same missing include reported by both)",
        t.agree + t.missing_both,
        t.files,
        t.missing_both
    );
    assert_eq!(t.files, files);
    assert!(
        t.failures.is_empty(),
        "{} files disagree with gcc -E",
        t.failures.len()
    );
}

/// gnumach-dev's `.defs` files (from the reference set): needs no corpus.
#[test]
fn agrees_with_gcc_on_gnu() {
    let root = conformance::paths::reference_root().unwrap_or_else(|e| panic!("{e}"));
    let sets = [Set {
        name: "gnu",
        root: conformance::paths::reference_include(&root),
        dirs: vec!["mach", "device", "mach_debug"],
        includes: vec!["."],
        defines: vec![],
        // 21 files in the three directories and 2 in mach/x86_64.
        count: 23,
    }];
    check_sets(&sets, 23);
}

/// The Apple and OSF corpora (a visible skip without `../shared/corpus`).
#[test]
fn agrees_with_gcc_on_corpora() {
    let Some(corpus) = conformance::skip::corpus_or_skip("agrees_with_gcc_on_corpora") else {
        return;
    };
    let sets = [
        Set {
            name: "xnu",
            root: corpus.clone(),
            dirs: vec!["xnu"],
            includes: vec!["include", "xnu/osfmk", "xnu/libsyscall"],
            defines: vec!["__MACH30__"],
            count: 85,
        },
        Set {
            name: "osfmk-mklinux",
            root: corpus.clone(),
            dirs: vec!["osfmk-mklinux"],
            includes: vec![
                "include",
                "osfmk-mklinux/osfmk/src/mach_kernel",
                "osfmk-mklinux/osfmk/export/powermac/include",
                "osfmk-mklinux/osfmk/src",
            ],
            defines: vec![],
            count: 94,
        },
        // The OSF roots lack `mach/machine/machine_types.defs`, so most OSF files stop early
        // (above). XNU's copy stands in for it here, so that the whole of each file is compared.
        Set {
            name: "osfmk-mklinux+xnu-machine",
            root: corpus.clone(),
            dirs: vec!["osfmk-mklinux"],
            includes: vec![
                "include",
                "osfmk-mklinux/osfmk/src/mach_kernel",
                "osfmk-mklinux/osfmk/export/powermac/include",
                "osfmk-mklinux/osfmk/src",
                "xnu/osfmk",
            ],
            defines: vec![],
            count: 94,
        },
    ];
    check_sets(&sets, 85 + 94 + 94);
}
