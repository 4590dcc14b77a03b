//! Pieces of C shared by every output: the file prologue, type descriptors, message
//! structures, prototypes and size expressions.

use std::fmt::Write;

use mig_ir::{Argument, ArgumentKind, Module, Routine, Target, Type, Validated};

use crate::msg::{ctype, element_ctype, Datum, Message, Shape, Side};
use crate::Options;

/// A growing C text with a current indentation.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub text: String,
    pub depth: usize,
}

impl Out {
    /// An empty text with room for `routines` stubs (about 3 KiB each), so it grows without
    /// being copied again and again.
    pub fn for_routines(routines: usize) -> Out {
        Out {
            text: String::with_capacity(4096 + 3072 * routines),
            depth: 0,
        }
    }

    /// One line at the current depth (an empty `s` gives an empty line).
    pub fn line(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref();
        if !s.is_empty() {
            for _ in 0..self.depth {
                self.text.push('\t');
            }
            self.text.push_str(s);
        }
        self.text.push('\n');
    }
    pub fn open(&mut self, s: impl AsRef<str>) {
        self.line(s);
        self.depth += 1;
    }
    pub fn close(&mut self, s: impl AsRef<str>) {
        self.depth = self.depth.saturating_sub(1);
        self.line(s);
    }
    pub fn blank(&mut self) {
        if !self.text.ends_with("\n\n") && !self.text.is_empty() {
            self.text.push('\n');
        }
    }
}

/// True on targets whose inline port slot is wider than a port name (x86_64): such slots are
/// `mach_port_name_inlined_t` and accessed through `.name`.
/// Kernel code (`KernelServer`/`KernelUser`) holds `ipc_port_t` pointers in the slots.
pub(crate) fn wide_ports(t: &Target) -> bool {
    t.inline_port_size > t.port_name.size && !crate::msg::kernel_now()
}

/// The C type of an inline port slot.
pub(crate) fn port_slot_type(t: &Target) -> &'static str {
    if crate::msg::kernel_now() {
        "ipc_port_t"
    } else if wide_ports(t) {
        "mach_port_name_inlined_t"
    } else {
        "mach_port_t"
    }
}

/// An lvalue for the port name in slot `e`.
pub(crate) fn port_name(t: &Target, e: &str) -> String {
    if wide_ports(t) {
        format!("{e}.name")
    } else {
        e.to_string()
    }
}

/// The definitions every stub file starts with (after its own includes).
pub(crate) fn prologue(o: &mut Out, t: &Target, server: bool) {
    for l in [
        "#define EXPORT_BOOLEAN",
        "#include <mach/boolean.h>",
        "#include <mach/kern_return.h>",
        "#include <mach/message.h>",
    ] {
        o.line(l);
    }
    if !server {
        o.line("#include <mach/notify.h>");
        o.line("#include <mach/mach_types.h>");
    }
    o.line("#include <mach/mig_errors.h>");
    o.line("#include <mach/mig_support.h>");
    let side = if server { Side::Server } else { Side::User };
    if crate::msg::kernel(side) {
        // The kernel's port type and its send and RPC entry points.
        o.line(if server {
            "#include <ipc/ipc_port.h>"
        } else {
            "#include <kern/ipc_mig.h>"
        });
    }
    for l in [
        "#include <stdint.h>",
        "",
        "#ifndef\tmig_internal",
        "#define\tmig_internal\tstatic",
        "#endif",
        "",
        "#ifndef\tmig_external",
        "#define\tmig_external",
        "#endif",
        "",
        "#ifndef\tmig_unlikely",
        "#define\tmig_unlikely(X)\t__builtin_expect (!! (X), 0)",
        "#endif",
        "",
        "#ifndef\tTypeCheck",
        "#define\tTypeCheck 1",
        "#endif",
        "",
        "#ifndef\tUseExternRCSId",
        "#define\tUseExternRCSId\t\t1",
        "#endif",
        "",
    ] {
        o.line(l);
    }
    descriptor_compare(o, t);
    if server && crate::msg::kernel(Side::Server) {
        // The kernel sees requests before the ports are swapped for a receiver.
        o.line("#define msgh_request_port\tmsgh_remote_port");
        o.line("#define MACH_MSGH_BITS_REQUEST(bits)\tMACH_MSGH_BITS_REMOTE(bits)");
        o.line("#define msgh_reply_port\t\tmsgh_local_port");
        o.line("#define MACH_MSGH_BITS_REPLY(bits)\tMACH_MSGH_BITS_LOCAL(bits)");
    } else if server {
        o.line("#define msgh_request_port\tmsgh_local_port");
        o.line("#define MACH_MSGH_BITS_REQUEST(bits)\tMACH_MSGH_BITS_LOCAL(bits)");
        o.line("#define msgh_reply_port\t\tmsgh_remote_port");
        o.line("#define MACH_MSGH_BITS_REPLY(bits)\tMACH_MSGH_BITS_REMOTE(bits)");
    } else {
        o.line("#define msgh_request_port\tmsgh_remote_port");
        o.line("#define msgh_reply_port\t\tmsgh_local_port");
    }
    o.blank();
}

/// The imports that apply to a side, as `#include` lines.
pub(crate) fn imports(o: &mut Out, m: &Module, side: Side) {
    use mig_ir::ImportKind::*;
    for i in &m.subsystem.imports {
        let wanted = match i.kind {
            Import => true,
            UImport => side == Side::User,
            SImport => side == Side::Server,
            DImport | IImport => false,
        };
        if wanted {
            o.line(format!("#include {}", i.file));
        }
    }
    o.blank();
}

/// `MACH_MSG_TYPE_X` for a symbolic name or the number.
fn msg_type_expr(sym: Option<&str>, value: u32) -> String {
    match sym {
        Some(s) => s.to_string(),
        None => value.to_string(),
    }
}

/// The `msgt_name` a sender puts in a datum's descriptor.
pub(crate) fn sent_name(d: &Datum<'_>) -> String {
    match d.ty {
        None => "MACH_MSG_TYPE_INTEGER_32".into(),
        Some(t) if d.kernel_sent => msg_type_expr(t.name_out.symbol.as_deref(), t.name_out.value),
        Some(t) => msg_type_expr(t.name_in.symbol.as_deref(), t.name_in.value),
    }
}

/// The `msgt_name` a receiver expects.
pub(crate) fn received_name(d: &Datum<'_>) -> String {
    match d.ty {
        None => "MACH_MSG_TYPE_INTEGER_32".into(),
        Some(t) => msg_type_expr(t.name_out.symbol.as_deref(), t.name_out.value),
    }
}

/// The declaration of a descriptor constant `<var>` for datum `d`.
pub(crate) fn descriptor_const(
    o: &mut Out,
    t: &Target,
    d: &Datum<'_>,
    var: &str,
    name: &str,
    dealloc: bool,
) {
    let b = |x: bool| if x { "TRUE" } else { "FALSE" };
    if !d.long {
        o.open(format!("const mach_msg_type_t {var} = {{"));
        o.line(format!(".msgt_name = (unsigned char) {name},"));
        o.line(format!(".msgt_size = {},", d.size_bits));
        o.line(format!(".msgt_number = {},", d.number));
        o.line(format!(".msgt_inline = {},", b(d.inline)));
        o.line(".msgt_longform = FALSE,");
        o.line(format!(".msgt_deallocate = {},", b(dealloc)));
        o.line(".msgt_unused = 0");
        o.close("};");
        return;
    }
    o.open(format!("const mach_msg_type_long_t {var} = {{"));
    o.open(".msgtl_header = {");
    if t.descriptor.long_size == t.descriptor.short_size {
        // The long form overlays the short one: the header holds everything.
        o.line(format!(".msgt_name = (unsigned char) {name},"));
        o.line(format!(".msgt_size = {},", d.size_bits));
        o.line(format!(".msgt_number = {},", d.number));
    } else {
        o.line(".msgt_name = 0,");
        o.line(".msgt_size = 0,");
        o.line(".msgt_number = 0,");
    }
    o.line(format!(".msgt_inline = {},", b(d.inline)));
    o.line(".msgt_longform = TRUE,");
    o.line(format!(".msgt_deallocate = {},", b(dealloc)));
    o.line(".msgt_unused = 0");
    if t.descriptor.long_size == t.descriptor.short_size {
        o.close("},");
    } else {
        o.close("},");
        o.line(format!(".msgtl_name = {name},"));
        o.line(format!(".msgtl_size = {},", d.size_bits));
        o.line(format!(".msgtl_number = {},", d.number));
    }
    o.close("};");
}

/// Accessors of a descriptor member `e` (`OutP->dataType`): (`number`, `name`, `size`,
/// `inline`, `deallocate`) lvalues.
pub(crate) fn desc_fields(d: &Datum<'_>, e: &str) -> [String; 5] {
    if d.long {
        [
            format!("{e}.msgtl_number"),
            format!("{e}.msgtl_name"),
            format!("{e}.msgtl_size"),
            format!("{e}.msgtl_header.msgt_inline"),
            format!("{e}.msgtl_header.msgt_deallocate"),
        ]
    } else {
        [
            format!("{e}.msgt_number"),
            format!("{e}.msgt_name"),
            format!("{e}.msgt_size"),
            format!("{e}.msgt_inline"),
            format!("{e}.msgt_deallocate"),
        ]
    }
}

/// The members of a message structure named `name`.
pub(crate) fn message_struct(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    m: &Message<'_>,
    side: Side,
    name: &str,
) {
    let t = v.target();
    let module = v.module();
    o.open("typedef struct {");
    o.line("mach_msg_header_t Head;");
    for d in &m.data {
        let dt = if d.long {
            "mach_msg_type_long_t"
        } else {
            "mach_msg_type_t"
        };
        o.line(format!("{dt} {}Type;", d.name));
        let ty = d.ty;
        let n = &d.name;
        match (d.shape, ty) {
            (Shape::RetCode, _) | (_, None) => o.line("kern_return_t RetCode;"),
            (Shape::Port, Some(_)) => o.line(format!("{} {n};", port_slot_type(t))),
            (Shape::Value, Some(ty)) => o.line(format!("{} {n};", wire_ctype(ty, side))),
            (Shape::FixedString { max }, Some(_)) => o.line(format!("char {n}[{max}];")),
            (Shape::FixedArray { .. }, Some(ty)) => {
                o.line(format!("{} {n};", wire_ctype(ty, side)));
            }
            (Shape::PortArray { n: count }, Some(_)) => {
                o.line(format!("{} {n}[{count}];", port_slot_type(t)));
            }
            (Shape::VarString { max }, Some(_)) => o.line(format!("char {n}[{max}];")),
            (Shape::VarArray { max }, Some(ty)) | (Shape::Dynamic { max }, Some(ty)) => {
                let elem = element_ctype(module, ty, side);
                let slot = if ty.port {
                    port_slot_type(t).to_string()
                } else {
                    elem.clone()
                };
                // The sender's pointer to dynamic data it passed as `const_<type>`.
                let konst = if side == Side::User
                    && name == "Request"
                    && matches!(d.shape, Shape::Dynamic { .. })
                    && !ty.port
                {
                    "const "
                } else {
                    ""
                };
                o.open("union {");
                o.line(format!("{slot} {n}[{}];", max.max(1)));
                o.line(format!("{konst}{elem} *{n}P;"));
                o.close("};");
            }
            (Shape::Ool, Some(ty)) => o.line(format!("{} {n};", ool_ctype(module, ty, side))),
        }
        if d.pad_max > 0 {
            o.line(format!("char {n}Pad[{}];", d.pad_max));
        }
    }
    let _ = r;
    o.close(format!("}} {name};"));
}

/// The C type of a value in the message body.
pub(crate) fn wire_ctype(ty: &Type, side: Side) -> String {
    if side == Side::Server {
        if let Some(t) = &ty.c.in_tran {
            if !t.from.is_empty() {
                return t.from.clone();
            }
        }
        if let Some(t) = &ty.c.out_tran {
            if !t.to.is_empty() {
                return t.to.clone();
            }
        }
    }
    ctype(ty, side)
}

/// The C type of the pointer member of out-of-line data.
pub(crate) fn ool_ctype(module: &Module, ty: &Type, side: Side) -> String {
    if matches!(ty.count, mig_ir::Count::Fixed(_)) && ty.element.is_some() {
        format!("{} *", element_ctype(module, ty, side))
    } else {
        wire_ctype(ty, side)
    }
}

/// True when an argument appears in a side's C prototype.
/// True when an argument appears in a side's C prototype.
pub(crate) fn visible_in(module: Option<&Module>, a: &Argument, r: &Routine, side: Side) -> bool {
    let module_ty = |r: &Routine, p: usize| -> (bool, bool) {
        match module {
            Some(m) => {
                let t = m.ty(r.arguments[p].ty);
                (t.name_in.is_polymorphic(), t.name_out.is_polymorphic())
            }
            None => (true, true),
        }
    };
    use ArgumentKind::*;
    match a.kind {
        Poly => {
            // A side sees `<name>Poly` when it sends the value with a name chosen at run time,
            // or receives it with any name.
            let Some(p) = a.parent else { return false };
            let parent = &r.arguments[p];
            let ty = &module_ty(r, p);
            let sent = matches!(
                parent.kind,
                In | InOut | RequestPort | ReplyPort | SReplyPort | UReplyPort
            );
            let returned = matches!(parent.kind, Out | InOut);
            let (mut send_poly, recv_poly) = (ty.0, ty.1);
            // A kernel server replies with the right it holds, with a fixed name (a
            // `KernelUser` keeps its polymorphic arguments, as GNU MIG does).
            if side == Side::Server && crate::msg::kernel(side) && !recv_poly {
                send_poly = false;
            }
            let seen = match side {
                Side::User => sent && send_poly || returned && recv_poly,
                Side::Server => sent && recv_poly || returned && send_poly,
            };
            seen && visible_in(module, parent, r, side)
        }
        RequestPort | ReplyPort | In | Out | InOut | Count => true,
        // GNU MIG honours `servercopy` only for dynamic arrays (it calls it meaningless
        // elsewhere and drops the argument).
        ServerCopy => {
            side == Side::Server
                && match (module, a.parent) {
                    (Some(m), Some(p)) => {
                        m.ty(r.arguments[p].ty).storage == mig_ir::Storage::Dynamic
                    }
                    _ => true,
                }
        }
        SReplyPort | MsgSeqno => side == Side::Server,
        UReplyPort | WaitTime | MsgOption | Dealloc => side == Side::User,
    }
}

/// The direction of an argument's data, following implicit arguments to their parent.
pub(crate) fn data_kind(a: &Argument, r: &Routine) -> ArgumentKind {
    match a.parent {
        Some(p) if a.kind.is_implicit() => r.arguments[p].kind,
        _ => a.kind,
    }
}

/// True for types passed as C arrays (that decay to pointers) rather than values.
pub(crate) fn is_c_array(ty: &Type) -> bool {
    !ty.port
        && !ty.c_struct
        && ty.storage == mig_ir::Storage::Inline
        && (ty.string || ty.is_variable() || matches!(ty.count, mig_ir::Count::Fixed(n) if n > 1))
}

/// True for inline arrays of port rights (passed `const` when sent, as GNU MIG does).
fn is_inline_port_array(ty: &Type) -> bool {
    ty.port
        && ty.storage == mig_ir::Storage::Inline
        && (ty.is_variable() || matches!(ty.count, mig_ir::Count::Fixed(n) if n > 1))
}

/// The arguments of a routine in C prototype order: declaration order, except that an
/// argument's `<name>Poly` comes before its `<name>Cnt` (GNU MIG's order).
pub(crate) fn prototype_order(r: &Routine) -> Vec<usize> {
    let mut order: Vec<usize> = (0..r.arguments.len()).collect();
    for a in &r.arguments {
        if let (Some(c), Some(p)) = (a.count, a.poly) {
            let (ci, pi) = (
                order.iter().position(|&x| x == c),
                order.iter().position(|&x| x == p),
            );
            if let (Some(ci), Some(pi)) = (ci, pi) {
                if ci < pi {
                    let moved = order.remove(pi);
                    order.insert(ci, moved);
                }
            }
        }
    }
    order
}

/// The C parameter type of argument `i` on a side.
pub(crate) fn param_type(module: &Module, r: &Routine, i: usize, side: Side) -> String {
    use ArgumentKind::*;
    let a = &r.arguments[i];
    let ty = module.ty(a.ty);
    let mut base = ctype(ty, side);
    if side == Side::Server {
        if let (Some(t), true) = (&ty.c.in_tran, a.kind.in_request()) {
            base = t.to.clone();
        } else if let (Some(t), true) = (&ty.c.out_tran, a.kind.in_reply()) {
            base = t.from.clone();
        }
    }
    match a.kind {
        RequestPort | ReplyPort | SReplyPort | UReplyPort | WaitTime | MsgOption | MsgSeqno
        | Dealloc | ServerCopy => base,
        Count | Poly => {
            let parent = data_kind(a, r);
            if matches!(parent, Out | InOut) {
                format!("{base} *")
            } else {
                base
            }
        }
        In => {
            // Strings and arrays sent inline or out of line at the sender's choice have a
            // `const_` typedef (GNU MIG's spelling).
            if ty.string || (ty.storage == mig_ir::Storage::Dynamic && !ty.port) {
                format!("const_{base}")
            } else if is_c_array(ty) || is_inline_port_array(ty) {
                format!("const {base}")
            } else {
                base
            }
        }
        Out | InOut => {
            if is_c_array(ty) {
                base
            } else {
                format!("{base} *")
            }
        }
    }
}

/// `(type name, type name, ...)` on one line, or the multi-line form of a header.
pub(crate) fn params(v: &Validated, r: &Routine, side: Side) -> Vec<String> {
    let module = v.module();
    prototype_order(r)
        .into_iter()
        .map(|i| (i, &r.arguments[i]))
        .filter(|(_, a)| visible_in(Some(module), a, r, side))
        .map(|(i, a)| {
            let ty = param_type(module, r, i, side);
            if ty.ends_with('*') {
                format!("{ty}{}", a.name)
            } else {
                format!("{ty} {}", a.name)
            }
        })
        .collect()
}

/// The client stub's C function name.
pub(crate) fn user_function(r: &Routine, opts: &Options) -> String {
    format!("{}{}{}", opts.prefix, r.user_prefix, r.name)
}

/// The server function's C name.
pub(crate) fn server_function(r: &Routine, opts: &Options) -> String {
    format!("{}{}{}", opts.prefix, r.server_prefix, r.name)
}

/// The demux function's name.
pub(crate) fn demux_name(m: &Module, opts: &Options) -> String {
    format!("{}{}", opts.prefix, m.subsystem.server_demux)
}

/// A prototype in the multi-line header style, with a `/* Routine x */` comment first.
pub(crate) fn header_prototype(
    o: &mut Out,
    v: &Validated,
    r: &Routine,
    function: &str,
    side: Side,
) {
    let kind = if r.is_simple() {
        "SimpleRoutine"
    } else {
        "Routine"
    };
    o.line(format!("/* {kind} {} */", r.name));
    o.line("#ifdef\tmig_external");
    o.line("mig_external");
    o.line("#else");
    o.line("extern");
    o.line("#endif");
    o.line(format!("kern_return_t {function}"));
    param_block(o, &params(v, r, side));
    o.text.push_str(";\n");
}

/// `(\n\tA,\n\tB\n)` without a trailing newline.
pub(crate) fn param_block(o: &mut Out, ps: &[String]) {
    o.line("(");
    let n = ps.len();
    for (k, p) in ps.iter().enumerate() {
        o.line(format!("\t{p}{}", if k + 1 < n { "," } else { "" }));
    }
    if n == 0 {
        o.line("\tvoid");
    }
    o.text.push(')');
}

/// Bytes of a variable datum with `count` C elements, rounded up to the message alignment.
pub(crate) fn padded_bytes(t: &Target, d: &Datum<'_>, count: &str) -> String {
    padded(t, d.elem_bytes.max(1), count)
}

/// Bytes of a variable datum with `number` wire elements (its `msgt_number`), rounded up.
pub(crate) fn padded_wire_bytes(t: &Target, d: &Datum<'_>, number: &str) -> String {
    let ratio = d.ty.map(|t| t.element_number).unwrap_or(1).max(1);
    padded(t, (d.elem_bytes / ratio).max(1), number)
}

fn padded(t: &Target, e: u32, count: &str) -> String {
    let a = t.message_alignment;
    let raw = if e == 1 {
        count.to_string()
    } else {
        format!("{e} * {count}")
    };
    if e.is_multiple_of(a) {
        raw
    } else {
        format!("(({raw} + {}) & ~{})", a - 1, a - 1)
    }
}

/// `_Static_assert` on a struct size (C11 keyword, accepted by gcc in gnu89 too).
pub(crate) fn static_assert(o: &mut Out, what: &str, size: u32) {
    o.line(format!(
        "_Static_assert(sizeof({what}) == {size}, \"{what} must be {size} bytes\");"
    ));
}

/// `BAD_TYPECHECK(type, check)`: a short descriptor against its expected value, compared as one
/// integer of the descriptor's size (gcc makes it a load and a compare), as GNU MIG does. The
/// integer is read with `__builtin_memcpy`, so no aliasing rule is broken.
fn descriptor_compare(o: &mut Out, t: &Target) {
    let bits = t.descriptor.short_size * 8;
    for l in [
        "#ifndef\tMIG_DESCRIPTOR_DIFFERS".to_string(),
        "#define\tMIG_DESCRIPTOR_DIFFERS".to_string(),
        "/* Nonzero when the type descriptors at A and B differ in any bit. */".to_string(),
        "static __inline int mig_descriptor_differs".to_string(),
        "\t(const mach_msg_type_t *a, const mach_msg_type_t *b)".to_string(),
        "{".to_string(),
        format!("\tuint{bits}_t x, y;"),
        String::new(),
        format!(
            "\t_Static_assert(sizeof (mach_msg_type_t) == sizeof (uint{bits}_t), \"mach_msg_type_t must be {} bytes\");",
            t.descriptor.short_size
        ),
        "\t__builtin_memcpy(&x, a, sizeof x);".to_string(),
        "\t__builtin_memcpy(&y, b, sizeof y);".to_string(),
        "\treturn x != y;".to_string(),
        "}".to_string(),
        "#endif".to_string(),
        String::new(),
        "#define BAD_TYPECHECK(type, check) mig_unlikely (mig_descriptor_differs ((type), (check)))"
            .to_string(),
    ] {
        o.line(l);
    }
}

/// `_Static_assert` that the C type of a datum the stub sends inline has the size its
/// descriptor declares (`msgt_size / 8 * msgt_number`), as GNU MIG emits after each sent
/// descriptor: a header whose type disagrees with the `.defs` then fails to compile. Written
/// for short inline descriptors of fixed count. A user-side inline port array is left out: GNU
/// MIG's check there (`sizeof (mach_port_name_inlined_t) == 8 * N`) cannot hold for N > 1.
pub(crate) fn type_size_assert(o: &mut Out, t: &Target, d: &Datum<'_>, side: Side) {
    if d.long || !d.inline {
        return;
    }
    let kernel = crate::msg::kernel_now();
    let ctype = match (d.shape, d.ty) {
        (Shape::RetCode, _) => "kern_return_t".to_string(),
        (Shape::Value | Shape::FixedArray { .. } | Shape::FixedString { .. }, Some(ty)) => {
            wire_ctype(ty, side)
        }
        (Shape::Port | Shape::PortArray { .. }, Some(ty)) if kernel => {
            crate::msg::kernel_port_ctype(&wire_ctype(ty, side))
        }
        (Shape::Port, Some(_)) => port_slot_type(t).to_string(),
        _ => return,
    };
    let (bytes, n) = (d.size_bits / 8, d.number);
    o.line(format!(
        "_Static_assert(sizeof({ctype}) == {bytes} * {n}, \"expected {ctype} to be size {bytes} * {n}\");"
    ));
}

/// A comment naming the generator, for the top of every file.
pub(crate) fn banner(o: &mut Out, m: &Module, what: &str) {
    let _ = writeln!(
        o.text,
        "/* {what} of subsystem {} ({}), generated by migc. Do not edit. */",
        m.subsystem.name, m.subsystem.base
    );
}
