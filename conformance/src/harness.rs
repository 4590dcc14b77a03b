//! The in-process wire harness: a client and a server of one subsystem, linked into one
//! program, talking through `conformance/harness/harness_rt.c` instead of the kernel.
//!
//! For a subsystem this module
//! 1. runs a MIG for the client side (user stubs with `-prefix cli_`, and their header) and a
//!    MIG for the server side (server stubs and their `-sheader`): two commands, so that a
//!    GNU client can face a migc server and the other way round;
//! 2. reads the routines back from that generated C: the prototypes of both headers, and the
//!    type descriptors each stub file initialises (`const mach_msg_type_t <arg>Type = {...}`:
//!    the user file for what goes in, the server file for what comes out);
//! 3. writes a test program: for every routine it can drive, server functions that check
//!    every value they receive and fill every value they return, and calls of the client stub
//!    with generated values (arrays at 0, 1 and the maximum count, strings, ports, out-of-line
//!    data), a call whose server function fails, and malformed requests sent to the demux.
//!
//! The program prints one line per event (`request`, `reply`, `*-ool`, `oneway`, `fail`,
//! `malformed`, `done`); [`HarnessRun`] reads them.  Routines the generator cannot drive yet
//! are listed with the reason.  Until migc's IR exists the routine signatures come from GNU
//! MIG's (or any MIG's) generated C, which is regular C and easy to read back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::gnumach::{reference_include, repo_root};

/// The 17 files of gnumach-dev with a `subsystem` statement: name and path under the include folder.
pub const SUBSYSTEM_FILES: &[(&str, &str)] = &[
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

/// One parameter of a generated prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The C type as written (`const_dev_name_t`, `vm_address_t *`).
    pub ctype: String,
    pub name: String,
}

impl Param {
    /// The type without one trailing `*` when the parameter is a pointer to what is returned.
    fn pointee(&self) -> Option<&str> {
        self.ctype.strip_suffix('*').map(str::trim)
    }
}

/// A prototype of a generated header.
#[derive(Debug, Clone)]
pub struct Prototype {
    /// The routine's name in the `.defs` file.
    pub routine: String,
    /// True for a `simpleroutine`.
    pub simple: bool,
    /// The C function's name (with `-prefix`, `userprefix` or `serverprefix` applied).
    pub function: String,
    pub params: Vec<Param>,
}

/// A type descriptor a stub initialises for one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// `MACH_MSG_TYPE_<name>` without the prefix.
    pub name: String,
    pub size_bits: u32,
    pub number: u32,
    pub inline: bool,
}

impl Descriptor {
    fn is_port(&self) -> bool {
        matches!(
            self.name.as_str(),
            "MOVE_RECEIVE"
                | "MOVE_SEND"
                | "MOVE_SEND_ONCE"
                | "COPY_SEND"
                | "MAKE_SEND"
                | "MAKE_SEND_ONCE"
                | "POLYMORPHIC"
        )
    }
    fn is_string(&self) -> bool {
        self.name == "STRING" || self.name == "STRING_C"
    }
    /// Bytes of one element as the C side holds it (ports are `mach_port_t`, 4 bytes).
    fn c_element_bytes(&self) -> u32 {
        if self.is_port() {
            4
        } else {
            self.size_bits.max(8) / 8
        }
    }
}

/// What one stub file says about one routine.
#[derive(Debug, Clone, Default)]
pub struct StubRoutine {
    /// Descriptors initialised as `<arg>Type` (user file: sent arguments; server file: returned).
    pub descriptors: BTreeMap<String, Descriptor>,
    /// Descriptors a stub checks received arguments against, initialised as `<arg>Check`.
    pub checks: BTreeMap<String, Descriptor>,
    /// User file: the expression put in `msgh_request_port` / `msgh_reply_port`.
    pub request_port: Option<String>,
    pub reply_port: Option<String>,
    pub msgh_id: Option<i64>,
    /// Wire elements per C element of an array, from `<arg>Type.msgt_number = N * <arg>Cnt;`.
    pub ratios: BTreeMap<String, u32>,
}

/// Reads the prototypes of a generated header, keyed by the `/* Routine X */` comments.
pub fn parse_prototypes(header: &str) -> Vec<Prototype> {
    let mut out = Vec::new();
    let mut lines = header.lines().peekable();
    while let Some(line) = lines.next() {
        let (simple, routine) = if let Some(r) = comment_name(line, "/* Routine ") {
            (false, r)
        } else if let Some(r) = comment_name(line, "/* SimpleRoutine ") {
            (true, r)
        } else {
            continue;
        };
        // Skip to `<return type> <function>` followed by `(`.
        let mut function = None;
        for l in lines.by_ref() {
            if l == "(" {
                break;
            }
            if let Some(rest) = l.strip_prefix("kern_return_t ") {
                function = Some(rest.trim().to_string());
            }
        }
        let mut params = Vec::new();
        for l in lines.by_ref() {
            let l = l.trim();
            if l == ");" {
                break;
            }
            let l = l.trim_end_matches(',');
            let split = l.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            if let Some(at) = split {
                params.push(Param {
                    ctype: l[..=at].trim().to_string(),
                    name: l[at + 1..].to_string(),
                });
            }
        }
        if let Some(function) = function {
            out.push(Prototype {
                routine: routine.to_string(),
                simple,
                function,
                params,
            });
        }
    }
    out
}

fn comment_name<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(prefix)?
        .strip_suffix(" */")
        .map(str::trim)
}

/// Reads the descriptor initialisers and header assignments of a stub file, per routine.
pub fn parse_stub_file(text: &str) -> BTreeMap<String, StubRoutine> {
    let mut out: BTreeMap<String, StubRoutine> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(r) =
            comment_name(line, "/* Routine ").or_else(|| comment_name(line, "/* SimpleRoutine "))
        {
            current = Some(r.to_string());
            out.entry(r.to_string()).or_default();
            continue;
        }
        let Some(routine) = current.as_ref() else {
            continue;
        };
        let entry = out.get_mut(routine).expect("entry exists");
        let t = line.trim();
        let decl = t
            .strip_prefix("const mach_msg_type_t ")
            .or_else(|| t.strip_prefix("const mach_msg_type_long_t "));
        let target = decl.and_then(|d| {
            d.strip_suffix("Type = {")
                .map(|a| (a, false))
                .or_else(|| d.strip_suffix("Check = {").map(|a| (a, true)))
        });
        if let Some((arg, is_check)) = target {
            let mut body = String::new();
            let mut depth = 1;
            for l in lines.by_ref() {
                depth += l.matches('{').count();
                depth -= l.matches('}').count();
                body.push_str(l);
                body.push('\n');
                if depth == 0 {
                    break;
                }
            }
            if let Some(d) = parse_descriptor(&body) {
                if is_check {
                    entry.checks.insert(arg.to_string(), d);
                } else {
                    entry.descriptors.insert(arg.to_string(), d);
                }
            }
        } else if let Some(v) = assignment(t, "InP->Head.msgh_request_port = ") {
            entry.request_port = Some(v);
        } else if let Some(v) = assignment(t, "InP->Head.msgh_reply_port = ") {
            entry.reply_port = Some(v);
        } else if let Some(v) = assignment(t, "InP->Head.msgh_id = ") {
            entry.msgh_id = v.parse().ok();
        } else if let Some((arg, n)) = count_ratio(t) {
            entry.ratios.insert(arg, n);
        }
    }
    out
}

/// `XP->argType.msgt(l)_number = N * argCnt;` gives (`arg`, N).
fn count_ratio(line: &str) -> Option<(String, u32)> {
    let (lhs, rhs) = line.strip_suffix(';')?.split_once(" = ")?;
    let arg = lhs.split("->").nth(1)?.split("Type.").next()?;
    let (n, cnt) = rhs.split_once(" * ")?;
    (cnt == format!("{arg}Cnt")).then_some(())?;
    Some((arg.to_string(), n.parse().ok()?))
}

fn assignment(line: &str, prefix: &str) -> Option<String> {
    Some(
        line.strip_prefix(prefix)?
            .strip_suffix(';')?
            .trim()
            .to_string(),
    )
}

fn parse_descriptor(body: &str) -> Option<Descriptor> {
    let field = |key: &str| -> Option<String> {
        body.lines().find_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix(&format!(".msgt_{key} ="))
                .or_else(|| l.strip_prefix(&format!(".msgtl_{key} =")))?;
            Some(rest.trim().trim_end_matches(',').trim().to_string())
        })
    };
    let name = field("name")?;
    let name = name.trim_start_matches("(unsigned char)").trim();
    Some(Descriptor {
        name: name
            .strip_prefix("MACH_MSG_TYPE_")
            .unwrap_or(name)
            .to_string(),
        size_bits: field("size")?.parse().ok()?,
        number: field("number")?.parse().ok()?,
        inline: field("inline")? == "TRUE",
    })
}

/// How the generated program treats one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// One value of its C type (scalars, structures, fixed arrays, single ports).
    Value,
    /// A NUL-terminated string in a char array of `max` bytes.
    Str { max: u32 },
    /// A variable array with a `Cnt` argument: `max` elements inline, `None` out of line.
    Array { max: Option<u32>, elem: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    RequestPort,
    ReplyPort,
    In(Shape),
    Out(Shape),
    InOut(Shape),
    Count(String),
    Poly(String),
    ClientOnlyDealloc(String),
    /// `servercopy`: GNU MIG's server stub passes the received inline bit (observed): TRUE when
    /// the data sits in the request, which the server must copy.
    ServerCopy {
        base: String,
        inline_max: u32,
    },
}

/// One routine the generator drives.
#[derive(Debug, Clone)]
struct Plan {
    index: usize,
    routine: String,
    simple: bool,
    client: Prototype,
    server: Prototype,
    roles: BTreeMap<String, Role>,
    /// Descriptors of sent arguments (from the user file), for received dispositions.
    sent: BTreeMap<String, Descriptor>,
    /// Descriptors the server stub checks received arguments against.
    checked: BTreeMap<String, Descriptor>,
    /// Descriptors the user stub checks returned arguments against.
    user_checked: BTreeMap<String, Descriptor>,
}

impl Plan {
    /// The disposition the client gives a polymorphic port argument: one the server's type
    /// check accepts once GNU Mach has turned it into the received right.
    fn client_poly(&self, base: &str) -> &'static str {
        disposition_for(self.checked.get(base))
    }

    /// The disposition the server function gives a polymorphic port it returns.
    fn server_poly(&self, base: &str) -> &'static str {
        match self.user_checked.get(base) {
            None => "MACH_MSG_TYPE_MAKE_SEND",
            check => disposition_for(check),
        }
    }
}

/// A disposition whose received form passes the check `check` (any right when unchecked).
fn disposition_for(check: Option<&Descriptor>) -> &'static str {
    match check.map(|d| d.name.as_str()) {
        Some("PORT_SEND_ONCE") => "MACH_MSG_TYPE_MAKE_SEND_ONCE",
        Some("PORT_RECEIVE") => "MACH_MSG_TYPE_MOVE_RECEIVE",
        _ => "MACH_MSG_TYPE_COPY_SEND",
    }
}

/// A routine the generator leaves out, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub routine: String,
    pub reason: String,
}

/// The generated program of one subsystem.
#[derive(Debug, Clone)]
pub struct Generated {
    pub subsystem: String,
    /// C source of the test program.
    pub source: String,
    /// Routines driven.
    pub covered: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// All routines of the subsystem (from the user header).
    pub total: usize,
}

fn classify(
    index: usize,
    client: &Prototype,
    server: Option<&Prototype>,
    user: &StubRoutine,
    srv: &StubRoutine,
) -> Result<Plan, String> {
    let server = server.ok_or("no server function in the server header")?;
    let mut roles = BTreeMap::new();
    let all: Vec<&Param> = client.params.iter().chain(server.params.iter()).collect();
    for p in &all {
        let server_only = !client.params.iter().any(|q| q.name == p.name);
        if roles.contains_key(&p.name) || (server_only && !p.name.ends_with("Poly")) {
            continue;
        }
        let name = p.name.as_str();
        let sent = user.descriptors.get(name);
        let returned = srv.descriptors.get(name);
        let role = if user.request_port.as_deref() == Some(name) {
            Role::RequestPort
        } else if user.reply_port.as_deref() == Some(name) {
            Role::ReplyPort
        } else if let Some(base) = strip_known(name, "Cnt", &all) {
            Role::Count(base)
        } else if let Some(base) = strip_known(name, "Poly", &all) {
            Role::Poly(base)
        } else if let Some(base) = strip_known(name, "Dealloc", &all) {
            if server.params.iter().any(|q| q.name == name) {
                return Err(format!("`{name}` reaches the server"));
            }
            Role::ClientOnlyDealloc(base)
        } else {
            let has_count = all.iter().any(|q| q.name == format!("{name}Cnt"));
            let ratio = user
                .ratios
                .get(name)
                .or(srv.ratios.get(name))
                .copied()
                .unwrap_or(1);
            let shape_of = |d: &Descriptor| -> Result<Shape, String> {
                if has_count {
                    let max = d.inline.then_some(d.number / ratio);
                    Ok(Shape::Array {
                        max,
                        elem: d.c_element_bytes() * ratio,
                    })
                } else if d.is_string() {
                    Ok(Shape::Str { max: d.number })
                } else if !d.inline {
                    Err(format!("`{name}` is out of line without a count"))
                } else {
                    Ok(Shape::Value)
                }
            };
            match (sent, returned) {
                (Some(s), None) => Role::In(shape_of(s)?),
                (None, Some(r)) => Role::Out(shape_of(r)?),
                (Some(s), Some(r)) => {
                    let shape = shape_of(s)?;
                    if shape != Shape::Value || shape_of(r)? != Shape::Value {
                        return Err(format!("`{name}` is an inout array or string"));
                    }
                    Role::InOut(shape)
                }
                (None, None) => {
                    return Err(format!(
                        "`{} {name}` is neither in the message nor in its header",
                        p.ctype
                    ));
                }
            }
        };
        roles.insert(p.name.clone(), role);
    }
    // Server-only parameters the generator knows: the reply port (sreplyport) and its disposition.
    for p in &server.params {
        if client.params.iter().any(|q| q.name == p.name) {
            continue;
        }
        match roles.get(&p.name) {
            Some(Role::Poly(_)) | Some(Role::Count(_)) => {}
            Some(Role::Out(_)) | Some(Role::In(_)) => {}
            _ if p.ctype == "mach_port_t"
                && server
                    .params
                    .iter()
                    .any(|q| q.name == format!("{}Poly", p.name)) =>
            {
                roles.insert(p.name.clone(), Role::ReplyPort);
            }
            _ if p.ctype == "boolean_t" && p.name.ends_with("SCopy") => {
                let base = p.name.trim_end_matches("SCopy");
                let Some(sent) = user.descriptors.get(base) else {
                    return Err(format!("`{}` without a sent `{base}`", p.name));
                };
                let inline_max = match sent.inline {
                    true => sent.number / user.ratios.get(base).copied().unwrap_or(1),
                    false => 0,
                };
                roles.insert(
                    p.name.clone(),
                    Role::ServerCopy {
                        base: base.to_string(),
                        inline_max,
                    },
                );
            }
            _ => return Err(format!("server-only parameter `{} {}`", p.ctype, p.name)),
        }
    }
    Ok(Plan {
        index,
        routine: client.routine.clone(),
        simple: client.simple,
        client: client.clone(),
        server: server.clone(),
        roles,
        sent: user.descriptors.clone(),
        checked: srv.checks.clone(),
        user_checked: user.checks.clone(),
    })
}

/// `name` minus `suffix` when what remains names another parameter.
fn strip_known(name: &str, suffix: &str, all: &[&Param]) -> Option<String> {
    let base = name.strip_suffix(suffix)?;
    all.iter().any(|p| p.name == base).then(|| base.to_string())
}

/// The element count of an array in a given case: 0, 1, the maximum (or 700 out of line).
fn case_count(shape: &Shape, kase: u32) -> u32 {
    match shape {
        Shape::Array { max, .. } => match kase {
            0 => 0,
            1 => 1,
            _ => max.unwrap_or(700),
        },
        Shape::Str { max } => match kase {
            0 => 0,
            1 => 1,
            _ => max.saturating_sub(1),
        },
        Shape::Value => 1,
    }
}

/// The cases run per routine: three with values, one whose server function fails.
const CASES: u32 = 4;
/// What the server function returns in the failing case (observed back in the client).
const FAILING_CASE: u32 = 3;

fn arg_index(plan: &Plan, name: &str) -> usize {
    plan.client
        .params
        .iter()
        .chain(plan.server.params.iter())
        .position(|p| p.name == name)
        .unwrap_or(0)
}

/// Integer types standing for out-of-line memory (`pointer_t` and friends).
fn is_integer_pointer(ctype: &str) -> bool {
    let t = ctype.trim_start_matches("const ").trim();
    matches!(t, "vm_offset_t" | "vm_address_t" | "pointer_t")
}

fn server_function(plan: &Plan, out: &mut String) {
    let r = &plan.routine;
    let idx = plan.index;
    let params: Vec<String> = plan
        .server
        .params
        .iter()
        .map(|p| format!("{} {}", p.ctype, p.name))
        .collect();
    let _ = writeln!(out, "static int calls_{r};");
    let _ = writeln!(
        out,
        "kern_return_t {}({})\n{{",
        plan.server.function,
        params.join(", ")
    );
    let _ = writeln!(out, "\tunsigned k = h_case;\n\tcalls_{r}++;\n\t(void)k;");
    for p in &plan.server.params {
        let n = &p.name;
        let a = arg_index(plan, n);
        let seed = format!("h_seed({idx}, {a}, k)");
        match plan.roles.get(n) {
            Some(Role::RequestPort) => {
                let _ = writeln!(out, "\t{{ mach_port_t want; h_fill(&want, sizeof want, {seed}); h_check_u64(\"{n} (request port)\", {n}, want); }}");
            }
            Some(Role::ReplyPort) => {
                let _ = writeln!(
                    out,
                    "\th_check_u64(\"{n} (reply port)\", {n}, h_last.received_remote);"
                );
            }
            Some(Role::Poly(base)) => {
                match plan.roles.get(base) {
                    Some(Role::Out(_)) => {
                        let _ = writeln!(out, "\t*{n} = {};", plan.server_poly(base));
                    }
                    Some(Role::ReplyPort) => {
                        let _ = writeln!(out, "\th_check_u64(\"{n}\", {n}, MACH_MSGH_BITS_REMOTE(h_last.received_bits));");
                    }
                    _ => {
                        let want = match plan.sent.get(base).map(|d| d.name.as_str()) {
                            Some("POLYMORPHIC") | None => plan.client_poly(base).to_string(),
                            Some(other) => format!("MACH_MSG_TYPE_{other}"),
                        };
                        let _ = writeln!(
                            out,
                            "\th_check_u64(\"{n}\", {n}, h_received_disposition({want}));"
                        );
                    }
                }
            }
            Some(Role::ServerCopy { base, inline_max }) => {
                let _ = writeln!(
                    out,
                    "\th_check_u64(\"{n}\", {n}, {base}Cnt <= {inline_max});"
                );
            }
            Some(Role::Count(_)) | Some(Role::ClientOnlyDealloc(_)) | None => {}
            Some(Role::In(shape)) | Some(Role::InOut(shape)) => {
                let inout = matches!(plan.roles.get(n), Some(Role::InOut(_)));
                server_check_in(plan, p, shape, inout, &seed, out);
            }
            Some(Role::Out(shape)) => server_fill_out(plan, p, shape, &seed, out),
        }
    }
    let _ = writeln!(
        out,
        "\treturn k == {FAILING_CASE} ? KERN_FAILURE : KERN_SUCCESS;\n}}\n"
    );
}

fn server_check_in(
    plan: &Plan,
    p: &Param,
    shape: &Shape,
    inout: bool,
    seed: &str,
    out: &mut String,
) {
    let n = &p.name;
    match shape {
        Shape::Value => {
            let (ty, lvalue) = if inout {
                (
                    p.pointee().unwrap_or(&p.ctype).to_string(),
                    format!("(*{n})"),
                )
            } else {
                (p.ctype.clone(), n.clone())
            };
            let ty = ty.trim_start_matches("const ");
            let _ = writeln!(out, "\t{{ {ty} want; h_fill(&want, sizeof want, {seed}); h_check_bytes(\"{n}\", &{lvalue}, &want, sizeof want); }}");
            if inout {
                let _ = writeln!(out, "\th_fill({n}, sizeof *{n}, {seed} ^ 0x70707070u);");
            }
        }
        Shape::Str { max } => {
            let _ = writeln!(out, "\t{{ char want[{max}]; h_fill_string(want, h_string_len({max}, k), {seed}); h_check_bytes(\"{n}\", {n}, want, h_string_len({max}, k) + 1); }}");
        }
        Shape::Array { elem, .. } => {
            let count = format!("{n}Cnt");
            let count_expr = if plan
                .server
                .params
                .iter()
                .any(|q| q.name == count && q.ctype.ends_with('*'))
            {
                format!("*{count}")
            } else {
                count
            };
            let want_n = case_count_expr(shape);
            let _ = writeln!(out, "\th_check_u64(\"{n}Cnt\", {count_expr}, {want_n});");
            let _ = writeln!(out, "\t{{ size_t bytes = (size_t)({want_n}) * {elem}; unsigned char *want = h_scratch(bytes); h_fill(want, bytes, {seed}); if ({count_expr} == {want_n}) h_check_bytes(\"{n}\", (const void *)(uintptr_t){n}, want, bytes); }}");
        }
    }
}

fn server_fill_out(plan: &Plan, p: &Param, shape: &Shape, seed: &str, out: &mut String) {
    let n = &p.name;
    match shape {
        Shape::Value => {
            let _ = writeln!(out, "\th_fill({n}, sizeof *{n}, {seed});");
        }
        Shape::Str { max } => {
            let _ = writeln!(
                out,
                "\th_fill_string((char *){n}, h_string_len({max}, k), {seed});"
            );
        }
        Shape::Array { elem, .. } => {
            let want_n = case_count_expr(shape);
            let cnt = format!("{n}Cnt");
            let _ = plan;
            if let Some(base) = p.pointee() {
                // Out of line (or dynamic): the server hands over memory of its own.
                let _ = writeln!(out, "\t{{ size_t bytes = (size_t)({want_n}) * {elem}; void *mem = h_arena(bytes ? bytes : 1); h_fill(mem, bytes, {seed}); *{n} = ({base})(uintptr_t)mem; *{cnt} = {want_n}; }}");
            } else {
                let _ = writeln!(out, "\tif (*{cnt} < {want_n}) h_fail(\"{cnt}: the server got room for %u elements, wants %u\", *{cnt}, (unsigned)({want_n}));");
                let _ = writeln!(out, "\telse {{ h_fill((void *)(uintptr_t){n}, (size_t)({want_n}) * {elem}, {seed}); *{cnt} = {want_n}; }}");
            }
        }
    }
}

/// A C expression (of `k`) for the count in the current case.
fn case_count_expr(shape: &Shape) -> String {
    format!("(k == 0 ? 0u : k == 1 ? 1u : {}u)", case_count(shape, 2))
}

fn client_call(plan: &Plan, out: &mut String) {
    let r = &plan.routine;
    let idx = plan.index;
    let _ = writeln!(out, "static void call_{r}(void)\n{{");
    let _ = writeln!(out, "\th_routine = \"{r}\";");
    let _ = writeln!(out, "\tfor (unsigned k = 0; k < {CASES}; k++) {{");
    let _ = writeln!(
        out,
        "\t\th_case = k; h_arena_reset(); int calls_before = calls_{r};"
    );
    let mut args = Vec::new();
    let mut after = String::new();
    for p in &plan.client.params {
        let n = &p.name;
        let a = arg_index(plan, n);
        let seed = format!("h_seed({idx}, {a}, k)");
        let v = format!("v_{n}");
        match plan.roles.get(n) {
            Some(Role::RequestPort) | Some(Role::ReplyPort) => {
                let _ = writeln!(
                    out,
                    "\t\t{} {v}; h_fill(&{v}, sizeof {v}, {seed});",
                    p.ctype
                );
                args.push(v);
            }
            Some(Role::Poly(base)) => {
                if matches!(plan.roles.get(base), Some(Role::Out(_))) {
                    let _ = writeln!(out, "\t\tmach_msg_type_name_t {v} = 0;");
                    args.push(format!("&{v}"));
                    let _ = writeln!(
                        after,
                        "\t\t\th_check_u64(\"{n}\", {v}, h_received_disposition({}));",
                        plan.server_poly(base)
                    );
                } else {
                    args.push(plan.client_poly(base).to_string());
                }
            }
            Some(Role::ClientOnlyDealloc(_)) => args.push("FALSE".to_string()),
            Some(Role::Count(base)) => {
                let shape = match plan.roles.get(base) {
                    Some(Role::In(s)) | Some(Role::Out(s)) | Some(Role::InOut(s)) => s.clone(),
                    _ => Shape::Value,
                };
                let is_out = matches!(plan.roles.get(base), Some(Role::Out(_)));
                if is_out {
                    let base_param = plan.client.params.iter().find(|q| &q.name == base);
                    let room = match (&shape, base_param.and_then(Param::pointee)) {
                        (Shape::Array { max: Some(m), .. }, None) => *m,
                        _ => 0,
                    };
                    let _ = writeln!(out, "\t\tmach_msg_type_number_t {v} = {room};");
                    args.push(format!("&{v}"));
                } else {
                    args.push(case_count_expr(&shape));
                }
            }
            Some(Role::In(shape)) | Some(Role::InOut(shape)) => {
                let inout = matches!(plan.roles.get(n), Some(Role::InOut(_)));
                match shape {
                    Shape::Value if inout => {
                        let ty = p.pointee().unwrap_or(&p.ctype);
                        let _ = writeln!(out, "\t\t{ty} {v}; h_fill(&{v}, sizeof {v}, {seed});");
                        args.push(format!("&{v}"));
                        let _ = writeln!(after, "\t\t\t{{ {ty} want; h_fill(&want, sizeof want, {seed} ^ 0x70707070u); h_check_bytes(\"{n} (returned)\", &{v}, &want, sizeof want); }}");
                    }
                    Shape::Value => {
                        let ty = p.ctype.trim_start_matches("const ");
                        let _ = writeln!(out, "\t\t{ty} {v}; h_fill(&{v}, sizeof {v}, {seed});");
                        args.push(v);
                    }
                    Shape::Str { max } => {
                        let _ = writeln!(out, "\t\tchar {v}[{max}]; h_fill_string({v}, h_string_len({max}, k), {seed});");
                        args.push(v);
                    }
                    Shape::Array { elem, .. } => {
                        let want_n = case_count_expr(shape);
                        let _ = writeln!(out, "\t\tsize_t {v}_bytes = (size_t)({want_n}) * {elem}; unsigned char *{v} = h_arena({v}_bytes ? {v}_bytes : 1); h_fill({v}, {v}_bytes, {seed});");
                        if is_integer_pointer(&p.ctype) {
                            args.push(format!(
                                "({})(uintptr_t){v}",
                                p.ctype.trim_start_matches("const ")
                            ));
                        } else {
                            args.push(format!("(void *){v}"));
                        }
                    }
                }
            }
            Some(Role::Out(shape)) => match shape {
                Shape::Value => {
                    let ty = p.pointee().unwrap_or(&p.ctype);
                    let _ = writeln!(out, "\t\t{ty} {v}; memset(&{v}, 0, sizeof {v});");
                    args.push(format!("&{v}"));
                    let _ = writeln!(after, "\t\t\t{{ {ty} want; h_fill(&want, sizeof want, {seed}); h_check_bytes(\"{n}\", &{v}, &want, sizeof want); }}");
                }
                Shape::Str { max } => {
                    let _ = writeln!(out, "\t\tchar {v}[{max}]; memset({v}, 0, sizeof {v});");
                    args.push(v.clone());
                    let _ = writeln!(after, "\t\t\t{{ char want[{max}]; h_fill_string(want, h_string_len({max}, k), {seed}); h_check_bytes(\"{n}\", {v}, want, h_string_len({max}, k) + 1); }}");
                }
                Shape::Array { max, elem } => {
                    let want_n = case_count_expr(shape);
                    let cnt = format!("v_{n}Cnt");
                    let got = if let Some(base) = p.pointee() {
                        let _ = writeln!(out, "\t\t{base} {v}; memset(&{v}, 0, sizeof {v});");
                        args.push(format!("&{v}"));
                        format!("(const void *)(uintptr_t){v}")
                    } else {
                        let room = max.unwrap_or(0) as usize * *elem as usize;
                        let _ = writeln!(out, "\t\tunsigned char *{v} = h_arena({room} + 1); memset({v}, 0, {room} + 1);");
                        args.push(format!("(void *){v}"));
                        v.clone()
                    };
                    let _ = writeln!(after, "\t\t\th_check_u64(\"{n}Cnt\", {cnt}, {want_n});");
                    let _ = writeln!(after, "\t\t\t{{ size_t bytes = (size_t)({want_n}) * {elem}; unsigned char *want = h_scratch(bytes); h_fill(want, bytes, {seed}); if ({cnt} == {want_n}) h_check_bytes(\"{n}\", {got}, want, bytes); }}");
                }
            },
            Some(Role::ServerCopy { .. }) | None => args.push("0".to_string()),
        }
    }
    let _ = writeln!(out, "\t\th_last.sent = 0; h_scrub_stack();");
    let _ = writeln!(
        out,
        "\t\tkern_return_t kr = {}({});",
        plan.client.function,
        args.join(", ")
    );
    let _ = writeln!(out, "\t\tif (calls_{r} != calls_before + 1) h_fail(\"the server function ran %d times\", calls_{r} - calls_before);");
    if plan.simple {
        let _ = writeln!(
            out,
            "\t\th_check_u64(\"kern_return\", (uint32_t)kr, KERN_SUCCESS);"
        );
        // Observed: GNU MIG's server stub of a simpleroutine leaves the server function's
        // return code in the (unsent) reply.
        let _ = writeln!(out, "\t\th_check_u64(\"server RetCode\", (uint32_t)h_last.reply_retcode, k == {FAILING_CASE} ? KERN_FAILURE : KERN_SUCCESS);");
    } else {
        let _ = writeln!(out, "\t\tif (k == {FAILING_CASE}) h_check_u64(\"kern_return\", (uint32_t)kr, KERN_FAILURE);");
        let _ = writeln!(
            out,
            "\t\telse if (kr != KERN_SUCCESS) h_fail(\"kern_return %#x\", (unsigned)kr);"
        );
        let _ = writeln!(out, "\t\telse {{\n{after}\t\t}}");
    }
    let _ = writeln!(
        out,
        "\t\tprintf(\"call %s case=%u kr=%d\\n\", h_routine, k, (int)kr);"
    );
    let _ = writeln!(out, "\t}}");
    let _ = writeln!(
        out,
        "\th_malformed(\"{r}\", &calls_{r}, SUBSYSTEM_BASE, SUBSYSTEM_END);"
    );
    let _ = writeln!(out, "}}\n");
}

/// Writes the test program of one subsystem from its generated stubs.
pub fn generate(
    subsystem: &str,
    user_header: &str,
    user_c: &str,
    server_header: &str,
    server_c: &str,
) -> Generated {
    let client = parse_prototypes(user_header);
    let server = parse_prototypes(server_header);
    let user = parse_stub_file(user_c);
    let srv = parse_stub_file(server_c);
    let mut plans = Vec::new();
    let mut skipped = Vec::new();
    let empty = StubRoutine::default();
    for (index, c) in client.iter().enumerate() {
        let s = server.iter().find(|s| s.routine == c.routine);
        let u = user.get(&c.routine).unwrap_or(&empty);
        let v = srv.get(&c.routine).unwrap_or(&empty);
        match classify(index, c, s, u, v) {
            Ok(plan) => plans.push(plan),
            Err(reason) => skipped.push(Skipped {
                routine: c.routine.clone(),
                reason,
            }),
        }
    }
    let demux = server_c
        .lines()
        .find_map(|l| l.strip_prefix("mig_external boolean_t "))
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| format!("{subsystem}_server"));
    let ids: Vec<i64> = user.values().filter_map(|r| r.msgh_id).collect();
    let base = ids.iter().copied().min().unwrap_or(0);
    let end = ids.iter().copied().max().unwrap_or(0) + 1;

    let mut src = String::new();
    let _ = writeln!(
        src,
        "/* Generated by conformance/src/harness.rs for subsystem {subsystem}. */"
    );
    let _ = writeln!(
        src,
        "#include \"harness.h\"\n#include <stdio.h>\n#include <string.h>"
    );
    let _ = writeln!(
        src,
        "#include \"{subsystem}.h\"\n#include \"{subsystem}_S.h\"\n"
    );
    let _ = writeln!(
        src,
        "#define SUBSYSTEM_BASE {base}\n#define SUBSYSTEM_END {end}\n"
    );
    let _ = writeln!(
        src,
        "extern boolean_t {demux}(mach_msg_header_t *, mach_msg_header_t *);"
    );
    let _ = writeln!(src, "__attribute__((unused)) static size_t h_string_len(size_t max, unsigned k) {{ return k == 0 ? 0 : k == 1 ? 1 : max - 1; }}");
    let _ = writeln!(src, "__attribute__((unused)) static unsigned char *h_scratch(size_t n) {{ static unsigned char b[1 << 20]; (void)n; return b; }}");
    for plan in &plans {
        server_function(plan, &mut src);
        client_call(plan, &mut src);
    }
    // Routines left out still need their server function for the demux to link.
    for skip in &skipped {
        if let Some(s) = server.iter().find(|s| s.routine == skip.routine) {
            let params: Vec<String> = s
                .params
                .iter()
                .map(|p| format!("{} {}", p.ctype, p.name))
                .collect();
            let _ = writeln!(
                src,
                "kern_return_t {}({})\n{{",
                s.function,
                params.join(", ")
            );
            for p in &s.params {
                let _ = writeln!(src, "\t(void){};", p.name);
            }
            let _ = writeln!(src, "\th_fail(\"{} is not driven, yet its server function ran\");\n\treturn KERN_FAILURE;\n}}\n", skip.routine);
        }
    }
    let _ = writeln!(src, "int main(void)\n{{\n\tharness_demux = {demux};");
    for plan in &plans {
        let _ = writeln!(src, "\tcall_{}();", plan.routine);
    }
    let _ = writeln!(
        src,
        "\tprintf(\"done failures=%d\\n\", h_failures);\n\treturn h_failures != 0;\n}}"
    );
    Generated {
        subsystem: subsystem.to_string(),
        source: src,
        covered: plans.iter().map(|p| p.routine.clone()).collect(),
        skipped,
        total: client.len(),
    }
}

/// Runs `mig_cmd` (GNU MIG driver flags) on `defs` with extra output flags.
fn run_mig(mig_cmd: &[&str], include: &Path, defs: &Path, flags: &[String]) -> Result<(), String> {
    let (prog, pre) = mig_cmd.split_first().ok_or("empty MIG command")?;
    let output = Command::new(prog)
        .args(pre)
        .arg(format!("-I{}", include.display()))
        .arg("-n")
        .args(flags)
        .arg(defs)
        .output()
        .map_err(|e| format!("cannot run {prog}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} on {} failed ({}): {}",
            mig_cmd.join(" "),
            defs.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// The files of one built harness program.
#[derive(Debug, Clone)]
pub struct HarnessBuild {
    pub generated: Generated,
    pub dir: PathBuf,
    pub program: PathBuf,
    /// False when gcc rejected the stubs or the test program (see `warnings`).
    pub built: bool,
    /// What `gcc -Wall -Wextra` said about the stubs and the test program.
    pub warnings: String,
}

/// Generates the stubs of `subsystem` (client side with `client_mig`, server side with
/// `server_mig`), writes the test program and builds it into `out/<subsystem>/`.
pub fn build_harness(
    root: &Path,
    subsystem: &str,
    client_mig: &[&str],
    server_mig: &[&str],
    out: &Path,
) -> Result<HarnessBuild, String> {
    let (_, defs) = SUBSYSTEM_FILES
        .iter()
        .find(|(s, _)| *s == subsystem)
        .ok_or_else(|| format!("unknown subsystem {subsystem}"))?;
    let include = reference_include(root);
    let defs = include.join(defs);
    let dir = out.join(subsystem);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let f = |name: &str| dir.join(name).display().to_string();
    let (uh, uc, sh, sc) = (
        format!("{subsystem}.h"),
        format!("{subsystem}User.c"),
        format!("{subsystem}_S.h"),
        format!("{subsystem}Server.c"),
    );
    run_mig(
        client_mig,
        &include,
        &defs,
        &[
            "-prefix".into(),
            "cli_".into(),
            "-user".into(),
            f(&uc),
            "-header".into(),
            f(&uh),
        ],
    )?;
    run_mig(
        server_mig,
        &include,
        &defs,
        &["-server".into(), f(&sc), "-sheader".into(), f(&sh)],
    )?;
    let read =
        |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let generated = generate(
        subsystem,
        &read(&uh)?,
        &read(&uc)?,
        &read(&sh)?,
        &read(&sc)?,
    );
    let test_c = dir.join(format!("{subsystem}_harness.c"));
    std::fs::write(&test_c, &generated.source).map_err(|e| e.to_string())?;

    let harness_dir = repo_root().join("conformance/harness");
    let support = repo_root().join("conformance/gnumach-boot/include");
    let program = dir.join(format!("{subsystem}_harness"));
    let output = Command::new("gcc")
        .args([
            "-std=gnu11",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-fno-strict-aliasing",
        ])
        .arg(format!("-I{}", dir.display()))
        .arg(format!("-I{}", harness_dir.display()))
        .arg(format!("-I{}", support.display()))
        .arg(format!("-I{}", include.display()))
        .arg(&test_c)
        .arg(dir.join(&uc))
        .arg(dir.join(&sc))
        .arg(harness_dir.join("harness_rt.c"))
        .arg("-o")
        .arg(&program)
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    let warnings = String::from_utf8_lossy(&output.stderr).into_owned();
    let built = output.status.success();
    Ok(HarnessBuild {
        generated,
        dir,
        program,
        built,
        warnings,
    })
}

/// What one harness program printed.
#[derive(Debug, Clone, Default)]
pub struct HarnessRun {
    pub exit_ok: bool,
    pub stdout: String,
    /// `fail` lines.
    pub failures: Vec<String>,
    /// `malformed` lines.
    pub malformed: Vec<String>,
    /// `call` lines.
    pub calls: Vec<String>,
    /// The byte records (`request`, `reply`, `*-ool`, `oneway` lines), for comparing two MIGs.
    pub wire: Vec<String>,
}

/// Runs a built harness program.
pub fn run_harness(build: &HarnessBuild) -> Result<HarnessRun, String> {
    if !build.built {
        return Err(format!(
            "the {} harness did not build:\n{}",
            build.generated.subsystem, build.warnings
        ));
    }
    let output = Command::new(&build.program)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", build.program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut run = HarnessRun {
        exit_ok: output.status.success(),
        ..HarnessRun::default()
    };
    for line in stdout.lines() {
        let kind = line.split(' ').next().unwrap_or("");
        match kind {
            "fail" => run.failures.push(line.to_string()),
            "malformed" => run.malformed.push(line.to_string()),
            "call" => run.calls.push(line.to_string()),
            "request" | "reply" | "request-ool" | "reply-ool" | "oneway" => {
                run.wire.push(line.to_string())
            }
            _ => {}
        }
    }
    if !output.status.success() && run.failures.is_empty() {
        run.failures.push(format!(
            "the program ended with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    run.stdout = stdout;
    Ok(run)
}

/// Compares the byte records of two runs of the same subsystem (say GNU client + GNU server
/// against migc client + GNU server): the lines that differ, as `left` / `right` pairs.
/// Masked bytes (`..`) are part of the line, so a different message layout also differs.
pub fn compare_wire(left: &HarnessRun, right: &HarnessRun) -> Vec<(String, String)> {
    let mut diffs = Vec::new();
    let n = left.wire.len().max(right.wire.len());
    for i in 0..n {
        let l = left.wire.get(i).cloned().unwrap_or_default();
        let r = right.wire.get(i).cloned().unwrap_or_default();
        if l != r {
            diffs.push((l, r));
        }
    }
    diffs
}
