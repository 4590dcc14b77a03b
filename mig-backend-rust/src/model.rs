//! The messages of a routine as the Rust back end sees them: one [`Datum`] per (descriptor,
//! data) pair, with its shape, the Rust element type and the names of its structure members.
//!
//! Offsets and sizes come from [`mig_ir::layout`]; this module decides only the Rust spelling.

use mig_ir::layout::{inline_element_bytes, FieldRole, MessageLayout};
use mig_ir::{Count, Dealloc, Module, Routine, Storage, Type, Validated};

/// How a datum's data looks and is copied (shared with every back end).
pub(crate) use mig_ir::shape::DataShape as Shape;

/// One (descriptor, data) pair of a message.
#[derive(Debug, Clone)]
pub(crate) struct Datum<'a> {
    /// The argument (`None` for the return code).
    pub arg: Option<usize>,
    /// Member names: `<name>Type` and `<name>`.
    pub desc_field: String,
    pub data_field: String,
    pub ty: Option<&'a Type>,
    pub shape: Shape,
    pub long: bool,
    pub size_bits: u32,
    /// `msgt_number` as sent at most.
    pub number: u64,
    pub inline: bool,
    /// Bytes of one C element inline.
    pub elem_bytes: u32,
    pub data_max: u32,
    pub pad_max: u32,
    /// The sender picks `msgt_name` at run time.
    pub send_poly: bool,
    /// The receiver accepts any `msgt_name`.
    pub recv_poly: bool,
    pub port: bool,
    /// `msgt_name` sent and received.
    pub name_in: u32,
    pub name_out: u32,
    /// The same as Rust expressions: `rt::msg::types::MACH_MSG_TYPE_COPY_SEND`.
    pub name_in_expr: String,
    pub name_out_expr: String,
}

impl Datum<'_> {
    pub fn variable(&self) -> bool {
        matches!(
            self.shape,
            Shape::VarArray { .. } | Shape::VarString { .. } | Shape::Dynamic { .. }
        )
    }
    /// Wire elements per C element.
    pub fn ratio(&self) -> u32 {
        self.ty.map(|t| t.element_number).unwrap_or(1).max(1)
    }
    /// The maximum element count of variable data.
    pub fn max(&self) -> u32 {
        match self.shape {
            Shape::VarArray { max } | Shape::VarString { max } | Shape::Dynamic { max } => max,
            _ => 0,
        }
    }
    /// The descriptor of the datum as sent at most (the constant stubs start from), with
    /// `msgt_name` as sent (`received` false) or as received.
    pub fn desc_expr(&self, received: bool, dealloc: bool) -> String {
        let name = if received {
            &self.name_out_expr
        } else {
            &self.name_in_expr
        };
        format!(
            "rt::TypeDesc::new({name}, {}, {}, {}, {}, {dealloc})",
            self.size_bits, self.number as u32, self.inline, self.long
        )
    }
}

/// A request or reply.
#[derive(Debug, Clone)]
pub(crate) struct Message<'a> {
    pub data: Vec<Datum<'a>>,
    /// Every member of the `#[repr(C)]` structure: (name, Rust type, offset, size).
    pub members: Vec<(String, String, u32, u32)>,
    pub fixed_size: u32,
    pub max_size: u32,
    pub variable: bool,
}

impl Message<'_> {
    pub fn always_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| (d.port && !d.send_poly) || d.shape == Shape::Ool)
    }
    pub fn runtime_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| d.send_poly || matches!(d.shape, Shape::Dynamic { .. }))
    }

    pub fn maybe_complex(&self) -> bool {
        !self.always_complex()
            && self
                .data
                .iter()
                .any(|d| d.send_poly || matches!(d.shape, Shape::Dynamic { .. }))
    }
    pub fn datum_of(&self, arg: usize) -> Option<usize> {
        self.data.iter().position(|d| d.arg == Some(arg))
    }
}

pub(crate) fn messages<'a>(v: &'a Validated, index: usize) -> (Message<'a>, Option<Message<'a>>) {
    let r = &v.module().routines[index];
    let l = &v.layouts()[index];
    (
        message(v, r, &l.request),
        l.reply.as_ref().map(|m| message(v, r, m)),
    )
}

fn message<'a>(v: &'a Validated, r: &'a Routine, l: &MessageLayout) -> Message<'a> {
    let module = v.module();
    let mut data: Vec<Datum<'a>> = Vec::new();
    let mut members = Vec::new();
    for f in &l.fields {
        let field = crate::names::ident(&f.name);
        let rust_ty = match &f.role {
            FieldRole::Header => "rt::Header".to_string(),
            FieldRole::Descriptor {
                argument,
                descriptor,
            } => {
                let ty = argument.map(|a| module.ty(r.arguments[a].ty));
                let poly_arg = argument.and_then(|a| r.arguments[a].poly);
                data.push(Datum {
                    arg: *argument,
                    desc_field: field.clone(),
                    data_field: String::new(),
                    ty,
                    shape: Shape::RetCode,
                    long: descriptor.long,
                    size_bits: descriptor.size_bits,
                    number: descriptor.number.unwrap_or(0),
                    inline: descriptor.inline,
                    elem_bytes: ty
                        .map(|t| inline_element_bytes(v.target(), t) as u32)
                        .unwrap_or(4),
                    data_max: 0,
                    pad_max: 0,
                    send_poly: poly_arg.is_some() && ty.is_some_and(|t| t.name_in.is_polymorphic()),
                    recv_poly: ty.is_some_and(|t| t.name_out.is_polymorphic()),
                    port: ty.is_some_and(|t| t.port),
                    name_in: ty.map(|t| t.name_in.value).unwrap_or(2),
                    name_out: ty.map(|t| t.name_out.value).unwrap_or(2),
                    name_in_expr: ty
                        .map(|t| type_name_expr(&t.name_in))
                        .unwrap_or_else(|| INTEGER_32.into()),
                    name_out_expr: ty
                        .map(|t| type_name_expr(&t.name_out))
                        .unwrap_or_else(|| INTEGER_32.into()),
                });
                "rt::TypeDesc".to_string()
            }
            FieldRole::Data { storage, .. } => {
                let mut t = format!("[u8; {}]", f.size);
                if let Some(d) = data.last_mut() {
                    d.data_max = f.size;
                    d.data_field = field.clone();
                    d.shape = mig_ir::shape::data_shape(d.ty, *storage, d.data_max, d.elem_bytes);
                    t = member_type(d, f.size);
                }
                t
            }
            FieldRole::Padding { .. } => {
                if let Some(d) = data.last_mut() {
                    d.pad_max = f.size;
                }
                format!("[u8; {}]", f.size)
            }
        };
        members.push((field, rust_ty, f.offset, f.size));
    }
    Message {
        data,
        members,
        fixed_size: l.fixed_size,
        max_size: l.max_size,
        variable: l.variable,
    }
}

/// `msgt_name` of a return code.
pub(crate) const INTEGER_32: &str = "rt::msg::types::MACH_MSG_TYPE_INTEGER_32";

/// Names `mach_rt::msg::types` defines (every GNU name but `POLYMORPHIC`).
const RUNTIME_NAMES: &[&str] = &[
    "MACH_MSG_TYPE_UNSTRUCTURED",
    "MACH_MSG_TYPE_BIT",
    "MACH_MSG_TYPE_BOOLEAN",
    "MACH_MSG_TYPE_INTEGER_16",
    "MACH_MSG_TYPE_INTEGER_32",
    "MACH_MSG_TYPE_CHAR",
    "MACH_MSG_TYPE_BYTE",
    "MACH_MSG_TYPE_INTEGER_8",
    "MACH_MSG_TYPE_REAL",
    "MACH_MSG_TYPE_INTEGER_64",
    "MACH_MSG_TYPE_STRING",
    "MACH_MSG_TYPE_STRING_C",
    "MACH_MSG_TYPE_PORT_NAME",
    "MACH_MSG_TYPE_MOVE_RECEIVE",
    "MACH_MSG_TYPE_MOVE_SEND",
    "MACH_MSG_TYPE_MOVE_SEND_ONCE",
    "MACH_MSG_TYPE_COPY_SEND",
    "MACH_MSG_TYPE_MAKE_SEND",
    "MACH_MSG_TYPE_MAKE_SEND_ONCE",
    "MACH_MSG_TYPE_PORT_RECEIVE",
    "MACH_MSG_TYPE_PORT_SEND",
    "MACH_MSG_TYPE_PORT_SEND_ONCE",
    "MACH_MSG_TYPE_PROTECTED_PAYLOAD",
];

/// A `msgt_name` as a Rust expression: the runtime's constant when it has the symbol, else
/// the number (a polymorphic `msgt_name` is replaced at run time; GNU MIG starts from 0xff).
pub(crate) fn type_name_expr(n: &mig_ir::MsgTypeName) -> String {
    match n.symbol.as_deref() {
        Some(s) if RUNTIME_NAMES.contains(&s) => format!("rt::msg::types::{s}"),
        _ if n.is_polymorphic() => "0xff".into(),
        _ => n.value.to_string(),
    }
}

/// The type of a data member in the `#[repr(C)]` structure.
fn member_type(d: &Datum<'_>, size: u32) -> String {
    match d.shape {
        Shape::Port => "rt::PortSlot".into(),
        Shape::PortArray { n } if n * 8 == size => format!("[rt::PortSlot; {n}]"),
        Shape::RetCode => "i32".into(),
        Shape::Value if size == 4 => "u32".into(),
        Shape::Value if size == 8 => "u64".into(),
        _ => format!("[u8; {size}]"),
    }
}

/// True when the sender always deallocates out-of-line data of argument `i`.
pub(crate) fn dealloc_always(module: &Module, r: &Routine, i: usize) -> bool {
    let a = &r.arguments[i];
    match a.dealloc {
        Dealloc::Always => true,
        Dealloc::Never | Dealloc::Variable => false,
        Dealloc::Default => module.ty(a.ty).dealloc == Dealloc::Always,
    }
}

/// C type names whose values are signed.
const SIGNED: &[&str] = &[
    "int",
    "integer_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "intptr_t",
    "kern_return_t",
    "long",
    "short",
    "signed",
];

/// The Rust type of one wire element of `ty` (non-port data).
pub(crate) fn wire_scalar(module: &Module, ty: &Type) -> String {
    let c = ty
        .element
        .map(|e| module.ty(e).c.user.clone())
        .unwrap_or_else(|| ty.c.user.clone());
    let signed = SIGNED.contains(&c.as_str()) || SIGNED.contains(&ty.c.user.as_str());
    let s = if signed { "i" } else { "u" };
    match ty.size_bits {
        8 => format!("{s}8"),
        16 => format!("{s}16"),
        32 => format!("{s}32"),
        64 => format!("{s}64"),
        n => format!("[u8; {}]", n.div_ceil(8)),
    }
}

/// The Rust type of one C element of `ty` without aliases: `u32`, `[i32; 2]`.
fn raw_element_type(module: &Module, ty: &Type) -> String {
    let s = wire_scalar(module, ty);
    if ty.element_number > 1 {
        format!("[{s}; {}]", ty.element_number)
    } else {
        s
    }
}

/// Declared scalar types (`type vm_size_t = ...`) and their Rust types: each gets an alias in
/// the generated `types` module. A name declared twice with different Rust types gets none.
pub(crate) fn aliases(module: &Module) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    let mut conflicting = std::collections::BTreeSet::new();
    for ty in &module.types {
        let Some(name) = &ty.name else { continue };
        let scalar = ty.origin == mig_ir::TypeOrigin::Declared
            && !ty.port
            && !ty.string
            && !ty.polymorphic
            && ty.storage == Storage::Inline
            && ty.count == Count::Fixed(1);
        if !scalar {
            continue;
        }
        let raw = raw_element_type(module, ty);
        match m.get(name) {
            Some(r) if *r != raw => {
                conflicting.insert(name.clone());
            }
            _ => {
                m.insert(name.clone(), raw);
            }
        }
    }
    for c in conflicting {
        m.remove(&c);
    }
    m
}

/// `super::types::NAME` when `ty` is a declared scalar with an alias of Rust type `raw`.
fn alias_of(module: &Module, ty: &Type, raw: &str) -> Option<String> {
    let name = ty.name.as_ref()?;
    (aliases(module).get(name).map(String::as_str) == Some(raw))
        .then(|| format!("super::types::{}", crate::names::ident(name)))
}

/// The Rust type of one C element of `ty`: `super::types::vm_size_t`, `u32`, `[i32; 2]`,
/// `rt::PortName`.
pub(crate) fn element_type(module: &Module, ty: &Type) -> String {
    if ty.port {
        return "rt::PortName".into();
    }
    let raw = raw_element_type(module, ty);
    if ty.count == Count::Fixed(1) {
        if let Some(a) = alias_of(module, ty, &raw) {
            return a;
        }
    }
    if let Some(e) = ty.element {
        if let Some(a) = alias_of(module, module.ty(e), &raw) {
            return a;
        }
    }
    raw
}

/// The Rust type of a whole inline fixed value (`Shape::Value`).
pub(crate) fn value_type(module: &Module, ty: &Type) -> String {
    let e = element_type(module, ty);
    match ty.count {
        Count::Fixed(n) if n > 1 => format!("[{e}; {n}]"),
        _ => e,
    }
}
