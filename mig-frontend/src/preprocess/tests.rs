//! Unit tests of the preprocessor: one test per feature, over in-memory and temporary files.

use std::path::{Path, PathBuf};

use super::*;
use crate::source::Span;

fn run_opts(src: &str, opts: &PpOptions) -> (Preprocessed, SourceDb) {
    let mut db = SourceDb::new();
    let main = db.add(SourceFile::new("main.defs", src));
    let r = preprocess(&mut db, main, opts);
    (r, db)
}

fn run(src: &str) -> Preprocessed {
    run_opts(src, &PpOptions::for_target("x86_64-gnu", true)).0
}

/// The output with whitespace runs collapsed to one space.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pp(src: &str) -> String {
    let r = run(src);
    assert!(
        r.diagnostics.is_empty(),
        "unexpected diagnostics: {:?}",
        messages(&r)
    );
    norm(&r.text)
}

fn messages(r: &Preprocessed) -> Vec<String> {
    r.diagnostics.iter().map(|d| d.message.clone()).collect()
}

/// A fresh temporary directory with the given files.
fn temp_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migc-pp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn run_file(path: &Path, opts: &PpOptions) -> (Preprocessed, SourceDb) {
    let mut db = SourceDb::new();
    let bytes = std::fs::read(path).unwrap();
    let (main, _) = db.add_bytes(path.to_string_lossy(), &bytes);
    let r = preprocess(&mut db, main, opts);
    (r, db)
}

#[test]
fn object_like_macros() {
    assert_eq!(pp("#define A 1 + 2\nx = A;"), "x = 1 + 2;");
    assert_eq!(pp("#define A B\n#define B 7\nA"), "7");
    assert_eq!(pp("#define E\na E b"), "a b");
}

#[test]
fn function_like_macros() {
    assert_eq!(
        pp("#define F(a, b) (a) * (b)\nF(1 + 2, (3, 4))"),
        "(1 + 2) * ((3, 4))"
    );
    assert_eq!(pp("#define F(a) [a]\nF (x) F"), "[x] F");
    assert_eq!(pp("#define F() z\nF()"), "z");
    assert_eq!(pp("#define F(a) <a>\nF()"), "<>");
    assert_eq!(pp("#define F(a) a\nF(\n1\n)"), "1");
}

#[test]
fn stringify_and_paste() {
    assert_eq!(
        pp("#define S(x) #x\nS( a  \"b\\n\"  'c' )"),
        r#""a \"b\\n\" 'c'""#
    );
    assert_eq!(
        pp("#define P(a, b) a ## b\nP(x, 1) P(, y) P(z, ) P(,)"),
        "x1 y z"
    );
    assert_eq!(pp("#define P(a, b) a ## b\nP(<, <=)"), "<<=");
    assert_eq!(pp("#define C(a) a ## _t\nC(int)"), "int_t");
    let r = run("#define P(a, b) a ## b\nP(+, /)");
    assert!(messages(&r)[0].contains("does not give a valid preprocessing token"));
}

#[test]
fn variadic_macros() {
    assert_eq!(
        pp("#define V(f, ...) f(__VA_ARGS__)\nV(g, 1, 2)"),
        "g(1, 2)"
    );
    assert_eq!(pp("#define V(f, ...) f(__VA_ARGS__)\nV(g)"), "g()");
    assert_eq!(pp("#define V(f, a...) f(a)\nV(g, 1, 2)"), "g(1, 2)");
    assert_eq!(
        pp("#define E(fmt, ...) p(fmt, ## __VA_ARGS__)\nE(x) E(x, 1)"),
        "p(x) p(x, 1)"
    );
}

#[test]
fn blue_paint_stops_recursion() {
    assert_eq!(pp("#define a a b\na"), "a b");
    assert_eq!(pp("#define f(x) x f\nf(1)(2)"), "1 f(2)");
    // C11 6.10.3.5 example 3 (part).
    assert_eq!(pp("#define f(a) a*g\n#define g(a) f(a)\nf(2)(9)"), "2*9*g");
    assert_eq!(pp("#define x 3\n#define f(a) f(x * (a))\n#undef x\n#define x 2\n#define g f\nf(y+1) + g(z)"),
        "f(2 * (y+1)) + f(2 * (z))");
    assert_eq!(pp("#define A B\n#define B A\nA B"), "A B");
}

#[test]
fn undef_and_redefinition() {
    assert_eq!(pp("#define A 1\n#undef A\nA"), "A");
    let r = run("#define A 1\n#define A 2\nA");
    assert_eq!(norm(&r.text), "2");
    assert_eq!(messages(&r), ["'A' redefined"]);
    assert!(run("#define A 1\n#define A 1\n").diagnostics.is_empty());
}

#[test]
fn conditionals() {
    let src = "#if 0\na\n#elif 1\nb\n#elif 1\nc\n#else\nd\n#endif\n\
               #ifdef B\ne\n#else\nf\n#endif\n#define B\n#ifdef B\ng\n#endif\n#ifndef B\nh\n#endif";
    assert_eq!(pp(src), "b f g");
    assert_eq!(
        pp("#if 0\n#if 1\nx\n#else\ny\n#endif\n#else\nz\n#endif"),
        "z"
    );
    // Skipped groups may hold anything, even unterminated quotes and bad directives.
    assert_eq!(pp("#if 0\ndon't\n#bogus\n#endif\nok"), "ok");
}

#[test]
fn if_expressions() {
    assert_eq!(
        pp("#define N 4\n#if N * 2 == 8 && defined N && defined(N) && !defined M\nyes\n#endif"),
        "yes"
    );
    assert_eq!(pp("#if (0x10 >> 2) == 4 && 'A' == 65 && -1 < 0 && !(-1 < 0u) && (1 ? 0 : 1) == 0\nyes\n#endif"), "yes");
    assert_eq!(pp("#if UNDEFINED_THING\nno\n#else\nyes\n#endif"), "yes");
    let r = run("#if 1 / 0\n#endif");
    assert_eq!(messages(&r), ["division by zero in #if"]);
    let r = run("#if 1 +\n#endif");
    assert_eq!(r.diagnostics.len(), 1);
}

#[test]
fn error_warning_pragma_line() {
    let r = run("#error stop   here\n#warning careful\n#pragma whatever\n#ident \"x\"\n");
    assert_eq!(messages(&r), ["#error stop here", "#warning careful"]);
    assert_eq!(
        r.diagnostics[0].severity,
        codespan_reporting::diagnostic::Severity::Error
    );
    assert_eq!(
        r.diagnostics[1].severity,
        codespan_reporting::diagnostic::Severity::Warning
    );
    assert_eq!(
        pp("#line 100 \"other.defs\"\n__LINE__ __FILE__"),
        "100 \"other.defs\""
    );
    assert_eq!(pp("a\n__LINE__ __FILE__"), "a 2 \"main.defs\"");
    assert_eq!(pp("# 7 \"m.defs\" 1\n__LINE__"), "7");
    let r = run("#frobnicate\n");
    assert_eq!(
        messages(&r),
        ["invalid preprocessing directive #frobnicate"]
    );
}

#[test]
fn comments_and_continuations() {
    assert_eq!(pp("a /* x\n y */ b // c \\\n still comment\nc"), "a b c");
    assert_eq!(pp("#define A 1 \\\n + 2\nA"), "1 + 2");
    assert_eq!(pp("ab\\\ncd"), "abcd");
    let r = run("a /* open");
    assert_eq!(messages(&r), ["unterminated comment"]);
}

#[test]
fn spacing_never_glues_tokens() {
    let r = run("#define P +\n#define M -\nP+ M- P M\n#define E\n-E-\nimport <mach/std_types.h>;");
    let t = r.text.trim();
    assert!(t.contains("+ +"), "{t}");
    assert!(t.contains("- -"), "{t}");
    assert!(t.contains("import <mach/std_types.h>;"), "{t}");
    // Original spacing of unexpanded text is kept.
    let r = run("type  x\t= int;\n");
    assert_eq!(r.text, "type  x\t= int;\n");
}

#[test]
fn command_line_macros_in_order() {
    let mut opts = PpOptions::for_target("x86_64-gnu", true);
    opts.macro_actions = vec![
        MacroAction::Define("A".into(), None),
        MacroAction::Define("B".into(), Some("2".into())),
        MacroAction::Undef("A".into()),
        MacroAction::Define("F(x)".into(), Some("x+x".into())),
    ];
    let (r, _) = run_opts("A B F(3) __STDC__", &opts);
    assert_eq!(norm(&r.text), "A 2 3+3 1");
}

#[test]
fn predefined_target_macros() {
    let (r, _) = run_opts(
        "__x86_64__ __LP64__ __GNU__",
        &PpOptions::for_target("x86_64-gnu", false),
    );
    assert_eq!(norm(&r.text), "1 1 1");
    let (r, _) = run_opts(
        "__x86_64__ __i386__ __STDC__",
        &PpOptions::for_target("i686-gnu", false),
    );
    assert_eq!(norm(&r.text), "__x86_64__ 1 1");
    let (r, _) = run_opts(
        "__x86_64__ __STDC__",
        &PpOptions::for_target("x86_64-gnu", true),
    );
    assert_eq!(norm(&r.text), "__x86_64__ 1");
}

#[test]
fn includes_and_search_order() {
    let dir = temp_tree(
        "search",
        &[
            (
                "src/main.defs",
                "#include \"a.h\"\n#include <b.h>\n#include \"c.h\"\nend",
            ),
            ("src/a.h", "local_a"),
            ("inc/a.h", "inc_a"),
            ("inc/b.h", "inc_b"),
            ("sys/b.h", "sys_b"),
            ("sys/c.h", "sys_c"),
        ],
    );
    let mut opts = PpOptions::for_target("x86_64-gnu", true);
    opts.include_dirs = vec![dir.join("inc")];
    opts.system_dirs = vec![dir.join("sys")];
    let (r, _) = run_file(&dir.join("src/main.defs"), &opts);
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(norm(&r.text), "local_a inc_b sys_c end");
    assert_eq!(r.files_read.len(), 4);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn include_guards_cycles_and_missing_files() {
    let dir = temp_tree(
        "guards",
        &[
            (
                "main.defs",
                "#include \"g.h\"\n#include \"g.h\"\n#include \"once.h\"\n#include \"once.h\"\nx",
            ),
            (
                "g.h",
                "/* c */\n#ifndef G_H\n#define G_H\n#include \"g.h\"\nguarded\n#endif\n",
            ),
            ("once.h", "#pragma once\nonce\n"),
            ("cycle.defs", "#include \"cycle2.h\"\n"),
            ("cycle2.h", "#include \"cycle.defs\"\n"),
            ("missing.defs", "a\n  #include \"xk_mig_sizes.h\"\nb"),
        ],
    );
    let opts = PpOptions::for_target("x86_64-gnu", true);
    let (r, _) = run_file(&dir.join("main.defs"), &opts);
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(norm(&r.text), "guarded once x");

    let (r, db) = run_file(&dir.join("cycle.defs"), &opts);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", messages(&r));
    assert!(messages(&r)[0].starts_with("include cycle"));
    let text = crate::diagnostics::render_plain(&db, &r.diagnostics);
    assert!(text.contains("in file included from"), "{text}");

    let (r, db) = run_file(&dir.join("missing.defs"), &opts);
    assert_eq!(messages(&r), ["cannot find include file 'xk_mig_sizes.h'"]);
    let text = crate::diagnostics::render_plain(&db, &r.diagnostics);
    assert!(text.contains("missing.defs:2:12"), "{text}");
    assert_eq!(norm(&r.text), "a b");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn include_depth_limit() {
    // A file that includes itself with a counter that never stops (not a guard).
    let dir = temp_tree(
        "depth",
        &[("d.h", "#include \"e.h\"\n"), ("e.h", "#include \"d.h\"\n")],
    );
    let mut opts = PpOptions::for_target("x86_64-gnu", true);
    opts.limits.max_include_depth = 5;
    let (r, _) = run_file(&dir.join("d.h"), &opts);
    assert_eq!(r.diagnostics.len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn imacros_keep_macros_only() {
    let dir = temp_tree(
        "imacros",
        &[("m.h", "#define FROM_IMACROS 42\ntext_dropped\n")],
    );
    let mut opts = PpOptions::for_target("x86_64-gnu", true);
    opts.imacros = vec![dir.join("m.h")];
    let (r, _) = run_opts("FROM_IMACROS", &opts);
    assert_eq!(norm(&r.text), "42");
    assert_eq!(r.files_read, [dir.join("m.h")]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn origins_map_back_to_files() {
    let src = "#define TWO 1 + 1\ntype  t = TWO;\n";
    let r = run(src);
    let at = r.text.find("type").unwrap();
    let (file, range, _) = r.origins.resolve(Span::new(at, at + 4)).unwrap();
    assert_eq!(file, FileId(0));
    assert_eq!(&src[range], "type");
    let at = r.text.find('=').unwrap();
    let (_, range, _) = r.origins.resolve(Span::new(at, at + 1)).unwrap();
    assert_eq!(&src[range], "=");
    let at = r.text.find("1 + 1").unwrap();
    let (_, o) = r.origins.entry(at).unwrap();
    assert!(o.expanded);
    let (_, range, _) = r.origins.resolve(Span::new(at, at + 5)).unwrap();
    assert_eq!(&src[range], "TWO");
    let at = r.text.find(';').unwrap();
    let (_, range, _) = r.origins.resolve(Span::new(at, at + 1)).unwrap();
    assert_eq!(&src[range], ";");
}

#[test]
fn origins_through_includes() {
    let dir = temp_tree(
        "origins",
        &[
            ("m.defs", "a\n#include \"i.h\"\nb\n"),
            ("i.h", "\n  inner;\n"),
        ],
    );
    let (r, db) = run_file(
        &dir.join("m.defs"),
        &PpOptions::for_target("x86_64-gnu", true),
    );
    let at = r.text.find("inner").unwrap();
    let (file, range, inc) = r.origins.resolve(Span::new(at, at + 5)).unwrap();
    assert!(db.get(file).name.ends_with("i.h"));
    assert_eq!(&db.get(file).text[range], "inner");
    let notes = crate::diagnostics::include_notes(&db, &r.origins, inc);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].ends_with("m.defs:2:1"), "{notes:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn line_structure_follows_source() {
    let r = run("a\n#define X\n#if 0\nno\n#endif\nb /* two\nlines */ c\nd");
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines[0], "a");
    assert_eq!(lines[5].trim(), "b");
    assert_eq!(lines[7].trim(), "d");
}

#[test]
fn runaway_macros_are_diagnosed() {
    let mut src = String::from("#define x0 a a\n");
    for i in 1..40 {
        src.push_str(&format!("#define x{i} x{} x{}\n", i - 1, i - 1));
    }
    src.push_str("x39\n");
    let mut opts = PpOptions::for_target("x86_64-gnu", true);
    opts.limits.max_expansion_tokens = 100_000;
    let (r, _) = run_opts(&src, &opts);
    assert!(messages(&r)[0].contains("exceeds the limit"));
    let deep = format!("#define f(x) x\n{}1{}", "f(".repeat(5000), ")".repeat(5000));
    let r = run(&deep);
    assert!(!r.diagnostics.is_empty());
}

#[test]
fn unbalanced_conditionals() {
    let r = run("#if 1\na\n");
    assert_eq!(messages(&r), ["unterminated conditional directive"]);
    let r = run("#endif\n#else\n#elif 1\n");
    assert_eq!(r.diagnostics.len(), 3);
}

#[test]
fn unterminated_literals_and_bad_arguments() {
    let r = run("#define F(a) a\nF(1, 2) F(");
    assert_eq!(r.diagnostics.len(), 2, "{:?}", messages(&r));
    let r = run("x = 'a;\n");
    assert_eq!(messages(&r), ["missing terminating ' character"]);
}

#[test]
fn invalid_utf8_in_include() {
    let dir = temp_tree("utf8", &[("m.defs", "#include \"bad.h\"\n")]);
    std::fs::write(dir.join("bad.h"), b"ok \xff\xfe here\n").unwrap();
    let (r, _) = run_file(
        &dir.join("m.defs"),
        &PpOptions::for_target("x86_64-gnu", true),
    );
    assert_eq!(messages(&r).len(), 1);
    assert!(messages(&r)[0].starts_with("invalid utf-8"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn preprocessed_mode_synthetic_files() {
    let src = "# 1 \"nowhere/x.defs\"\n# 1 \"<built-in>\"\n# 1 \"nowhere/x.defs\"\n\
               #define Y 1\nsubsystem s 100;\n# 1 \"nowhere/i.h\" 1\ntype t = int;\n\
               # 4 \"nowhere/x.defs\" 2\n#pragma weak\nroutine r();\n";
    let opts = PpOptions {
        mode: PpMode::Preprocessed,
        ..PpOptions::default()
    };
    let (r, db) = run_opts(src, &opts);
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(norm(&r.text), "subsystem s 100; type t = int; routine r();");
    let at = r.text.find("routine").unwrap();
    let (file, range, _) = r.origins.resolve(Span::new(at, at + 7)).unwrap();
    let f = db.get(file);
    assert_eq!(f.name, "nowhere/x.defs");
    assert_eq!(f.line_col(range.start), (5, 1));
    assert_eq!(&f.text[range], "routine");
    let at = r.text.find("subsystem").unwrap();
    let (file, range, _) = r.origins.resolve(Span::new(at, at + 9)).unwrap();
    assert_eq!(db.get(file).line_col(range.start), (2, 1));
    let at = r.text.find("type").unwrap();
    let (file, _, inc) = r.origins.resolve(Span::new(at, at + 4)).unwrap();
    assert_eq!(db.get(file).name, "nowhere/i.h");
    assert_eq!(
        crate::diagnostics::include_notes(&db, &r.origins, inc).len(),
        1
    );
    // No macro expansion, and other directives are errors.
    let (r, _) = run_opts("#define A 1\nA\n#include <x.h>\n", &opts);
    assert_eq!(norm(&r.text), "A");
    assert_eq!(r.diagnostics.len(), 1);
}

#[test]
fn preprocessed_mode_files_on_disk() {
    let dir = temp_tree(
        "markers",
        &[("real.defs", "line one\nline two\nline three\n")],
    );
    let name = dir.join("real.defs").to_string_lossy().into_owned();
    let src = format!("# 3 \"{name}\"\nline three\n");
    let opts = PpOptions {
        mode: PpMode::Preprocessed,
        ..PpOptions::default()
    };
    let (r, db) = run_opts(&src, &opts);
    let at = r.text.find("three").unwrap();
    let (file, range, _) = r.origins.resolve(Span::new(at, at + 5)).unwrap();
    assert_eq!(db.get(file).name, name);
    assert_eq!(&db.get(file).text[range], "three");
    assert_eq!(r.files_read, [PathBuf::from(&name)]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn large_input_is_linear() {
    let line = "routine foo(a : int; b : int);\n";
    let src = line.repeat(200_000);
    let t = std::time::Instant::now();
    let r = run(&src);
    assert_eq!(r.text.len(), src.len());
    assert!(
        r.origins.entries().len() < 10,
        "{}",
        r.origins.entries().len()
    );
    // Not a timing assertion; a sanity bound far above the expected time.
    assert!(t.elapsed().as_secs() < 60);
}
