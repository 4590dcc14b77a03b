//! The `client` module: one function per routine that builds the request in a message buffer,
//! sends it through a `Transport`, and checks and returns the reply, as strictly as GNU MIG's
//! user stubs.

use mig_ir::{ArgumentKind, Count, Routine, Storage, Validated};

use crate::codec::{check_datum, write_datum, write_dynamic, write_ool, DynamicSrc, Out};
use crate::model::{dealloc_always, messages, Datum, Message, Shape};
use crate::names::ident;
use crate::sig::{buffer_type, client_header_port, in_type, out_type, sent_port};

pub(crate) fn client_module(o: &mut Out, v: &Validated) {
    o.line("/// Client stubs: one function per routine, generic over the transport.");
    o.line("#[allow(clippy::too_many_arguments, clippy::type_complexity, clippy::needless_borrow, clippy::identity_op, unused_parens, unused_assignments, non_snake_case, missing_docs)]");
    o.line("pub mod client {");
    o.line("use mach_rt as rt;");
    for (i, r) in v.module().routines.iter().enumerate() {
        routine(o, v, i, r);
    }
    o.line("}");
}

fn arg_name(r: &Routine, i: usize) -> String {
    ident(&r.arguments[i].name)
}

/// A client function's parameters (after the transport) and results (name, type).
struct Signature {
    params: Vec<String>,
    results: Vec<(String, String)>,
}

impl Signature {
    fn ret(&self) -> String {
        match self.results.len() {
            0 => "()".to_string(),
            1 => self.results[0].1.clone(),
            _ => format!(
                "({})",
                self.results
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn signature(
    v: &Validated,
    r: &Routine,
    req: &Message<'_>,
    rep: Option<&Message<'_>>,
) -> Signature {
    let module = v.module();
    let mut params = vec!["mig_t: &mut T".to_string()];
    let mut results: Vec<(String, String)> = Vec::new();
    for (i, a) in r.arguments.iter().enumerate() {
        let name = arg_name(r, i);
        let ty = module.ty(a.ty);
        match a.kind {
            ArgumentKind::RequestPort | ArgumentKind::ReplyPort | ArgumentKind::UReplyPort => {
                params.push(format!("{name}: {}", client_header_port(ty).0));
            }
            ArgumentKind::WaitTime | ArgumentKind::MsgOption => {
                params.push(format!("{name}: u32"));
            }
            _ => {}
        }
        if a.kind.in_request() {
            if let Some(k) = req.datum_of(i) {
                params.push(format!(
                    "{name}: {}",
                    in_type(module, r, i, &req.data[k], false)
                ));
            }
        }
        if a.kind.in_reply() {
            if let Some(d) = rep.and_then(|m| m.datum_of(i).map(|k| &m.data[k])) {
                if let Some(b) = buffer_type(module, ty, d) {
                    params.push(format!("{name}: {b}"));
                }
                results.push((format!("out_{}", a.name), out_type(module, r, i, d, false)));
            }
        }
    }
    Signature { params, results }
}

fn routine(o: &mut Out, v: &Validated, index: usize, r: &Routine) {
    let (req, rep) = messages(v, index);
    let sig = signature(v, r, &req, rep.as_ref());
    let kind = if r.is_simple() {
        "Simple routine"
    } else {
        "Routine"
    };
    o.line(format!(
        "/// {kind} `{}` (request id {}).",
        r.name, r.msgh_id
    ));
    o.line(format!(
        "pub fn {}<T: rt::Transport + ?Sized>({}) -> Result<{}, rt::Error> {{",
        ident(&r.name),
        sig.params.join(", "),
        sig.ret()
    ));
    let m = ident(&r.name);
    if rep.is_some() {
        o.line(format!("use super::messages::{m}::{{Request, Reply}};"));
        o.line("const MIG_BUF: usize = rt::max(core::mem::size_of::<Request>(), core::mem::size_of::<Reply>());");
    } else {
        o.line(format!("use super::messages::{m}::Request;"));
        o.line("const MIG_BUF: usize = core::mem::size_of::<Request>();");
    }
    o.line("let mut mig_buf = rt::MsgBuf::<MIG_BUF>::new();");
    let own_reply = build_request(o, v, r, &req);
    let (option, timeout) = options(r);
    let Some(rep) = rep else {
        o.line(format!(
            "rt::transport::send(mig_t, mig_buf.bytes_mut(), mig_size, {option}, {timeout})"
        ));
        o.line("}");
        return;
    };
    o.line(format!(
        "let mig_r = rt::transport::rpc(mig_t, mig_buf.bytes_mut(), mig_size, mig_reply_port, {own_reply}, {}, {option}, {timeout})?;",
        r.reply_msgh_id.unwrap_or(r.msgh_id + 100)
    ));
    read_reply(o, v, r, &rep, &sig.results);
    o.line("}");
}

/// The header ports, the body and the header of the request. Returns whether the reply port
/// comes from the transport (`mig_get_reply_port`).
fn build_request(o: &mut Out, v: &Validated, r: &Routine, req: &Message<'_>) -> bool {
    let reply_arg = r
        .arguments
        .iter()
        .position(|a| matches!(a.kind, ArgumentKind::ReplyPort | ArgumentKind::UReplyPort));
    let own_reply = reply_arg.is_none() && !r.is_simple();
    let (reply_name, reply_disp) = match reply_arg {
        Some(i) => header_port(v, r, i),
        None if r.is_simple() => ("rt::PortName::NULL".to_string(), "0".to_string()),
        None => (
            "mig_t.get_reply_port()".to_string(),
            "rt::msg::types::MACH_MSG_TYPE_MAKE_SEND_ONCE".to_string(),
        ),
    };
    let (request_name, request_disp) = match r.request_port() {
        Some(i) => header_port(v, r, i),
        None => ("rt::PortName::NULL".to_string(), "0".to_string()),
    };
    o.line(format!(
        "let mig_request_port: rt::PortName = {request_name};"
    ));
    o.line(format!("let mig_reply_port: rt::PortName = {reply_name};"));
    let mut_size = if req.variable { "mut " } else { "" };
    o.line(format!("let {mut_size}mig_size: u32 = {};", req.fixed_size));
    if req.runtime_complex() {
        o.line("let mut mig_complex = false;");
    }
    o.line("{");
    o.line("let mut mig_w = mig_buf.writer();");
    declare_shift(o, req, req.variable);
    write_request(o, v, r, req);
    let complex = if req.always_complex() {
        " | rt::msg::MACH_MSGH_BITS_COMPLEX"
    } else {
        ""
    };
    o.line(format!(
        "mig_w.header(&rt::Header {{ msgh_bits: rt::msg::msgh_bits({request_disp}, {reply_disp}){complex}, msgh_size: mig_size, msgh_remote_port: rt::PortSlot {{ name: mig_request_port, upper: 0 }}, msgh_local_port: rt::PortSlot {{ name: mig_reply_port, upper: 0 }}, msgh_seqno: 0, msgh_id: {} }});",
        r.msgh_id
    ));
    if req.runtime_complex() {
        o.line("if mig_complex { mig_w.or_bits(rt::msg::MACH_MSGH_BITS_COMPLEX); }");
    }
    o.line("}");
    own_reply
}

/// The `mach_msg` options and timeout expressions (`waittime`, `msgoption`).
fn options(r: &Routine) -> (String, String) {
    let option = r
        .arguments
        .iter()
        .find(|a| a.kind == ArgumentKind::MsgOption)
        .map(|a| ident(&a.name))
        .or_else(|| r.msg_option.as_deref().map(c_constant))
        .unwrap_or_else(|| "0".into());
    let timeout = r
        .arguments
        .iter()
        .find(|a| a.kind == ArgumentKind::WaitTime)
        .map(|a| format!("Some({})", ident(&a.name)))
        .or_else(|| {
            r.wait_time
                .as_deref()
                .map(|w| format!("Some({})", c_constant(w)))
        })
        .unwrap_or_else(|| "None".into());
    (option, timeout)
}

/// A C constant of a `msgoption`/`waittime` statement as Rust.
fn c_constant(s: &str) -> String {
    match s {
        "MACH_MSG_OPTION_NONE" => "0".into(),
        "MACH_SEND_INTERRUPT" => "0x40".into(),
        "MACH_RCV_INTERRUPT" => "0x400".into(),
        "MACH_SEND_NOTIFY" => "0x80".into(),
        "MACH_MSG_TIMEOUT_NONE" => "0".into(),
        other => other.to_string(),
    }
}

/// The name and disposition expressions of a header port argument.
fn header_port(v: &Validated, r: &Routine, i: usize) -> (String, String) {
    let a = &r.arguments[i];
    let ty = v.module().ty(a.ty);
    let name = ident(&a.name);
    let (_, get) = client_header_port(ty);
    if ty.name_in.is_polymorphic() {
        (format!("{name}.name"), format!("{name}.disposition"))
    } else {
        (
            format!("{name}{get}"),
            crate::model::type_name_expr(&ty.name_in),
        )
    }
}

pub(crate) fn declare_shift(o: &mut Out, m: &Message<'_>, variable: bool) {
    if !variable {
        return;
    }
    let mutable = m
        .data
        .iter()
        .enumerate()
        .any(|(k, d)| d.variable() && k + 1 < m.data.len());
    if mutable {
        o.line("let mut mig_shift: usize = 0;");
    } else {
        o.line("let mig_shift: usize = 0;");
    }
}

fn write_request(o: &mut Out, v: &Validated, r: &Routine, req: &Message<'_>) {
    let module = v.module();
    let t = v.target();
    for (k, d) in req.data.iter().enumerate() {
        let Some(ai) = d.arg else { continue };
        let a = &r.arguments[ai];
        let more = k + 1 < req.data.len();
        let dealloc = dealloc_always(module, r, ai);
        let desc = d.desc_expr(false, dealloc);
        let name = ident(&a.name);
        if a.kind == ArgumentKind::Count {
            // CountInOut: the caller's buffer size, at most the array's maximum.
            let p = a.parent.unwrap_or(0);
            let parent = &r.arguments[p];
            let pty = module.ty(parent.ty);
            let buf = ident(&parent.name);
            let src = match (pty.count, pty.storage) {
                (Count::Variable { max: Some(m) }, Storage::Inline) => {
                    format!("{buf}.len().min({m}) as u32")
                }
                _ => format!("{buf}.len() as u32"),
            };
            write_datum(o, t, d, "Request", req.variable, &desc, &src, "", more);
            continue;
        }
        let src = match d.shape {
            Shape::Port if d.send_poly => name.clone(),
            Shape::Port => format!("{name}{}", sent_port(d.name_in).1),
            _ => name.clone(),
        };
        match d.shape {
            Shape::Dynamic { .. } => write_dynamic(
                o,
                t,
                d,
                "Request",
                req.variable,
                &desc,
                &DynamicSrc::Slice(src),
                false,
                more,
            ),
            Shape::Ool => {
                let counted = matches!(module.ty(a.ty).count, Count::Variable { .. });
                let variable_dealloc = a.dealloc == mig_ir::Dealloc::Variable;
                let (addr, len) = if dealloc || variable_dealloc {
                    (format!("{name}.address()"), format!("{name}.len()"))
                } else {
                    (
                        format!("{name}.as_ptr() as usize as u64"),
                        format!("{name}.len()"),
                    )
                };
                if !counted {
                    if let mig_ir::Count::Fixed(n) = module.ty(a.ty).count {
                        o.line(format!(
                            "if {len} != {n} {{ return Err(rt::Error::ARRAY_TOO_LARGE); }}"
                        ));
                    }
                }
                let dl = variable_dealloc.then(|| format!("{name}.deallocate()"));
                write_ool(
                    o,
                    d,
                    "Request",
                    req.variable,
                    &desc,
                    &addr,
                    &len,
                    dl.as_deref(),
                    counted,
                );
                if variable_dealloc {
                    // An owned buffer is moved out of the task with the message.
                    o.line(format!(
                        "if let rt::OolData::Owned(b) = {name} {{ let _ = b.into_raw(); }}"
                    ));
                } else if dealloc {
                    o.line(format!("let _ = {name}.into_raw();"));
                }
            }
            _ => write_datum(
                o,
                t,
                d,
                "Request",
                req.variable,
                &desc,
                &src,
                "return Err(rt::Error::ARRAY_TOO_LARGE);",
                more,
            ),
        }
    }
}

fn read_reply(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    rep: &Message<'_>,
    results: &[(String, String)],
) {
    let t = v.target();
    let fixed = rep.fixed_size;
    o.line("let mig_rd = mig_r.reader();");
    o.line("let mig_h = mig_rd.header();");
    o.line("let mig_simple = mig_h.msgh_bits & rt::msg::MACH_MSGH_BITS_COMPLEX == 0;");
    o.line("let mig_ret: i32 = mig_rd.scalar(core::mem::offset_of!(Reply, RetCode));");
    let fail = "return Err(rt::Error::TYPE_ERROR);";
    if rep.data.len() == 1 {
        o.line(format!(
            "if !mig_simple || mig_h.msgh_size != {fixed} {{ {fail} }}"
        ));
    } else {
        let nvar = rep.data.iter().filter(|d| d.variable()).count();
        let m = if nvar > 1 { "mut " } else { "" };
        o.line(format!("let {m}mig_size: u32 = mig_h.msgh_size;"));
        let cmp = if rep.variable { "<" } else { "!=" };
        let bits = if rep.always_complex() {
            " || mig_simple"
        } else if rep.maybe_complex() {
            ""
        } else {
            " || !mig_simple"
        };
        let first = if bits.is_empty() {
            format!("mig_size {cmp} {fixed}")
        } else {
            format!("(mig_size {cmp} {fixed}{bits})")
        };
        o.line(format!(
            "if {first} && (mig_size != rt::msg::REPLY_HEADER_SIZE || !mig_simple || mig_ret == 0) {{ {fail} }}"
        ));
    }
    o.line(format!(
        "if mig_rd.desc(core::mem::offset_of!(Reply, RetCodeType)) != rt::TypeDesc::new(rt::msg::types::MACH_MSG_TYPE_INTEGER_32, 32, 1, true, false, false) {{ {fail} }}"
    ));
    if rep.data.len() == 1 {
        o.line("rt::Error::check(mig_ret)");
        return;
    }
    o.line("rt::Error::check(mig_ret)?;");
    declare_shift(o, rep, rep.variable);
    let last_var = rep.data.iter().rposition(|d| d.variable());
    for (k, d) in rep.data.iter().enumerate().skip(1) {
        let Some(ai) = d.arg else { continue };
        let a = &r.arguments[ai];
        o.line(format!("let out_{} = {{", a.name));
        check_datum(
            o,
            t,
            d,
            "Reply",
            rep.variable,
            fixed,
            Some(k) == last_var,
            fail,
            true,
            k + 1 < rep.data.len(),
        );
        extract_client(o, v, r, ai, d);
        o.line("};");
    }
    match results.len() {
        0 => o.line("Ok(())"),
        1 => o.line(format!("Ok({})", results[0].0)),
        _ => o.line(format!(
            "Ok(({}))",
            results
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The value of a reply datum, as the client function returns it.
fn extract_client(o: &mut Out, v: &Validated, r: &Routine, ai: usize, d: &Datum<'_>) {
    let module = v.module();
    let ty = module.ty(r.arguments[ai].ty);
    let e = crate::model::element_type(module, ty);
    let buf = ident(&r.arguments[ai].name);
    let copy = if d.port { "ports" } else { "scalars" };
    match d.shape {
        Shape::Port if d.recv_poly => {
            o.line("rt::Poly::new(mig_rd.port(mig_off), mig_d.name())");
        }
        Shape::Port => {
            let (_, ctor) = crate::sig::received_port(d.name_out);
            o.line(format!("{ctor}(mig_rd.port(mig_off))"));
        }
        Shape::Value => {
            let vt = crate::model::value_type(module, ty);
            o.line(format!("mig_rd.scalar::<{vt}>(mig_off)"));
        }
        Shape::FixedString { max } => {
            o.line(format!(
                "rt::FixedString::<{max}>::new(mig_rd.bytes(mig_off, {max}))"
            ));
        }
        Shape::FixedArray { n, .. } => {
            o.line(format!("mig_rd.scalar::<[{e}; {n}]>(mig_off)"));
        }
        Shape::PortArray { n } => {
            o.line(format!("let mut mig_a = [rt::PortName::NULL; {n}];"));
            o.line("mig_rd.ports(mig_off, &mut mig_a);");
            o.line("mig_a");
        }
        Shape::VarArray { max } | Shape::VarString { max } => {
            o.line(format!(
                "if mig_n > {max} {{ return Err(rt::Error::TYPE_ERROR); }}"
            ));
            o.line(format!(
                "if mig_n > {buf}.len() {{ mig_rd.{copy}(mig_off, {buf}); return Err(rt::Error::ARRAY_TOO_LARGE); }}"
            ));
            o.line(format!("mig_rd.{copy}(mig_off, &mut {buf}[..mig_n]);"));
            o.line("mig_n");
        }
        Shape::Dynamic { max } => {
            o.line(format!(
                "if !mig_d.inline() {{ rt::Dynamic::OutOfLine(mig_r.ool::<{e}>(mig_off, mig_n)) }} else {{"
            ));
            o.line(format!(
                "if mig_n > {max} {{ return Err(rt::Error::TYPE_ERROR); }}"
            ));
            o.line(format!(
                "if mig_n > {buf}.len() {{ return Err(rt::Error::ARRAY_TOO_LARGE); }}"
            ));
            o.line(format!("mig_rd.{copy}(mig_off, &mut {buf}[..mig_n]);"));
            o.line("rt::Dynamic::Inline(mig_n)");
            o.line("}");
        }
        Shape::Ool => {
            o.line(format!("mig_r.ool::<{e}>(mig_off, mig_n)"));
        }
        Shape::RetCode => o.line("mig_ret"),
    }
}
