//! Benchmark (not a test): GNU MIG against migc on every subsystem file of gnumach-dev, side by
//! side in one run. Each tool writes the user stubs, server stubs and user header of every file.
//!
//! - GNU `mig` driver: one `x86_64-gnu-mig` process per file (it runs `gcc -E` and `migcom`);
//! - GNU `migcom` alone: one process per file, on input preprocessed beforehand;
//! - migc, one process per file (the driver's shape), with its built-in preprocessor;
//! - migc, one process for all 17 files.
//!
//! Run: `cargo bench -p conformance --bench mig` (or `cargo xtask bench mig`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conformance::corpus::{declares_subsystem, defs_files, reference_root, repo_root};

const ROUNDS: u32 = 5;

fn main() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let driver = root.join("usr/bin/x86_64-gnu-mig");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let migc = build_migc();
    let files: Vec<PathBuf> = defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    let work = std::env::temp_dir().join("migc-bench-mig");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let inc = format!("-I{}", include.display());

    // Preprocessed inputs for migcom alone (not timed).
    let pre: Vec<Vec<u8>> = files
        .iter()
        .map(|f| {
            let out = Command::new("gcc")
                .args(["-E", "-x", "c", "-undef", "-ansi", "-D__x86_64__", &inc])
                .arg(f)
                .output()
                .expect("gcc -E");
            assert!(out.status.success());
            out.stdout
        })
        .collect();

    let gnu_driver = measure(|| {
        for f in &files {
            let d = outdir(&work, "gnu", f);
            run(Command::new(&driver)
                .args(["-migcom"])
                .arg(&migcom)
                .args(["-D__x86_64__", &inc])
                .current_dir(&d)
                .arg(f));
        }
    });
    let gnu_migcom = measure(|| {
        for (f, text) in files.iter().zip(&pre) {
            let d = outdir(&work, "migcom", f);
            let mut child = Command::new(&migcom)
                .args(["-user", "u.c", "-server", "s.c", "-header", "u.h"])
                .current_dir(&d)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("migcom");
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), text).unwrap();
            assert!(child.wait().unwrap().success());
        }
    });
    let migc_each = measure(|| {
        for f in &files {
            let d = outdir(&work, "migc", f);
            run(Command::new(&migc).arg(&inc).current_dir(&d).arg(f));
        }
    });
    let migc_one = measure(|| {
        let d = work.join("migc-one");
        std::fs::create_dir_all(&d).unwrap();
        run(Command::new(&migc).arg(&inc).current_dir(&d).args(&files));
    });

    let n = files.len();
    println!("GNU MIG vs migc, {n} gnumach-dev subsystem files (user, server, header each); best of {ROUNDS}");
    let row = |name: &str, t: Duration| {
        println!(
            "  {name:<34} {:>8.1} ms  ({:>6.2} ms/file)  GNU driver / this = {:>6.1}x",
            ms(t),
            ms(t) / n as f64,
            ms(gnu_driver) / ms(t)
        );
    };
    row("GNU mig driver (gcc -E + migcom)", gnu_driver);
    row("GNU migcom alone (preprocessed)", gnu_migcom);
    row("migc, one process per file", migc_each);
    row("migc, one process for all files", migc_one);
    println!(
        "  migc (one process) vs migcom alone: {:.1}x",
        ms(gnu_migcom) / ms(migc_one)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn measure(mut f: impl FnMut()) -> Duration {
    f(); // warm-up: file cache, page cache of the binaries
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn outdir(work: &Path, tool: &str, file: &Path) -> PathBuf {
    let d = work.join(tool).join(file.file_stem().unwrap());
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) {
    let out = cmd.stdout(Stdio::null()).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The release `migc` binary, built if needed.
fn build_migc() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "migc"])
        .current_dir(repo_root())
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build -p migc failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("release/migc")
}
