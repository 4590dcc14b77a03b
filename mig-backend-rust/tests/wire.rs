//! Wire equivalence with GNU MIG through the in-process harness of `conformance::harness`,
//! for `mach`, `mach_port`, `mach_host` and `device`.
//!
//! The harness is built with GNU MIG on both sides and run: it records every request GNU
//! MIG's C client builds and every reply GNU MIG's C server builds (four calls per routine,
//! arrays at 0, 1 and their maximum, then a failing call), and how the C demux answers
//! malformed requests. A scratch program (`test_programs/wire_driver.rs`) then puts the Rust
//! stubs between those records: each GNU request, delivered, goes into the Rust `dispatch`;
//! a loopback server hands the decoded values to the Rust client function, whose request must
//! equal GNU's byte for byte; GNU's reply, delivered, is decoded by the Rust client and the
//! values returned to `dispatch`, whose reply must equal GNU's byte for byte (out-of-line data
//! included; bytes the harness masks, and dispositions, compared as a receiver sees them).
//! GNU's malformed requests must get the same demux result and return code from the Rust
//! server, which must not run the routine when GNU's did not.
//!
//! The same records are replayed through the Mach_R kernel's own interfaces
//! (`kernel/interfaces/<subsystem>.defs`, `KernelServer`): their kernel-mode `dispatch`
//! (request bytes wrapped by `KernelRequest::new`, out-of-line data as tokens) with a kernel-mode
//! loopback must equal GNU MIG's requests and replies the same way.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{gnu_mig_command, reference_include, reference_root, repo_root};
use conformance::harness::{build_harness, run_harness, SUBSYSTEM_FILES};

const SUBSYSTEMS: &[&str] = &["mach", "mach_port", "mach_host", "device"];

#[test]
fn rust_stubs_match_gnu_mig_on_the_wire() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let gnu = gnu_mig_command(&root);
    let gnu: Vec<&str> = gnu.iter().map(String::as_str).collect();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join("rust-wire");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut modules = Vec::new();
    let mut kernel_modules = Vec::new();
    let mut runs = String::new();
    let mut totals = Vec::new();
    let mut gnu_runs = Vec::new();
    for &name in SUBSYSTEMS {
        let defs = SUBSYSTEM_FILES.iter().find(|(n, _)| *n == name).unwrap().1;
        let build = build_harness(&root, name, &gnu, &gnu, &tmp.join("rust-wire-gnu"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let run = run_harness(&build).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            run.failures.is_empty(),
            "{name}: GNU-GNU harness failed: {:?}",
            run.failures
        );
        common::write_if_changed(
            &dir.join(format!("{name}.wire")),
            &(run.wire.join("\n") + "\n"),
        );
        common::write_if_changed(
            &dir.join(format!("{name}.malformed")),
            &(run.malformed.join("\n") + "\n"),
        );
        let v = common::lower(&include.join(defs), std::slice::from_ref(&include));
        totals.push((name, v.module().routines.len()));
        let mut text = mig_backend_rust::generate(&v, &mig_backend_rust::Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        text.push_str(&mig_backend_rust::loopback(&v).unwrap());
        modules.push((name.to_string(), text));
        gnu_runs.push((
            name,
            build.dir.clone(),
            run.calls.clone(),
            run.malformed.clone(),
        ));
        let base = v.module().subsystem.base;
        let end = base + v.module().subsystem.slots;
        let interfaces = repo_root().join("kernel/interfaces");
        let kv = common::lower(
            &interfaces.join(format!("{name}.defs")),
            std::slice::from_ref(&interfaces),
        );
        assert!(
            kv.module().subsystem.kernel_server,
            "kernel {name}: KernelServer"
        );
        let mut ktext = mig_backend_rust::generate(&kv, &mig_backend_rust::Options::default())
            .unwrap_or_else(|e| panic!("kernel {name}: {e:?}"));
        ktext.push_str(&mig_backend_rust::loopback(&kv).unwrap());
        kernel_modules.push((format!("kernel_{name}"), ktext));
        runs.push_str(&format!(
            "    {{\n        impl crate::kernel_{name}::loopback::Resolve for Tokens {{\n            \
             fn buffer<E: mach_rt::Scalar>(&mut self, t: mach_rt::OolToken<E>) -> mach_rt::OolBuffer<E> {{\n                \
             // SAFETY: a token is the address slot of a delivered request: a leaked copy made by the driver.\n                \
             unsafe {{ mach_rt::OolBuffer::from_raw(t.token(), t.len()) }}\n            }}\n        }}\n        \
             let s = driver::replay(\"kernel_{name}\", include_str!(\"../{name}.wire\"), \
             include_str!(\"../{name}.malformed\"), ({base}, {end}), &mut problems, \
             |t, reply, disp, req, out| {{\n            let mut l = crate::kernel_{name}::loopback::Loopback {{ t, reply, reply_disposition: disp, k: Tokens }};\n            \
             let bytes = req.reader().bytes(0, req.reader().len());\n            \
             crate::kernel_{name}::server::dispatch(&mut l, mach_rt::KernelRequest::new(bytes), out)\n        }});\n        \
             println!(\"summary kernel_{name} exchanges={{}} routines={{}} malformed={{}}\", s.exchanges, s.routines, s.malformed);\n    }}\n"
        ));
        runs.push_str(&format!(
            "    {{\n        let s = driver::replay(\"{name}\", include_str!(\"../{name}.wire\"), \
             include_str!(\"../{name}.malformed\"), ({base}, {end}), &mut problems, \
             |t, reply, disp, req, out| {{\n            let mut l = crate::{name}::loopback::Loopback {{ t, reply, reply_disposition: disp }};\n            \
             crate::{name}::server::dispatch(&mut l, req, out)\n        }});\n        \
             println!(\"summary {name} exchanges={{}} routines={{}} malformed={{}}\", s.exchanges, s.routines, s.malformed);\n    }}\n"
        ));
    }
    let driver = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_programs/wire_driver.rs");
    let main = format!(
        "\n#[path = \"{}\"]\nmod driver;\n\n/// Resolves the tokens of the kernel-mode loopbacks.\nstruct Tokens;\n\nfn main() {{\n    let mut problems: Vec<String> = Vec::new();\n{runs}    for p in &problems {{\n        println!(\"mismatch {{p}}\");\n    }}\n    println!(\"problems {{}}\", problems.len());\n}}\n",
        driver.display()
    );
    // A std program: the stubs are no_std-clean, the driver is not.
    let mut lib_modules = String::new();
    for (name, text) in modules.iter().chain(&kernel_modules) {
        common::write_if_changed(&dir.join("src").join(format!("{name}.rs")), text);
        lib_modules.push_str(&format!(
            "pub mod {name} {{\n    include!(\"{name}.rs\");\n}}\n"
        ));
    }
    common::write_if_changed(
        &dir.join("src/main.rs"),
        &format!("//! Wire equivalence driver (generated by a test).\n{lib_modules}{main}"),
    );
    common::write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"rust-wire\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nmach-rt = {{ path = \"{}\" }}\n\n[workspace]\n",
            common::runtime_dir().display()
        ),
    );
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--offline", "--target-dir"])
        .arg(dir.join("target"))
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "driver failed:\n{stderr}\n{stdout}");
    let mismatches: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("mismatch"))
        .collect();
    for l in stdout.lines().filter(|l| l.starts_with("summary")) {
        eprintln!("{l}");
    }
    for (name, n) in &totals {
        eprintln!("{name}: {n} routines in the subsystem");
    }
    let oks = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    eprintln!(
        "{oks} exchanges and malformed requests identical, {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(oks > 0);
    linked_with_gnu_c_client_and_server(&tmp, &include, &modules, &gnu_runs, &dir);
}

/// The C harness (GNU MIG's client and server, with their value checks) linked with the Rust
/// stubs in between: C client -> Rust `dispatch` -> loopback -> Rust client -> C server, and
/// back (`test_programs/sandwich.rs`). The harness's `call` and `malformed` lines must be
/// GNU-GNU's, with no `fail` line; the Rust client's requests and the Rust server's replies
/// must equal GNU MIG's records byte for byte.
fn linked_with_gnu_c_client_and_server(
    tmp: &Path,
    include: &Path,
    modules: &[(String, String)],
    gnu_runs: &[(&str, PathBuf, Vec<String>, Vec<String>)],
    wire_dir: &Path,
) {
    let dir = tmp.join("rust-wire-c");
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    let lib_dir = dir.join("lib");
    std::fs::create_dir_all(&lib_dir).unwrap();
    let harness_dir = repo_root().join("conformance/harness");
    let support = repo_root().join("conformance/gnumach-boot/include");
    let programs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_programs");
    for (name, build_dir, _, _) in gnu_runs {
        // One static library per subsystem: the harness (main renamed, its demux pointer
        // aimed at Rust), GNU MIG's client and server stubs, the harness runtime.
        let mut objects = Vec::new();
        let sources = [
            (build_dir.join(format!("{name}_harness.c")), true),
            (build_dir.join(format!("{name}User.c")), false),
            (build_dir.join(format!("{name}Server.c")), false),
            (harness_dir.join("harness_rt.c"), false),
        ];
        for (i, (src, is_main)) in sources.iter().enumerate() {
            let obj = lib_dir.join(format!("{name}_{i}.o"));
            let mut cmd = Command::new("gcc");
            cmd.args(["-std=gnu11", "-O1", "-g", "-fno-strict-aliasing", "-c"])
                .arg(format!("-I{}", build_dir.display()))
                .arg(format!("-I{}", harness_dir.display()))
                .arg(format!("-I{}", support.display()))
                .arg(format!("-I{}", include.display()));
            if *is_main {
                cmd.arg("-Dmain=harness_main")
                    .arg(format!("-D{name}_server=rust_demux"));
            }
            let out = cmd.arg(src).arg("-o").arg(&obj).output().unwrap();
            assert!(
                out.status.success(),
                "gcc {}:\n{}",
                src.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            objects.push(obj);
        }
        let archive = lib_dir.join(format!("lib{name}_harness.a"));
        let _ = std::fs::remove_file(&archive);
        let status = Command::new("ar")
            .arg("rcs")
            .arg(&archive)
            .args(&objects)
            .status()
            .unwrap();
        assert!(status.success(), "ar");
        let text = &modules.iter().find(|(n, _)| n == name).unwrap().1;
        common::write_if_changed(&dir.join(format!("src/{name}.rs")), text);
        let bin = format!(
            "//! {name}: GNU MIG's C client and server with the Rust stubs between them.\n\
             #[path = \"{driver}\"]\n#[allow(dead_code)]\nmod driver;\n\
             #[path = \"{sandwich}\"]\nmod sandwich;\n\
             mod stubs {{\n    include!(\"../{name}.rs\");\n}}\n\
             #[link(name = \"{name}_harness\", kind = \"static\")]\n\
             extern \"C\" {{\n    fn harness_main() -> i32;\n    fn {name}_server(i: *mut u8, o: *mut u8) -> i32;\n}}\n\
             /// The harness's demux.\n\
             #[no_mangle]\npub extern \"C\" fn rust_demux(i: *mut u8, o: *mut u8) -> i32 {{\n\
             \x20   // SAFETY: the harness calls its demux with its own request and reply buffers.\n\
             \x20   unsafe {{\n        sandwich::demux(i, o, {name}_server, |t, reply, disp, req, out| {{\n\
             \x20           let mut l = stubs::loopback::Loopback {{ t, reply, reply_disposition: disp }};\n\
             \x20           stubs::server::dispatch(&mut l, req, out)\n        }})\n    }}\n}}\n\
             fn main() {{\n    std::process::exit(sandwich::run(harness_main, include_str!(\"{wire}\")));\n}}\n",
            driver = programs.join("wire_driver.rs").display(),
            sandwich = programs.join("sandwich.rs").display(),
            wire = wire_dir.join(format!("{name}.wire")).display(),
        );
        common::write_if_changed(&dir.join(format!("src/bin/{name}.rs")), &bin);
    }
    common::write_if_changed(
        &dir.join("build.rs"),
        &format!(
            "fn main() {{\n    println!(\"cargo:rustc-link-search=native={}\");\n    println!(\"cargo:rerun-if-changed={}\");\n}}\n",
            lib_dir.display(),
            lib_dir.display()
        ),
    );
    common::write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"rust-wire-c\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nmach-rt = {{ path = \"{}\" }}\n\n[workspace]\n",
            common::runtime_dir().display()
        ),
    );
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--bins", "--target-dir"])
        .arg(dir.join("target"))
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "building the linked programs:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let mut problems = Vec::new();
    for (name, _, calls, malformed) in gnu_runs {
        let out = Command::new(dir.join("target/debug").join(name))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines = |p: &str| -> Vec<String> {
            stdout
                .lines()
                .filter(|l| l.starts_with(p))
                .map(str::to_string)
                .collect()
        };
        let fails = lines("fail");
        if !out.status.success() || !fails.is_empty() {
            problems.push(format!(
                "{name}: the C harness failed ({}):\n{}",
                out.status,
                fails.join("\n")
            ));
        }
        if &lines("call ") != calls {
            problems.push(format!("{name}: call lines differ from GNU-GNU's"));
        }
        if &lines("malformed ") != malformed {
            let got = lines("malformed ");
            let diff: Vec<String> = got
                .iter()
                .filter(|l| !malformed.contains(l))
                .take(5)
                .cloned()
                .collect();
            problems.push(format!(
                "{name}: malformed lines differ:\n{}",
                diff.join("\n")
            ));
        }
        for l in stderr.lines().filter(|l| l.starts_with("mismatch")) {
            problems.push(format!("{name}: {l}"));
        }
        let summary = stderr
            .lines()
            .find(|l| l.starts_with("compared"))
            .unwrap_or("no summary");
        eprintln!(
            "{name} linked with GNU's C client and server: {} calls, {} malformed, {summary}",
            calls.len(),
            malformed.len()
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
