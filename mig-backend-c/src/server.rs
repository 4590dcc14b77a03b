//! The server stubs (`-server`): one `_X<routine>` function per routine that checks the
//! request, calls the server function and builds the reply; the routine table; the demux
//! function; and, with `-s`, the symbol table.

use mig_ir::{ArgumentKind, Routine, Target, Validated};

use crate::checks::{port_loop, received_size_expr, type_check_in};
use crate::msg::{
    ctype, dealloc_always, element_ctype, kernel, kernel_now, kernel_port_ctype, messages, Datum,
    Message, Shape, Side,
};
use crate::writer::{
    banner, demux_name, desc_fields, descriptor_const, imports, message_struct, padded_bytes,
    param_type, params, port_name, prologue, received_name, sent_name, server_function,
    type_size_assert, wide_ports, wire_ctype, Out,
};
use crate::Options;

pub(crate) fn server_source(v: &Validated, opts: &Options) -> String {
    let m = v.module();
    let mut o = Out::for_routines(v.module().routines.len());
    banner(&mut o, m, "Server stubs");
    o.line("#ifndef _GNU_SOURCE");
    o.line("#define _GNU_SOURCE 1");
    o.line("#endif");
    o.blank();
    prologue(&mut o, v.target(), true);
    imports(&mut o, m, Side::Server);
    for (i, r) in m.routines.iter().enumerate() {
        routine(&mut o, v, opts, i, r);
        o.blank();
        default_implementation(&mut o, v, opts, r);
        o.blank();
    }
    demux(&mut o, v, opts);
    if opts.symtab {
        symtab(&mut o, v);
    }
    o.text
}

/// The name of the routine table.
pub(crate) fn table_name(v: &Validated, opts: &Options) -> String {
    format!("{}_routines", demux_name(v.module(), opts))
}

/// How the server stub holds one argument for the call.
struct Arg {
    /// Expression passed to the server function.
    pass: String,
}

fn routine(o: &mut Out, v: &Validated, opts: &Options, index: usize, r: &Routine) {
    let t = v.target();
    let module = v.module();
    let (req, rep) = messages(v, index);
    let kind = if r.is_simple() {
        "SimpleRoutine"
    } else {
        "Routine"
    };
    o.line(format!("/* {kind} {} */", r.name));
    o.line(format!("mig_internal void _X{}", r.name));
    o.line("\t(mach_msg_header_t *InHeadP, mach_msg_header_t *OutHeadP)");
    o.open("{");
    message_struct(o, v, r, &req, Side::Server, "Request");
    o.blank();
    if let Some(rep) = &rep {
        message_struct(o, v, r, rep, Side::Server, "Reply");
        o.blank();
    }
    // Segments: a new request pointer after every variable datum.
    let req_seg = segments(&req);
    let nseg = req_seg.last().copied().unwrap_or(0) + 1;
    o.line("Request *In0P = (Request *) InHeadP;");
    for k in 1..nseg {
        o.line(format!("Request *In{k}P;"));
    }
    if rep.is_some() {
        o.line("Reply *OutP = (Reply *) OutHeadP;");
    } else {
        o.line("mig_reply_header_t *OutP = (mig_reply_header_t *) OutHeadP;");
    }
    let function = server_function(r, opts);
    o.line(format!(
        "mig_external kern_return_t {function}\n\t\t({});",
        params(v, r, Side::Server).join(", ")
    ));
    o.blank();
    let rep_var = rep.as_ref().is_some_and(|m| m.variable);
    if req.variable || rep_var {
        o.line("unsigned int msgh_size;");
    }
    if req.variable || rep_var {
        o.line("unsigned int msgh_size_delta;");
    }
    let rep_maybe = rep.as_ref().is_some_and(|m| m.runtime_complex());
    // The receiver's view: a right it receives in a fixed form (even one the sender may
    // choose the disposition of, like `MACH_MSG_TYPE_PORT_SEND`) makes the request complex.
    let req_complex = req
        .data
        .iter()
        .any(|d| (d.port && !d.recv_poly) || d.shape == Shape::Ool);
    // Otherwise a right the receiver accepts in any form must come in a complex message,
    // checked per right (GNU MIG's `msgh_simple` check).
    let req_poly_right = !req_complex && req.data.iter().any(|d| d.port && d.recv_poly);
    if rep_maybe || req_poly_right {
        o.line("boolean_t msgh_simple;");
    }
    o.blank();
    for d in &req.data {
        if d.quick_checked() {
            descriptor_const(
                o,
                t,
                d,
                &format!("{}Check", d.name),
                &received_name(d),
                false,
            );
            o.blank();
        }
    }
    if let Some(rep) = &rep {
        for d in rep.data.iter().skip(1) {
            // Dynamic data is inline until the stub sends it out of line (and deallocates).
            let dealloc = d.arg.is_some_and(|a| dealloc_always(module, r, a))
                && !matches!(d.shape, Shape::Dynamic { .. });
            descriptor_const(o, t, d, &format!("{}Type", d.name), &sent_name(d), dealloc);
            type_size_assert(o, t, d, Side::Server);
            o.blank();
        }
    }
    // Locals for out arguments and translations.
    let rep_seg = rep.as_ref().map(segments).unwrap_or_default();
    let mut args: Vec<Option<Arg>> = Vec::new();
    args.resize_with(r.arguments.len(), || None);
    let mut after_call: Vec<String> = Vec::new();
    let mut before_call: Vec<String> = Vec::new();
    let mut locals: Vec<String> = Vec::new();
    plan_args(
        v,
        r,
        &req,
        &req_seg,
        rep.as_ref(),
        &rep_seg,
        &mut args,
        &mut locals,
        &mut before_call,
        &mut after_call,
    );
    for l in &locals {
        o.line(l);
    }
    if !locals.is_empty() {
        o.blank();
    }
    // Request checks.
    let fail = "OutP->RetCode = MIG_BAD_ARGUMENTS; return;";
    let cmp = if req.variable { "<" } else { "!=" };
    o.line("#if\tTypeCheck");
    if req.variable {
        o.line("msgh_size = In0P->Head.msgh_size;");
    }
    if req_poly_right {
        o.line("msgh_simple = !(In0P->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX);");
    }
    let bits = if req_complex {
        " ||\n    !(In0P->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX)"
    } else if req.maybe_complex() || req_poly_right {
        ""
    } else {
        " ||\n    (In0P->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX)"
    };
    o.line(format!(
        "if (mig_unlikely ((In0P->Head.msgh_size {cmp} {}){bits}))",
        req.fixed_size
    ));
    o.line(format!("\t{{ {fail} }}"));
    o.line("#endif\t/* TypeCheck */");
    o.blank();
    let last_var = req.data.iter().rposition(|d| d.variable());
    for (k, d) in req.data.iter().enumerate() {
        let p = format!("In{}P", req_seg[k]);
        let e = format!("{p}->{}Type", d.name);
        type_check_in(o, t, d, &e, fail, req_poly_right);
        if d.variable() {
            let [number, ..] = desc_fields(d, &e);
            let max = match d.shape {
                Shape::VarArray { max } | Shape::VarString { max } | Shape::Dynamic { max } => max,
                _ => 0,
            };
            let ratio = d.ty.map(|t| t.element_number).unwrap_or(1);
            let inline_guard = match d.shape {
                Shape::Dynamic { .. } => {
                    let [_, _, _, inl, _] = desc_fields(d, &e);
                    format!("{inl} && ")
                }
                _ => String::new(),
            };
            o.line(format!(
                "if (mig_unlikely ({inline_guard}{number} > {}))",
                max as u64 * ratio as u64
            ));
            o.line(format!("\t{{ {fail} }}"));
            o.line(format!(
                "msgh_size_delta = {};",
                received_size_expr(v, d, &e)
            ));
            o.line("#if\tTypeCheck");
            let op = if Some(k) == last_var { "!=" } else { "<" };
            o.line(format!(
                "if (mig_unlikely (msgh_size {op} {} + msgh_size_delta))",
                req.fixed_size
            ));
            o.line(format!("\t{{ {fail} }}"));
            if Some(k) != last_var {
                o.line("msgh_size -= msgh_size_delta;");
            }
            o.line("#endif\t/* TypeCheck */");
            if let Shape::VarString { .. } | Shape::FixedString { .. } = d.shape {}
            if k + 1 < req.data.len() {
                o.line(format!(
                    "In{}P = (Request *) ((char *) {p} + msgh_size_delta - {});",
                    req_seg[k] + 1,
                    d.data_max + d.pad_max
                ));
            }
            o.blank();
        }
        if let Shape::FixedString { max } = d.shape {
            o.line(format!("/* {} must be NUL-terminated */", d.name));
            o.line(format!("{p}->{}[{}] = '\\0';", d.name, max - 1));
            o.blank();
        }
        if let Shape::VarString { .. } = d.shape {
            let [number, ..] = desc_fields(d, &e);
            o.line(format!("if (mig_unlikely ({number} == 0))"));
            o.line(format!("\t{{ {fail} }}"));
            o.line(format!("{p}->{}[{number} - 1] = '\\0';", d.name));
            o.blank();
        }
    }
    for l in &before_call {
        o.line(l);
    }
    let call_args: Vec<String> = crate::writer::prototype_order(r)
        .into_iter()
        .map(|i| (i, &r.arguments[i]))
        .filter(|(_, a)| crate::writer::visible_in(Some(module), a, r, Side::Server))
        .map(|(i, _)| args[i].as_ref().map(|a| a.pass.clone()).unwrap_or_default())
        .collect();
    o.line(format!(
        "OutP->RetCode = {function}({});",
        call_args.join(", ")
    ));
    for l in &after_call {
        o.line(l);
    }
    // A kernel server holds the send right of a translated port argument: the server function
    // got the translated object, so the right is released once the call succeeded.
    let releases: Vec<String> = if kernel(Side::Server) {
        req.data
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.shape == Shape::Port
                    && d.ty.is_some_and(|t| {
                        t.c.in_tran.is_some()
                            && t.name_out.symbol.as_deref() == Some("MACH_MSG_TYPE_PORT_SEND")
                    })
                    && d.arg
                        .is_some_and(|i| r.arguments[i].kind == ArgumentKind::In)
            })
            .map(|(k, d)| format!("In{}P->{}", req_seg[k], d.name))
            .collect()
    } else {
        Vec::new()
    };
    let Some(rep) = rep else {
        if !releases.is_empty() {
            // GNU MIG checks the return code of a kernel simple routine the same way.
            o.line("if (OutP->RetCode != KERN_SUCCESS)");
            o.line("\treturn;");
            o.blank();
            for p in &releases {
                o.line(format!("if (IP_VALID({p}))"));
                o.line(format!("\tipc_port_release_send({p});"));
            }
        }
        o.close("}");
        return;
    };
    if rep.data.len() == 1 && releases.is_empty() {
        o.close("}");
        return;
    }
    o.line("if (OutP->RetCode != KERN_SUCCESS)");
    o.line("\treturn;");
    o.blank();
    for p in &releases {
        o.line(format!("if (IP_VALID({p}))"));
        o.line(format!("\tipc_port_release_send({p});"));
        o.blank();
    }
    if rep.data.len() == 1 {
        o.close("}");
        return;
    }
    if rep.runtime_complex() {
        o.line("msgh_simple = TRUE;");
    }
    if rep.always_complex() {
        o.line("OutP->Head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;");
    }
    if rep.variable {
        o.line(format!("msgh_size = {};", rep.fixed_size));
    }
    o.blank();
    fill_reply(o, v, r, &rep, &rep_seg);
    if rep.variable {
        o.line("OutHeadP->msgh_size = msgh_size;");
    } else {
        o.line(format!("OutHeadP->msgh_size = {};", rep.fixed_size));
    }
    if rep.runtime_complex() {
        o.line("if (!msgh_simple)");
        o.line("\tOutHeadP->msgh_bits |= MACH_MSGH_BITS_COMPLEX;");
    }
    o.close("}");
    let _ = param_type;
}

/// The segment of each datum: 0 until the first variable datum, then one more after each.
fn segments(m: &Message<'_>) -> Vec<usize> {
    let mut seg = 0;
    m.data
        .iter()
        .map(|d| {
            let s = seg;
            if d.variable() {
                seg += 1;
            }
            s
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn plan_args(
    v: &Validated,
    r: &Routine,
    req: &Message<'_>,
    req_seg: &[usize],
    rep: Option<&Message<'_>>,
    rep_seg: &[usize],
    args: &mut [Option<Arg>],
    locals: &mut Vec<String>,
    before: &mut Vec<String>,
    after: &mut Vec<String>,
) {
    let t = v.target();
    let module = v.module();
    let req_datum = |i: usize| req.data.iter().position(|d| d.arg == Some(i));
    let rep_datum = |i: usize| rep.and_then(|m| m.data.iter().position(|d| d.arg == Some(i)));
    for (i, a) in r.arguments.iter().enumerate() {
        let ty = module.ty(a.ty);
        if !crate::writer::visible_in(Some(module), a, r, Side::Server) {
            continue;
        }
        let pass = match a.kind {
            ArgumentKind::RequestPort | ArgumentKind::ReplyPort | ArgumentKind::SReplyPort => {
                let field = if a.kind == ArgumentKind::RequestPort {
                    "msgh_request_port"
                } else {
                    "msgh_reply_port"
                };
                // The kernel's header holds `ipc_port_t` pointers in `mach_port_t` fields.
                let raw = if kernel_now() && ty.c.in_tran.is_none() {
                    format!("({}) In0P->Head.{field}", ctype(ty, Side::Server))
                } else {
                    format!("In0P->Head.{field}")
                };
                translate_in(v, r, i, &raw, locals, before, after)
            }
            ArgumentKind::MsgSeqno => "In0P->Head.msgh_seqno".to_string(),
            ArgumentKind::UReplyPort
            | ArgumentKind::WaitTime
            | ArgumentKind::MsgOption
            | ArgumentKind::Dealloc => continue,
            ArgumentKind::Poly => {
                let p = a.parent.unwrap_or(0);
                let parent = &r.arguments[p];
                match parent.kind {
                    ArgumentKind::ReplyPort | ArgumentKind::SReplyPort => {
                        "MACH_MSGH_BITS_REPLY(In0P->Head.msgh_bits)".to_string()
                    }
                    ArgumentKind::RequestPort => {
                        "MACH_MSGH_BITS_REQUEST(In0P->Head.msgh_bits)".to_string()
                    }
                    ArgumentKind::In => match req_datum(p) {
                        Some(k) => {
                            let d = &req.data[k];
                            let [_, name_f, ..] =
                                desc_fields(d, &format!("In{}P->{}Type", req_seg[k], d.name));
                            name_f
                        }
                        None => "0".into(),
                    },
                    _ => {
                        locals.push(format!("mach_msg_type_name_t {};", a.name));
                        format!("&{}", a.name)
                    }
                }
            }
            ArgumentKind::ServerCopy => {
                let p = a.parent.unwrap_or(0);
                match req_datum(p) {
                    Some(k) => {
                        let d = &req.data[k];
                        let [_, _, _, inl, _] =
                            desc_fields(d, &format!("In{}P->{}Type", req_seg[k], d.name));
                        inl
                    }
                    None => "FALSE".into(),
                }
            }
            ArgumentKind::Count => {
                let p = a.parent.unwrap_or(0);
                let parent = &r.arguments[p];
                if parent.kind == ArgumentKind::In {
                    match req_datum(p) {
                        Some(k) => {
                            let d = &req.data[k];
                            let [number, ..] =
                                desc_fields(d, &format!("In{}P->{}Type", req_seg[k], d.name));
                            let ratio = d.ty.map(|t| t.element_number).unwrap_or(1);
                            if ratio == 1 {
                                number
                            } else {
                                format!("{number} / {ratio}")
                            }
                        }
                        None => "0".into(),
                    }
                } else {
                    locals.push(format!("mach_msg_type_number_t {};", a.name));
                    // The capacity the server may fill.
                    let max = rep_datum(p).and_then(|k| match rep?.data[k].shape {
                        Shape::VarArray { max }
                        | Shape::VarString { max }
                        | Shape::Dynamic { max } => Some(max),
                        _ => None,
                    });
                    if let Some(max) = max {
                        before.push(format!("{} = {max};", a.name));
                    }
                    if parent.count_in_out {
                        if let Some(k) = req_datum(i) {
                            let src = format!("In{}P->{}", req_seg[k], req.data[k].name);
                            match max {
                                Some(_) => {
                                    before.push(format!("if ({src} < {})", a.name));
                                    before.push(format!("\t{} = {src};", a.name));
                                }
                                None => before.push(format!("{} = {src};", a.name)),
                            }
                        }
                    }
                    format!("&{}", a.name)
                }
            }
            ArgumentKind::In => {
                let Some(k) = req_datum(i) else {
                    continue;
                };
                let d = &req.data[k];
                let m = format!("In{}P->{}", req_seg[k], d.name);
                let kcast = || format!("({}) ", ctype(ty, Side::Server));
                let raw = match d.shape {
                    // In the kernel, rights arrive as `ipc_port_t` pointers, passed as they are.
                    Shape::Port if kernel_now() && ty.c.in_tran.is_none() => {
                        format!("{}{m}", kcast())
                    }
                    Shape::PortArray { .. } | Shape::VarArray { .. } if kernel_now() && d.port => {
                        format!("{}{m}", kcast())
                    }
                    Shape::Port => port_name(t, &m),
                    Shape::PortArray { n } => {
                        locals.push(format!("mach_port_t {}[{n}];", a.name));
                        before.push(port_loop_text(t, &m, &a.name, &n.to_string()));
                        a.name.clone()
                    }
                    Shape::VarArray { max } if d.port => {
                        locals.push(format!("mach_port_t {}[{}];", a.name, max.max(1)));
                        let [number, ..] = desc_fields(d, &format!("{m}Type"));
                        before.push(port_loop_text(t, &m, &a.name, &number));
                        a.name.clone()
                    }
                    Shape::Dynamic { max } => {
                        let [number, _, _, inl, _] = desc_fields(d, &format!("{m}Type"));
                        if d.port && wide_ports(t) {
                            locals.push(format!("mach_port_t {}[{}];", a.name, max.max(1)));
                            before.push(format!("if ({inl})"));
                            before.push(port_loop_text(t, &m, &a.name, &number));
                            format!("({inl} ? {} : {m}P)", a.name)
                        } else {
                            format!("({inl} ? {m} : {m}P)")
                        }
                    }
                    _ => m.clone(),
                };
                let _ = ty;
                translate_in(v, r, i, &raw, locals, before, after)
            }
            ArgumentKind::Out | ArgumentKind::InOut => {
                let Some(k) = rep_datum(i) else {
                    continue;
                };
                let d = &rep.expect("reply").data[k];
                let direct = rep_seg[k] == 0;
                let m = format!("OutP->{}", d.name);
                let has_out_tran = ty.c.out_tran.is_some();
                let init_from_request = |locals_name: &str, before: &mut Vec<String>| {
                    if a.kind == ArgumentKind::InOut {
                        if let Some(rk) = req_datum(i) {
                            let src = format!("In{}P->{}", req_seg[rk], req.data[rk].name);
                            match req.data[rk].shape {
                                Shape::Port => {
                                    before.push(format!("{locals_name} = {};", port_name(t, &src)))
                                }
                                Shape::FixedArray { bytes, .. } => before.push(format!(
                                    "__builtin_memcpy({locals_name}, {src}, {bytes});"
                                )),
                                Shape::FixedString { max } => before.push(format!(
                                    "__builtin_memcpy({locals_name}, {src}, {max});"
                                )),
                                _ => match &ty.c.in_tran {
                                    // The value the server sees is the translated one.
                                    Some(tr) => before
                                        .push(format!("{locals_name} = {}({src});", tr.function)),
                                    None => before.push(format!("{locals_name} = {src};")),
                                },
                            }
                        }
                    }
                };
                match d.shape {
                    Shape::Port | Shape::Value
                        if !direct || has_out_tran || a.kind == ArgumentKind::InOut =>
                    {
                        let lt = if has_out_tran {
                            ty.c.out_tran
                                .as_ref()
                                .map(|t| t.from.clone())
                                .unwrap_or_default()
                        } else if d.shape == Shape::Port {
                            kernel_port_ctype("mach_port_t")
                        } else {
                            wire_ctype(ty, Side::Server)
                        };
                        locals.push(format!("{lt} {};", a.name));
                        init_from_request(&a.name, before);
                        format!("&{}", a.name)
                    }
                    Shape::Port => format!("&{}", port_name(t, &m)),
                    Shape::Value => format!("&{m}"),
                    Shape::FixedString { max } if !direct || a.kind == ArgumentKind::InOut => {
                        locals.push(format!("char {}[{max}];", a.name));
                        init_from_request(&a.name, before);
                        a.name.clone()
                    }
                    Shape::FixedArray { bytes, .. } if !direct || a.kind == ArgumentKind::InOut => {
                        locals.push(format!("unsigned char {}_buf[{bytes}];", a.name));
                        init_from_request(&format!("{}_buf", a.name), before);
                        format!("(void *) {}_buf", a.name)
                    }
                    Shape::FixedString { .. } | Shape::FixedArray { .. } => m.clone(),
                    Shape::PortArray { .. } if direct && kernel_now() => m.clone(),
                    Shape::PortArray { n } => {
                        let elem = element_ctype(module, ty, Side::Server);
                        locals.push(format!("{elem} {}[{n}];", a.name));
                        a.name.clone()
                    }
                    Shape::VarArray { max } | Shape::VarString { max } => {
                        if direct && (!d.port || kernel_now()) {
                            m.clone()
                        } else {
                            let elem = element_ctype(module, ty, Side::Server);
                            locals.push(format!("{elem} {}[{}];", a.name, max.max(1)));
                            a.name.clone()
                        }
                    }
                    Shape::Dynamic { max } => {
                        let elem = element_ctype(module, ty, Side::Server);
                        let buf = if direct && (!d.port || kernel_now()) {
                            m.clone()
                        } else {
                            locals.push(format!("{elem} {}Buf[{}];", a.name, max.max(1)));
                            format!("{}Buf", a.name)
                        };
                        locals.push(format!("{elem} *{}P;", a.name));
                        before.push(format!("{}P = {buf};", a.name));
                        format!("&{}P", a.name)
                    }
                    Shape::Ool => {
                        if direct {
                            format!("&{m}")
                        } else {
                            locals.push(format!(
                                "{} {};",
                                crate::writer::ool_ctype(module, ty, Side::Server),
                                a.name
                            ));
                            format!("&{}", a.name)
                        }
                    }
                    Shape::RetCode => continue,
                }
            }
        };
        args[i] = Some(Arg { pass });
    }
}

fn port_loop_text(t: &Target, slots: &str, names: &str, count: &str) -> String {
    let mut o = Out::default();
    port_loop(&mut o, t, slots, names, count, false);
    o.text.trim_end().to_string()
}

/// Applies `intran` (and `intranpayload` for the request port) to a received value; returns
/// what to pass. Destructors run after the call.
fn translate_in(
    v: &Validated,
    r: &Routine,
    i: usize,
    raw: &str,
    locals: &mut Vec<String>,
    before: &mut Vec<String>,
    after: &mut Vec<String>,
) -> String {
    let a = &r.arguments[i];
    let ty = v.module().ty(a.ty);
    let Some(tr) = &ty.c.in_tran else {
        return raw.to_string();
    };
    let var = &a.name;
    locals.push(format!("{} {var};", tr.to));
    let cast = if tr.from.is_empty() {
        String::new()
    } else if ty.port {
        format!("({}) ", kernel_port_ctype(&tr.from))
    } else {
        format!("({}) ", tr.from)
    };
    match (&ty.c.in_tran_payload, a.kind) {
        (Some(p), ArgumentKind::RequestPort) => {
            before.push(
                "if (MACH_MSGH_BITS_LOCAL (In0P->Head.msgh_bits) == MACH_MSG_TYPE_PROTECTED_PAYLOAD)"
                    .to_string(),
            );
            before.push(format!(
                "\t{var} = {}(In0P->Head.msgh_protected_payload);",
                p.function
            ));
            before.push("else".to_string());
            before.push(format!("\t{var} = {}({cast}{raw});", tr.function));
        }
        _ => before.push(format!("{var} = {}({cast}{raw});", tr.function)),
    }
    if let Some(dtor) = &ty.c.destructor {
        after.push(format!("{dtor}({var});"));
    }
    var.clone()
}

/// Fills the reply after a successful call.
fn fill_reply(o: &mut Out, v: &Validated, r: &Routine, rep: &Message<'_>, seg: &[usize]) {
    let t = v.target();
    let module = v.module();
    for (k, d) in rep.data.iter().enumerate().skip(1) {
        let Some(ai) = d.arg else { continue };
        let a = &r.arguments[ai];
        let ty = module.ty(a.ty);
        let m = format!("OutP->{}", d.name);
        let [number, name_f, _, inline_f, dealloc_f] = desc_fields(d, &format!("{m}Type"));
        o.line(format!("{m}Type = {}Type;", d.name));
        if let Some(pl) = d.poly {
            let poly = &r.arguments[pl].name;
            o.line(format!("if (MACH_MSG_TYPE_PORT_ANY({poly}))"));
            o.line("\tmsgh_simple = FALSE;");
            o.line(format!("{name_f} = {poly};"));
        }
        let direct = seg[k] == 0;
        let local = &a.name;
        let ratio = ty.element_number;
        let cnt = a.count.map(|c| r.arguments[c].name.clone());
        let times = |c: &str| {
            if ratio == 1 {
                c.to_string()
            } else {
                format!("{ratio} * {c}")
            }
        };
        let out_tran = ty.c.out_tran.as_ref().map(|t| t.function.clone());
        let conv = |x: &str| match &out_tran {
            Some(f) => format!("{f}({x})"),
            None => x.to_string(),
        };
        match d.shape {
            Shape::RetCode => {}
            Shape::Port => {
                if wide_ports(t) {
                    // Clears the upper half of the slot on the wire (the slot is a union of
                    // the name and the 64-bit word: keep the name across the store).
                    o.line(format!(
                        "{{ mach_port_t _name = {}; {m}.kernel_port_do_not_use = 0; {m}.name = _name; }}",
                        if !direct || out_tran.is_some() || a.kind == ArgumentKind::InOut {
                            conv(local)
                        } else {
                            format!("{m}.name")
                        }
                    ));
                } else if !direct || out_tran.is_some() || a.kind == ArgumentKind::InOut {
                    o.line(format!("{m} = {};", conv(local)));
                }
            }
            Shape::Value => {
                if !direct || out_tran.is_some() || a.kind == ArgumentKind::InOut {
                    o.line(format!("{m} = {};", conv(local)));
                }
            }
            Shape::FixedString { max } => {
                if !direct || a.kind == ArgumentKind::InOut {
                    o.line(format!("__builtin_memcpy({m}, {local}, {max});"));
                }
            }
            Shape::FixedArray { bytes, .. } => {
                if !direct || a.kind == ArgumentKind::InOut {
                    o.line(format!("__builtin_memcpy({m}, {local}_buf, {bytes});"));
                }
            }
            Shape::PortArray { n } if !kernel_now() => {
                port_loop(o, t, &m, local, &n.to_string(), true);
            }
            Shape::PortArray { n } => {
                if !direct {
                    let elem = element_ctype(module, ty, Side::Server);
                    o.line(format!(
                        "__builtin_memcpy({m}, {local}, sizeof({elem}) * {n});"
                    ));
                }
            }
            Shape::VarString { max } => {
                let src = if direct { m.clone() } else { local.clone() };
                o.open("{");
                o.line("mach_msg_type_number_t n = 0;");
                o.blank();
                o.open(format!("while (n + 1 < {max} && {src}[n] != '\\0') {{"));
                if !direct {
                    o.line(format!("{m}[n] = {src}[n];"));
                }
                o.line("n++;");
                o.close("}");
                o.line(format!("{m}[n] = '\\0';"));
                o.line(format!("{number} = n + 1;"));
                o.line(format!(
                    "msgh_size_delta = {};",
                    padded_bytes(t, d, "(n + 1)")
                ));
                o.close("}");
                o.line("msgh_size += msgh_size_delta;");
            }
            Shape::VarArray { .. } => {
                let c = match (&cnt, d.shape) {
                    (Some(c), _) => c.clone(),
                    (None, _) => "0".into(),
                };
                if d.port && !kernel_now() {
                    port_loop(o, t, &m, local, &c, true);
                } else if !direct {
                    o.line(format!(
                        "__builtin_memcpy({m}, {local}, {} * {c});",
                        d.elem_bytes
                    ));
                }
                o.line(format!("{number} = {};", times(&c)));
                o.line(format!("msgh_size_delta = {};", padded_bytes(t, d, &c)));
                o.line("msgh_size += msgh_size_delta;");
            }
            Shape::Dynamic { .. } => {
                let c = cnt.clone().unwrap_or_else(|| "0".into());
                let buf = if direct && (!d.port || kernel_now()) {
                    m.clone()
                } else {
                    format!("{local}Buf")
                };
                o.open(format!("if ({local}P != {buf}) {{"));
                o.line(format!("{inline_f} = FALSE;"));
                if d.port && d.size_bits != t.port_name.size * 8 && !kernel_now() {
                    let [_, _, size_f, _, _] = desc_fields(d, &format!("{m}Type"));
                    o.line(format!("{size_f} = {};", t.port_name.size * 8));
                }
                if dealloc_always(module, r, ai)
                    || a.dealloc == mig_ir::Dealloc::Default && a.count_in_out
                {
                    o.line(format!("{dealloc_f} = TRUE;"));
                }
                o.line(format!("{m}P = {local}P;"));
                o.line("msgh_simple = FALSE;");
                o.line(format!(
                    "msgh_size_delta = sizeof({} *);",
                    element_ctype(module, ty, Side::Server)
                ));
                o.close("}");
                o.open("else {");
                if d.port {
                    o.line("msgh_simple = FALSE;");
                }
                if d.port && !kernel_now() {
                    port_loop(o, t, &m, &format!("{local}P"), &c, true);
                } else if !direct {
                    o.line(format!(
                        "__builtin_memcpy({m}, {local}P, {} * {c});",
                        d.elem_bytes
                    ));
                }
                o.line(format!("msgh_size_delta = {};", padded_bytes(t, d, &c)));
                o.close("}");
                o.line(format!("{number} = {};", times(&c)));
                o.line("msgh_size += msgh_size_delta;");
            }
            Shape::Ool => {
                if !direct {
                    o.line(format!("{m} = {local};"));
                }
                if let Some(c) = &cnt {
                    o.line(format!("{number} = {};", times(c)));
                }
                if let Some(dl) = a.dealloc_arg {
                    let _ = dl;
                }
            }
        }
        if let (Some(pl), Shape::Port, true) = (d.poly, d.shape, kernel(Side::Server)) {
            // A receive right sent back to the requester's own reply port would make a cycle.
            o.line(format!(
                "if ({} == MACH_MSG_TYPE_PORT_RECEIVE)",
                r.arguments[pl].name
            ));
            o.line("if (IP_VALID((ipc_port_t) InHeadP->msgh_reply_port) &&");
            o.line(format!("    IP_VALID((ipc_port_t) {m}) &&"));
            o.line(format!(
                "    ipc_port_check_circularity((ipc_port_t) {m}, (ipc_port_t) InHeadP->msgh_reply_port))"
            ));
            o.line("\tOutHeadP->msgh_bits |= MACH_MSGH_BITS_CIRCULAR;");
        }
        if d.variable() && k + 1 < rep.data.len() {
            o.line(format!(
                "OutP = (Reply *) ((char *) OutP + msgh_size_delta - {});",
                d.data_max + d.pad_max
            ));
        }
        o.blank();
    }
}

fn demux(o: &mut Out, v: &Validated, opts: &Options) {
    let m = v.module();
    let t = v.target();
    let table = table_name(v, opts);
    let base = m.subsystem.base;
    let slots = m.subsystem.slots;
    o.open(format!("mig_routine_t {table}[] = {{"));
    for n in 0..slots {
        match m.routines.iter().find(|r| r.number == n) {
            Some(r) => o.line(format!("_X{},", r.name)),
            None => o.line("0,"),
        }
    }
    o.close("};");
    if kernel(Side::Server) {
        // A kernel dispatches through `<demux>_routine` (server header) itself: GNU MIG
        // writes no demux function for a `KernelServer` subsystem.
        return;
    }
    o.blank();
    o.line(format!("mig_external boolean_t {}", demux_name(m, opts)));
    o.line("\t(mach_msg_header_t *InHeadP, mach_msg_header_t *OutHeadP)");
    o.open("{");
    o.line("mach_msg_header_t *InP = InHeadP;");
    o.line("mig_reply_header_t *OutP = (mig_reply_header_t *) OutHeadP;");
    o.blank();
    let rc = Datum {
        arg: None,
        name: "RetCode".into(),
        ty: None,
        shape: Shape::RetCode,
        long: false,
        size_bits: 32,
        number: 1,
        inline: true,
        elem_bytes: 4,
        data_max: 4,
        pad_max: 0,
        poly: None,
        recv_poly: false,
        port: false,
        kernel_sent: false,
    };
    descriptor_const(o, t, &rc, "RetCodeType", "MACH_MSG_TYPE_INTEGER_32", false);
    type_size_assert(o, t, &rc, Side::Server);
    o.blank();
    o.line("mig_routine_t routine;");
    o.blank();
    o.line("OutP->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSGH_BITS_REPLY(InP->msgh_bits), 0);");
    o.line("OutP->Head.msgh_size = sizeof *OutP;");
    o.line("OutP->Head.msgh_remote_port = InP->msgh_reply_port;");
    o.line("OutP->Head.msgh_local_port = MACH_PORT_NULL;");
    o.line("OutP->Head.msgh_seqno = 0;");
    o.line("OutP->Head.msgh_id = InP->msgh_id + 100;");
    o.blank();
    o.line("OutP->RetCodeType = RetCodeType;");
    o.blank();
    let last = base as u64 + slots as u64;
    o.line(format!(
        "if ((InP->msgh_id >= {last}) || (InP->msgh_id < {base}) ||"
    ));
    o.line(format!(
        "    ((routine = {table}[InP->msgh_id - {base}]) == 0)) {{"
    ));
    o.line("\tOutP->RetCode = MIG_BAD_ID;");
    o.line("\treturn FALSE;");
    o.line("}");
    o.line("(*routine) (InP, &OutP->Head);");
    o.line("return TRUE;");
    o.close("}");
}

fn symtab(o: &mut Out, v: &Validated) {
    let m = v.module();
    let name = &m.subsystem.name;
    o.blank();
    o.open(format!("mig_symtab_t _{name}SymTab[] = {{"));
    for n in 0..m.subsystem.slots {
        match m.routines.iter().find(|r| r.number == n) {
            Some(r) => o.line(format!(
                "{{ \"{}\", {}, (void (*)(void)) _X{} }},",
                r.name, r.msgh_id, r.name
            )),
            None => o.line("{ \"\", 0, 0 },"),
        }
    }
    o.close("};");
    o.line(format!("int _{name}SymTabBase = {};", m.subsystem.base));
    o.line(format!(
        "int _{name}SymTabEnd = {};",
        m.subsystem.base as u64 + m.subsystem.slots as u64
    ));
}

/// A weak server function answering `MIG_EOPNOTSUPP`, compiled when the includer defines
/// `MIG_EOPNOTSUPP` (as GNU MIG's server files offer).
fn default_implementation(o: &mut Out, v: &Validated, opts: &Options, r: &Routine) {
    let function = server_function(r, opts);
    o.line(format!("/* Default implementation of {function} */"));
    o.line("#ifdef\tMIG_EOPNOTSUPP");
    o.line("kern_return_t __attribute__ ((weak))");
    o.line(function);
    crate::writer::param_block(o, &params(v, r, Side::Server));
    o.text.push('\n');
    o.open("{");
    for (_, a) in r
        .arguments
        .iter()
        .enumerate()
        .filter(|(_, a)| crate::writer::visible_in(Some(v.module()), a, r, Side::Server))
    {
        o.line(format!("(void) {};", a.name));
    }
    o.line("return MIG_EOPNOTSUPP;");
    o.close("}");
    o.line("#endif\t/* MIG_EOPNOTSUPP */");
}
