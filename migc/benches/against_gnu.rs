//! Benchmark (not a test): migc against GNU MIG on the 17 subsystem files of gnumach-dev, each
//! figure the same work on both sides.
//!
//! - the same command: GNU's driver given all 17 files (`x86_64-gnu-mig -I... f1 ... f17`, which
//!   runs `gcc -E | migcom` per file) against `migc` with the same arguments;
//! - the same preprocessed input: GNU's `migcom` against migc's `x86_64-gnu-migcom`, one process
//!   per file, the text on standard input; and migc given all 17 texts as files in one process;
//! - the size of the code: every user and server stub file compiled with `gcc -O2`, `.text`
//!   summed (GNU's `mach4` server left out: it does not compile).
//!
//! Run: `cargo bench -p migc --bench against_gnu` (part of `cargo xtask bench mig`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conformance::corpus::{declares_subsystem, defs_files};
use conformance::gnumach::{reference_root, repo_root};

const ROUNDS: u32 = 10;

fn main() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let driver = root.join("usr/bin/x86_64-gnu-mig");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let bin = build_release();
    let (migc, alias) = (bin.join("migc"), bin.join("x86_64-gnu-migcom"));
    let files: Vec<PathBuf> = defs_files(&include)
        .into_iter()
        .filter(|p| declares_subsystem(p))
        .collect();
    let work = std::env::temp_dir().join("migc-bench-against-gnu");
    let _ = std::fs::remove_dir_all(&work);
    let inc = format!("-I{}", include.display());
    let pre: Vec<Vec<u8>> = files.iter().map(|f| gcc_e(&inc, f)).collect();
    let n = files.len();

    let dir = |name: &str| {
        let d = work.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let (gd, md) = (dir("driver-gnu"), dir("driver-migc"));
    let gnu_cmd = measure(|| {
        run(Command::new(&driver)
            .arg(&inc)
            .args(&files)
            .current_dir(&gd))
    });
    let migc_cmd = measure(|| run(Command::new(&migc).arg(&inc).args(&files).current_dir(&md)));
    let (gc, mc) = (dir("migcom-gnu"), dir("migcom-migc"));
    let out = ["-user", "u.c", "-server", "s.c", "-header", "u.h"];
    let gnu_com = measure(|| pre.iter().for_each(|t| pipe(&migcom, &out, t, &gc)));
    let migc_com = measure(|| pre.iter().for_each(|t| pipe(&alias, &out, t, &mc)));
    // The same preprocessed text as files, all in one migc process.
    let pd = dir("preprocessed");
    let pre_files: Vec<PathBuf> = files
        .iter()
        .zip(&pre)
        .map(|(f, t)| {
            let p = pd.join(format!("{}.i", f.file_stem().unwrap().to_string_lossy()));
            std::fs::write(&p, t).unwrap();
            p
        })
        .collect();
    let od = dir("migc-one-preprocessed");
    let migc_one = measure(|| run(Command::new(&migc).args(&pre_files).current_dir(&od)));

    println!("migc against GNU MIG, {n} gnumach-dev subsystem files, best of {ROUNDS}");
    println!(
        "  same command (driver, all files):      GNU {:>7.1} ms   migc {:>6.1} ms   {:>5.1}x",
        ms(gnu_cmd),
        ms(migc_cmd),
        ms(gnu_cmd) / ms(migc_cmd)
    );
    println!(
        "  same preprocessed input (migcom each): GNU {:>7.1} ms   migc {:>6.1} ms   {:>5.1}x",
        ms(gnu_com),
        ms(migc_com),
        ms(gnu_com) / ms(migc_com)
    );
    println!(
        "  same preprocessed input, migc one process for all files:  migc {:>6.1} ms   {:>5.1}x \
         GNU migcom each",
        ms(migc_one),
        ms(gnu_com) / ms(migc_one)
    );
    println!("  (one process start: GNU migcom ~0.4 ms of CPU, an empty Rust program ~0.6 ms)");

    // Code size: the stubs of each file, both generators, gcc -O2.
    let support = repo_root().join("conformance/gnumach-boot/include");
    let (mut gnu_text, mut migc_text) = (0u64, 0u64);
    for (f, text) in files.iter().zip(&pre) {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        for (prog, who, total) in [
            (&migcom, "gnu", &mut gnu_text),
            (&alias, "migc", &mut migc_text),
        ] {
            let d = dir(&format!("size/{stem}/{who}"));
            pipe(prog, &out, text, &d);
            for c in ["u.c", "s.c"] {
                if stem == "mach4" && c == "s.c" {
                    continue;
                }
                *total += text_size(&d, c, &include, &support);
            }
        }
    }
    println!(
        "  .text of user + server stubs (gcc -O2): GNU {gnu_text} bytes   migc {migc_text} bytes   \
         migc / GNU = {:.3}",
        migc_text as f64 / gnu_text as f64
    );
}

fn gcc_e(inc: &str, f: &Path) -> Vec<u8> {
    let out = Command::new("gcc")
        .args(["-E", "-x", "c", "-undef", "-ansi", "-D__x86_64__", inc])
        .arg(f)
        .output()
        .expect("gcc -E");
    assert!(out.status.success());
    out.stdout
}

/// `.text` bytes of `dir/file` compiled with `gcc -O2`.
fn text_size(dir: &Path, file: &str, include: &Path, support: &Path) -> u64 {
    let obj = dir.join(format!("{file}.o"));
    let st = Command::new("gcc")
        .args(["-O2", "-w", "-c", "-o"])
        .arg(&obj)
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", support.display()))
        .arg(format!("-I{}", include.display()))
        .arg(dir.join(file))
        .status()
        .expect("gcc");
    assert!(
        st.success(),
        "gcc -O2 failed on {}",
        dir.join(file).display()
    );
    let out = Command::new("size")
        .arg("-A")
        .arg(&obj)
        .output()
        .expect("size");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(".text")).then(|| w.next()?.parse::<u64>().ok())?
        })
        .sum()
}

fn pipe(prog: &Path, args: &[&str], input: &[u8], dir: &Path) {
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    assert!(child.wait().unwrap().success(), "{} failed", prog.display());
}

fn run(cmd: &mut Command) {
    let out = cmd.stdout(Stdio::null()).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn measure(mut f: impl FnMut()) -> Duration {
    f();
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The release binaries' folder, built if needed.
fn build_release() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "migc"])
        .current_dir(repo_root())
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build -p migc failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("release")
}
