//! Target ABIs as data: C type sizes, the typed-message header and descriptor formats, the
//! `MACH_MSG_TYPE_*` numbers and the alignment rules of each supported kernel ABI.
//!
//! A target is a value, chosen at run time (`--target`). Adding a target (Apple's descriptor
//! format, Mach_R's own) means adding a [`Target`] value, not changing the layout code, as long
//! as the message is a header followed by typed (descriptor, data) pairs.
//!
//! Sources: the target's `<mach/message.h>` in `gnumach-dev` (read as documentation), and
//! GNU MIG 1.8+git20231217's generated stubs, observed as a black box (see
//! `docs/wire-format-gnu.md`).

use serde::Serialize;

/// Size and alignment in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeAlign {
    pub size: u32,
    pub align: u32,
}

const fn sa(size: u32, align: u32) -> SizeAlign {
    SizeAlign { size, align }
}

/// The C types MIG predefines and the C types it places in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CTypes {
    pub char: SizeAlign,
    pub short: SizeAlign,
    pub int: SizeAlign,
    pub long: SizeAlign,
    pub pointer: SizeAlign,
    /// `uintptr_t` / `intptr_t`
    pub uintptr: SizeAlign,
}

/// One field of the message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeaderField {
    pub name: &'static str,
    pub offset: u32,
    pub size: u32,
}

/// The format of the type descriptors (`mach_msg_type_t`, `mach_msg_type_long_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DescriptorFormat {
    /// Size of `mach_msg_type_t` in bytes.
    pub short_size: u32,
    /// Size of `mach_msg_type_long_t` in bytes.
    pub long_size: u32,
    /// Largest `msgt_size` (bits) a short descriptor is used for.
    pub short_max_size_bits: u32,
    /// Largest `msgt_number` a short descriptor is used for.
    pub short_max_number: u32,
}

/// A kernel ABI for typed Mach messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The `--target` name: `x86_64-gnu`.
    pub name: &'static str,
    pub description: &'static str,
    pub c: CTypes,
    /// `mach_port_name_t`: the size of a port name in user space and in out-of-line port arrays.
    pub port_name: SizeAlign,
    /// Bytes a port right occupies inline in a message body (`mach_port_name_inlined_t`).
    pub inline_port_size: u32,
    /// `mach_msg_header_t`
    pub header_size: u32,
    pub header: &'static [HeaderField],
    pub descriptor: DescriptorFormat,
    /// Every datum in a body starts at a multiple of this (`MACH_MSG_USER_ALIGNMENT`): data
    /// is padded up to it, so descriptors stay aligned.
    pub message_alignment: u32,
    /// Most bytes of a dynamic (`array[]`) array sent inline; above, it goes out of line.
    pub dynamic_inline_limit: u32,
    /// `MACH_MSG_TYPE_*` names and values, from `<mach/message.h>`.
    pub msg_types: &'static [(&'static str, u32)],
    /// Default `msgt_size` (bits) of each symbolic name when none is written. Names not listed
    /// need an explicit size.
    pub default_sizes: &'static [(&'static str, u32)],
}

/// `MACH_MSG_TYPE_*` values of GNU Mach (`<mach/message.h>`, gnumach-dev 2:1.8+git20250702),
/// identical on i686 and x86_64.
const GNU_MSG_TYPES: &[(&str, u32)] = &[
    ("MACH_MSG_TYPE_UNSTRUCTURED", 0),
    ("MACH_MSG_TYPE_BIT", 0),
    ("MACH_MSG_TYPE_BOOLEAN", 0),
    ("MACH_MSG_TYPE_INTEGER_16", 1),
    ("MACH_MSG_TYPE_INTEGER_32", 2),
    ("MACH_MSG_TYPE_CHAR", 8),
    ("MACH_MSG_TYPE_BYTE", 9),
    ("MACH_MSG_TYPE_INTEGER_8", 9),
    ("MACH_MSG_TYPE_REAL", 10),
    ("MACH_MSG_TYPE_INTEGER_64", 11),
    ("MACH_MSG_TYPE_STRING", 12),
    ("MACH_MSG_TYPE_STRING_C", 12),
    ("MACH_MSG_TYPE_PORT_NAME", 15),
    ("MACH_MSG_TYPE_MOVE_RECEIVE", 16),
    ("MACH_MSG_TYPE_MOVE_SEND", 17),
    ("MACH_MSG_TYPE_MOVE_SEND_ONCE", 18),
    ("MACH_MSG_TYPE_COPY_SEND", 19),
    ("MACH_MSG_TYPE_MAKE_SEND", 20),
    ("MACH_MSG_TYPE_MAKE_SEND_ONCE", 21),
    ("MACH_MSG_TYPE_PORT_RECEIVE", 16),
    ("MACH_MSG_TYPE_PORT_SEND", 17),
    ("MACH_MSG_TYPE_PORT_SEND_ONCE", 18),
    ("MACH_MSG_TYPE_PROTECTED_PAYLOAD", 23),
    ("MACH_MSG_TYPE_POLYMORPHIC", u32::MAX),
];

/// Sizes GNU MIG gives symbolic names without an explicit size. Port rights and port names are
/// 32 bits (`mach_port_name_t`); the target widens rights inline.
const GNU_DEFAULT_SIZES: &[(&str, u32)] = &[
    ("MACH_MSG_TYPE_UNSTRUCTURED", 0),
    ("MACH_MSG_TYPE_BIT", 1),
    ("MACH_MSG_TYPE_BOOLEAN", 32),
    ("MACH_MSG_TYPE_INTEGER_16", 16),
    ("MACH_MSG_TYPE_INTEGER_32", 32),
    ("MACH_MSG_TYPE_INTEGER_64", 64),
    ("MACH_MSG_TYPE_CHAR", 8),
    ("MACH_MSG_TYPE_BYTE", 8),
    ("MACH_MSG_TYPE_INTEGER_8", 8),
    ("MACH_MSG_TYPE_REAL", 32),
    ("MACH_MSG_TYPE_STRING", 8),
    ("MACH_MSG_TYPE_STRING_C", 8),
    ("MACH_MSG_TYPE_PORT_NAME", 32),
    ("MACH_MSG_TYPE_MOVE_RECEIVE", 32),
    ("MACH_MSG_TYPE_MOVE_SEND", 32),
    ("MACH_MSG_TYPE_MOVE_SEND_ONCE", 32),
    ("MACH_MSG_TYPE_COPY_SEND", 32),
    ("MACH_MSG_TYPE_MAKE_SEND", 32),
    ("MACH_MSG_TYPE_MAKE_SEND_ONCE", 32),
    ("MACH_MSG_TYPE_PORT_RECEIVE", 32),
    ("MACH_MSG_TYPE_PORT_SEND", 32),
    ("MACH_MSG_TYPE_PORT_SEND_ONCE", 32),
    ("MACH_MSG_TYPE_PROTECTED_PAYLOAD", 64),
    ("MACH_MSG_TYPE_POLYMORPHIC", 32),
];

/// Current GNU Mach on x86_64, after the 2023 message-format change: 8-byte descriptors (short
/// and long the same size), a 32-byte header with 8-byte port fields, port rights in 8-byte
/// inline slots, every datum 8-byte aligned.
pub static X86_64_GNU: Target = Target {
    name: "x86_64-gnu",
    description: "GNU Mach x86_64 (gnumach-dev 2:1.8+git20250702, GNU MIG 1.8+git20231217)",
    c: CTypes {
        char: sa(1, 1),
        short: sa(2, 2),
        int: sa(4, 4),
        long: sa(8, 8),
        pointer: sa(8, 8),
        uintptr: sa(8, 8),
    },
    port_name: sa(4, 4),
    inline_port_size: 8,
    header_size: 32,
    header: &[
        HeaderField {
            name: "msgh_bits",
            offset: 0,
            size: 4,
        },
        HeaderField {
            name: "msgh_size",
            offset: 4,
            size: 4,
        },
        HeaderField {
            name: "msgh_remote_port",
            offset: 8,
            size: 8,
        },
        HeaderField {
            name: "msgh_local_port",
            offset: 16,
            size: 8,
        },
        HeaderField {
            name: "msgh_seqno",
            offset: 24,
            size: 4,
        },
        HeaderField {
            name: "msgh_id",
            offset: 28,
            size: 4,
        },
    ],
    descriptor: DescriptorFormat {
        short_size: 8,
        long_size: 8,
        short_max_size_bits: 255,
        short_max_number: 4095,
    },
    message_alignment: 8,
    dynamic_inline_limit: 2048,
    msg_types: GNU_MSG_TYPES,
    default_sizes: GNU_DEFAULT_SIZES,
};

/// GNU Mach on i686 (the Hurd's historical ABI): 4-byte short and 12-byte long descriptors, a
/// 24-byte header, 4-byte port slots, every datum 4-byte aligned.
pub static I686_GNU: Target = Target {
    name: "i686-gnu",
    description: "GNU Mach i686 (32-bit typed messages)",
    c: CTypes {
        char: sa(1, 1),
        short: sa(2, 2),
        int: sa(4, 4),
        long: sa(4, 4),
        pointer: sa(4, 4),
        uintptr: sa(4, 4),
    },
    port_name: sa(4, 4),
    inline_port_size: 4,
    header_size: 24,
    header: &[
        HeaderField {
            name: "msgh_bits",
            offset: 0,
            size: 4,
        },
        HeaderField {
            name: "msgh_size",
            offset: 4,
            size: 4,
        },
        HeaderField {
            name: "msgh_remote_port",
            offset: 8,
            size: 4,
        },
        HeaderField {
            name: "msgh_local_port",
            offset: 12,
            size: 4,
        },
        HeaderField {
            name: "msgh_seqno",
            offset: 16,
            size: 4,
        },
        HeaderField {
            name: "msgh_id",
            offset: 20,
            size: 4,
        },
    ],
    descriptor: DescriptorFormat {
        short_size: 4,
        long_size: 12,
        short_max_size_bits: 255,
        short_max_number: 4095,
    },
    message_alignment: 4,
    dynamic_inline_limit: 2048,
    msg_types: GNU_MSG_TYPES,
    default_sizes: GNU_DEFAULT_SIZES,
};

/// Every target, the default first.
pub static TARGETS: &[&Target] = &[&X86_64_GNU, &I686_GNU];

impl Target {
    pub fn by_name(name: &str) -> Option<&'static Target> {
        TARGETS.iter().copied().find(|t| t.name == name)
    }

    pub fn names() -> Vec<&'static str> {
        TARGETS.iter().map(|t| t.name).collect()
    }

    /// The value of a `MACH_MSG_TYPE_*` name.
    pub fn msg_type_value(&self, symbol: &str) -> Option<u32> {
        self.msg_types
            .iter()
            .find(|(n, _)| *n == symbol)
            .map(|&(_, v)| v)
    }

    pub fn default_size_bits(&self, symbol: &str) -> Option<u32> {
        self.default_sizes
            .iter()
            .find(|(n, _)| *n == symbol)
            .map(|&(_, v)| v)
    }

    /// True for values that carry port rights (`MOVE_RECEIVE` ..= `MAKE_SEND_ONCE`).
    pub fn is_port_right(&self, value: u32) -> bool {
        let lo = self.msg_type_value("MACH_MSG_TYPE_MOVE_RECEIVE");
        let hi = self.msg_type_value("MACH_MSG_TYPE_MAKE_SEND_ONCE");
        matches!((lo, hi), (Some(lo), Some(hi)) if (lo..=hi).contains(&value))
    }

    /// Rounds up to the message alignment.
    pub fn align(&self, n: u64) -> u64 {
        let a = self.message_alignment as u64;
        n.div_ceil(a).saturating_mul(a)
    }

    /// The disposition a right arrives as, for a disposition it was sent with
    /// (`COPY_SEND` arrives as `PORT_SEND`).
    pub fn received_disposition(&self, symbol: &str) -> Option<&'static str> {
        Some(match symbol {
            "MACH_MSG_TYPE_MOVE_RECEIVE" => "MACH_MSG_TYPE_PORT_RECEIVE",
            "MACH_MSG_TYPE_MOVE_SEND" | "MACH_MSG_TYPE_COPY_SEND" | "MACH_MSG_TYPE_MAKE_SEND" => {
                "MACH_MSG_TYPE_PORT_SEND"
            }
            "MACH_MSG_TYPE_MOVE_SEND_ONCE" | "MACH_MSG_TYPE_MAKE_SEND_ONCE" => {
                "MACH_MSG_TYPE_PORT_SEND_ONCE"
            }
            _ => return None,
        })
    }
}
