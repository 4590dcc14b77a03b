//! What both sides do with a message they receive: check each type descriptor (whole, or field
//! by field), compute the size of variable data from its descriptor, and copy port names
//! between C arrays and inline slots. Shared by `user.rs` (replies) and `server.rs`
//! (requests); it depends on neither.

use mig_ir::{Target, Validated};

use crate::msg::{kernel_now, Datum, Shape};
use crate::writer::{desc_fields, port_name, received_name, wide_ports, Out};

/// Checks the descriptor at `e` against what datum `d` must carry; runs `fail` otherwise.
pub(crate) fn type_check(o: &mut Out, t: &Target, d: &Datum<'_>, e: &str, fail: &str) {
    type_check_in(o, t, d, e, fail, false)
}

/// [`type_check`]; with `simple_flag`, a polymorphic right must come in a complex message
/// (`msgh_simple` holds whether the request is simple).
pub(crate) fn type_check_in(
    o: &mut Out,
    t: &Target,
    d: &Datum<'_>,
    e: &str,
    fail: &str,
    simple_flag: bool,
) {
    o.line("#if\tTypeCheck");
    let fixed = !d.variable() && d.shape != Shape::Ool;
    if d.quick_checked() {
        o.line(format!("if (BAD_TYPECHECK(&{e}, &{}Check))", d.name));
        o.line(format!("\t{{ {fail} }}"));
        o.line("#endif\t/* TypeCheck */");
        o.blank();
        return;
    }
    let [number, name_f, size_f, inline_f, _] = desc_fields(d, e);
    let longform = if d.long {
        format!("{e}.msgtl_header.msgt_longform")
    } else {
        format!("{e}.msgt_longform")
    };
    let mut conds = Vec::new();
    if !matches!(d.shape, Shape::Dynamic { .. }) {
        let want = if d.inline { "TRUE" } else { "FALSE" };
        conds.push(format!("({inline_f} != {want})"));
    }
    conds.push(format!(
        "({longform} != {})",
        if d.long { "TRUE" } else { "FALSE" }
    ));
    if !d.recv_poly {
        conds.push(format!("({name_f} != {})", received_name(d)));
    } else if simple_flag && d.port {
        // A right in a simple message is not translated by the kernel: refuse it.
        conds.push(format!("(MACH_MSG_TYPE_PORT_ANY({name_f}) && msgh_simple)"));
    }
    if fixed {
        conds.push(format!("({number} != {})", d.number));
    }
    match d.shape {
        // Port rights out of line are names (`mach_port_name_t`); inline they fill a slot.
        Shape::Dynamic { .. } if d.port && d.size_bits != t.port_name.size * 8 && !kernel_now() => {
            conds.push(format!(
                "({size_f} != ({inline_f} ? {} : {}))",
                d.size_bits,
                t.port_name.size * 8
            ));
        }
        _ => conds.push(format!("({size_f} != {})", d.size_bits)),
    }
    o.line(format!("if (mig_unlikely ({}))", conds.join(" ||\n    ")));
    o.line(format!("\t{{ {fail} }}"));
    o.line("#endif\t/* TypeCheck */");
    o.blank();
}

/// Copies `count` port names between C names and inline slots.
pub(crate) fn port_loop(
    o: &mut Out,
    t: &mig_ir::Target,
    slots: &str,
    names: &str,
    count: &str,
    to_slots: bool,
) {
    o.open("{");
    o.line("mach_msg_type_number_t i;");
    o.blank();
    o.open(format!("for (i = 0; i < {count}; i++) {{"));
    if to_slots {
        if wide_ports(t) {
            o.line(format!("{slots}[i].kernel_port_do_not_use = 0;"));
        }
        o.line(format!(
            "{} = {names}[i];",
            port_name(t, &format!("{slots}[i]"))
        ));
    } else {
        o.line(format!(
            "{names}[i] = {};",
            port_name(t, &format!("{slots}[i]"))
        ));
    }
    o.close("}");
    o.close("}");
}

/// Bytes a received variable datum occupies, from its descriptor at `e` (32-bit arithmetic,
/// as the server's size checks).
pub(crate) fn received_size_expr(v: &Validated, d: &Datum<'_>, e: &str) -> String {
    let t = v.target();
    let [number, _, _, inline_f, _] = desc_fields(d, e);
    let inl = crate::writer::padded_wire_bytes(t, d, &number);
    match d.shape {
        Shape::Dynamic { .. } => format!("(({inline_f}) ? {inl} : {})", t.c.pointer.size),
        _ => inl,
    }
}
