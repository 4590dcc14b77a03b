//! `__has_include`, `_Pragma` and `__VA_OPT__` in the built-in preprocessor, against `gcc -E`
//! on the same files: both outputs split into tokens (whitespace normalised away) must be the
//! same sequence. `#pragma` lines are dropped from gcc's output first: the built-in
//! preprocessor consumes pragmas (the directive and the operator alike, honouring `once`),
//! since nothing after it reads them.

use std::path::Path;
use std::process::Command;

use mig_frontend::preprocess::{preprocess, PpOptions};
use mig_frontend::source::SourceDb;

/// Identifiers and numbers, string literals, and every other character alone.
fn tokens(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        let start = i;
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else {
            i += 1;
        }
        out.push(s[start..i].to_string());
    }
    out
}

/// Writes `files` (name, text) into a fresh folder, preprocesses `main.c` with gcc and with the
/// built-in preprocessor (`-I` that folder), and compares.
fn agree(case: &str, files: &[(&str, &str)]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pp-features")
        .join(case);
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let gcc = Command::new("gcc")
        .current_dir(&dir)
        .args(["-E", "-P", "-undef", "-x", "c", "-I", ".", "main.c"])
        .output()
        .expect("run gcc -E");
    assert!(
        gcc.status.success(),
        "{case}: gcc -E failed: {}",
        String::from_utf8_lossy(&gcc.stderr)
    );
    let gcc_text: String = String::from_utf8_lossy(&gcc.stdout)
        .lines()
        .filter(|l| !l.trim_start().starts_with("#pragma"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut db = SourceDb::new();
    let main = dir.join("main.c");
    let (id, _) = db.add_bytes(main.to_string_lossy(), &std::fs::read(&main).unwrap());
    let opts = PpOptions {
        include_dirs: vec![dir.clone()],
        ..PpOptions::for_target("x86_64-gnu", true)
    };
    let ours = preprocess(&mut db, id, &opts);
    assert!(
        ours.diagnostics.is_empty(),
        "{case}: {:?}",
        ours.diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        tokens(&ours.text),
        tokens(&gcc_text),
        "{case}: differs from gcc -E"
    );
    assert!(
        !tokens(&gcc_text).is_empty(),
        "{case}: gcc produced nothing"
    );
}

#[test]
fn has_include_as_gcc() {
    agree(
        "has_include",
        &[
            ("present.h", "present_h\n"),
            ("sub/deep.h", "deep_h\n"),
            (
                "main.c",
                "#if __has_include(\"present.h\")\nyes_quoted\n#endif\n\
                 #if __has_include(<present.h>)\nyes_angled\n#endif\n\
                 #if __has_include(\"absent.h\")\nwrong\n#else\nabsent_ok\n#endif\n\
                 #if __has_include(<sub/deep.h>) && !__has_include(<sub/none.h>)\ndeep\n#endif\n\
                 #if defined(__has_include) && defined __has_include_next\nboth_defined\n#endif\n\
                 #ifdef __has_include\nifdef_ok\n#endif\n\
                 #if __has_include(\"present.h\")\n#include \"present.h\"\n#endif\n",
            ),
        ],
    );
}

#[test]
fn va_opt_as_gcc() {
    agree(
        "va_opt",
        &[(
            "main.c",
            "#define F(a, ...) f(a __VA_OPT__(,) __VA_ARGS__)\n\
             #define G(X, ...) X __VA_OPT__(- X ## __VA_ARGS__ -) end\n\
             #define S(name, ...) struct name __VA_OPT__({ __VA_ARGS__ })\n\
             #define N(...) a __VA_OPT__(nested(x) (y)) b\n\
             #define E\n\
             F(1) F(1, 2) F(1, 2, 3) F(1,) F(1, E)\n\
             G(a) G(a, b)\n\
             S(s) S(t, int x; int y;)\n\
             N() N(x)\n",
        )],
    );
}

#[test]
fn pragma_operator_as_gcc() {
    agree(
        "pragma",
        &[
            ("once.h", "_Pragma(\"once\") once_h\n"),
            (
                "main.c",
                "#define DO_PRAGMA(x) _Pragma (#x)\n\
                 before DO_PRAGMA(omp parallel) after\n\
                 _Pragma(\"message(\\\"hi\\\")\") middle\n\
                 #include \"once.h\"\n#include \"once.h\"\n\
                 end\n",
            ),
        ],
    );
}
