//! `migc --check` on every `.defs` file that declares a subsystem, in all three corpora:
//! GNU (gnumach-dev from Debian trixie), Apple (XNU) and OSF (MkLinux), each with its dialect
//! and include roots. A file that fails only because an include the corpus does not carry is
//! missing (gcc -E fails on it the same way) is counted apart, with the name migc reported.

use std::path::Path;
use std::process::Command;

use conformance::corpus::{corpus_families, declares_subsystem, defs_files, gnu_family, Family};
use conformance::skip::corpus_or_skip;

struct Outcome {
    passed: usize,
    missing_include: Vec<String>,
    failed: Vec<String>,
}

fn check_family(f: &Family) -> Outcome {
    let mut out = Outcome {
        passed: 0,
        missing_include: Vec::new(),
        failed: Vec::new(),
    };
    let files: Vec<_> = defs_files(&f.dir)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    assert!(!files.is_empty(), "{}: no subsystem files found", f.name);
    for file in files {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_migc"));
        cmd.args(["--check", "--dialect", f.dialect, "--target", "x86_64-gnu"]);
        for i in &f.include_dirs {
            cmd.arg("-I").arg(i);
        }
        for d in &f.defines {
            cmd.arg(format!("-D{d}"));
        }
        cmd.arg(&file);
        let res = cmd.output().expect("run migc");
        let stderr = String::from_utf8_lossy(&res.stderr);
        if res.status.success() {
            out.passed += 1;
            continue;
        }
        match gcc_missing_include(f, &file) {
            Some(missing)
                if stderr.contains(&missing) && stderr.contains("cannot find include") =>
            {
                let line = stderr
                    .lines()
                    .find(|l| l.contains("cannot find include"))
                    .unwrap_or_default();
                let at = stderr
                    .lines()
                    .skip_while(|l| !l.contains("cannot find include"))
                    .find(|l| l.trim_start().starts_with("┌─"))
                    .map(|l| l.trim_start().trim_start_matches("┌─ ").to_string())
                    .unwrap_or_default();
                out.missing_include
                    .push(format!("{}: {} [{}]", file.display(), line.trim(), at));
            }
            _ => out.failed.push(format!("{}:\n{}", file.display(), stderr)),
        }
    }
    out
}

/// If gcc -E also fails on the file for a missing include, the name it could not find.
fn gcc_missing_include(f: &Family, file: &Path) -> Option<String> {
    let mut cmd = Command::new("gcc");
    cmd.args(["-E", "-x", "c", "-undef", "-o", "/dev/null"]);
    for i in &f.include_dirs {
        cmd.arg("-I").arg(i);
    }
    for d in &f.defines {
        cmd.arg(format!("-D{d}"));
    }
    let res = cmd.arg(file).output().ok()?;
    let stderr = String::from_utf8_lossy(&res.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("No such file or directory"))?;
    // "...: fatal error: xkern/protocols/proxy/xk_mig_sizes.h: No such file or directory"
    let name = line.rsplit(": ").nth(1)?;
    Some(name.rsplit('/').next()?.to_string())
}

/// Runs [`check_family`] over `families`; the number of files that failed.
fn check_families(families: &[Family]) -> usize {
    let mut total_failed = 0;
    for f in families {
        let o = check_family(f);
        let total = o.passed + o.missing_include.len() + o.failed.len();
        println!(
            "{}: {}/{} subsystem files pass `migc --check --dialect {}`; {} need an include the corpus lacks",
            f.name,
            o.passed,
            total - o.missing_include.len(),
            f.dialect,
            o.missing_include.len()
        );
        for m in &o.missing_include {
            println!("  missing include: {m}");
        }
        for fail in &o.failed {
            println!("  FAILED {fail}");
        }
        total_failed += o.failed.len();
    }
    total_failed
}

/// The GNU family (gnumach-dev, from the reference set): needs no corpus.
#[test]
fn every_gnu_subsystem_file_passes_check() {
    assert_eq!(
        check_families(&[gnu_family()]),
        0,
        "files failed `migc --check`"
    );
}

/// The Apple and OSF families of `../shared/corpus` (a visible skip without it).
#[test]
fn every_corpus_subsystem_file_passes_check() {
    let Some(corpus) = corpus_or_skip("every_corpus_subsystem_file_passes_check") else {
        return;
    };
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-check");
    assert_eq!(
        check_families(&corpus_families(&corpus, &scratch)),
        0,
        "files failed `migc --check`"
    );
}

/// Asking for C stubs from an Apple or OSF interface gives a clear diagnostic and writes no C:
/// the targets use GNU's message format.
#[test]
fn other_dialects_get_a_diagnostic_not_broken_c() {
    let Some(corpus) = corpus_or_skip("other_dialects_get_a_diagnostic_not_broken_c") else {
        return;
    };
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-codegen");
    let mut refused = 0;
    for f in corpus_families(&corpus, &scratch) {
        for file in defs_files(&f.dir)
            .into_iter()
            .filter(|p| declares_subsystem(p))
        {
            let out_dir = scratch.join(f.name).join(file.file_stem().unwrap());
            std::fs::create_dir_all(&out_dir).unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_migc"));
            cmd.current_dir(&out_dir).args([
                "--dialect",
                f.dialect,
                "-user",
                "u.c",
                "-server",
                "s.c",
                "-header",
                "u.h",
            ]);
            for i in &f.include_dirs {
                cmd.arg("-I").arg(i);
            }
            for d in &f.defines {
                cmd.arg(format!("-D{d}"));
            }
            let res = cmd.arg(&file).output().expect("run migc");
            let stderr = String::from_utf8_lossy(&res.stderr);
            assert_eq!(res.status.code(), Some(1), "{}: {stderr}", file.display());
            assert!(
                stderr.contains("is not supported") || stderr.contains("cannot find include"),
                "{}: no clear diagnostic:\n{stderr}",
                file.display()
            );
            for out in ["u.c", "s.c", "u.h"] {
                assert!(
                    !out_dir.join(out).exists(),
                    "{}: wrote {out} despite the error",
                    file.display()
                );
            }
            refused += 1;
        }
    }
    println!("{refused} Apple and OSF subsystem files: C generation refused with a diagnostic, no C written");
    assert!(
        refused >= 117,
        "expected every Apple and OSF subsystem file, got {refused}"
    );
}
