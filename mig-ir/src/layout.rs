//! Message layout: for each routine, the request and reply bodies field by field, with offsets,
//! padding, the fixed size and the maximum size, on a [`Target`].
//!
//! A typed Mach message is a header followed by (type descriptor, data) pairs. Each datum is
//! padded to the target's message alignment, so every descriptor is aligned. Variable-length
//! data (variable arrays, `c_string[*:N]`, dynamic `array[]`) has a size that depends on the
//! message: the layout gives its maximum, and the *fixed size* is the size of the message
//! with every variable datum empty (the constant GNU MIG adds the variable parts to when it
//! computes `msgh_size`). Offsets are those of the largest message (every variable datum at
//! its maximum); `min_offset` is the offset when every earlier variable datum is empty.

use serde::Serialize;

use crate::ir::{ArgumentKind, Count, Module, Routine, Storage, Type};
use crate::target::Target;

/// The request and reply of one routine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutineLayout {
    pub request: MessageLayout,
    /// `None` for a simple routine.
    pub reply: Option<MessageLayout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageLayout {
    pub fields: Vec<Field>,
    /// Bytes with every variable datum empty; the whole size when `variable` is false.
    pub fixed_size: u32,
    /// Bytes with every variable datum at its maximum.
    pub max_size: u32,
    /// Some datum has a run-time size.
    pub variable: bool,
    /// The message carries port rights or out-of-line memory (`MACH_MSGH_BITS_COMPLEX`), at
    /// least sometimes (polymorphic and dynamic data decide at run time).
    pub complex: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The name GNU MIG gives the member of its C structure: `Head`, `modeType`, `mode`,
    /// `modePad`, `RetCodeType`, `RetCode`, `objectsCnt`.
    pub name: String,
    pub role: FieldRole,
    /// Offset in the largest message.
    pub offset: u32,
    /// Offset when every earlier variable datum is empty.
    pub min_offset: u32,
    /// Bytes (the maximum for variable data).
    pub size: u32,
    /// The size is decided per message.
    pub variable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FieldRole {
    Header,
    /// A type descriptor for argument `argument` (`None` for the return code).
    Descriptor {
        argument: Option<usize>,
        descriptor: Descriptor,
    },
    /// The data of argument `argument` (`None` for the return code; an implicit `Count`
    /// argument for a `CountInOut` count): inline data, or the pointer to out-of-line data.
    Data {
        argument: Option<usize>,
        storage: Storage,
    },
    /// Padding up to the message alignment after the data of `argument`.
    Padding {
        argument: Option<usize>,
    },
}

/// What a type descriptor says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// `msgt_longform`
    pub long: bool,
    /// `msgt_name` value (`u32::MAX` when chosen at run time: polymorphic).
    pub name: u32,
    /// `msgt_size` in bits.
    pub size_bits: u32,
    /// `msgt_number`: the count for fixed data, the maximum for variable data (`None` when
    /// unbounded).
    pub number: Option<u64>,
    /// `msgt_inline` (dynamic data starts inline and may switch).
    pub inline: bool,
}

/// A layout that does not fit a message (sizes past `u32`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    /// The argument whose data overflowed, when one did.
    pub argument: Option<usize>,
    pub message: String,
}

/// How one value sits in a message body, on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub descriptor_size: u32,
    pub long: bool,
    /// `msgt_size` on the wire.
    pub size_bits: u32,
    /// Data bytes when the count is fixed, or for the fixed part (0 for variable data).
    pub fixed_bytes: u64,
    /// Data bytes at the maximum count.
    pub max_bytes: u64,
    /// `msgt_number` for fixed data, the maximum for variable data.
    pub number: Option<u64>,
    pub variable: bool,
}

/// Bits of one wire element of `ty` when inline: port rights are widened to the target's slot.
pub fn inline_size_bits(target: &Target, ty: &Type) -> u32 {
    if ty.port {
        target.inline_port_size * 8
    } else {
        ty.size_bits
    }
}

/// Bytes of one C element of `ty` when inline.
pub fn inline_element_bytes(target: &Target, ty: &Type) -> u64 {
    (inline_size_bits(target, ty) as u64)
        .saturating_mul(ty.element_number as u64)
        .div_ceil(8)
}

/// Where a value of `ty` goes in a message body.
pub fn placement(target: &Target, ty: &Type) -> Placement {
    let elem = inline_element_bytes(target, ty);
    let ptr = target.c.pointer.size as u64;
    let mut size_bits = inline_size_bits(target, ty);
    let (fixed_bytes, max_bytes, number, variable) = match (ty.storage, ty.count) {
        (Storage::OutOfLine, Count::Fixed(n)) => {
            size_bits = ty.size_bits;
            (ptr, ptr, Some(ty.wire_number(n)), false)
        }
        (Storage::OutOfLine, Count::Variable { max }) => {
            size_bits = ty.size_bits;
            (ptr, ptr, max.map(|m| ty.wire_number(m)), false)
        }
        (Storage::Inline, Count::Fixed(n)) => {
            let bytes = elem.saturating_mul(n as u64);
            (bytes, bytes, Some(ty.wire_number(n)), false)
        }
        (Storage::Inline, Count::Variable { max }) => {
            let max = max.unwrap_or(0) as u64;
            (
                0,
                elem.saturating_mul(max),
                Some(max.saturating_mul(ty.element_number as u64)),
                true,
            )
        }
        (Storage::Dynamic, Count::Fixed(n))
        | (Storage::Dynamic, Count::Variable { max: Some(n) }) => {
            let max = elem.saturating_mul(n as u64).max(ptr);
            (0, max, Some(ty.wire_number(n)), true)
        }
        (Storage::Dynamic, Count::Variable { max: None }) => {
            let limit = target.dynamic_inline_limit as u64;
            let count = limit.checked_div(elem).unwrap_or(0);
            (
                0,
                elem.saturating_mul(count).max(ptr),
                Some(count.saturating_mul(ty.element_number as u64)),
                true,
            )
        }
    };
    let unbounded = matches!(ty.count, Count::Variable { max: None });
    let long = unbounded
        || ty.storage == Storage::OutOfLine
        || size_bits > target.descriptor.short_max_size_bits
        || number.is_some_and(|n| n > target.descriptor.short_max_number as u64);
    Placement {
        descriptor_size: if long {
            target.descriptor.long_size
        } else {
            target.descriptor.short_size
        },
        long,
        size_bits,
        fixed_bytes,
        max_bytes,
        number,
        variable,
    }
}

struct Builder<'a> {
    target: &'a Target,
    fields: Vec<Field>,
    max: u64,
    min: u64,
    variable: bool,
    complex: bool,
}

impl Builder<'_> {
    fn push(
        &mut self,
        name: String,
        role: FieldRole,
        min: u64,
        max: u64,
        argument: Option<usize>,
    ) -> Result<(), LayoutError> {
        let too_big = |what: &str| LayoutError {
            argument,
            message: format!("message too large at {what}"),
        };
        let offset = u32::try_from(self.max).map_err(|_| too_big(&name))?;
        let min_offset = u32::try_from(self.min).map_err(|_| too_big(&name))?;
        let size = u32::try_from(max).map_err(|_| too_big(&name))?;
        let variable = min != max;
        self.fields.push(Field {
            name,
            role,
            offset,
            min_offset,
            size,
            variable,
        });
        self.max = self.max.saturating_add(max);
        self.min = self.min.saturating_add(min);
        self.variable |= variable;
        Ok(())
    }

    /// A descriptor, the data and its padding.
    fn datum(
        &mut self,
        name: &str,
        argument: Option<usize>,
        ty: &Type,
        descriptor_name: u32,
    ) -> Result<(), LayoutError> {
        let p = placement(self.target, ty);
        self.complex |= ty.port || ty.storage != Storage::Inline;
        let descriptor = Descriptor {
            long: p.long,
            name: descriptor_name,
            size_bits: p.size_bits,
            number: p.number,
            inline: ty.storage != Storage::OutOfLine,
        };
        let dsize = p.descriptor_size as u64;
        self.push(
            format!("{name}Type"),
            FieldRole::Descriptor {
                argument,
                descriptor,
            },
            dsize,
            dsize,
            argument,
        )?;
        self.push(
            name.to_string(),
            FieldRole::Data {
                argument,
                storage: ty.storage,
            },
            p.fixed_bytes,
            p.max_bytes,
            argument,
        )?;
        let pad_min = self.target.align(p.fixed_bytes) - p.fixed_bytes;
        let pad_max = self.target.align(p.max_bytes) - p.max_bytes;
        if pad_max > 0 || pad_min > 0 {
            self.push(
                format!("{name}Pad"),
                FieldRole::Padding { argument },
                pad_min,
                pad_max,
                argument,
            )?;
        }
        Ok(())
    }

    fn finish(self) -> Result<MessageLayout, LayoutError> {
        let too_big = || LayoutError {
            argument: None,
            message: "message too large".into(),
        };
        Ok(MessageLayout {
            fields: self.fields,
            fixed_size: u32::try_from(self.min).map_err(|_| too_big())?,
            max_size: u32::try_from(self.max).map_err(|_| too_big())?,
            variable: self.variable,
            complex: self.complex,
        })
    }
}

fn header(target: &Target) -> Builder<'_> {
    let mut b = Builder {
        target,
        fields: Vec::new(),
        max: 0,
        min: 0,
        variable: false,
        complex: false,
    };
    let h = target.header_size as u64;
    // The header alone cannot overflow.
    let _ = b.push("Head".into(), FieldRole::Header, h, h, None);
    b
}

/// The request and reply layouts of `routine` on `target`.
pub fn layout_routine(
    module: &Module,
    routine: &Routine,
    target: &Target,
) -> Result<RoutineLayout, LayoutError> {
    let mut request = header(target);
    for (i, arg) in routine.arguments.iter().enumerate() {
        let ty = module.ty(arg.ty);
        let send_name = ty.name_in.value;
        let count_in_out = arg.kind == ArgumentKind::Count
            && arg
                .parent
                .is_some_and(|p| routine.arguments[p].count_in_out);
        if arg.kind.in_request() || count_in_out {
            request.datum(&arg.name, Some(i), ty, send_name)?;
        }
    }
    let request = request.finish()?;
    if routine.is_simple() {
        return Ok(RoutineLayout {
            request,
            reply: None,
        });
    }
    let mut reply = header(target);
    reply.datum(
        "RetCode",
        None,
        &ret_code_type(target),
        ret_code_name(target),
    )?;
    for (i, arg) in routine.arguments.iter().enumerate() {
        if arg.kind.in_reply() {
            let ty = module.ty(arg.ty);
            reply.datum(&arg.name, Some(i), ty, ty.name_out.value)?;
        }
    }
    Ok(RoutineLayout {
        request,
        reply: Some(reply.finish()?),
    })
}

fn ret_code_name(target: &Target) -> u32 {
    target
        .msg_type_value("MACH_MSG_TYPE_INTEGER_32")
        .unwrap_or(2)
}

/// `kern_return_t RetCode`: one `MACH_MSG_TYPE_INTEGER_32`.
fn ret_code_type(target: &Target) -> Type {
    let name = crate::ir::MsgTypeName {
        symbol: Some("MACH_MSG_TYPE_INTEGER_32".into()),
        value: ret_code_name(target),
    };
    Type {
        name: Some("kern_return_t".into()),
        origin: crate::ir::TypeOrigin::Implicit,
        name_in: name.clone(),
        name_out: name,
        size_bits: 32,
        element_number: 1,
        count: Count::Fixed(1),
        storage: Storage::Inline,
        string: false,
        port: false,
        polymorphic: false,
        dealloc: crate::ir::Dealloc::Default,
        element: None,
        c_struct: false,
        c_size: 4,
        c_align: 4,
        c: crate::ir::CNames {
            user: "kern_return_t".into(),
            server: "kern_return_t".into(),
            ..Default::default()
        },
    }
}
