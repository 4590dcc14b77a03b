//! Kernel servers and the deallocate bit, through the stubs themselves: every `KernelServer`
//! configuration of gnumach-dev (`-DKERNEL_SERVER`), server stubs by GNU MIG and by migc from
//! the same preprocessed text, each linked into a program that hands them requests built from
//! migc's IR layout (descriptors as the kernel sees them after copy-in: `MACH_MSG_TYPE_PORT_SEND`
//! for a send right) and records the outcome: the stub either rejects the request
//! (`RetCode`) or gets past its checks to the first kernel call (every function the stubs call
//! is defined by the test to jump back).
//!
//! Each routine whose request carries a port right or out-of-line memory runs twice: as sent
//! (the control: GNU's stubs must accept it) and with the deallocate bit set in every right and
//! out-of-line descriptor. GNU MIG's kernel stubs accept both (the bit of what arrives in the
//! kernel is not predictable); migc's must give the same outcome for every request.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{reference_root, repo_root};
use conformance::run_with_stdin;
use serde_json::Value;

/// The `KernelServer` configurations GNU Mach builds (as in `kernel_config.rs`).
const FILES: &[&str] = &[
    "device/device.defs",
    "mach/memory_object.defs",
    "mach/mach.defs",
    "mach/gnumach.defs",
    "mach/experimental.defs",
    "mach_debug/mach_debug.defs",
    "mach/mach_host.defs",
    "mach/mach_port.defs",
    "mach/x86_64/mach_i386.defs",
    "mach/task_notify.defs",
];

/// One descriptor of a request: offset and fields, and whether it is a right or out of line.
struct Desc {
    offset: u64,
    name: u64,
    size_bits: u64,
    number: u64,
    inline: bool,
    long: bool,
    right_or_ool: bool,
}

struct Case {
    routine: String,
    index: u64,
    size: u64,
    descs: Vec<Desc>,
}

/// The name a right's descriptor carries in the kernel (the copy-in translation of GNU Mach's
/// `ipc_kmsg_copyin`: copy/move/make send -> port send, make/move send-once -> port send-once).
fn received_name(name: u64) -> u64 {
    const POLY: u64 = 0xffff_ffff;
    match name {
        17 | 19 | 20 | POLY => 17,
        18 | 21 => 18,
        n => n,
    }
}

/// Requests of fixed size that carry a right or out-of-line memory, from the IR JSON.
fn cases(ir: &Value) -> Vec<Case> {
    let routines = ir["module"]["routines"].as_array().unwrap();
    let layouts = ir["layouts"].as_array().unwrap();
    let mut out = Vec::new();
    for (r, l) in routines.iter().zip(layouts) {
        let fields = l["request"]["fields"].as_array().unwrap();
        if fields.iter().any(|f| f["variable"].as_bool().unwrap()) {
            continue;
        }
        let mut descs = Vec::new();
        for f in fields {
            let Some(role) = f["role"].get("Descriptor") else {
                continue;
            };
            let d = &role["descriptor"];
            // What the receiver sees is the type's out name (a polymorphic in name becomes it).
            let arg = &r["arguments"][role["argument"].as_u64().unwrap() as usize];
            let ty = &ir["module"]["types"][arg["ty"].as_u64().unwrap() as usize];
            let name = match ty["name_out"]["value"].as_u64() {
                Some(n) if n != 0xffff_ffff => n,
                _ => d["name"].as_u64().unwrap(),
            };
            let inline = d["inline"].as_bool().unwrap();
            let right = (16..=21).contains(&name) || name == 0xffff_ffff;
            descs.push(Desc {
                offset: f["offset"].as_u64().unwrap(),
                name: received_name(name),
                // In the kernel a right is an `ipc_port_t`, inline or out of line.
                size_bits: if right {
                    64
                } else {
                    d["size_bits"].as_u64().unwrap()
                },
                // A count that is not fixed (out-of-line data) is not checked: 0.
                number: d["number"].as_u64().unwrap_or(0),
                inline,
                long: d["long"].as_bool().unwrap(),
                right_or_ool: !inline || right,
            });
        }
        if !descs.iter().any(|d| d.right_or_ool) {
            continue;
        }
        let last = fields.last().unwrap();
        out.push(Case {
            routine: r["name"].as_str().unwrap().to_string(),
            index: r["number"].as_u64().unwrap(),
            size: last["offset"].as_u64().unwrap() + last["size"].as_u64().unwrap(),
            descs,
        });
    }
    out
}

/// The driver: builds each request (clean and with deallocate bits), calls the routine table
/// entry, prints `routine variant reached|ret N`.
fn driver(cases: &[Case], table: &str, base: u64) -> String {
    let mut c = String::from(
        "#include <mach/message.h>\n#include <setjmp.h>\n#include <stdio.h>\n#include <string.h>\n\
         typedef void (*routine_t)(mach_msg_header_t *, mach_msg_header_t *);\n",
    );
    writeln!(c, "extern routine_t {table}[];\njmp_buf mig_reached;").unwrap();
    c.push_str(
        "static void run(const char *what, int variant, unsigned char *req, unsigned size, unsigned idx)\n{\n\
         \tstatic unsigned char in[8192] __attribute__((aligned(16)));\n\
         \tstatic unsigned char out[8192] __attribute__((aligned(16)));\n\
         \tmemcpy(in, req, size);\n\tmemset(out, 0, sizeof out);\n\
         \tif (setjmp(mig_reached)) { printf(\"%s %d reached\\n\", what, variant); return; }\n\
         \t", );
    writeln!(
        c,
        "{table}[idx]((mach_msg_header_t *) in, (mach_msg_header_t *) out);"
    )
    .unwrap();
    c.push_str(
        "\tprintf(\"%s %d ret %d\\n\", what, variant, *(int *) (out + sizeof (mach_msg_header_t) + sizeof (mach_msg_type_t)));\n}\n\
         int main(void)\n{\n\tstatic unsigned char req[8192] __attribute__((aligned(16)));\n\
         \tmach_msg_type_t t;\n\tint variant;\n",
    );
    for k in cases {
        c.push_str(
            "\tfor (variant = 0; variant < 2; variant++) {\n\t\tmemset(req, 0, sizeof req);\n",
        );
        writeln!(
            c,
            "\t\t{{ mach_msg_header_t h = {{ .msgh_bits = MACH_MSGH_BITS_COMPLEX, .msgh_size = {}, .msgh_id = {} }};\n\
             \t\t  memcpy(req, &h, sizeof h); }}",
            k.size,
            base + k.index
        )
        .unwrap();
        for d in &k.descs {
            writeln!(
                c,
                "\t\tmemset(&t, 0, sizeof t);\n\t\tt.msgt_name = {}; t.msgt_size = {}; t.msgt_number = {}; \
                 t.msgt_inline = {}; t.msgt_longform = {};\n\t\tt.msgt_deallocate = {};\n\
                 \t\tmemcpy(req + {}, &t, sizeof t);",
                d.name,
                d.size_bits,
                d.number,
                u8::from(d.inline),
                u8::from(d.long),
                if d.right_or_ool { "variant" } else { "0" },
                d.offset
            )
            .unwrap();
        }
        writeln!(
            c,
            "\t\trun(\"{}\", variant, req, {}, {});\n\t}}",
            k.routine, k.size, k.index
        )
        .unwrap();
    }
    c.push_str("\treturn 0;\n}\n");
    c
}

fn gcc_kernel(include: &Path, dir: &Path) -> Command {
    let shim = repo_root().join("migc/tests/kernel_shim");
    let support = repo_root().join("conformance/gnumach-boot/include");
    let mut c = Command::new("gcc");
    c.args(["-std=gnu11", "-w", "-DMACH_KERNEL", "-DKERNEL", "-DNCPUS=1"])
        .args(["-include", "kernel_shim.h"])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", shim.display()))
        .arg(format!("-I{}", support.display()))
        .arg(format!("-I{}", include.display()));
    c
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compiles `S.c` in `dir` with the kernel shim, links it with `driver.c` and a definition of
/// every function it calls (each jumps back to the driver), runs it: its output lines.
fn run_stubs(include: &Path, dir: &Path, driver_c: &str) -> Vec<String> {
    ok(
        gcc_kernel(include, dir)
            .args(["-c", "-o"])
            .arg(dir.join("S.o"))
            .arg(dir.join("S.c"))
            .output()
            .unwrap(),
        "compile S.c",
    );
    let nm = ok(
        Command::new("nm")
            .arg("-u")
            .arg(dir.join("S.o"))
            .output()
            .unwrap(),
        "nm",
    );
    let libc: BTreeSet<&str> = ["memcpy", "memset", "memmove", "strncpy", "__stack_chk_fail"]
        .into_iter()
        .collect();
    let mut calls = String::from("#include <setjmp.h>\nextern jmp_buf mig_reached;\n");
    for sym in nm.split_whitespace().filter(|w| *w != "U") {
        if !libc.contains(sym) {
            writeln!(calls, "void {sym}(void) {{ longjmp(mig_reached, 1); }}").unwrap();
        }
    }
    std::fs::write(dir.join("calls.c"), calls).unwrap();
    std::fs::write(dir.join("driver.c"), driver_c).unwrap();
    let exe = dir.join("driver");
    ok(
        Command::new("gcc")
            .args(["-std=gnu11", "-w", "-o"])
            .arg(&exe)
            .arg(format!("-I{}", include.display()))
            .arg(dir.join("driver.c"))
            .arg(dir.join("calls.c"))
            .arg(dir.join("S.o"))
            .output()
            .unwrap(),
        "link driver",
    );
    ok(Command::new(&exe).output().unwrap(), "run driver")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn kernel_servers_accept_deallocate_bits_as_gnu_mig() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let base_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kernel-dealloc");
    let (mut routines, mut with_bits) = (0, 0);
    for rel in FILES {
        let stem = Path::new(rel).file_stem().unwrap().to_string_lossy();
        let pre = Command::new("gcc")
            .args([
                "-E",
                "-x",
                "c",
                "-undef",
                "-ansi",
                "-D__x86_64__",
                "-DKERNEL_SERVER",
            ])
            .arg(format!("-I{}", include.display()))
            .arg(include.join(rel))
            .output()
            .unwrap();
        assert!(pre.status.success());
        let gnu = base_dir.join(format!("{stem}/gnu"));
        let ours = base_dir.join(format!("{stem}/migc"));
        for d in [&gnu, &ours] {
            let _ = std::fs::remove_dir_all(d);
            std::fs::create_dir_all(d).unwrap();
        }
        let outputs = [
            "-n",
            "-server",
            "S.c",
            "-sheader",
            "S.h",
            "-user",
            "/dev/null",
        ];
        let mut cmd = Command::new(&migcom);
        cmd.current_dir(&gnu).args(outputs);
        ok(run_with_stdin(cmd, &pre.stdout), "GNU migcom");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_migc"));
        cmd.current_dir(&ours)
            .args([
                "-cc",
                "cat",
                "-",
                "/dev/null",
                "--emit",
                "ir",
                "-o",
                "ir.json",
            ])
            .args(outputs);
        ok(run_with_stdin(cmd, &pre.stdout), "migc");
        let ir: Value =
            serde_json::from_str(&std::fs::read_to_string(ours.join("ir.json")).unwrap()).unwrap();
        let cases = cases(&ir);
        let base = ir["module"]["subsystem"]["base"].as_u64().unwrap();
        let text = std::fs::read_to_string(gnu.join("S.c")).unwrap();
        let table = text
            .lines()
            .find_map(|l| l.strip_prefix("mig_routine_t ")?.strip_suffix("[] = {"))
            .expect("GNU's routine table")
            .to_string();
        let driver_c = driver(&cases, &table, base);
        let want = run_stubs(&include, &gnu, &driver_c);
        let got = run_stubs(&include, &ours, &driver_c);
        assert_eq!(
            want.len(),
            2 * cases.len(),
            "{stem}: GNU's driver output: {want:?}"
        );
        for line in want.iter().filter(|l| l.contains(" 0 ")) {
            assert!(
                line.ends_with("reached"),
                "{stem}: control rejected by GNU: {line}"
            );
        }
        assert_eq!(got, want, "{stem}: migc's kernel stubs differ from GNU's");
        routines += cases.len();
        with_bits += want.iter().filter(|l| l.contains(" 1 reached")).count();
    }
    println!(
        "kernel servers: {routines} routines with rights or out-of-line data, deallocate bits \
         accepted by GNU's and migc's stubs alike in {with_bits}"
    );
    assert!(routines >= 30, "only {routines} routines exercised");
}
