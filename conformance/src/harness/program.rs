//! Writing the C test program of one subsystem: a checking server function and a calling
//! client function per driven routine, stand-ins for the rest, and `main`.

use std::fmt::Write as _;

use super::plan::{classify, Plan, Role, Shape, Skipped};
use super::stubs::{parse_prototypes, parse_stub_file, Param, StubRoutine};

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
        "/* Generated by conformance/src/harness/program.rs for subsystem {subsystem}. */"
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
