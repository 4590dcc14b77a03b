//! `cargo xtask bench mig`, the object back end's part: from the 17 gnumach-dev `.defs` to
//! client stub objects, `migc --emit obj` against migc's C + `gcc -O2 -c` and GNU MIG's C +
//! `gcc -O2 -c` (wall clock, one file after another on one core); the `size` text of the
//! objects; and guest instructions per null RPC (`conformance/suite/bench-rpc.c`,
//! `mach_port_type` in a loop) on GNU Mach under `-icount`, the program linked with the object
//! stubs and with gcc -O2 compiled C stubs. Figures are printed, never asserted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::kernel::{self, bench::suite_bench_boot};

/// The 17 gnumach-dev files with a `subsystem` statement (as `conformance::harness` lists them).
const SUBSYSTEMS: &[(&str, &str)] = &[
    ("mach", "mach/mach.defs"),
    ("mach_port", "mach/mach_port.defs"),
    ("mach_host", "mach/mach_host.defs"),
    ("mach4", "mach/mach4.defs"),
    ("gnumach", "mach/gnumach.defs"),
    ("experimental", "mach/experimental.defs"),
    ("memory_object", "mach/memory_object.defs"),
    ("memory_object_default", "mach/memory_object_default.defs"),
    ("default_pager", "mach/default_pager.defs"),
    ("notify", "mach/notify.defs"),
    ("exc", "mach/exc.defs"),
    ("task_notify", "mach/task_notify.defs"),
    ("mach_i386", "mach/x86_64/mach_i386.defs"),
    ("device", "device/device.defs"),
    ("device_request", "device/device_request.defs"),
    ("device_reply", "device/device_reply.defs"),
    ("mach_debug", "mach_debug/mach_debug.defs"),
];

const RUNS: usize = 3;

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// How the 17 `.defs` become objects in `dir`.
#[derive(Clone, Copy, PartialEq)]
enum Pipeline {
    MigcObj,
    MigcC,
    GnuC,
}

struct Tools {
    migc: PathBuf,
    gnu_mig: PathBuf,
    include: PathBuf,
    support: PathBuf,
}

/// Runs `p` over the 17 files into `dir`; returns (seconds for the MIG, seconds for gcc).
fn pipeline(t: &Tools, p: Pipeline, dir: &Path) -> Result<(f64, f64), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (mut mig_s, mut cc_s) = (0.0, 0.0);
    for (s, defs) in SUBSYSTEMS {
        let defs = t.include.join(defs);
        let obj = dir.join(format!("{s}User.o"));
        let c = dir.join(format!("{s}User.c"));
        let h = dir.join(format!("{s}.h"));
        let mig = if p == Pipeline::GnuC {
            &t.gnu_mig
        } else {
            &t.migc
        };
        let mut cmd = Command::new(mig);
        cmd.arg("-D__x86_64__")
            .arg(format!("-I{}", t.include.display()))
            .arg("-n");
        if p == Pipeline::MigcObj {
            cmd.args(["--emit", "obj", "-user"]).arg(&obj);
        } else {
            cmd.arg("-user").arg(&c).arg("-header").arg(&h);
        }
        cmd.arg(&defs);
        let t0 = Instant::now();
        run(&mut cmd)?;
        mig_s += t0.elapsed().as_secs_f64();
        if p != Pipeline::MigcObj {
            let t0 = Instant::now();
            run(Command::new("gcc")
                .args(["-std=gnu11", "-O2", "-c"])
                .arg(format!("-I{}", dir.display()))
                .arg(format!("-I{}", t.support.display()))
                .arg(format!("-I{}", t.include.display()))
                .arg(&c)
                .arg("-o")
                .arg(&obj))?;
            cc_s += t0.elapsed().as_secs_f64();
        }
    }
    Ok((mig_s, cc_s))
}

/// `size` text of an object.
fn text_size(obj: &Path) -> Result<u64, String> {
    let out = Command::new("size")
        .arg(obj)
        .output()
        .map_err(|e| format!("size: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("size {}: unreadable output", obj.display()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// Runs the object back end's benchmarks.
pub fn run_obj() -> Result<(), String> {
    println!("== bench mig: the object back end (migc --emit obj)");
    let root = kernel::root();
    let reference = root.join(".cache/reference/root");
    if !reference.join("usr/bin/x86_64-gnu-mig").is_file() {
        return Err("the reference set is missing (scripts/fetch-reference.sh)".into());
    }
    run(Command::new(env!("CARGO")).current_dir(&root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "migc",
        "--features",
        "obj",
        "--bin",
        "migc",
    ]))?;
    let t = Tools {
        migc: root.join("target/release/migc"),
        gnu_mig: reference.join("usr/bin/x86_64-gnu-mig"),
        include: reference.join("usr/include/x86_64-linux-gnu"),
        support: root.join("conformance/gnumach-boot/include"),
    };
    let out = root.join("target/bench-mig-obj");
    let dirs = [
        (Pipeline::MigcObj, "migc --emit obj", out.join("obj")),
        (Pipeline::MigcC, "migc C + gcc -O2 -c", out.join("migc-c")),
        (Pipeline::GnuC, "GNU MIG C + gcc -O2 -c", out.join("gnu-c")),
    ];
    println!(
        "time from the {} gnumach-dev .defs to -user objects (one file after another, wall clock, median of {RUNS}):",
        SUBSYSTEMS.len()
    );
    let mut totals = Vec::new();
    for (p, name, dir) in &dirs {
        let (mut mig, mut cc, mut all) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let (m, c) = pipeline(&t, *p, dir)?;
            mig.push(m);
            cc.push(c);
            all.push(m + c);
        }
        let (m, c, a) = (median(mig), median(cc), median(all));
        totals.push(a);
        if *p == Pipeline::MigcObj {
            println!("  {name:<24} {:8.1} ms", a * 1e3);
        } else {
            println!(
                "  {name:<24} {:8.1} ms (MIG {:.1} ms, gcc {:.1} ms)",
                a * 1e3,
                m * 1e3,
                c * 1e3
            );
        }
    }
    println!(
        "  migc --emit obj takes {:.2}x the time of migc C + gcc -O2, {:.2}x that of GNU MIG + gcc -O2",
        totals[0] / totals[1],
        totals[0] / totals[2]
    );

    println!("size text (bytes) of the -user objects: object | gcc -O2 of migc's C | gcc -O2 of GNU MIG's C");
    let mut sums = [0u64; 3];
    for (s, _) in SUBSYSTEMS {
        let mut row = [0u64; 3];
        for (k, (_, _, dir)) in dirs.iter().enumerate() {
            row[k] = text_size(&dir.join(format!("{s}User.o")))?;
            sums[k] += row[k];
        }
        println!("  {s:<22} {:7} | {:7} | {:7}", row[0], row[1], row[2]);
    }
    println!(
        "  {:<22} {:7} | {:7} | {:7} (object / gcc -O2 of migc's C = {:.2})",
        "all",
        sums[0],
        sums[1],
        sums[2],
        sums[0] as f64 / sums[1] as f64
    );

    null_rpc(&root, &reference, &t.migc, &out)
}

/// bench-rpc on GNU Mach under -icount, linked with gcc -O2 C stubs and with object stubs.
fn null_rpc(root: &Path, reference: &Path, migc: &Path, out: &Path) -> Result<(), String> {
    let mig = format!("{} -D__x86_64__", migc.display());
    let mut figures = Vec::new();
    for (name, objmig) in [
        ("gcc -O2 compiled migc C stubs", None),
        ("migc object stubs", Some(&mig)),
    ] {
        let dir = out.join(if objmig.is_some() {
            "suite-obj"
        } else {
            "suite-c"
        });
        let _ = std::fs::remove_dir_all(&dir);
        let mut make = Command::new("make");
        make.arg("-s")
            .arg("-C")
            .arg(root.join("conformance/suite"))
            .arg(format!("OUT={}", dir.display()))
            .arg(format!("REF={}", reference.display()))
            .arg(format!("MIG={mig}"));
        if let Some(o) = objmig {
            make.arg(format!("OBJMIG={o}"));
        }
        make.arg(dir.join("bench-rpc.elf"))
            .arg(dir.join("gnumach.elf32"));
        run(&mut make)?;
        let r = suite_bench_boot(&dir.join("gnumach.elf32"), &dir, "bench-rpc", 60);
        match &r {
            Ok(n) => println!(
                "null RPC mach_port_type on GNU Mach (-icount, guest instructions per iteration), {name}: {n}"
            ),
            Err(e) => println!("null RPC on GNU Mach, {name}: {e}"),
        }
        figures.push(r);
    }
    if let (Ok(c), Ok(o)) = (&figures[0], &figures[1]) {
        println!(
            "  object stubs / gcc -O2 stubs = {:.4} ({} instructions per RPC {})",
            *o as f64 / *c as f64,
            o.abs_diff(*c),
            if o > c { "more" } else { "fewer" }
        );
    }
    Ok(())
}
