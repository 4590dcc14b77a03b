//! The `server` module: the `Server` trait (one method per routine, answering
//! `MIG_EOPNOTSUPP` by default), one checking stub per routine and the `dispatch` function,
//! which validate requests as strictly as GNU MIG's server stubs and demux.
//!
//! The server of a `KernelServer` subsystem is in kernel mode (`mach_rt::kernel`): `dispatch`
//! takes a `rt::KernelRequest` (request bytes in the kernel's own IPC space, wrapped without
//! `unsafe`), and out-of-line data in both directions is an opaque `rt::OolToken` that the
//! kernel resolves (dynamic arrays: `rt::DynamicIn` in, `rt::DynamicOut` out). Messages and
//! checks are the same in both modes.

use mig_ir::{ArgumentKind, Count, Routine, Validated};

use crate::client::declare_shift;
use crate::codec::{check_datum, write_datum, write_dynamic, write_ool, DynamicSrc, Out};
use crate::model::{dealloc_always, element_type, messages, value_type, Datum, Message, Shape};
use crate::names::ident;
use crate::sig::{buffer_type, out_type, received_port, server_out_type, server_sent_port};

const RETCODE: usize = 40;

/// The request type of the stubs: kernel mode for a `KernelServer` subsystem.
fn request_type(v: &Validated) -> &'static str {
    if v.module().subsystem.kernel_server {
        "rt::KernelRequest<'_>"
    } else {
        "rt::Received<'_>"
    }
}

/// The kernel-mode type of out-of-line and dynamic data (`reply`: what the method returns),
/// or `None` when the user-mode type applies.
pub(crate) fn kernel_type(
    v: &Validated,
    r: &Routine,
    i: usize,
    d: &Datum<'_>,
    reply: bool,
) -> Option<String> {
    if !v.module().subsystem.kernel_server {
        return None;
    }
    let module = v.module();
    let e = element_type(module, module.ty(r.arguments[i].ty));
    match d.shape {
        Shape::Ool => Some(format!("rt::OolToken<{e}>")),
        Shape::Dynamic { .. } if reply => Some(format!("rt::DynamicOut<{e}>")),
        Shape::Dynamic { .. } => Some(format!("rt::DynamicIn<'_, {e}>")),
        _ => None,
    }
}

pub(crate) fn server_module(o: &mut Out, v: &Validated) {
    let m = v.module();
    o.line("/// Server side: the `Server` trait, the checking stubs and `dispatch`.");
    o.line("#[allow(clippy::too_many_arguments, clippy::type_complexity, clippy::needless_borrow, clippy::identity_op, clippy::absurd_extreme_comparisons, unused_comparisons, unused_parens, unused_assignments, non_snake_case, missing_docs)]");
    o.line("pub mod server {");
    o.line("use mach_rt as rt;");
    let mut sigs = Vec::new();
    for (i, r) in m.routines.iter().enumerate() {
        sigs.push(signature(v, i, r));
    }
    o.line(format!(
        "/// The routines of subsystem `{}`: implement the ones the server offers; the others \
         answer `MIG_EOPNOTSUPP`.",
        m.subsystem.name
    ));
    o.line("pub trait Server {");
    for (r, s) in m.routines.iter().zip(&sigs) {
        o.line(format!("/// `{}` (request id {}).", r.name, r.msgh_id));
        o.line(format!(
            "fn {}(&mut self, {}) -> Result<{}, rt::Error> {{",
            ident(&r.name),
            s.params.join(", "),
            s.ret
        ));
        if !s.names.is_empty() {
            o.line(format!("let _ = ({},);", s.names.join(", ")));
        }
        o.line("Err(rt::Error::EOPNOTSUPP)");
        o.line("}");
    }
    o.line("}");
    let (max_req, max_rep) = v.layouts().iter().fold((48u32, 48u32), |(a, b), l| {
        (
            a.max(l.request.max_size),
            b.max(l.reply.as_ref().map(|r| r.max_size).unwrap_or(0)),
        )
    });
    o.line("/// The largest request this subsystem accepts, in bytes.");
    o.line(format!("pub const MAX_REQUEST_SIZE: usize = {max_req};"));
    o.line("/// The largest reply `dispatch` writes: reply buffers must be this large.");
    o.line(format!("pub const MAX_REPLY_SIZE: usize = {max_rep};"));
    for (i, r) in m.routines.iter().enumerate() {
        stub(o, v, i, r);
    }
    dispatch(o, v);
    o.line("}");
}

struct Sig {
    params: Vec<String>,
    /// Parameter names, for the default body.
    names: Vec<String>,
    ret: String,
}

fn signature(v: &Validated, index: usize, r: &Routine) -> Sig {
    let module = v.module();
    let (req, rep) = messages(v, index);
    let mut params = Vec::new();
    let mut names = Vec::new();
    let mut rets = Vec::new();
    for (i, a) in r.arguments.iter().enumerate() {
        let name = ident(&a.name);
        let ty = module.ty(a.ty);
        let p = match a.kind {
            ArgumentKind::RequestPort => Some("rt::PortName".to_string()),
            ArgumentKind::ReplyPort | ArgumentKind::SReplyPort => {
                if ty.name_out.is_polymorphic() || ty.name_in.is_polymorphic() {
                    Some("rt::Poly".to_string())
                } else {
                    Some(received_port(ty.name_out.value).0.to_string())
                }
            }
            ArgumentKind::MsgSeqno => Some("u32".to_string()),
            ArgumentKind::In | ArgumentKind::InOut => req.datum_of(i).map(|k| {
                kernel_type(v, r, i, &req.data[k], false)
                    .unwrap_or_else(|| out_type(module, r, i, &req.data[k], true))
            }),
            _ => None,
        };
        if let Some(p) = p {
            params.push(format!("{name}: {p}"));
            names.push(name.clone());
        }
        if a.kind.in_reply() {
            if let Some(rep) = &rep {
                if let Some(k) = rep.datum_of(i) {
                    let d = &rep.data[k];
                    if let Some(b) = buffer_type(module, ty, d) {
                        let bname = if a.kind == ArgumentKind::InOut {
                            format!("{}_out", a.name)
                        } else {
                            name.clone()
                        };
                        params.push(format!("{bname}: {b}"));
                        names.push(bname);
                    }
                    rets.push(
                        kernel_type(v, r, i, d, true)
                            .unwrap_or_else(|| server_out_type(module, r, i, d)),
                    );
                }
            }
        }
    }
    let ret = match rets.len() {
        0 => "()".to_string(),
        1 => rets[0].clone(),
        _ => format!("({})", rets.join(", ")),
    };
    Sig { params, names, ret }
}

fn fail_stmt() -> String {
    format!("{{ mig_w.scalar::<i32>({RETCODE}, rt::error::MIG_BAD_ARGUMENTS); return; }}")
}

fn stub(o: &mut Out, v: &Validated, index: usize, r: &Routine) {
    let (req, rep) = messages(v, index);
    let m = ident(&r.name);
    let reply_used = rep.as_ref().is_some_and(|m| m.data.len() > 1);
    let req_used = !req.data.is_empty();
    o.line(format!(
        "fn x_{}<S: Server + ?Sized>(mig_s: &mut S, mig_req: {}, mig_reply: &mut [u8]) {{",
        r.name,
        request_type(v)
    ));
    match (req_used, reply_used) {
        (true, true) => o.line(format!("use super::messages::{m}::{{Request, Reply}};")),
        (true, false) => o.line(format!("use super::messages::{m}::Request;")),
        (false, true) => o.line(format!("use super::messages::{m}::Reply;")),
        (false, false) => {}
    }
    o.line("let mig_rd = mig_req.reader();");
    o.line("let mig_h = mig_rd.header();");
    o.line("let mut mig_w = rt::Writer::new(mig_reply);");
    check_size(o, &req);
    let mut caps = out_buffers(o, v, r, rep.as_ref());
    read_request(o, v, r, &req, &mut caps);
    let call = format!(
        "mig_s.{}({})",
        ident(&r.name),
        call_args(v, r, &req, &caps).join(", ")
    );
    let Some(rep) = rep.filter(|m| m.data.len() > 1) else {
        o.line(format!(
            "mig_w.scalar::<i32>({RETCODE}, rt::error::code_of(&{call}));"
        ));
        o.line("}");
        return;
    };
    let outs: Vec<String> = rep
        .data
        .iter()
        .skip(1)
        .filter_map(|d| d.arg.map(|a| format!("out_{}", r.arguments[a].name)))
        .collect();
    let pattern = if outs.len() == 1 {
        outs[0].clone()
    } else {
        format!("({})", outs.join(", "))
    };
    o.line(format!(
        "let {pattern} = match {call} {{ Ok(v) => v, Err(e) => {{ mig_w.scalar::<i32>({RETCODE}, e.code()); return; }} }};"
    ));
    o.line(format!("mig_w.scalar::<i32>({RETCODE}, 0);"));
    fill_reply(o, v, r, &rep, &caps);
    o.line("}");
}

/// The request's size and complex bit, as GNU MIG's server stubs check them.
fn check_size(o: &mut Out, req: &Message<'_>) {
    let nvar = req.data.iter().filter(|d| d.variable()).count();
    if req.variable {
        let mm = if nvar > 1 { "mut " } else { "" };
        o.line(format!("let {mm}mig_size: u32 = mig_h.msgh_size;"));
    }
    let cmp = if req.variable { "<" } else { "!=" };
    let bits = if req.always_complex() {
        " || mig_h.msgh_bits & rt::msg::MACH_MSGH_BITS_COMPLEX == 0"
    } else if req.maybe_complex() {
        ""
    } else {
        " || mig_h.msgh_bits & rt::msg::MACH_MSGH_BITS_COMPLEX != 0"
    };
    o.line(format!(
        "if mig_h.msgh_size {cmp} {}{bits} {}",
        req.fixed_size,
        fail_stmt()
    ));
    declare_shift(o, req, req.variable);
}

/// Buffers for variable reply data the server method fills: (argument, capacity expression).
fn out_buffers(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    rep: Option<&Message<'_>>,
) -> Vec<(usize, String)> {
    let module = v.module();
    let mut caps: Vec<(usize, String)> = Vec::new();
    for d in rep.iter().flat_map(|m| m.data.iter().skip(1)) {
        let Some(ai) = d.arg else { continue };
        if let Shape::VarArray { max } | Shape::VarString { max } | Shape::Dynamic { max } = d.shape
        {
            let ty = module.ty(r.arguments[ai].ty);
            let zero = if d.port {
                "rt::PortName::NULL".to_string()
            } else if ty.string {
                "0u8".to_string()
            } else {
                format!("<{} as rt::Scalar>::ZERO", element_type(module, ty))
            };
            o.line(format!(
                "let mut mig_obuf_{} = [{zero}; {}];",
                r.arguments[ai].name,
                max.max(1)
            ));
            caps.push((ai, max.to_string()));
        }
    }
    caps
}

/// Checks every request datum and binds its value (`in_<name>`); a `CountInOut` count bounds
/// the capacity of its array's buffer.
fn read_request(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    req: &Message<'_>,
    caps: &mut [(usize, String)],
) {
    let module = v.module();
    let t = v.target();
    let fail = fail_stmt();
    let last_var = req.data.iter().rposition(|d| d.variable());
    for (k, d) in req.data.iter().enumerate() {
        let Some(ai) = d.arg else { continue };
        let a = &r.arguments[ai];
        let ty = module.ty(a.ty);
        if let Shape::VarArray { max } | Shape::Dynamic { max } = d.shape {
            let zero = if d.port {
                "rt::PortName::NULL".to_string()
            } else {
                format!("<{} as rt::Scalar>::ZERO", element_type(module, ty))
            };
            o.line(format!(
                "let mut mig_ibuf_{} = [{zero}; {}];",
                a.name,
                max.max(1)
            ));
        }
        o.line(format!("let in_{} = {{", a.name));
        check_datum(
            o,
            t,
            d,
            "Request",
            req.variable,
            req.fixed_size,
            Some(k) == last_var,
            &fail,
            true,
            k + 1 < req.data.len(),
        );
        extract_server(o, v, r, ai, d);
        o.line("};");
        if let (Shape::Dynamic { .. }, false) = (d.shape, module.subsystem.kernel_server) {
            o.line(format!(
                "let in_{n}: &[{e}] = in_{n}.as_slice(&mig_ibuf_{n});",
                n = a.name,
                e = element_type(module, ty)
            ));
        }
        if a.kind == ArgumentKind::Count {
            let p = a.parent.unwrap_or(0);
            if let Some(c) = caps.iter_mut().find(|(i, _)| *i == p) {
                c.1 = format!("(in_{} as usize).min({})", a.name, c.1);
            }
        }
    }
}

/// The arguments of the server method call, in the trait's order.
fn call_args(
    v: &Validated,
    r: &Routine,
    req: &Message<'_>,
    caps: &[(usize, String)],
) -> Vec<String> {
    let module = v.module();
    let mut call = Vec::new();
    for (i, a) in r.arguments.iter().enumerate() {
        let name = &a.name;
        match a.kind {
            ArgumentKind::RequestPort => call.push("mig_h.msgh_local_port.name".to_string()),
            ArgumentKind::ReplyPort | ArgumentKind::SReplyPort => {
                let ty = module.ty(a.ty);
                if ty.name_out.is_polymorphic() || ty.name_in.is_polymorphic() {
                    call.push("rt::Poly::new(mig_h.msgh_remote_port.name, rt::msg::msgh_bits_remote(mig_h.msgh_bits))".to_string());
                } else {
                    let (_, ctor) = received_port(ty.name_out.value);
                    call.push(format!("{ctor}(mig_h.msgh_remote_port.name)"));
                }
            }
            ArgumentKind::MsgSeqno => call.push("mig_h.msgh_seqno".to_string()),
            ArgumentKind::In | ArgumentKind::InOut => {
                if let Some(k) = req.datum_of(i) {
                    match req.data[k].shape {
                        Shape::FixedArray { .. } | Shape::PortArray { .. } => {
                            call.push(format!("&in_{name}"))
                        }
                        _ => call.push(format!("in_{name}")),
                    }
                }
            }
            _ => {}
        }
        if a.kind.in_reply() {
            if let Some(cap) = caps.iter().find(|(c, _)| *c == i) {
                call.push(format!("&mut mig_obuf_{name}[..{}]", cap.1));
            }
        }
    }
    call
}

/// The value of a request datum as the server method receives it.
fn extract_server(o: &mut Out, v: &Validated, r: &Routine, ai: usize, d: &Datum<'_>) {
    let module = v.module();
    let a = &r.arguments[ai];
    let ty = module.ty(a.ty);
    let e = element_type(module, ty);
    let fail = fail_stmt();
    let copy = if d.port { "ports" } else { "scalars" };
    match d.shape {
        Shape::Port if d.recv_poly => {
            o.line("rt::Poly::new(mig_rd.port(mig_off), mig_d.name())");
        }
        Shape::Port => {
            let (_, ctor) = received_port(d.name_out);
            o.line(format!("{ctor}(mig_rd.port(mig_off))"));
        }
        Shape::Value => {
            o.line(format!(
                "mig_rd.scalar::<{}>(mig_off)",
                value_type(module, ty)
            ));
        }
        Shape::FixedString { max } => {
            o.line(format!(
                "let mig_b = mig_rd.bytes(mig_off, {});",
                max.saturating_sub(1)
            ));
            o.line("&mig_b[..mig_b.iter().position(|&c| c == 0).unwrap_or(mig_b.len())]");
        }
        Shape::FixedArray { n, .. } => {
            o.line(format!("mig_rd.scalar::<[{e}; {n}]>(mig_off)"));
        }
        Shape::PortArray { n } => {
            o.line(format!("let mut mig_a = [rt::PortName::NULL; {n}];"));
            o.line("mig_rd.ports(mig_off, &mut mig_a);");
            o.line("mig_a");
        }
        Shape::VarArray { .. } => {
            o.line(format!(
                "mig_rd.{copy}(mig_off, &mut mig_ibuf_{}[..mig_n]);",
                a.name
            ));
            if d.recv_poly && d.port {
                o.line(format!(
                    "rt::PolyPorts {{ names: &mig_ibuf_{}[..mig_n], disposition: mig_d.name() }}",
                    a.name
                ));
            } else {
                o.line(format!("&mig_ibuf_{}[..mig_n]", a.name));
            }
        }
        Shape::VarString { .. } => {
            o.line(format!("if mig_n == 0 {fail}"));
            o.line("let mig_b = mig_rd.bytes(mig_off, mig_n - 1);");
            o.line("&mig_b[..mig_b.iter().position(|&c| c == 0).unwrap_or(mig_b.len())]");
        }
        Shape::Dynamic { .. } if module.subsystem.kernel_server => {
            o.line(format!(
                "if !mig_d.inline() {{ rt::DynamicIn::OutOfLine(mig_req.ool::<{e}>(mig_off, mig_n)) }} else {{"
            ));
            o.line(format!(
                "mig_rd.{copy}(mig_off, &mut mig_ibuf_{}[..mig_n]);",
                a.name
            ));
            o.line(format!(
                "rt::DynamicIn::Inline(&mig_ibuf_{}[..mig_n])",
                a.name
            ));
            o.line("}");
        }
        Shape::Dynamic { .. } => {
            o.line(format!(
                "if !mig_d.inline() {{ rt::Dynamic::OutOfLine(mig_req.ool::<{e}>(mig_off, mig_n)) }} else {{"
            ));
            o.line(format!(
                "mig_rd.{copy}(mig_off, &mut mig_ibuf_{}[..mig_n]);",
                a.name
            ));
            o.line("rt::Dynamic::Inline(mig_n)");
            o.line("}");
        }
        Shape::Ool => {
            o.line(format!("mig_req.ool::<{e}>(mig_off, mig_n)"));
        }
        Shape::RetCode => o.line("0"),
    }
}

fn fill_reply(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    rep: &Message<'_>,
    caps: &[(usize, String)],
) {
    let module = v.module();
    let t = v.target();
    let kernel = module.subsystem.kernel_server;
    let mm = if rep.variable { "mut " } else { "" };
    o.line(format!("let {mm}mig_size: u32 = {};", rep.fixed_size));
    if rep.runtime_complex() {
        o.line("let mut mig_complex = false;");
    }
    declare_shift(o, rep, rep.variable);
    for (k, d) in rep.data.iter().enumerate().skip(1) {
        let Some(ai) = d.arg else { continue };
        let a = &r.arguments[ai];
        let more = k + 1 < rep.data.len();
        let dealloc = dealloc_always(module, r, ai);
        let desc = d.desc_expr(false, dealloc);
        let out = format!("out_{}", a.name);
        let cap = caps
            .iter()
            .find(|(c, _)| *c == ai)
            .map(|c| c.1.clone())
            .unwrap_or_else(|| "0".into());
        match d.shape {
            Shape::Dynamic { .. } => {
                let dealloc_ool =
                    dealloc || a.dealloc == mig_ir::Dealloc::Default && a.count_in_out;
                write_dynamic(
                    o,
                    t,
                    d,
                    "Reply",
                    rep.variable,
                    &desc,
                    &DynamicSrc::Choice {
                        value: out.clone(),
                        buffer: format!("mig_obuf_{}[..{cap}]", a.name),
                        kernel,
                    },
                    dealloc_ool,
                    more,
                );
            }
            Shape::Ool => {
                let counted = matches!(module.ty(a.ty).count, Count::Variable { .. });
                write_ool(
                    o,
                    d,
                    "Reply",
                    rep.variable,
                    &desc,
                    &format!("{out}.{}()", if kernel { "token" } else { "address" }),
                    &format!("{out}.len()"),
                    None,
                    counted,
                );
                o.line(format!("let _ = {out}.into_raw();"));
            }
            _ => {
                let src = match d.shape {
                    Shape::Port if d.send_poly => out.clone(),
                    Shape::Port => format!("{out}{}", server_sent_port(d.name_in).1),
                    Shape::FixedString { .. } => format!("{out}.as_bytes()"),
                    Shape::FixedArray { .. } | Shape::PortArray { .. } => format!("&{out}"),
                    Shape::VarArray { .. } | Shape::VarString { .. } => {
                        format!("&mig_obuf_{}[..{out}.min({cap})]", a.name)
                    }
                    _ => out.clone(),
                };
                write_datum(o, t, d, "Reply", rep.variable, &desc, &src, "return;", more);
            }
        }
    }
    o.line("mig_w.set_size(mig_size);");
    if rep.always_complex() {
        o.line("mig_w.or_bits(rt::msg::MACH_MSGH_BITS_COMPLEX);");
    }
    if rep.runtime_complex() {
        o.line("if mig_complex { mig_w.or_bits(rt::msg::MACH_MSGH_BITS_COMPLEX); }");
    }
}

fn dispatch(o: &mut Out, v: &Validated) {
    let m = v.module();
    let base = m.subsystem.base;
    let slots = m.subsystem.slots;
    o.line(format!(
        "/// Checks and serves one request of subsystem `{}` (ids {base} to {}), writing the \
         reply header and return code into `reply` (at least [`MAX_REPLY_SIZE`] bytes). \
         Returns false for an id outside the subsystem (`MIG_BAD_ID`), as GNU MIG's demux.",
        m.subsystem.name,
        base as u64 + slots as u64 - 1
    ));
    o.line(format!("pub fn dispatch<S: Server + ?Sized>(server: &mut S, request: {}, reply: &mut [u8]) -> bool {{", request_type(v)));
    o.line("let mig_h = request.reader().header();");
    o.line("{");
    o.line("let mut mig_w = rt::Writer::new(reply);");
    o.line("mig_w.header(&rt::Header { msgh_bits: rt::msg::msgh_bits(rt::msg::msgh_bits_remote(mig_h.msgh_bits), 0), msgh_size: rt::msg::REPLY_HEADER_SIZE, msgh_remote_port: rt::PortSlot { name: mig_h.msgh_remote_port.name, upper: 0 }, msgh_local_port: rt::PortSlot::default(), msgh_seqno: 0, msgh_id: mig_h.msgh_id.wrapping_add(100) });");
    o.line("mig_w.desc(32, rt::TypeDesc::new(rt::msg::types::MACH_MSG_TYPE_INTEGER_32, 32, 1, true, false, false));");
    o.line("}");
    o.line(format!("match mig_h.msgh_id.wrapping_sub({base}) {{"));
    for r in &m.routines {
        o.line(format!(
            "{} => x_{}(server, request, reply),",
            r.number, r.name
        ));
    }
    o.line("_ => {");
    o.line(format!(
        "rt::Writer::new(reply).scalar::<i32>({RETCODE}, rt::error::MIG_BAD_ID);"
    ));
    o.line("return false;");
    o.line("}");
    o.line("}");
    o.line("true");
    o.line("}");
}
