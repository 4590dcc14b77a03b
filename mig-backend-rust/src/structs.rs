//! The `messages` module: one `#[repr(C)]` structure per request and reply, laid out as the
//! largest message (every variable datum at its maximum), with compile-time assertions of its
//! size and of every member's offset as the IR computed them.

use mig_ir::Validated;

use crate::codec::Out;
use crate::model::{messages, Message};
use crate::names::ident;

pub(crate) fn messages_module(o: &mut Out, v: &Validated) {
    o.line("/// Requests and replies as `#[repr(C)]` structures of the largest message.");
    o.line("#[allow(non_snake_case, non_camel_case_types, dead_code, missing_docs)]");
    o.line("pub mod messages {");
    o.line("use mach_rt as rt;");
    for (i, r) in v.module().routines.iter().enumerate() {
        let (req, rep) = messages(v, i);
        o.line(format!(
            "/// Messages of `{}` (request id {}).",
            r.name, r.msgh_id
        ));
        o.line(format!("pub mod {} {{", ident(&r.name)));
        o.line("use super::rt;");
        structure(o, "Request", &req);
        if let Some(rep) = &rep {
            structure(o, "Reply", rep);
        }
        o.line("}");
    }
    o.line("}");
}

fn structure(o: &mut Out, name: &str, m: &Message<'_>) {
    let what = if m.variable {
        format!(
            "Fixed size {} bytes; {} bytes with every variable datum at its maximum.",
            m.fixed_size, m.max_size
        )
    } else {
        format!("{} bytes.", m.fixed_size)
    };
    o.line(format!("/// {what}"));
    o.line("#[repr(C)]");
    o.line("#[derive(Debug)]");
    o.line(format!("pub struct {name} {{"));
    for (field, ty, _, _) in &m.members {
        o.line(format!("pub {field}: {ty},"));
    }
    o.line("}");
    o.line(format!(
        "const _: () = assert!(core::mem::size_of::<{name}>() == {});",
        m.max_size
    ));
    for (field, _, offset, _) in &m.members {
        o.line(format!(
            "const _: () = assert!(core::mem::offset_of!({name}, {field}) == {offset});"
        ));
    }
    o.line(format!(
        "/// `msgh_size` of the message with every variable datum empty.\npub const {}_FIXED_SIZE: u32 = {};",
        name.to_uppercase(),
        m.fixed_size
    ));
}
