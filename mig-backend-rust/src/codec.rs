//! Code that writes one datum into a message and reads and checks one datum of a received
//! message, shared by the client (request out, reply in) and the server (request in, reply out).
//!
//! Generated code keeps, per message: `mig_w` (a `rt::Writer`) or `mig_rd` (a `rt::Reader`),
//! `mig_shift` (bytes by which the members after variable data moved down from their offsets
//! in the largest message, the offsets the `#[repr(C)]` structure has), `mig_size` (the
//! message size being built, or what is left to account for when checking) and `mig_complex`.

use mig_ir::Target;

use crate::model::{Datum, Shape};

/// A text buffer of Rust lines (formatting is left to `prettyplease`).
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub text: String,
}

impl Out {
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }
}

/// `offset_of!(msg, field)` shifted when the message has variable data.
pub(crate) fn offset(msg: &str, field: &str, variable: bool) -> String {
    if variable {
        format!("core::mem::offset_of!({msg}, {field}) - mig_shift")
    } else {
        format!("core::mem::offset_of!({msg}, {field})")
    }
}

/// Bytes of `count` elements of `elem` bytes, rounded up to the message alignment.
pub(crate) fn padded(t: &Target, elem: u32, count: &str) -> String {
    let a = t.message_alignment;
    let raw = if elem == 1 {
        format!("({count})")
    } else {
        format!("({elem} * {count})")
    };
    if elem.is_multiple_of(a) {
        raw
    } else {
        format!("(({raw} + {}) & !{})", a - 1, a - 1)
    }
}

fn scalars_or_ports(d: &Datum<'_>) -> &'static str {
    if d.port {
        "ports"
    } else {
        "scalars"
    }
}

/// How out-of-line choice of a dynamic array is made when sending.
pub(crate) enum DynamicSrc {
    /// A slice: out of line when longer than the inline maximum.
    Slice(String),
    /// An `rt::Dynamic<E>` (`rt::DynamicOut<E>` in kernel mode, whose out-of-line variant is
    /// a token, never read) with the buffer its inline variant counts in.
    Choice {
        value: String,
        buffer: String,
        kernel: bool,
    },
}

/// Writes datum `d` (the value `src`) of message structure `msg`. `desc` is the descriptor
/// constant expression; `too_large` the statement run when a slice exceeds the maximum.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_datum(
    o: &mut Out,
    t: &Target,
    d: &Datum<'_>,
    msg: &str,
    variable: bool,
    desc: &str,
    src: &str,
    too_large: &str,
    more: bool,
) {
    let od = offset(msg, &d.desc_field, variable);
    let off = offset(msg, &d.data_field, variable);
    let ratio = d.ratio();
    let times = |n: &str| {
        if ratio == 1 {
            format!("({n}) as u32")
        } else {
            format!("{ratio} * ({n}) as u32")
        }
    };
    let shift = |o: &mut Out| {
        o.line("mig_size += mig_delta as u32;");
        if more {
            o.line(format!(
                "mig_shift += {} - mig_delta;",
                d.data_max + d.pad_max
            ));
        }
    };
    o.line("{");
    match d.shape {
        Shape::RetCode => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!("mig_w.scalar::<i32>({off}, {src});"));
        }
        Shape::Port if d.send_poly => {
            o.line(format!("let mig_p: rt::Poly = {src};"));
            o.line("if rt::msg::types::port_any(mig_p.disposition) { mig_complex = true; }");
            o.line(format!(
                "mig_w.desc({od}, {desc}.with_name(mig_p.disposition));"
            ));
            o.line(format!("mig_w.port({off}, mig_p.name);"));
        }
        Shape::Port => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!("mig_w.port({off}, {src});"));
        }
        Shape::Value => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!("mig_w.scalar({off}, {src});"));
        }
        Shape::FixedString { max } => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!(
                "mig_w.bytes({off}, rt::FixedString::<{max}>::new({src}).raw());"
            ));
        }
        Shape::FixedArray { .. } => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!("mig_w.scalars({off}, {src});"));
        }
        Shape::PortArray { .. } => {
            o.line(format!("mig_w.desc({od}, {desc});"));
            o.line(format!("mig_w.ports({off}, {src});"));
        }
        Shape::VarArray { max } => {
            let desc = if d.send_poly {
                o.line(format!("let mig_pp: rt::PolyPorts<'_> = {src};"));
                o.line("let mig_s = mig_pp.names;");
                o.line("if rt::msg::types::port_any(mig_pp.disposition) { mig_complex = true; }");
                format!("{desc}.with_name(mig_pp.disposition)")
            } else {
                o.line(format!("let mig_s = {src};"));
                desc.to_string()
            };
            o.line(format!("if mig_s.len() > {max} {{ {too_large} }}"));
            o.line(format!(
                "mig_w.desc({od}, {desc}.with_number({}));",
                times("mig_s.len()")
            ));
            o.line(format!("mig_w.{}({off}, mig_s);", scalars_or_ports(d)));
            o.line(format!(
                "let mig_delta: usize = {};",
                padded(t, d.elem_bytes.max(1), "mig_s.len()")
            ));
            shift(o);
        }
        Shape::VarString { max } => {
            o.line(format!("let mig_s: &[u8] = {src};"));
            o.line(format!(
                "let mig_n = mig_s.iter().position(|&b| b == 0).unwrap_or(mig_s.len()).min({});",
                max.saturating_sub(1)
            ));
            o.line(format!("let mig_off = {off};"));
            o.line("mig_w.bytes(mig_off, &mig_s[..mig_n]);");
            o.line("mig_w.bytes(mig_off + mig_n, &[0]);");
            o.line(format!(
                "mig_w.desc({od}, {desc}.with_number((mig_n + 1) as u32));"
            ));
            o.line(format!(
                "let mig_delta: usize = {};",
                padded(t, 1, "mig_n + 1")
            ));
            shift(o);
        }
        Shape::Dynamic { .. } | Shape::Ool => unreachable!("written by write_dynamic/write_ool"),
    }
    o.line("}");
}

/// Writes a dynamic array (`array[]`): inline up to its maximum, else out of line.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_dynamic(
    o: &mut Out,
    t: &Target,
    d: &Datum<'_>,
    msg: &str,
    variable: bool,
    desc: &str,
    src: &DynamicSrc,
    dealloc_ool: bool,
    more: bool,
) {
    let od = offset(msg, &d.desc_field, variable);
    let off = offset(msg, &d.data_field, variable);
    let ratio = d.ratio();
    let max = d.max();
    let port_size = t.port_name.size * 8;
    let ool_desc = {
        let mut s = format!("{desc}.with_inline(false)");
        if d.port && d.size_bits != port_size {
            s.push_str(&format!(".with_size({port_size})"));
        }
        if dealloc_ool {
            s.push_str(".with_deallocate(true)");
        }
        s
    };
    let number = |n: &str| {
        if ratio == 1 {
            format!("({n}) as u32")
        } else {
            format!("{ratio} * ({n}) as u32")
        }
    };
    o.line("{");
    o.line("let mig_delta: usize;");
    match src {
        DynamicSrc::Slice(s) => {
            o.line(format!("let mig_s = {s};"));
            o.line(format!("if mig_s.len() > {max} {{"));
            o.line(format!(
                "mig_w.desc({od}, {ool_desc}.with_number({}));",
                number("mig_s.len()")
            ));
            o.line(format!("mig_w.pointer({off}, mig_s.as_ptr());"));
            o.line("mig_complex = true;");
            o.line(format!("mig_delta = {};", t.c.pointer.size));
            o.line("} else {");
        }
        DynamicSrc::Choice {
            value,
            buffer,
            kernel,
        } => {
            let (ty, addr) = if *kernel {
                ("rt::DynamicOut", "token")
            } else {
                ("rt::Dynamic", "address")
            };
            o.line(format!("let mig_v = {value};"));
            o.line("let mig_s = match &mig_v {");
            o.line(format!(
                "{ty}::Inline(n) => {{ let n = (*n).min({buffer}.len()).min({max}); &{buffer}[..n] }}"
            ));
            if *kernel {
                o.line(format!("{ty}::OutOfLine(_) => &[],"));
            } else {
                o.line(format!("{ty}::OutOfLine(b) => b.as_slice(),"));
            }
            o.line("};");
            o.line(format!("if let {ty}::OutOfLine(b) = &mig_v {{"));
            o.line(format!(
                "mig_w.desc({od}, {ool_desc}.with_number({}));",
                number("b.len()")
            ));
            o.line(format!("mig_w.u64({off}, b.{addr}());"));
            o.line("mig_complex = true;");
            o.line(format!("mig_delta = {};", t.c.pointer.size));
            o.line("} else {");
        }
    }
    o.line(format!(
        "mig_w.desc({od}, {desc}.with_number({}));",
        number("mig_s.len()")
    ));
    o.line(format!("mig_w.{}({off}, mig_s);", scalars_or_ports(d)));
    if d.port {
        o.line("mig_complex = true;");
    }
    o.line(format!(
        "mig_delta = {};",
        padded(t, d.elem_bytes.max(1), "mig_s.len()")
    ));
    o.line("}");
    if let DynamicSrc::Choice { kernel, .. } = src {
        // An out-of-line reply buffer is given away with the message.
        let ty = if *kernel {
            "rt::DynamicOut"
        } else {
            "rt::Dynamic"
        };
        o.line(format!(
            "if let {ty}::OutOfLine(b) = mig_v {{ let _ = b.into_raw(); }}"
        ));
    }
    o.line("mig_size += mig_delta as u32;");
    if more {
        o.line(format!(
            "mig_shift += {} - mig_delta;",
            d.data_max + d.pad_max
        ));
    }
    o.line("}");
}

/// Writes out-of-line data: `addr` and `len` expressions, and the deallocate flag.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_ool(
    o: &mut Out,
    d: &Datum<'_>,
    msg: &str,
    variable: bool,
    desc: &str,
    addr: &str,
    len: &str,
    dealloc: Option<&str>,
    counted: bool,
) {
    let od = offset(msg, &d.desc_field, variable);
    let off = offset(msg, &d.data_field, variable);
    let ratio = d.ratio();
    let mut de = desc.to_string();
    if counted {
        if ratio == 1 {
            de.push_str(&format!(".with_number(({len}) as u32)"));
        } else {
            de.push_str(&format!(".with_number({ratio} * ({len}) as u32)"));
        }
    }
    if let Some(dl) = dealloc {
        de.push_str(&format!(".with_deallocate({dl})"));
    }
    o.line(format!("mig_w.desc({od}, {de});"));
    o.line(format!("mig_w.u64({off}, {addr});"));
}

/// Checks datum `d`'s descriptor at its offset (binding `mig_off`, `mig_d` and, for variable
/// data, `mig_n`, the received element count, and `mig_delta`), running `fail` on a mismatch.
/// `last_var` tells whether this is the last variable datum of the message.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_datum(
    o: &mut Out,
    t: &Target,
    d: &Datum<'_>,
    msg: &str,
    variable: bool,
    fixed_size: u32,
    last_var: bool,
    fail: &str,
    check_count_first: bool,
    more: bool,
) {
    o.line(format!(
        "let mig_od = {};",
        offset(msg, &d.desc_field, variable)
    ));
    o.line(format!(
        "let mig_off = {};",
        offset(msg, &d.data_field, variable)
    ));
    o.line("let mig_d = mig_rd.desc(mig_od);");
    let fixed = !d.variable() && d.shape != Shape::Ool;
    if !d.long && fixed && !d.recv_poly {
        o.line(format!(
            "if mig_d != {} {{ {fail} }}",
            d.desc_expr(true, false)
        ));
    } else {
        let mut conds = Vec::new();
        let not = |b: bool| if b { "!" } else { "" };
        if !matches!(d.shape, Shape::Dynamic { .. }) {
            conds.push(format!("{}mig_d.inline()", not(d.inline)));
        }
        conds.push(format!("{}mig_d.longform()", not(d.long)));
        if !d.recv_poly {
            conds.push(format!("mig_d.name() != {}", d.name_out_expr));
        }
        if fixed {
            conds.push(format!("mig_d.number != {}", d.number));
        }
        let port_size = t.port_name.size * 8;
        match d.shape {
            Shape::Dynamic { .. } if d.port && d.size_bits != port_size => conds.push(format!(
                "mig_d.size() != (if mig_d.inline() {{ {} }} else {{ {port_size} }})",
                d.size_bits
            )),
            _ => conds.push(format!("mig_d.size() != {}", d.size_bits)),
        }
        o.line(format!("if {} {{ {fail} }}", conds.join(" || ")));
    }
    if d.variable() {
        let ratio = d.ratio();
        let max = d.max() as u64 * ratio as u64;
        let guard = if matches!(d.shape, Shape::Dynamic { .. }) {
            "mig_d.inline() && "
        } else {
            ""
        };
        if check_count_first {
            o.line(format!("if {guard}mig_d.number > {max} {{ {fail} }}"));
        }
        let wire_elem = (d.elem_bytes / ratio).max(1);
        let inl = padded(t, wire_elem, "mig_d.number as usize");
        match d.shape {
            Shape::Dynamic { .. } => o.line(format!(
                "let mig_delta: usize = if mig_d.inline() {{ {inl} }} else {{ {} }};",
                t.c.pointer.size
            )),
            _ => o.line(format!("let mig_delta: usize = {inl};")),
        }
        let op = if last_var { "!=" } else { "<" };
        o.line(format!(
            "if (mig_size as usize) {op} {fixed_size} + mig_delta {{ {fail} }}"
        ));
        if !last_var {
            o.line("mig_size -= mig_delta as u32;");
        }
        if more {
            o.line(format!(
                "mig_shift += {} - mig_delta;",
                d.data_max + d.pad_max
            ));
        }
        if ratio == 1 {
            o.line("let mig_n = mig_d.number as usize;");
        } else {
            o.line(format!("let mig_n = (mig_d.number / {ratio}) as usize;"));
        }
    } else if d.shape == Shape::Ool {
        let ratio = d.ratio();
        if ratio == 1 {
            o.line("let mig_n = mig_d.number as usize;");
        } else {
            o.line(format!("let mig_n = (mig_d.number / {ratio}) as usize;"));
        }
    }
}
