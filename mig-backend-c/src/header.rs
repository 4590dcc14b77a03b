//! The headers: client prototypes (`-header`), server prototypes with the routine lookup
//! (`-sheader`), and the internal header (`-iheader`).

use mig_ir::Validated;

use crate::msg::Side;
use crate::server::table_name;
use crate::writer::{
    banner, demux_name, header_prototype, imports, server_function, user_function, Out,
};
use crate::Options;

fn includes(o: &mut Out) {
    o.line("#include <mach/kern_return.h>");
    o.line("#include <mach/port.h>");
    o.line("#include <mach/message.h>");
    o.blank();
}

pub(crate) fn user_header(v: &Validated, opts: &Options) -> String {
    let m = v.module();
    let name = &m.subsystem.name;
    let mut o = Out::default();
    banner(&mut o, m, "User interface");
    o.line(format!("#ifndef\t_{name}_user_"));
    o.line(format!("#define\t_{name}_user_"));
    o.blank();
    includes(&mut o);
    imports(&mut o, m, Side::User);
    for r in &m.routines {
        header_prototype(&mut o, v, r, &user_function(r, opts), Side::User);
        o.blank();
    }
    o.line(format!("#endif\t/* not defined(_{name}_user_) */"));
    o.text
}

pub(crate) fn server_header(v: &Validated, opts: &Options) -> String {
    let m = v.module();
    let name = &m.subsystem.name;
    let mut o = Out::default();
    banner(&mut o, m, "Server interface");
    o.line(format!("#ifndef\t_{name}_server_"));
    o.line(format!("#define\t_{name}_server_"));
    o.blank();
    includes(&mut o);
    o.line("#include <mach/mig_errors.h>");
    imports(&mut o, m, Side::Server);
    for r in &m.routines {
        header_prototype(&mut o, v, r, &server_function(r, opts), Side::Server);
        o.blank();
    }
    let table = table_name(v, opts);
    let base = m.subsystem.base;
    o.line(format!("extern mig_routine_t {table}[];"));
    o.blank();
    o.line("/* The stub for a request, or 0 when its id is not in the subsystem. */");
    o.line(format!(
        "static __inline mig_routine_t {}_routine",
        demux_name(m, opts)
    ));
    o.line("\t(const mach_msg_header_t *InHeadP)");
    o.open("{");
    o.line("int msgh_id;");
    o.blank();
    o.line(format!("msgh_id = InHeadP->msgh_id - {base};"));
    o.blank();
    o.line(format!(
        "if ((msgh_id >= {}) || (msgh_id < 0))",
        m.subsystem.slots
    ));
    o.line("\treturn 0;");
    o.blank();
    o.line(format!("return {table}[msgh_id];"));
    o.close("}");
    o.blank();
    o.line(format!("#endif\t/* not defined(_{name}_server_) */"));
    o.text
}

pub(crate) fn internal_header(v: &Validated, opts: &Options) -> String {
    let m = v.module();
    let name = &m.subsystem.name;
    let mut o = Out::default();
    banner(&mut o, m, "Internal names");
    o.line(format!("#ifndef\t_{name}_internal_"));
    o.line(format!("#define\t_{name}_internal_"));
    o.blank();
    o.line("/* The client stubs are renamed so that a kernel can define the same names. */");
    for r in &m.routines {
        let f = user_function(r, opts);
        o.line(format!("#define {f} {f}_external"));
    }
    o.blank();
    o.line(format!("#endif\t/* not defined(_{name}_internal_) */"));
    o.text
}
