//! A test aid: a `Server` whose every method forwards its arguments to the client function
//! of the same routine and returns what that returns. Put between a recorded request and a
//! recorded reply of another MIG, it shows that the Rust server decodes every request the way
//! the Rust client encodes it (and the reverse for replies), byte for byte.
//!
//! For a kernel-mode server (`KernelServer`), the loopback holds a `Resolve` value that turns
//! a request's out-of-line token into the buffer the client sends on (the test knows what its
//! tokens name); the client's out-of-line results go back as tokens naming their regions.

use mig_ir::{ArgumentKind, Routine, Validated};

use crate::codec::Out;
use crate::model::{messages, Datum, Shape};
use crate::names::ident;
use crate::sig::{received_port, sent_port, server_sent_port};

/// Text of a `loopback` module to place next to the stubs (`super::client`, `super::server`).
pub(crate) fn loopback_module(v: &Validated) -> String {
    let mut o = Out::default();
    o.line("/// A server that forwards every request to the client stubs (a test aid).");
    o.line("#[allow(clippy::all, unused_variables, non_snake_case, unused_parens)]");
    o.line("pub mod loopback {");
    o.line("use mach_rt as rt;");
    if v.module().subsystem.kernel_server {
        o.line("/// Turns a request's out-of-line token into the memory it names.");
        o.line("pub trait Resolve { fn buffer<E: rt::Scalar>(&mut self, token: rt::OolToken<E>) -> rt::OolBuffer<E>; }");
        o.line("pub struct Loopback<'a, T: rt::Transport + ?Sized, K: Resolve> { pub t: &'a mut T, pub reply: rt::PortName, pub reply_disposition: u32, pub k: K }");
        o.line("impl<T: rt::Transport + ?Sized, K: Resolve> super::server::Server for Loopback<'_, T, K> {");
    } else {
        o.line("pub struct Loopback<'a, T: rt::Transport + ?Sized> { pub t: &'a mut T, pub reply: rt::PortName, pub reply_disposition: u32 }");
        o.line("impl<T: rt::Transport + ?Sized> super::server::Server for Loopback<'_, T> {");
    }
    for (i, r) in v.module().routines.iter().enumerate() {
        method(&mut o, v, i, r);
    }
    o.line("}");
    o.line("}");
    o.text
}

/// Converts a port value of type `from` (a right wrapper or a name) to type `to`.
fn convert_port(value: &str, from: &str, to: &str) -> String {
    let name = if from.contains("Right") {
        format!("{value}.into_name()")
    } else {
        value.to_string()
    };
    match to.trim_start_matches('&') {
        "rt::PortName" => name,
        t => format!(
            "{}{t}::from_name({name})",
            if to.starts_with('&') { "&" } else { "" }
        ),
    }
}

fn method(o: &mut Out, v: &Validated, index: usize, r: &Routine) {
    let module = v.module();
    let (req, rep) = messages(v, index);
    // The server method's parameters, as the trait declares them (same order and names).
    let mut params = Vec::new();
    let mut call = vec!["self.t".to_string()];
    // Kernel mode: statements that turn tokens into buffers before the client call.
    let mut pre = Vec::new();
    for (i, a) in r.arguments.iter().enumerate() {
        let name = ident(&a.name);
        let ty = module.ty(a.ty);
        let poly_header = ty.name_out.is_polymorphic() || ty.name_in.is_polymorphic();
        match a.kind {
            ArgumentKind::RequestPort => {
                params.push(format!("{name}: rt::PortName"));
                if ty.name_in.is_polymorphic() {
                    call.push(format!("rt::Poly::new({name}, 19)"));
                } else {
                    call.push(convert_port(
                        &name,
                        "rt::PortName",
                        sent_port(ty.name_in.value).0,
                    ));
                }
            }
            ArgumentKind::ReplyPort | ArgumentKind::SReplyPort => {
                let st = if poly_header {
                    "rt::Poly"
                } else {
                    received_port(ty.name_out.value).0
                };
                params.push(format!("{name}: {st}"));
                if a.kind == ArgumentKind::ReplyPort {
                    if ty.name_in.is_polymorphic() {
                        call.push(format!("rt::Poly::new({name}.name, {name}.disposition)"));
                    } else if poly_header {
                        call.push(convert_port(
                            &format!("{name}.name"),
                            "rt::PortName",
                            sent_port(ty.name_in.value).0,
                        ));
                    } else {
                        call.push(convert_port(&name, st, sent_port(ty.name_in.value).0));
                    }
                }
            }
            ArgumentKind::UReplyPort => {
                if ty.name_in.is_polymorphic() {
                    call.push("rt::Poly::new(self.reply, self.reply_disposition)".into());
                } else {
                    call.push(convert_port(
                        "self.reply",
                        "rt::PortName",
                        sent_port(ty.name_in.value).0,
                    ));
                }
            }
            ArgumentKind::MsgSeqno => params.push(format!("{name}: u32")),
            ArgumentKind::WaitTime | ArgumentKind::MsgOption => call.push("0".into()),
            _ => {}
        }
        if a.kind.in_request() {
            if let Some(k) = req.datum_of(i) {
                let d = &req.data[k];
                let ct = crate::sig::in_type(module, r, i, d, false);
                if let Some(kt) = crate::server::kernel_type(v, r, i, d, false) {
                    params.push(format!("{name}: {kt}"));
                    let e = crate::model::element_type(module, ty);
                    if d.shape == Shape::Ool {
                        pre.push(format!("let {name} = self.k.buffer({name});"));
                        let st = format!("rt::OolBuffer<{e}>");
                        call.push(in_value(&name, d, &st, &ct));
                    } else {
                        pre.push(format!("let mig_b_{name}: rt::OolBuffer<{e}>;"));
                        pre.push(format!(
                            "let {name}: &[{e}] = match {name} {{ rt::DynamicIn::Inline(s) => s, rt::DynamicIn::OutOfLine(t) => {{ mig_b_{name} = self.k.buffer(t); mig_b_{name}.as_slice() }} }};"
                        ));
                        call.push(name.clone());
                    }
                } else {
                    let st = crate::sig::out_type(module, r, i, d, true);
                    params.push(format!("{name}: {st}"));
                    call.push(in_value(&name, d, &st, &ct));
                }
            }
        }
        if a.kind.in_reply() {
            if let Some(rep) = &rep {
                if let Some(k) = rep.datum_of(i) {
                    let d = &rep.data[k];
                    if let Some(b) = crate::sig::buffer_type(module, ty, d) {
                        params.push(format!("{name}: {b}"));
                        call.push(name.clone());
                    }
                }
            }
        }
    }
    let outs: Vec<(usize, &Datum<'_>)> = rep
        .as_ref()
        .map(|m| {
            m.data
                .iter()
                .skip(1)
                .filter_map(|d| d.arg.map(|a| (a, d)))
                .collect()
        })
        .unwrap_or_default();
    let server_rets: Vec<String> = outs
        .iter()
        .map(|(a, d)| {
            crate::server::kernel_type(v, r, *a, d, true)
                .unwrap_or_else(|| crate::sig::server_out_type(module, r, *a, d))
        })
        .collect();
    let ret = match server_rets.len() {
        0 => "()".to_string(),
        1 => server_rets[0].clone(),
        _ => format!("({})", server_rets.join(", ")),
    };
    o.line(format!(
        "fn {}(&mut self, {}) -> Result<{ret}, rt::Error> {{",
        ident(&r.name),
        params.join(", ")
    ));
    for l in &pre {
        o.line(l);
    }
    let names: Vec<String> = outs
        .iter()
        .map(|(a, _)| format!("o_{}", r.arguments[*a].name))
        .collect();
    let pattern = match names.len() {
        0 => "()".to_string(),
        1 => names[0].clone(),
        _ => format!("({})", names.join(", ")),
    };
    o.line(format!(
        "let {pattern} = super::client::{}({})?;",
        ident(&r.name),
        call.join(", ")
    ));
    let values: Vec<String> = outs
        .iter()
        .zip(&names)
        .map(|((a, d), n)| {
            if module.subsystem.kernel_server {
                kernel_out_value(n, d).unwrap_or_else(|| out_value(n, d, module, r, *a))
            } else {
                out_value(n, d, module, r, *a)
            }
        })
        .collect();
    match values.len() {
        0 => o.line("Ok(())"),
        1 => o.line(format!("Ok({})", values[0])),
        _ => o.line(format!("Ok(({}))", values.join(", "))),
    }
    o.line("}");
}

/// A request value as the server received it, as the client function takes it.
fn in_value(name: &str, d: &Datum<'_>, server_ty: &str, client_ty: &str) -> String {
    match d.shape {
        Shape::Port if d.send_poly || d.recv_poly => {
            if server_ty == "rt::Poly" && client_ty == "rt::Poly" {
                name.to_string()
            } else if server_ty == "rt::Poly" {
                convert_port(&format!("{name}.name"), "rt::PortName", client_ty)
            } else {
                format!(
                    "rt::Poly::new({}, {})",
                    convert_port(name, server_ty, "rt::PortName"),
                    d.name_out
                )
            }
        }
        Shape::Port => convert_port(name, server_ty, client_ty),
        Shape::Ool => {
            if client_ty.starts_with("rt::OolBuffer") {
                name.to_string()
            } else if client_ty.starts_with("rt::OolData") {
                format!("rt::OolData::Borrowed({name}.as_slice())")
            } else {
                format!("{name}.as_slice()")
            }
        }
        _ => name.to_string(),
    }
}

/// A reply value as the client function returned it, as the server method returns it.
fn out_value(name: &str, d: &Datum<'_>, module: &mig_ir::Module, r: &Routine, a: usize) -> String {
    match d.shape {
        Shape::Port if d.send_poly && d.recv_poly => name.to_string(),
        Shape::Port if d.send_poly => format!(
            "rt::Poly::new({}, {})",
            convert_port(name, received_port(d.name_out).0, "rt::PortName"),
            d.name_out
        ),
        Shape::Port if d.recv_poly => convert_port(
            &format!("{name}.name"),
            "rt::PortName",
            server_sent_port(d.name_in).0,
        ),
        Shape::Port => convert_port(
            name,
            received_port(d.name_out).0,
            server_sent_port(d.name_in).0,
        ),
        _ => {
            let _ = (module, r, a);
            name.to_string()
        }
    }
}

/// Kernel mode: a client's out-of-line result as a token naming its region.
fn kernel_out_value(name: &str, d: &Datum<'_>) -> Option<String> {
    match d.shape {
        Shape::Ool => Some(format!(
            "{{ let (a, n) = {name}.into_raw(); rt::OolToken::new(a, n) }}"
        )),
        Shape::Dynamic { .. } => Some(format!(
            "match {name} {{ rt::Dynamic::Inline(n) => rt::DynamicOut::Inline(n), rt::Dynamic::OutOfLine(b) => {{ let (a, n) = b.into_raw(); rt::DynamicOut::OutOfLine(rt::OolToken::new(a, n)) }} }}"
        )),
        _ => None,
    }
}
