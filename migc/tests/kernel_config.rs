//! GNU Mach's kernel configurations: every gnumach-dev subsystem file preprocessed as GNU Mach's
//! build does (`-DKERNEL_SERVER` for the kernel's server side, `-DKERNEL_USER` for the
//! interfaces the kernel calls as a client), compiled by GNU MIG and by `migc -n -cc cat -`
//! with the same standard input, then compared:
//!
//! - (a) compilation: the server stubs of `KernelServer` configurations and the user stubs of
//!   `KernelUser` ones, with `gcc -std=gnu11 -Wall -Wextra -Werror -c` against the gnumach-dev
//!   headers in kernel mode plus `tests/kernel_shim/` (the kernel types and functions the stubs
//!   use). GNU MIG's output is the control: it must compile with the same shim too;
//! - (b) the prototypes of every function in the generated files (server functions, stubs,
//!   routine lookup, demux, client routines), whitespace-normalised: equal sets;
//! - (c) the size of every `Request` and `Reply` structure, measured by gcc;
//! - the `-iheader` content (written only for `KernelServer` subsystems, as GNU MIG does).
//!
//! Differences are failures unless listed in [`KNOWN`] with a reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::corpus::{reference_root, repo_root};
use conformance::run_with_stdin;

/// Which side of an interface the kernel implements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    /// `-DKERNEL_SERVER`: the kernel serves the requests (`-server`, `-sheader`, `-iheader`).
    Server,
    /// `-DKERNEL_USER`: the kernel sends the requests (`-user`, `-header`).
    User,
}

/// GNU Mach's MIG runs (x86_64), plus the other gnumach-dev files with a `KernelUser`
/// modifier (`extra`: not built by GNU Mach, compared all the same).
const CONFIGS: &[(&str, Side, bool)] = &[
    ("device/device.defs", Side::Server, false),
    // device_pager: memory_object.defs as a KernelServer (GNU Mach renames the functions).
    ("mach/memory_object.defs", Side::Server, false),
    ("mach/mach.defs", Side::Server, false),
    ("mach/mach4.defs", Side::Server, false),
    ("mach/gnumach.defs", Side::Server, false),
    ("mach/experimental.defs", Side::Server, false),
    ("mach_debug/mach_debug.defs", Side::Server, false),
    ("mach/mach_host.defs", Side::Server, false),
    ("mach/mach_port.defs", Side::Server, false),
    ("mach/x86_64/mach_i386.defs", Side::Server, false),
    // memory_object_user: memory_object.defs as a KernelUser.
    ("mach/memory_object.defs", Side::User, false),
    ("mach/memory_object_default.defs", Side::User, false),
    ("device/device_reply.defs", Side::User, false),
    ("mach/task_notify.defs", Side::User, false),
    ("mach/task_notify.defs", Side::Server, true),
    ("mach/exc.defs", Side::User, true),
    ("mach/gnumach.defs", Side::User, true),
    ("mach/experimental.defs", Side::User, true),
    ("mach/mach4.defs", Side::User, true),
    ("mach/mach.defs", Side::User, true),
];

/// Accepted differences: (configuration label, item, reason). Empty: none is accepted today.
const KNOWN: &[(&str, &str, &str)] = &[];

/// Text without comments and preprocessor lines, whitespace collapsed to single spaces.
fn normalise(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find("*/") {
            Some(j) => &rest[i + j + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    lines
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every function prototype (declaration or definition) in a C file: name -> parameter lists.
fn prototypes(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    const RETURNS: &[&str] = &[
        "kern_return_t",
        "boolean_t",
        "void",
        "mig_routine_t",
        "mach_msg_return_t",
    ];
    let s = normalise(text);
    let b = s.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (open, _) in s.match_indices('(') {
        // NAME before the parenthesis, the return type before NAME.
        let mut e = open;
        while e > 0 && b[e - 1] == b' ' {
            e -= 1;
        }
        let mut st = e;
        while st > 0 && ident(b[st - 1]) {
            st -= 1;
        }
        if st == e {
            continue;
        }
        let name = &s[st..e];
        let before = s[..st].trim_end();
        let before = before
            .strip_suffix("__attribute__ ((weak))")
            .map(str::trim_end)
            .unwrap_or(before);
        if !RETURNS.iter().any(|r| {
            before.ends_with(r)
                && before[..before.len() - r.len()]
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        }) {
            continue;
        }
        let Some(close) = s[open..].find(')').map(|k| open + k) else {
            continue;
        };
        let params = &s[open + 1..close];
        if params.contains('(') {
            continue;
        }
        let after = s[close + 1..].trim_start();
        if !(after.starts_with(';') || after.starts_with('{')) {
            continue;
        }
        let params: String = params
            .replace(" *", "*")
            .replace("* ", "*")
            .replace(" ,", ",")
            .replace(", ", ",")
            .trim()
            .to_string();
        out.entry(name.to_string()).or_default().insert(params);
    }
    out
}

/// The `Request` and `Reply` structures of every routine of a stub file, by routine.
fn message_structs(text: &str, side: Side) -> Vec<(String, String, String)> {
    let marker = match side {
        Side::Server => "mig_internal void _X",
        Side::User => "mig_external kern_return_t ",
    };
    let mut out = Vec::new();
    let starts: Vec<usize> = text.match_indices(marker).map(|(i, _)| i).collect();
    for (k, &st) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        let body = &text[st..end];
        let name: String = body[marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        for which in ["Request", "Reply"] {
            let close = format!("}} {which};");
            let Some(ci) = body.find(&close) else {
                // A reply without data: the stub writes its return code through the runtime's
                // `mig_reply_header_t` (GNU declares the same members as `Reply`).
                if which == "Reply" && body.contains("mig_reply_header_t *OutP") {
                    out.push((
                        name.clone(),
                        which.to_string(),
                        "typedef mig_reply_header_t Reply;".to_string(),
                    ));
                }
                continue;
            };
            let Some(oi) = body[..ci].rfind("typedef struct {") else {
                continue;
            };
            // The structure may contain unions: take the outermost `typedef struct {`.
            let mut depth = 0i32;
            let mut from = oi;
            for (i, c) in body[..ci].char_indices().rev() {
                match c {
                    '}' => depth += 1,
                    '{' => {
                        if depth == 0 {
                            from = body[..i].rfind("typedef struct").unwrap_or(oi);
                            break;
                        }
                        depth -= 1;
                    }
                    _ => {}
                }
            }
            out.push((
                name.clone(),
                which.to_string(),
                body[from..ci + close.len()].to_string(),
            ));
        }
    }
    out
}

/// Calls whose presence is a matter of style (checks spelled out or through a macro, copies
/// through `memcpy` or loops), not of what the stub does to the kernel's objects.
const STYLE_CALLS: &[&str] = &[
    "if",
    "while",
    "for",
    "return",
    "sizeof",
    "mig_unlikely",
    "BAD_TYPECHECK",
    "mig_descriptor_differs",
    "MACH_MSGH_BITS",
    "MACH_MSGH_BITS_REPLY",
    "MACH_MSGH_BITS_REQUEST",
    "MACH_MSGH_BITS_LOCAL",
    "MACH_MSGH_BITS_REMOTE",
    "MACH_MSG_TYPE_PORT_ANY",
    "_Static_assert",
    "__attribute__",
    "memcpy",
    "__builtin_memcpy",
    "strlen",
    "mig_strncpy",
];

/// Per routine stub: how often each function is called (translations, destructors, right
/// releases, the server function, the send and receive calls).
fn calls(text: &str, side: Side) -> BTreeMap<String, BTreeMap<String, usize>> {
    let marker = match side {
        Side::Server => "mig_internal void _X",
        Side::User => "mig_external kern_return_t ",
    };
    let s = normalise(text);
    let b = s.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let starts: Vec<usize> = s.match_indices(marker).map(|(i, _)| i).collect();
    let mut out = BTreeMap::new();
    for (k, &st) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(s.len());
        let body = &s[st + marker.len()..end];
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The stub itself, without the weak default implementation that follows it.
        let body = match body.find("__attribute__ ((weak))") {
            Some(w) => &body[..w],
            None => body,
        };
        let off = st + marker.len();
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for (i, _) in body.match_indices('(').skip(1) {
            let mut e = off + i;
            while e > off && b[e - 1] == b' ' {
                e -= 1;
            }
            let mut f = e;
            while f > off && ident(b[f - 1]) {
                f -= 1;
            }
            let callee = &s[f..e];
            if callee.is_empty()
                || callee.as_bytes()[0].is_ascii_digit()
                || STYLE_CALLS.contains(&callee)
            {
                continue;
            }
            *m.entry(callee.to_string()).or_default() += 1;
        }
        out.insert(name, m);
    }
    out
}

/// Everything of a stub file before its first routine: includes and definitions.
fn prelude(text: &str) -> &str {
    let simple = text.find("/* SimpleRoutine ").unwrap_or(text.len());
    let routine = text.find("/* Routine ").unwrap_or(text.len());
    &text[..simple.min(routine)]
}

struct Env {
    include: PathBuf,
    shim: PathBuf,
    support: PathBuf,
}

impl Env {
    fn gcc(&self, dir: &Path) -> Command {
        let mut c = Command::new("gcc");
        c.args([
            "-std=gnu11",
            "-Wall",
            "-Wextra",
            "-DMACH_KERNEL",
            "-DKERNEL",
            "-DNCPUS=1",
            "-include",
            "kernel_shim.h",
        ])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", self.shim.display()))
        .arg(format!("-I{}", self.support.display()))
        .arg(format!("-I{}", self.include.display()));
        c
    }

    /// Compiles `file` in `dir`; `Err(gcc's messages)` on failure.
    fn compile(&self, dir: &Path, file: &str, werror: bool) -> Result<(), String> {
        let mut c = self.gcc(dir);
        if werror {
            c.arg("-Werror");
        }
        let out = c
            .args(["-c", "-o", "/dev/null"])
            .arg(dir.join(file))
            .output()
            .expect("run gcc");
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// `routine Request|Reply -> sizeof`, measured by compiling and running a program.
    fn sizes(
        &self,
        dir: &Path,
        text: &str,
        side: Side,
        tag: &str,
    ) -> Result<BTreeMap<String, u64>, String> {
        let structs = message_structs(text, side);
        let mut c = String::new();
        c.push_str(prelude(text));
        c.push_str("\nextern int printf(const char *, ...);\n");
        for (i, (_, which, body)) in structs.iter().enumerate() {
            let body = body
                .replacen(&format!("}} {which};"), &format!("}} T{i};"), 1)
                .replacen(&format!(" {which};"), &format!(" T{i};"), 1);
            c.push_str(&body);
            c.push('\n');
        }
        c.push_str("int main(void)\n{\n");
        for (i, (name, which, _)) in structs.iter().enumerate() {
            c.push_str(&format!(
                "\tprintf(\"%s %s %lu\\n\", \"{name}\", \"{which}\", (unsigned long) sizeof(T{i}));\n"
            ));
        }
        c.push_str("\treturn 0;\n}\n");
        let src = dir.join(format!("sizes_{tag}.c"));
        std::fs::write(&src, c).unwrap();
        let exe = dir.join(format!("sizes_{tag}"));
        let out = self
            .gcc(dir)
            .arg("-w")
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .output()
            .expect("run gcc");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let run = Command::new(&exe).output().expect("run size program");
        let mut m = BTreeMap::new();
        for l in String::from_utf8_lossy(&run.stdout).lines() {
            let f: Vec<&str> = l.split(' ').collect();
            if let [name, which, size] = f[..] {
                m.insert(format!("{name} {which}"), size.parse().unwrap());
            }
        }
        Ok(m)
    }
}

/// `#define` lines of an internal header.
fn defines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.starts_with("#define ") && l.split_whitespace().count() == 3)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn kernel_configurations_match_gnu_mig() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = root.join("usr/include/x86_64-linux-gnu");
    let migcom = root.join("usr/lib/mig/x86_64-gnu-migcom");
    let env = Env {
        include: include.clone(),
        shim: repo_root().join("migc/tests/kernel_shim"),
        support: repo_root().join("conformance/gnumach-boot/include"),
    };
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kernel-config");
    let mut failures: Vec<String> = Vec::new();
    let mut accepted: Vec<String> = Vec::new();
    let (mut proto_ok, mut size_ok, mut compiled, mut iheader_ok) = (0, 0, 0, 0);
    let (mut n_protos, mut n_sizes, mut n_calls, mut calls_ok) = (0, 0, 0, 0);
    for &(rel, side, extra) in CONFIGS {
        let define = match side {
            Side::Server => "KERNEL_SERVER",
            Side::User => "KERNEL_USER",
        };
        let stem = Path::new(rel).file_stem().unwrap().to_string_lossy();
        let label = format!("{stem} ({define}{})", if extra { ", extra" } else { "" });
        let mut fail = |item: &str, what: String| {
            if let Some((_, _, why)) = KNOWN
                .iter()
                .find(|(l, i, _)| *l == label.as_str() && *i == item)
            {
                accepted.push(format!("{label}: {item}: {why}"));
            } else {
                failures.push(format!("{label}: {item}: {what}"));
            }
        };
        let pre = Command::new("gcc")
            .args(["-E", "-x", "c", "-undef", "-ansi", "-D__x86_64__"])
            .arg(format!("-D{define}"))
            .arg(format!("-I{}", include.display()))
            .arg(include.join(rel))
            .output()
            .expect("run gcc -E");
        assert!(pre.status.success(), "gcc -E failed on {rel}");
        let dir = base.join(format!("{stem}-{define}"));
        let gnu = dir.join("gnu");
        let ours = dir.join("migc");
        for d in [&gnu, &ours] {
            let _ = std::fs::remove_dir_all(d);
            std::fs::create_dir_all(d).unwrap();
        }
        let outputs = [
            "-sheader", "S.h", "-server", "S.c", "-user", "U.c", "-header", "U.h", "-iheader",
            "I.h",
        ];
        let mut cmd = Command::new(&migcom);
        cmd.current_dir(&gnu).arg("-n").args(outputs);
        let out = run_with_stdin(cmd, &pre.stdout);
        assert!(
            out.status.success(),
            "GNU migcom failed on {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_migc"));
        cmd.current_dir(&ours)
            .args(["-n", "-cc", "cat", "-", "/dev/null"])
            .args(outputs);
        let out = run_with_stdin(cmd, &pre.stdout);
        assert!(
            out.status.success(),
            "migc failed on {label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).ok();

        // -iheader: only for KernelServer subsystems, the same renames.
        match (read(&gnu, "I.h"), read(&ours, "I.h")) {
            (None, None) => iheader_ok += 1,
            (Some(g), Some(m)) if defines(&g) == defines(&m) => iheader_ok += 1,
            (g, m) => fail(
                "-iheader",
                format!(
                    "GNU {:?}\n  migc {:?}",
                    g.as_deref().map(defines),
                    m.as_deref().map(defines)
                ),
            ),
        }

        // (a) the kernel side's stubs compile, GNU's as the control.
        let (stubs, header) = match side {
            Side::Server => ("S.c", "S.h"),
            Side::User => ("U.c", "U.h"),
        };
        let werror = match env.compile(&gnu, stubs, true) {
            Ok(()) => true,
            Err(e) => {
                assert!(
                    env.compile(&gnu, stubs, false).is_ok(),
                    "{label}: the control (GNU MIG's {stubs}) does not compile with the shim:\n{e}"
                );
                false
            }
        };
        // The header alone too (GNU's server file does not include its header).
        for d in [&gnu, &ours] {
            std::fs::write(d.join("header_check.c"), format!("#include \"{header}\"\n")).unwrap();
        }
        let header_werror = env.compile(&gnu, "header_check.c", true).is_ok();
        match (
            env.compile(&ours, stubs, werror),
            env.compile(&ours, "header_check.c", header_werror),
        ) {
            (Ok(()), Ok(())) => compiled += 1,
            (Err(e), _) => fail("compile", format!("migc's {stubs}:\n{e}")),
            (_, Err(e)) => fail("compile", format!("migc's {header}:\n{e}")),
        }

        // (b) prototypes of every function of the kernel side's files.
        let mut same = true;
        for f in [stubs, header] {
            let g = prototypes(&read(&gnu, f).unwrap_or_default());
            let m = prototypes(&read(&ours, f).unwrap_or_default());
            n_protos += g.len();
            for name in g.keys().chain(m.keys()).collect::<BTreeSet<_>>() {
                if g.get(name) != m.get(name) {
                    same = false;
                    fail(
                        &format!("prototype {name}"),
                        format!("in {f}\n  GNU  {:?}\n  migc {:?}", g.get(name), m.get(name)),
                    );
                }
            }
        }
        if same {
            proto_ok += 1;
        }

        // What each stub calls: translations, destructors, releases, the server function,
        // the kernel's send and RPC calls.
        let g = calls(&read(&gnu, stubs).unwrap(), side);
        let m = calls(&read(&ours, stubs).unwrap(), side);
        let mut same = true;
        for name in g.keys().chain(m.keys()).collect::<BTreeSet<_>>() {
            if g.get(name) != m.get(name) {
                same = false;
                fail(
                    &format!("calls {name}"),
                    format!("\n  GNU  {:?}\n  migc {:?}", g.get(name), m.get(name)),
                );
            } else {
                n_calls += g[name].values().sum::<usize>();
            }
        }
        if same {
            calls_ok += 1;
        }

        // (c) message structure sizes.
        let g = env.sizes(&gnu, &read(&gnu, stubs).unwrap(), side, "gnu");
        let m = env.sizes(&ours, &read(&ours, stubs).unwrap(), side, "migc");
        match (g, m) {
            (Ok(g), Ok(m)) if g == m && !g.is_empty() => {
                n_sizes += g.len();
                size_ok += 1;
            }
            (Ok(g), Ok(m)) => {
                for k in g.keys().chain(m.keys()).collect::<BTreeSet<_>>() {
                    if g.get(k) != m.get(k) {
                        fail(
                            &format!("sizeof {k}"),
                            format!("GNU {:?}, migc {:?}", g.get(k), m.get(k)),
                        );
                    }
                }
            }
            (g, m) => fail(
                "sizes",
                format!(
                    "size program failed: GNU {:?}\n migc {:?}",
                    g.err(),
                    m.err()
                ),
            ),
        }
    }
    let n = CONFIGS.len();
    println!(
        "kernel configurations: {n} files, compiled: {compiled}, prototypes identical: \
         {proto_ok} ({n_protos} functions), sizes identical: {size_ok} ({n_sizes} structures), \
         calls identical: {calls_ok} ({n_calls} calls), -iheader identical: {iheader_ok}"
    );
    for a in &accepted {
        println!("accepted difference: {a}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        (compiled, proto_ok, size_ok, calls_ok, iheader_ok),
        (n, n, n, n, n)
    );
}
