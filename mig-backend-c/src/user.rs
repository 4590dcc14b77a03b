//! The client stubs (`-user`): one function per routine that builds the request, sends it,
//! waits for the reply, checks it and copies the results out.

use mig_ir::{ArgumentKind, Routine, Validated};

use crate::checks::port_loop;
use crate::msg::{dealloc_always, element_ctype, messages, Datum, Message, Shape, Side};
use crate::writer::{
    banner, desc_fields, descriptor_const, imports, message_struct, padded_bytes, param_block,
    params, port_name, prologue, received_name, sent_name, static_assert, type_size_assert,
    user_function, wide_ports, Out,
};
use crate::Options;

/// The user file: every routine, or only routine `only` (`-i`).
pub(crate) fn user_source(v: &Validated, opts: &Options, only: Option<usize>) -> String {
    let m = v.module();
    let mut o = Out::for_routines(v.module().routines.len());
    banner(&mut o, m, "User stubs");
    o.line("#ifndef _GNU_SOURCE");
    o.line("#define _GNU_SOURCE 1");
    o.line("#endif");
    o.blank();
    if let Some(h) = &opts.user_header_name {
        o.line(format!("#include \"{h}\""));
    }
    prologue(&mut o, v.target(), false);
    imports(&mut o, m, Side::User);
    for (i, r) in m.routines.iter().enumerate() {
        if only.is_some_and(|k| k != i) {
            continue;
        }
        routine(&mut o, v, opts, i, r);
        o.blank();
    }
    o.text
}

/// Facts about a routine's user stub.
struct Stub<'a> {
    v: &'a Validated,
    r: &'a Routine,
    opts: &'a Options,
    /// The reply port expression and whether the stub owns it (`mig_get_reply_port`).
    reply_port: String,
    own_reply_port: bool,
    /// A `KernelUser` RPC without a reply port argument: the kernel's send-and-receive call
    /// picks the reply port; a mismatched reply still releases the header's (GNU MIG's code).
    kernel_rpc: bool,
}

impl Stub<'_> {
    fn subr(&self, f: &str) -> String {
        format!("{}{f}", self.opts.subr_prefix)
    }
    /// The C expression of argument `i`'s value (dereferenced when passed by pointer).
    fn value(&self, i: usize) -> String {
        let a = &self.r.arguments[i];
        let ty = self.v.module().ty(a.ty);
        let by_pointer = a.kind == ArgumentKind::InOut && !crate::writer::is_c_array(ty);
        let count_by_pointer = a.kind == ArgumentKind::Count
            && a.parent
                .is_some_and(|p| self.r.arguments[p].kind != ArgumentKind::In);
        if by_pointer || count_by_pointer {
            format!("(*{})", a.name)
        } else {
            a.name.clone()
        }
    }
    fn count_arg(&self, d: &Datum<'_>) -> Option<String> {
        let a = &self.r.arguments[d.arg?];
        a.count.map(|c| self.r.arguments[c].name.clone())
    }
}

fn routine(o: &mut Out, v: &Validated, opts: &Options, index: usize, r: &Routine) {
    let t = v.target();
    let (req, rep) = messages(v, index);
    let kind = if r.is_simple() {
        "SimpleRoutine"
    } else {
        "Routine"
    };
    o.line(format!("/* {kind} {} */", r.name));
    o.line(format!(
        "mig_external kern_return_t {}",
        user_function(r, opts)
    ));
    param_block(o, &params(v, r, Side::User));
    o.text.push('\n');
    o.open("{");
    message_struct(o, v, r, &req, Side::User, "Request");
    o.blank();
    if let Some(rep) = &rep {
        message_struct(o, v, r, rep, Side::User, "Reply");
        o.blank();
    }
    o.open("union {");
    o.line("Request In;");
    if rep.is_some() {
        o.line("Reply Out;");
    }
    o.close("} Mess;");
    o.blank();
    o.line("Request *InP = &Mess.In;");
    if rep.is_some() {
        o.line("Reply *OutP = &Mess.Out;");
        o.line("mach_msg_return_t msg_result;");
    }
    let reply_arg = r
        .arguments
        .iter()
        .find(|a| matches!(a.kind, ArgumentKind::ReplyPort | ArgumentKind::UReplyPort));
    let (reply_port, own_reply_port) = match (reply_arg, r.is_simple()) {
        (Some(a), _) => (a.name.clone(), false),
        (None, true) => ("MACH_PORT_NULL".to_string(), false),
        // `mach_msg_rpc_from_kernel` supplies the kernel's own reply port.
        (None, false) if crate::msg::kernel(Side::User) => ("MACH_PORT_NULL".to_string(), false),
        (None, false) => (format!("{}mig_get_reply_port()", opts.subr_prefix), true),
    };
    let kernel_rpc = crate::msg::kernel(Side::User) && reply_arg.is_none() && !r.is_simple();
    let s = Stub {
        v,
        r,
        opts,
        reply_port,
        own_reply_port,
        kernel_rpc,
    };
    let rep_variable = rep.as_ref().is_some_and(|m| m.variable);
    let rep_checks_size = rep.as_ref().is_some_and(|m| m.data.len() > 1);
    if req.variable || rep_variable || rep_checks_size {
        o.line("unsigned int msgh_size;");
    }
    let any_var = req
        .data
        .iter()
        .chain(rep.iter().flat_map(|m| m.data.iter()));
    if any_var.clone().any(|d| d.variable()) {
        o.line("uint64_t msgh_size_delta;");
    }
    let rep_may_be_complex = rep
        .as_ref()
        .is_some_and(|m| m.always_complex() || m.maybe_complex());
    let simple_needed = req.runtime_complex() || (rep_checks_size && rep_may_be_complex);
    if simple_needed {
        o.line("boolean_t msgh_simple;");
    }
    o.blank();
    for d in &req.data {
        let dealloc = d.arg.is_some_and(|a| dealloc_always(v.module(), r, a));
        descriptor_const(o, t, d, &format!("{}Type", d.name), &sent_name(d), dealloc);
        type_size_assert(o, t, d, Side::User);
        o.blank();
    }
    if let Some(rep) = &rep {
        for d in &rep.data {
            if !d.quick_checked() {
                continue;
            }
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
    if req.runtime_complex() {
        o.line("msgh_simple = TRUE;");
    }
    if req.variable {
        o.line(format!("msgh_size = {};", req.fixed_size));
    }
    let last_var = req.data.iter().rposition(|d| d.variable());
    for (k, d) in req.data.iter().enumerate() {
        send_datum(o, &s, d);
        if d.variable() {
            o.line("msgh_size += msgh_size_delta;");
            if last_var.is_some_and(|l| k < l) || k + 1 < req.data.len() {
                o.line(format!(
                    "InP = (Request *) ((char *) InP + msgh_size_delta - {});",
                    d.data_max + d.pad_max
                ));
            }
        }
        o.blank();
    }
    if req.variable && req.data.iter().any(|d| d.variable()) {
        o.line("InP = &Mess.In;");
    }
    header(o, &s, &req);
    let size = if req.variable {
        "msgh_size".to_string()
    } else {
        static_assert(o, "Request", req.fixed_size);
        req.fixed_size.to_string()
    };
    o.line(format!("InP->Head.msgh_size = {size};"));
    o.blank();
    send(o, &s, &size, rep.is_some());
    if let Some(rep) = &rep {
        receive(o, &s, rep);
    }
    o.close("}");
}

/// The request header.
fn header(o: &mut Out, s: &Stub<'_>, req: &Message<'_>) {
    let r = s.r;
    let module = s.v.module();
    let disposition = |i: usize| -> String {
        let a = &r.arguments[i];
        match a.poly.filter(|_| module.ty(a.ty).name_in.is_polymorphic()) {
            Some(p) => r.arguments[p].name.clone(),
            None => {
                let ty = module.ty(a.ty);
                ty.name_in
                    .symbol
                    .clone()
                    .unwrap_or_else(|| ty.name_in.value.to_string())
            }
        }
    };
    let request = r.request_port().map(&disposition).unwrap_or("0".into());
    let request_name = r
        .request_port()
        .map(|i| r.arguments[i].name.clone())
        .unwrap_or_else(|| "MACH_PORT_NULL".into());
    let reply = match r
        .arguments
        .iter()
        .position(|a| matches!(a.kind, ArgumentKind::ReplyPort | ArgumentKind::UReplyPort))
    {
        Some(i) => disposition(i),
        None if r.is_simple() => "0".into(),
        None => "MACH_MSG_TYPE_MAKE_SEND_ONCE".into(),
    };
    let complex = if req.always_complex() {
        "MACH_MSGH_BITS_COMPLEX | "
    } else {
        ""
    };
    o.line(format!(
        "InP->Head.msgh_bits = {complex}MACH_MSGH_BITS({request}, {reply});"
    ));
    if req.runtime_complex() {
        o.line("if (!msgh_simple)");
        o.line("\tInP->Head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;");
    }
    if crate::msg::kernel(Side::User) && request_name != "MACH_PORT_NULL" {
        // The kernel's `ipc_port_t` goes into the header's name field.
        o.line(format!(
            "InP->Head.msgh_request_port = (mach_port_t) {request_name};"
        ));
    } else {
        o.line(format!("InP->Head.msgh_request_port = {request_name};"));
    }
    o.line(format!("InP->Head.msgh_reply_port = {};", s.reply_port));
    o.line("InP->Head.msgh_seqno = 0;");
    o.line(format!("InP->Head.msgh_id = {};", r.msgh_id));
}

/// Fills one datum of the request.
fn send_datum(o: &mut Out, s: &Stub<'_>, d: &Datum<'_>) {
    let t = s.v.target();
    let Some(ai) = d.arg else { return };
    let a = &s.r.arguments[ai];
    let n = &d.name;
    o.line(format!("InP->{n}Type = {n}Type;"));
    let [number, name_f, _, inline_f, dealloc_f] = desc_fields(d, &format!("InP->{n}Type"));
    if let Some(p) = d.poly {
        let poly = &s.r.arguments[p].name;
        o.line(format!("if (MACH_MSG_TYPE_PORT_ANY({poly}))"));
        o.line("\tmsgh_simple = FALSE;");
        o.line(format!("{name_f} = {poly};"));
    }
    if let Some(dl) = a.dealloc_arg {
        o.line(format!("{dealloc_f} = {};", s.r.arguments[dl].name));
    }
    let value = s.value(ai);
    let ratio = d.ty.map(|t| t.element_number).unwrap_or(1);
    let times = |c: &str| {
        if ratio == 1 {
            c.to_string()
        } else {
            format!("{ratio} * {c}")
        }
    };
    match d.shape {
        Shape::RetCode => {}
        Shape::Port => {
            if wide_ports(t) {
                o.line(format!("InP->{n}.kernel_port_do_not_use = 0;"));
            }
            o.line(format!("{} = {value};", port_name(t, &format!("InP->{n}"))));
        }
        Shape::Value => {
            if a.kind == ArgumentKind::Count {
                // CountInOut: the caller's buffer size, at most the array's maximum.
                let parent = a.parent.map(|p| &s.r.arguments[p]);
                let max = parent.and_then(|p| match s.v.module().ty(p.ty).count {
                    mig_ir::Count::Variable { max } => max,
                    _ => None,
                });
                match max {
                    Some(m)
                        if s.v.module().ty(parent.unwrap().ty).storage
                            == mig_ir::Storage::Inline =>
                    {
                        o.line(format!("if ({value} < {m})"));
                        o.line(format!("\tInP->{n} = {value};"));
                        o.line("else");
                        o.line(format!("\tInP->{n} = {m};"));
                    }
                    _ => o.line(format!("InP->{n} = {value};")),
                }
            } else {
                o.line(format!("InP->{n} = {value};"));
            }
        }
        Shape::FixedString { max } => {
            o.line(format!(
                "(void) {}mig_strncpy(InP->{n}, {value}, {max});",
                s.opts.subr_prefix
            ));
        }
        Shape::FixedArray { bytes, .. } => {
            o.line(format!("__builtin_memcpy(InP->{n}, {value}, {bytes});"));
        }
        Shape::PortArray { n: count } => {
            port_loop(o, t, &format!("InP->{n}"), &value, &count.to_string(), true);
        }
        Shape::VarArray { max } => {
            let cnt = s
                .count_arg(d)
                .map(|c| s.value_of_name(&c))
                .unwrap_or("0".into());
            o.line(format!("if ({cnt} > {max})"));
            o.line("\treturn MIG_ARRAY_TOO_LARGE;");
            if d.port {
                port_loop(o, t, &format!("InP->{n}"), &value, &cnt, true);
            } else {
                o.line(format!("if ({cnt})"));
                o.line(format!(
                    "\t__builtin_memcpy(InP->{n}, {value}, {} * {cnt});",
                    d.elem_bytes
                ));
            }
            o.line(format!("{number} = {};", times(&cnt)));
            o.line(format!("msgh_size_delta = {};", padded_bytes(t, d, &cnt)));
        }
        Shape::VarString { max } => {
            o.open("{");
            o.line("mach_msg_type_number_t i = 0;");
            o.line(format!("while (i + 1 < {max} && {value}[i] != '\\0') {{"));
            o.line(format!("\tInP->{n}[i] = {value}[i];"));
            o.line("\ti++;");
            o.line("}");
            o.line(format!("InP->{n}[i++] = '\\0';"));
            o.line(format!("{number} = i;"));
            o.line(format!("msgh_size_delta = {};", padded_bytes(t, d, "i")));
            o.close("}");
        }
        Shape::Dynamic { max } => {
            let cnt = s
                .count_arg(d)
                .map(|c| s.value_of_name(&c))
                .unwrap_or("0".into());
            o.line(format!("if ({cnt} > {max}) {{"));
            o.line(format!("\t{inline_f} = FALSE;"));
            if d.port && d.size_bits != t.port_name.size * 8 {
                let [_, _, size_f, _, _] = desc_fields(d, &format!("InP->{n}Type"));
                o.line(format!("\t{size_f} = {};", t.port_name.size * 8));
            }
            o.line(format!("\tInP->{n}P = {value};"));
            o.line("\tmsgh_simple = FALSE;");
            o.line(format!(
                "\tmsgh_size_delta = sizeof({} *);",
                element_ctype(s.v.module(), d.ty.expect("typed"), Side::User)
            ));
            o.line("} else {");
            o.depth += 1;
            if d.port {
                o.line("msgh_simple = FALSE;");
                port_loop(o, t, &format!("InP->{n}"), &value, &cnt, true);
            } else {
                o.line(format!("if ({cnt})"));
                o.line(format!(
                    "\t__builtin_memcpy(InP->{n}, {value}, {} * {cnt});",
                    d.elem_bytes
                ));
            }
            o.line(format!("msgh_size_delta = {};", padded_bytes(t, d, &cnt)));
            o.close("}");
            o.line(format!("{number} = {};", times(&cnt)));
        }
        Shape::Ool => {
            o.line(format!("InP->{n} = {value};"));
            if let Some(c) = s.count_arg(d) {
                let cnt = s.value_of_name(&c);
                o.line(format!("{number} = {};", times(&cnt)));
            }
        }
    }
}

impl Stub<'_> {
    /// The value of the argument called `name`.
    fn value_of_name(&self, name: &str) -> String {
        match self.r.arguments.iter().position(|a| a.name == name) {
            Some(i) => self.value(i),
            None => name.to_string(),
        }
    }
}

/// `mach_msg` and the handling of its result.
fn send(o: &mut Out, s: &Stub<'_>, size: &str, routine: bool) {
    let r = s.r;
    let mut options = if routine {
        "MACH_SEND_MSG|MACH_RCV_MSG".to_string()
    } else {
        "MACH_SEND_MSG".to_string()
    };
    let msg_option = r
        .arguments
        .iter()
        .find(|a| a.kind == ArgumentKind::MsgOption)
        .map(|a| a.name.clone())
        .or_else(|| r.msg_option.clone())
        .unwrap_or_else(|| "MACH_MSG_OPTION_NONE".into());
    options.push('|');
    options.push_str(&msg_option);
    let wait = r
        .arguments
        .iter()
        .find(|a| a.kind == ArgumentKind::WaitTime)
        .map(|a| a.name.clone())
        .or_else(|| r.wait_time.clone());
    let timeout = match &wait {
        Some(w) => {
            options.push_str(if routine {
                "|MACH_RCV_TIMEOUT"
            } else {
                "|MACH_SEND_TIMEOUT"
            });
            w.clone()
        }
        None => "MACH_MSG_TIMEOUT_NONE".into(),
    };
    let kernel_user = s.v.module().subsystem.kernel_user;
    if !routine {
        if kernel_user {
            o.line(format!(
                "return {}(&InP->Head, {size});",
                s.subr("mach_msg_send_from_kernel")
            ));
        } else {
            o.line(format!(
                "return {}(&InP->Head, {options}, {size}, 0, MACH_PORT_NULL, {timeout}, MACH_PORT_NULL);",
                s.subr("mach_msg")
            ));
        }
        return;
    }
    if kernel_user {
        o.line(format!(
            "msg_result = {}(&InP->Head, {size}, sizeof(Reply));",
            s.subr("mach_msg_rpc_from_kernel")
        ));
    } else {
        o.line(format!(
            "msg_result = {}(&InP->Head, {options}, {size}, sizeof(Reply), InP->Head.msgh_reply_port, {timeout}, MACH_PORT_NULL);",
            s.subr("mach_msg")
        ));
    }
    o.open("if (msg_result != MACH_MSG_SUCCESS) {");
    if s.own_reply_port {
        o.line(format!(
            "{}(InP->Head.msgh_reply_port);",
            s.subr("mig_dealloc_reply_port")
        ));
    }
    o.line("return msg_result;");
    o.close("}");
    if s.own_reply_port {
        o.line(format!(
            "{}(InP->Head.msgh_reply_port);",
            s.subr("mig_put_reply_port")
        ));
    }
    o.blank();
}

/// Checks the reply and copies the results out.
fn receive(o: &mut Out, s: &Stub<'_>, rep: &Message<'_>) {
    let t = s.v.target();
    let r = s.r;
    o.open(format!(
        "if (mig_unlikely (OutP->Head.msgh_id != {})) {{",
        r.reply_msgh_id.unwrap_or(r.msgh_id + 100)
    ));
    o.line("if (OutP->Head.msgh_id == MACH_NOTIFY_SEND_ONCE)");
    o.line("\treturn MIG_SERVER_DIED;");
    if s.own_reply_port || s.kernel_rpc {
        o.line(format!(
            "{}(InP->Head.msgh_reply_port);",
            s.subr("mig_dealloc_reply_port")
        ));
    }
    o.line("return MIG_REPLY_MISMATCH;");
    o.close("}");
    o.blank();
    let fixed = rep.fixed_size;
    let cmp = if rep.variable { "<" } else { "!=" };
    o.line("#if\tTypeCheck");
    if rep.data.len() == 1 {
        o.line("if (mig_unlikely ((OutP->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX) ||");
        o.line(format!("    (OutP->Head.msgh_size != {fixed})))"));
        o.line("\treturn MIG_TYPE_ERROR;");
    } else {
        o.line("msgh_size = OutP->Head.msgh_size;");
        if !rep.always_complex() && !rep.maybe_complex() {
            // A reply that is never complex: no `msgh_simple` needed.
            o.line("if (mig_unlikely ((OutP->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX) ||");
            o.line(format!("    ((msgh_size {cmp} {fixed}) &&"));
            o.line("     ((msgh_size != sizeof(mig_reply_header_t)) ||");
            o.line("      (OutP->RetCode == KERN_SUCCESS)))))");
        } else {
            o.line("msgh_simple = !(OutP->Head.msgh_bits & MACH_MSGH_BITS_COMPLEX);");
            let bits = if rep.always_complex() {
                " || msgh_simple"
            } else {
                ""
            };
            o.line(format!(
                "if (mig_unlikely (((msgh_size {cmp} {fixed}){bits}) &&"
            ));
            o.line("    ((msgh_size != sizeof(mig_reply_header_t)) ||");
            o.line("     !msgh_simple ||");
            o.line("     (OutP->RetCode == KERN_SUCCESS))))");
        }
        o.line("\treturn MIG_TYPE_ERROR;");
    }
    o.line("#endif\t/* TypeCheck */");
    o.blank();
    o.line("#if\tTypeCheck");
    o.line("if (BAD_TYPECHECK (&OutP->RetCodeType, &RetCodeCheck))");
    o.line("\treturn MIG_TYPE_ERROR;");
    o.line("#endif\t/* TypeCheck */");
    o.blank();
    if rep.data.len() == 1 {
        o.line("return OutP->RetCode;");
        return;
    }
    o.line("if (OutP->RetCode != KERN_SUCCESS)");
    o.line("\treturn OutP->RetCode;");
    o.blank();
    let last_var = rep.data.iter().rposition(|d| d.variable());
    for (k, d) in rep.data.iter().enumerate().skip(1) {
        let e = format!("OutP->{}Type", d.name);
        crate::checks::type_check(o, t, d, &e, "return MIG_TYPE_ERROR;");
        if d.variable() {
            let size = received_size(s, d, &e);
            o.line(format!("msgh_size_delta = {size};"));
            o.line("#if\tTypeCheck");
            let op = if Some(k) == last_var { "!=" } else { "<" };
            o.line(format!(
                "if (mig_unlikely (msgh_size {op} {fixed} + msgh_size_delta))"
            ));
            o.line("\treturn MIG_TYPE_ERROR;");
            if Some(k) != last_var {
                o.line("msgh_size -= msgh_size_delta;");
            }
            o.line("#endif\t/* TypeCheck */");
        }
        copy_out(o, s, d);
        if d.variable() && k + 1 < rep.data.len() {
            o.line(format!(
                "OutP = (Reply *) ((char *) OutP + msgh_size_delta - {});",
                d.data_max + d.pad_max
            ));
        }
        o.blank();
    }
    o.line("return KERN_SUCCESS;");
}

/// Bytes a received variable datum occupies, from its descriptor at `e`, in 64-bit arithmetic:
/// no count makes the sum wrap, so the size check bounds every count by the message.
fn received_size(s: &Stub<'_>, d: &Datum<'_>, e: &str) -> String {
    let t = s.v.target();
    let [number, _, _, inline_f, _] = desc_fields(d, e);
    let inl = crate::writer::padded_wire_bytes(t, d, &format!("(uint64_t) {number}"));
    match d.shape {
        Shape::Dynamic { .. } => format!("(({inline_f}) ? {inl} : {})", t.c.pointer.size),
        _ => inl,
    }
}

/// Copies one reply datum to the caller.
fn copy_out(o: &mut Out, s: &Stub<'_>, d: &Datum<'_>) {
    let t = s.v.target();
    let Some(ai) = d.arg else { return };
    let a = &s.r.arguments[ai];
    let n = &d.name;
    let [number, name_f, _, inline_f, _] = desc_fields(d, &format!("OutP->{n}Type"));
    let ratio = d.ty.map(|t| t.element_number).unwrap_or(1);
    let count = if ratio == 1 {
        number.clone()
    } else {
        format!("{number} / {ratio}")
    };
    if let (Some(p), true) = (a.poly, d.recv_poly) {
        o.line(format!("*{} = {name_f};", s.r.arguments[p].name));
    }
    let cnt_name = a.count.map(|c| s.r.arguments[c].name.clone());
    let dest = &a.name;
    let deref = format!("*{dest}");
    match d.shape {
        Shape::RetCode => {}
        Shape::Port => o.line(format!(
            "{deref} = {};",
            port_name(t, &format!("OutP->{n}"))
        )),
        Shape::Value => o.line(format!("{deref} = OutP->{n};")),
        Shape::FixedString { max } => o.line(format!(
            "(void) {}mig_strncpy({dest}, OutP->{n}, {max});",
            s.opts.subr_prefix
        )),
        Shape::FixedArray { bytes, .. } => {
            o.line(format!("__builtin_memcpy({dest}, OutP->{n}, {bytes});"));
        }
        Shape::PortArray { n: c } => {
            port_loop(o, t, &format!("OutP->{n}"), dest, &c.to_string(), false);
        }
        Shape::VarArray { max } | Shape::VarString { max } => {
            match &cnt_name {
                // The caller's count bounds the copy (as in GNU MIG's stubs); the message
                // size check, in 64-bit arithmetic, bounds the source.
                Some(c) => {
                    o.open(format!("if ({count} > *{c}) {{"));
                    copy_elems(o, t, d, dest, &format!("OutP->{n}"), &format!("*{c}"));
                    o.line(format!("*{c} = {count};"));
                    o.line("return MIG_ARRAY_TOO_LARGE;");
                    o.close("}");
                    copy_elems(o, t, d, dest, &format!("OutP->{n}"), &count);
                    o.line(format!("*{c} = {count};"));
                }
                // No count: the buffer is the type's maximum.
                None => {
                    o.line(format!("if (mig_unlikely ({count} > {max}))"));
                    o.line("\treturn MIG_TYPE_ERROR;");
                    copy_elems(o, t, d, dest, &format!("OutP->{n}"), &count);
                }
            }
        }
        Shape::Dynamic { max } => {
            let c = cnt_name.clone().unwrap_or_default();
            let elem = element_ctype(s.v.module(), d.ty.expect("typed"), Side::User);
            o.line(format!("if (!{inline_f})"));
            o.line(format!("\t{deref} = OutP->{n}P;"));
            o.open("else {");
            o.line(format!("if (mig_unlikely ({count} > {max}))"));
            o.line("\treturn MIG_TYPE_ERROR;");
            o.line(format!("if ({count} > *{c})"));
            o.line(format!(
                "\t{}mig_allocate((vm_offset_t *) {dest}, sizeof({elem}) * {count});",
                s.opts.subr_prefix
            ));
            copy_elems(o, t, d, &deref, &format!("OutP->{n}"), &count);
            o.close("}");
            o.line(format!("*{c} = {count};"));
        }
        Shape::Ool => {
            o.line(format!("{deref} = OutP->{n};"));
            if let Some(c) = &cnt_name {
                o.line(format!("*{c} = {count};"));
            }
        }
    }
}

/// Copies `count` elements from message member `src` to C array `dest`.
fn copy_elems(o: &mut Out, t: &mig_ir::Target, d: &Datum<'_>, dest: &str, src: &str, count: &str) {
    if d.port {
        port_loop(o, t, src, dest, count, false);
    } else {
        o.line(format!("if ({count})"));
        o.line(format!(
            "\t__builtin_memcpy({dest}, {src}, {} * {count});",
            d.elem_bytes.max(1)
        ));
    }
}
