//! The messages of a routine as the C back end sees them: one [`Datum`] per (descriptor, data)
//! pair of a request or reply, with the shape of its C member and how it is copied.
//!
//! Offsets and sizes come from [`mig_ir::layout`]; this module only decides the C spelling.

use mig_ir::layout::{inline_element_bytes, FieldRole, MessageLayout};
use mig_ir::{ArgumentKind, Count, Dealloc, Module, Routine, Storage, Type, Validated};

use crate::Unsupported;

/// Which stub file a piece of code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    User,
    Server,
}

thread_local! {
    /// The side being generated when it runs inside the kernel (`KernelServer` for the server
    /// side, `KernelUser` for the user side); `None` otherwise. Set by [`KernelMode::enter`]
    /// for the duration of one output.
    static KERNEL_SIDE: std::cell::Cell<Option<Side>> = const { std::cell::Cell::new(None) };
}

/// While alive, code for `side` is generated in GNU MIG's kernel style when the subsystem is
/// `KernelServer` (server side) or `KernelUser` (user side): ports are `ipc_port_t` pointers in
/// messages and prototypes, and a kernel sender sends the rights it holds.
#[derive(Debug)]
pub(crate) struct KernelMode(Option<Side>);

impl KernelMode {
    pub fn enter(module: &Module, side: Side) -> KernelMode {
        let k = match side {
            Side::User => module.subsystem.kernel_user,
            Side::Server => module.subsystem.kernel_server,
        };
        let prev = KERNEL_SIDE.with(|c| c.replace(k.then_some(side)));
        KernelMode(prev)
    }
}

impl Drop for KernelMode {
    fn drop(&mut self) {
        KERNEL_SIDE.with(|c| c.set(self.0));
    }
}

/// True when the code being generated for `side` runs in the kernel.
pub(crate) fn kernel(side: Side) -> bool {
    KERNEL_SIDE.with(|c| c.get()) == Some(side)
}

/// True when the code being generated runs in the kernel (either side).
pub(crate) fn kernel_now() -> bool {
    KERNEL_SIDE.with(|c| c.get()).is_some()
}

/// `ipc_port_t` for a port C type `mach_port_t` in kernel code, else the name unchanged.
pub(crate) fn kernel_port_ctype(name: &str) -> String {
    if kernel_now() && name == "mach_port_t" {
        "ipc_port_t".into()
    } else {
        name.to_string()
    }
}

/// How a datum's data looks and is copied (shared with every back end).
pub(crate) use mig_ir::shape::DataShape as Shape;

/// One (descriptor, data) pair of a message.
#[derive(Debug, Clone)]
pub(crate) struct Datum<'a> {
    /// The argument (`None` for the return code).
    pub arg: Option<usize>,
    /// The member name: `flavor`, `old_stateCnt`, `RetCode`.
    pub name: String,
    pub ty: Option<&'a Type>,
    pub shape: Shape,
    pub long: bool,
    /// Descriptor contents as sent at most (`msgt_number` is the maximum for variable data).
    pub size_bits: u32,
    pub number: u64,
    pub inline: bool,
    /// Bytes of one element inline (port rights take the target's slot).
    pub elem_bytes: u32,
    /// Bytes of the data member, at most, and of its padding.
    pub data_max: u32,
    pub pad_max: u32,
    /// The sender picks `msgt_name` at run time (its implicit `<name>Poly` argument).
    pub poly: Option<usize>,
    /// The receiver accepts any `msgt_name` (and may pass it on as `<name>Poly`).
    pub recv_poly: bool,
    pub port: bool,
    /// A kernel sender: it sends the right it holds (`msgt_name` is the received form).
    pub kernel_sent: bool,
}

impl Datum<'_> {
    pub fn variable(&self) -> bool {
        matches!(
            self.shape,
            Shape::VarArray { .. } | Shape::VarString { .. } | Shape::Dynamic { .. }
        )
    }

    /// Whether the receiver checks this descriptor whole against a `<name>Check` constant
    /// (`BAD_TYPECHECK`) rather than field by field. Long, variable, out-of-line and
    /// polymorphic descriptors are checked by field. So are rights in a kernel server: the
    /// deallocate bit of what arrives in the kernel is not predictable (GNU MIG's rule for
    /// `KernelServer` stubs, observed for every argument kind).
    pub fn quick_checked(&self) -> bool {
        let kernel_receives = kernel(Side::Server) && self.port;
        !self.long
            && !self.variable()
            && self.shape != Shape::Ool
            && !self.recv_poly
            && !kernel_receives
    }
}

/// A request or reply.
#[derive(Debug, Clone)]
pub(crate) struct Message<'a> {
    pub data: Vec<Datum<'a>>,
    pub fixed_size: u32,
    pub variable: bool,
}

impl Message<'_> {
    /// The message always carries rights or out-of-line memory.
    pub fn always_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| (d.port && d.poly.is_none()) || d.shape == Shape::Ool)
    }
    /// Some datum decides at run time whether it makes the message complex.
    pub fn runtime_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| d.poly.is_some() || matches!(d.shape, Shape::Dynamic { .. }))
    }
    /// Whether it does is decided at run time (polymorphic rights, dynamic arrays).
    pub fn maybe_complex(&self) -> bool {
        !self.always_complex()
            && self
                .data
                .iter()
                .any(|d| d.poly.is_some() || matches!(d.shape, Shape::Dynamic { .. }))
    }
}

/// The request and reply of one routine.
pub(crate) fn messages<'a>(v: &'a Validated, index: usize) -> (Message<'a>, Option<Message<'a>>) {
    let r = &v.module().routines[index];
    let l = &v.layouts()[index];
    (
        message(v, r, &l.request, kernel(Side::User), false),
        l.reply
            .as_ref()
            .map(|m| message(v, r, m, kernel(Side::Server), true)),
    )
}

fn message<'a>(
    v: &'a Validated,
    r: &'a Routine,
    l: &MessageLayout,
    kernel_sender: bool,
    reply: bool,
) -> Message<'a> {
    let module = v.module();
    let mut data: Vec<Datum<'a>> = Vec::new();
    for f in &l.fields {
        match &f.role {
            FieldRole::Descriptor {
                argument,
                descriptor,
            } => {
                let ty = argument.map(|a| module.ty(r.arguments[a].ty));
                let port = ty.is_some_and(|t| t.port);
                // In the kernel, rights travel as `ipc_port_t` pointers, inline or not.
                let size_bits = if port && kernel_now() {
                    v.target().inline_port_size * 8
                } else {
                    descriptor.size_bits
                };
                // A `KernelServer` replies with the received form of every right it holds
                // (`COPY_SEND` is sent as `PORT_SEND`: the kernel already made the right), with
                // a fixed name even for types polymorphic for user senders
                // (`MACH_MSG_TYPE_PORT_SEND`). A `KernelUser` keeps the declared dispositions
                // and its polymorphic arguments (observed in GNU MIG's output).
                let kernel_fixed = kernel_sender
                    && reply
                    && ty.is_some_and(|t| t.port && !t.name_out.is_polymorphic());
                data.push(Datum {
                    arg: *argument,
                    name: f.name.strip_suffix("Type").unwrap_or(&f.name).to_string(),
                    ty,
                    shape: Shape::RetCode,
                    long: descriptor.long,
                    size_bits,
                    number: descriptor.number.unwrap_or(0),
                    inline: descriptor.inline,
                    elem_bytes: ty
                        .map(|t| inline_element_bytes(v.target(), t) as u32)
                        .unwrap_or(4),
                    data_max: 0,
                    pad_max: 0,
                    poly: argument
                        .and_then(|a| r.arguments[a].poly)
                        .filter(|_| ty.is_some_and(|t| t.name_in.is_polymorphic()))
                        .filter(|_| !kernel_fixed),
                    recv_poly: ty.is_some_and(|t| t.name_out.is_polymorphic()),
                    port,
                    kernel_sent: kernel_fixed,
                });
            }
            FieldRole::Data { storage, .. } => {
                if let Some(d) = data.last_mut() {
                    d.data_max = f.size;
                    d.shape = mig_ir::shape::data_shape(d.ty, *storage, d.data_max, d.elem_bytes);
                }
            }
            FieldRole::Padding { .. } => {
                if let Some(d) = data.last_mut() {
                    d.pad_max = f.size;
                }
            }
            FieldRole::Header => {}
        }
    }
    Message {
        data,
        fixed_size: l.fixed_size,
        variable: l.variable,
    }
}

/// The C type of one element of an array type, on a side.
pub(crate) fn element_ctype(module: &Module, ty: &Type, side: Side) -> String {
    if ty.string {
        return "char".into();
    }
    if ty.port {
        return kernel_port_ctype("mach_port_t");
    }
    match ty.element {
        Some(h) => ctype(module.ty(h), side),
        None => ctype(ty, side),
    }
}

/// The C type a side's code holds a value of `ty` in.
pub(crate) fn ctype(ty: &Type, side: Side) -> String {
    let s = match side {
        Side::User => &ty.c.user,
        Side::Server => &ty.c.server,
    };
    let name = if s.is_empty() {
        ty.name.clone().unwrap_or_else(|| "int".into())
    } else {
        s.clone()
    };
    if ty.port {
        kernel_port_ctype(&name)
    } else {
        name
    }
}

/// True when the sender deallocates out-of-line data for a datum always.
pub(crate) fn dealloc_always(module: &Module, r: &Routine, i: usize) -> bool {
    let a = &r.arguments[i];
    match a.dealloc {
        Dealloc::Always => true,
        Dealloc::Never | Dealloc::Variable => false,
        Dealloc::Default => module.ty(a.ty).dealloc == Dealloc::Always,
    }
}

/// Constructs the back end cannot express.
pub(crate) fn unsupported(v: &Validated) -> Vec<Unsupported> {
    let module = v.module();
    let mut out = Vec::new();
    for r in &module.routines {
        for a in &r.arguments {
            if a.kind == ArgumentKind::InOut
                && !matches!(module.ty(a.ty).count, Count::Fixed(_))
                && module.ty(a.ty).storage != Storage::OutOfLine
            {
                out.push(Unsupported {
                    routine: Some(r.name.clone()),
                    message: format!(
                        "argument `{}` is an inout variable array, which the C back end \
                         cannot express yet",
                        a.name
                    ),
                });
            }
        }
    }
    out
}
