//! The messages of a routine as the object back end sees them: one [`Datum`] per
//! (descriptor, data) pair, with its byte offsets and the descriptor words, all from the IR's
//! layouts.

use mig_ir::layout::{inline_element_bytes, FieldRole, MessageLayout};
use mig_ir::shape::{data_shape, DataShape};
use mig_ir::{Routine, Type, Validated};

/// One (descriptor, data) pair of a message.
#[derive(Debug, Clone)]
pub struct Datum<'a> {
    /// The argument (`None` for the return code).
    pub arg: Option<usize>,
    pub ty: Option<&'a Type>,
    pub shape: DataShape,
    pub long: bool,
    pub size_bits: u32,
    pub number: u64,
    pub inline: bool,
    /// Offsets of the descriptor and of the data in the message.
    pub desc_offset: u32,
    pub data_offset: u32,
    pub data_max: u32,
    /// Bytes of padding after the data, at most.
    pub pad_max: u32,
    /// Bytes of one C element inline (port rights take the target's 8-byte slot).
    pub elem_bytes: u32,
    /// The sender picks `msgt_name` at run time (the index of its `<name>Poly` argument).
    pub poly: Option<usize>,
    /// The receiver accepts any `msgt_name`.
    pub recv_poly: bool,
    pub port: bool,
}

impl Datum<'_> {
    pub fn variable(&self) -> bool {
        matches!(
            self.shape,
            DataShape::VarArray { .. } | DataShape::VarString { .. } | DataShape::Dynamic { .. }
        )
    }

    /// Elements per C element (`msgt_number` = ratio * count).
    pub fn ratio(&self) -> u32 {
        self.ty.map(|t| t.element_number).unwrap_or(1).max(1)
    }

    /// The descriptor as two 32-bit words (x86_64: short and long forms share one layout).
    pub fn words(&self, name: u32, dealloc: bool) -> (u32, u32) {
        let w0 = (name & 0xff)
            | ((self.size_bits & 0xffff) << 8)
            | ((self.inline as u32) << 29)
            | ((self.long as u32) << 30)
            | ((dealloc as u32) << 31);
        (w0, self.number as u32)
    }

    /// `msgt_name` when sent by the client, and as the receiver expects it.
    pub fn sent_name(&self) -> u32 {
        self.ty.map(|t| t.name_in.value).unwrap_or(2)
    }
    pub fn received_name(&self) -> u32 {
        self.ty.map(|t| t.name_out.value).unwrap_or(2)
    }
}

/// A request or reply.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub data: Vec<Datum<'a>>,
    pub fixed_size: u32,
    pub max_size: u32,
    /// Some datum has a size known only at run time.
    pub variable: bool,
}

impl Message<'_> {
    pub fn always_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| (d.port && d.poly.is_none()) || d.shape == DataShape::Ool)
    }
    pub fn runtime_complex(&self) -> bool {
        self.data
            .iter()
            .any(|d| d.poly.is_some() || matches!(d.shape, DataShape::Dynamic { .. }))
    }
    pub fn maybe_complex(&self) -> bool {
        !self.always_complex() && self.runtime_complex()
    }
}

/// The request and reply of routine `index`.
pub fn messages(v: &Validated, index: usize) -> (Message<'_>, Option<Message<'_>>) {
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
    for f in &l.fields {
        match &f.role {
            FieldRole::Descriptor {
                argument,
                descriptor,
            } => {
                let ty = argument.map(|a| module.ty(r.arguments[a].ty));
                data.push(Datum {
                    arg: *argument,
                    ty,
                    shape: DataShape::RetCode,
                    long: descriptor.long,
                    size_bits: descriptor.size_bits,
                    number: descriptor.number.unwrap_or(0),
                    inline: descriptor.inline,
                    desc_offset: f.offset,
                    data_offset: f.offset + f.size,
                    data_max: 0,
                    pad_max: 0,
                    elem_bytes: ty
                        .map(|t| inline_element_bytes(v.target(), t) as u32)
                        .unwrap_or(4),
                    poly: argument
                        .and_then(|a| r.arguments[a].poly)
                        .filter(|_| ty.is_some_and(|t| t.name_in.is_polymorphic())),
                    recv_poly: ty.is_some_and(|t| t.name_out.is_polymorphic()),
                    port: ty.is_some_and(|t| t.port),
                });
            }
            FieldRole::Data { storage, .. } => {
                if let Some(d) = data.last_mut() {
                    d.data_max = f.size;
                    d.data_offset = f.offset;
                    d.shape = data_shape(d.ty, *storage, d.data_max, d.elem_bytes);
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
        max_size: l.max_size,
        variable: l.variable,
    }
}
