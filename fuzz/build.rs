//! Generates migc's server stubs for mach.defs and mach_port.defs and compiles them, with the
//! C driver of the `demux` target, under AddressSanitizer (gcc through the `cc` crate).

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let include = root.join(".cache/reference/root/usr/include/x86_64-linux-gnu");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut build = cc::Build::new();
    for defs in ["mach/mach.defs", "mach/mach_port.defs"] {
        let mut opts = mig_frontend::FrontendOptions::default();
        opts.pp.include_dirs.push(include.clone());
        opts.pp.predefined =
            mig_frontend::preprocess::predefined_macros("x86_64-gnu").unwrap_or_default();
        let parsed = mig_frontend::parse_path(&include.join(defs), &opts);
        let v = mig_ir::lower(&parsed.file, &mig_ir::target::X86_64_GNU)
            .module
            .expect("gnumach-dev lowers");
        let name = v.module().subsystem.name.clone();
        let file = out.join(format!("{name}Server.c"));
        let text = mig_backend_c::server_source(&v, &mig_backend_c::Options::default());
        std::fs::write(&file, text).unwrap();
        build.file(&file);
        println!("cargo:rerun-if-changed={}", include.join(defs).display());
    }
    build
        .file("demux/driver.c")
        .include(&include)
        .include(root.join("conformance/gnumach-boot/include"))
        .define("MIG_EOPNOTSUPP", "(-1)")
        .flag("-fsanitize=address")
        .flag("-fsanitize-coverage=trace-cmp")
        .flag("-fno-omit-frame-pointer")
        .warnings(false)
        .compile("migc_demux");
    println!("cargo:rerun-if-changed=demux/driver.c");
    println!("cargo:rerun-if-changed=../mig-backend-c/src");
}
