//! Generates migc's server stubs for every subsystem file of gnumach-dev and compiles them, with
//! the C driver of the `demux` target, by clang with `-fsanitize=fuzzer-no-link,address`: the
//! generated code carries libFuzzer's edge and comparison coverage, so the fuzzer sees the
//! branches of the checks it exercises (`scripts/fuzz.sh` installs clang).
//!
//! The server of `mach.defs` is also generated as an object by the object back end (see
//! [`object_server`]), for the `demux_obj` target.
//!
//! Also writes `seeds.rs` (included by the target): one valid request per routine, built from
//! the routine's layout as the server receives it (descriptors as the kernel translates them,
//! variable data empty), so the fuzzer starts past the message-id and size checks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mig_ir::layout::FieldRole;
use mig_ir::Validated;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let include = root.join(".cache/reference/root/usr/include/x86_64-linux-gnu");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut build = cc::Build::new();
    build.compiler(std::env::var("MIGC_FUZZ_CC").unwrap_or_else(|_| "clang".into()));
    let mut table = String::from("#include <mach/message.h>\n#include <mach/boolean.h>\n");
    let mut entries = Vec::new();
    let mut seeds = String::from("/// (name, bytes): one request per routine; byte 0 picks the server.\npub const SEEDS: &[(&str, &[u8])] = &[\n");
    for defs in subsystem_files(&include) {
        let mut opts = mig_frontend::FrontendOptions::default();
        opts.pp.include_dirs.push(include.clone());
        opts.pp.predefined =
            mig_frontend::preprocess::predefined_macros("x86_64-gnu").unwrap_or_default();
        let parsed = mig_frontend::parse_path(&defs, &opts);
        let v = mig_ir::lower(&parsed.file, &mig_ir::target::X86_64_GNU)
            .module
            .expect("gnumach-dev lowers");
        let s = &v.module().subsystem;
        let file = out.join(format!("{}Server.c", s.name));
        let text = mig_backend_c::server_source(&v, &mig_backend_c::Options::default());
        std::fs::write(&file, text).unwrap();
        build.file(&file);
        let index = entries.len();
        writeln!(
            table,
            "extern boolean_t {}(mach_msg_header_t *, mach_msg_header_t *);",
            s.server_demux
        )
        .unwrap();
        entries.push(format!(
            "\t{{ \"{}\", {}, {}, {} }},",
            s.name, s.base, s.slots, s.server_demux
        ));
        if s.name == "mach" {
            object_server(&v, &out, &mut build);
        }
        for (i, r) in v.module().routines.iter().enumerate() {
            let bytes = request(&v, i, index as u8);
            writeln!(seeds, "    (\"{}-{}\", &{:?}),", s.name, r.name, bytes).unwrap();
        }
        println!("cargo:rerun-if-changed={}", defs.display());
    }
    seeds.push_str("];\n");
    std::fs::write(out.join("seeds.rs"), seeds).unwrap();
    write!(
        table,
        "const struct migc_fuzz_server migc_fuzz_servers[] = {{\n{}\n}};\n\
         const unsigned migc_fuzz_nservers = {};\n",
        entries.join("\n"),
        entries.len()
    )
    .unwrap();
    let table_file = out.join("servers.c");
    std::fs::write(&table_file, format!("#include \"driver.h\"\n{table}")).unwrap();
    build
        .file("demux/driver.c")
        .file(&table_file)
        .include("demux")
        .include(&include)
        .include(root.join("conformance/gnumach-boot/include"))
        .define("MIG_EOPNOTSUPP", "(-1)")
        .flag("-fsanitize=fuzzer-no-link,address")
        .flag("-fno-omit-frame-pointer")
        .flag("-g")
        .warnings(false)
        .compile("migc_demux");
    println!("cargo:rerun-if-changed=demux");
    println!("cargo:rerun-if-changed=../mig-backend-c/src");
    println!("cargo:rerun-if-env-changed=MIGC_FUZZ_CC");
}

/// The object back end's server of `mach.defs` (`mig_backend_obj::server_object`), its demux
/// and routine table renamed `migc_obj_mach_server[_routines]` (objcopy) so that it links
/// beside the C server: its server functions are the C file's weak defaults, the same ones the
/// C demux calls. Not compiled by clang, so not instrumented: the driver puts its request just
/// before a guard page instead.
fn object_server(v: &Validated, out: &Path, build: &mut cc::Build) {
    let bytes = mig_backend_obj::server_object(v, &mig_backend_obj::Options::default())
        .unwrap_or_else(|e| panic!("object server of mach.defs: {e:?}"));
    let raw = out.join("machServer.obj-raw.o");
    let renamed = out.join("machServer.obj.o");
    std::fs::write(&raw, bytes).unwrap();
    let status = std::process::Command::new("objcopy")
        .args([
            "--redefine-sym",
            "mach_server=migc_obj_mach_server",
            "--redefine-sym",
            "mach_server_routines=migc_obj_mach_server_routines",
        ])
        .arg(&raw)
        .arg(&renamed)
        .status()
        .expect("objcopy (binutils) runs");
    assert!(status.success(), "objcopy failed on {}", raw.display());
    build.object(&renamed);
    println!("cargo:rerun-if-changed=../mig-backend-obj/src");
}

/// The `.defs` files of gnumach-dev that declare a subsystem, sorted.
fn subsystem_files(include: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["mach", "mach/x86_64", "device", "mach_debug"] {
        let Ok(rd) = std::fs::read_dir(include.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let declares = text
                .lines()
                .any(|l| l.trim_start().to_ascii_lowercase().starts_with("subsystem"));
            if p.extension().is_some_and(|x| x == "defs") && declares {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// The descriptor name a server receives for a sent one (the kernel's copy-in: copy, move and
/// make send become port send, make and move send-once become port send-once).
fn received(name: u32) -> u32 {
    match name {
        17 | 19 | 20 | u32::MAX => 17,
        18 | 21 => 18,
        n => n,
    }
}

/// Byte 0 (server index), then the request of routine `index`, each variable datum with one
/// element (strings need their NUL), its descriptors as received (x86_64-gnu: 8-byte
/// descriptors, name in bits 0-7, size 8-23, inline 29, longform 30, number in the second word).
fn request(v: &Validated, index: usize, server: u8) -> Vec<u8> {
    let m = v.module();
    let r = &m.routines[index];
    let l = &v.layout(index).expect("layout").request;
    let mut msg = vec![0u8; l.max_size as usize];
    let bits: u32 = if l.complex { 0x8000_0000 } else { 0 };
    msg[0..4].copy_from_slice(&bits.to_le_bytes());
    msg[28..32].copy_from_slice(&r.msgh_id.to_le_bytes());
    // Bytes added so far by variable data (one element each), and the next one's size.
    let (mut extra, mut next) = (0usize, 0usize);
    let mut end = 0usize;
    for f in &l.fields {
        let at = f.min_offset as usize + extra;
        match &f.role {
            FieldRole::Descriptor {
                argument,
                descriptor: d,
            } => {
                let ty = argument.map(|a| m.ty(r.arguments[a].ty));
                let out_name = ty
                    .map(|t| t.name_out.value)
                    .filter(|n| *n != u32::MAX)
                    .unwrap_or(d.name);
                let variable = l.fields.iter().any(|g| {
                    g.variable
                        && matches!(g.role, FieldRole::Data { argument: a, .. } if a == *argument)
                });
                let number = if variable && d.inline {
                    let n = ty.map_or(1, |t| t.element_number.max(1));
                    next = ((n * d.size_bits / 8) as usize).div_ceil(8) * 8;
                    n
                } else {
                    d.number.unwrap_or(0) as u32
                };
                let word = received(out_name)
                    | (d.size_bits & 0xffff) << 8
                    | u32::from(d.inline) << 29
                    | u32::from(d.long) << 30;
                msg[at..at + 4].copy_from_slice(&word.to_le_bytes());
                msg[at + 4..at + 8].copy_from_slice(&number.to_le_bytes());
                end = at + 8;
            }
            _ if f.variable => {
                extra += next;
                end = at + next;
                next = 0;
            }
            _ => end = at + f.size as usize,
        }
    }
    msg.truncate(end);
    let size = end as u32;
    msg[4..8].copy_from_slice(&size.to_le_bytes());
    let mut out = vec![server];
    out.extend(msg);
    out
}
