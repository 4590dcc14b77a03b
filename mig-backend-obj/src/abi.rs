//! ABI facts the client stubs need beyond the IR's target data: GNU Mach's option bits, header
//! bits and MIG's error codes (values from gnumach-dev's `<mach/message.h>`, `<mach/notify.h>`
//! and `<mach/mig_errors.h>`), and the C prototype of each stub (the C back end's rules:
//! prototype order, which implicit arguments a side sees, what is passed by pointer).

use mig_ir::{Argument, ArgumentKind, Count, Module, Routine, Storage, Type};

pub const MACH_SEND_MSG: u32 = 0x1;
pub const MACH_RCV_MSG: u32 = 0x2;
pub const MACH_SEND_TIMEOUT: u32 = 0x10;
pub const MACH_RCV_TIMEOUT: u32 = 0x100;
pub const MACH_MSGH_BITS_COMPLEX: u32 = 0x8000_0000;
/// `MACH_NOTIFY_FIRST + 007`
pub const MACH_NOTIFY_SEND_ONCE: u32 = 0o107;
pub const MIG_TYPE_ERROR: i32 = -300;
pub const MIG_REPLY_MISMATCH: i32 = -301;
pub const MIG_ARRAY_TOO_LARGE: i32 = -307;
pub const MIG_SERVER_DIED: i32 = -308;

/// The `mach_msg` option names of gnumach-dev's `<mach/message.h>` a `msgoption` may use.
const OPTION_NAMES: &[(&str, u32)] = &[
    ("MACH_MSG_OPTION_NONE", 0),
    ("MACH_SEND_MSG", MACH_SEND_MSG),
    ("MACH_RCV_MSG", MACH_RCV_MSG),
    ("MACH_SEND_TIMEOUT", MACH_SEND_TIMEOUT),
    ("MACH_SEND_NOTIFY", 0x20),
    ("MACH_SEND_INTERRUPT", 0x40),
    ("MACH_SEND_CANCEL", 0x80),
    ("MACH_RCV_TIMEOUT", MACH_RCV_TIMEOUT),
    ("MACH_RCV_NOTIFY", 0x200),
    ("MACH_RCV_INTERRUPT", 0x400),
    ("MACH_RCV_LARGE", 0x800),
    ("MACH_SEND_ALWAYS", 0x1_0000),
];

/// A number (decimal, `0x` hex or `0` octal, as C reads it).
fn c_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// The value of a `msgoption` text: numbers and GNU Mach's option names joined by `|`.
pub fn option_value(text: &str) -> Option<u32> {
    text.split('|').try_fold(0u32, |acc, part| {
        let part = part.trim().trim_start_matches('(').trim_end_matches(')');
        let v = c_number(part).or_else(|| {
            OPTION_NAMES
                .iter()
                .find(|(n, _)| *n == part.trim())
                .map(|(_, v)| *v)
        })?;
        Some(acc | v)
    })
}

/// The value of a `waittime` text: a number or `MACH_MSG_TIMEOUT_NONE` (a C variable cannot
/// be read by an object that does not link against it).
pub fn timeout_value(text: &str) -> Option<u32> {
    let t = text.trim();
    if t == "MACH_MSG_TIMEOUT_NONE" {
        return Some(0);
    }
    c_number(t)
}

/// How one C parameter is passed in registers (System V x86_64, integer class only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// An integer of this many bytes (1, 2, 4, 8), or a structure of up to 8 bytes.
    Int(u32),
    /// A structure of 9 to 16 bytes: two eightbytes in two registers.
    Pair,
    /// A pointer.
    Ptr,
    /// A structure of more than 16 bytes, passed in memory: the caller copies it onto the
    /// stack (System V class MEMORY); the stub reads it there.
    Mem(u32),
}

/// Bytes of the C value of `ty` passed by value.
pub fn value_size(ty: &Type) -> u32 {
    match (ty.c_struct, ty.count) {
        (true, Count::Fixed(n)) => ty.c_size.saturating_mul(n),
        _ => ty.c_size,
    }
}

/// True for types passed as C arrays (that decay to pointers) rather than values.
pub fn is_c_array(ty: &Type) -> bool {
    !ty.port
        && !ty.c_struct
        && ty.storage == Storage::Inline
        && (ty.string || ty.is_variable() || matches!(ty.count, Count::Fixed(n) if n > 1))
}

fn is_inline_port_array(ty: &Type) -> bool {
    ty.port
        && ty.storage == Storage::Inline
        && (ty.is_variable() || matches!(ty.count, Count::Fixed(n) if n > 1))
}

/// The direction of an argument's data, following implicit arguments to their parent.
fn data_kind(a: &Argument, r: &Routine) -> ArgumentKind {
    match a.parent {
        Some(p) if a.kind.is_implicit() => r.arguments[p].kind,
        _ => a.kind,
    }
}

/// True when an argument is a parameter of the client stub.
pub fn visible_to_user(module: &Module, a: &Argument, r: &Routine) -> bool {
    use ArgumentKind::*;
    match a.kind {
        Poly => {
            let Some(p) = a.parent else { return false };
            let parent = &r.arguments[p];
            let t = module.ty(parent.ty);
            let sent = matches!(
                parent.kind,
                In | InOut | RequestPort | ReplyPort | SReplyPort | UReplyPort
            );
            let returned = matches!(parent.kind, Out | InOut);
            (sent && t.name_in.is_polymorphic() || returned && t.name_out.is_polymorphic())
                && visible_to_user(module, parent, r)
        }
        RequestPort | ReplyPort | In | Out | InOut | Count => true,
        UReplyPort | WaitTime | MsgOption | Dealloc => true,
        ServerCopy | SReplyPort | MsgSeqno => false,
    }
}

/// Argument indices in C prototype order: declaration order, except that an argument's
/// `<name>Poly` comes before its `<name>Cnt`.
pub fn prototype_order(r: &Routine) -> Vec<usize> {
    let mut order: Vec<usize> = (0..r.arguments.len()).collect();
    for a in &r.arguments {
        if let (Some(c), Some(p)) = (a.count, a.poly) {
            let ci = order.iter().position(|&x| x == c);
            let pi = order.iter().position(|&x| x == p);
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

/// How the client stub receives argument `i`.
pub fn user_pass(module: &Module, r: &Routine, i: usize) -> Result<Pass, String> {
    use ArgumentKind::*;
    let a = &r.arguments[i];
    let ty = module.ty(a.ty);
    Ok(match a.kind {
        RequestPort | ReplyPort | UReplyPort | SReplyPort => Pass::Int(4),
        WaitTime | MsgOption | Dealloc | ServerCopy | MsgSeqno => Pass::Int(4),
        Count | Poly => {
            if matches!(data_kind(a, r), Out | InOut) {
                Pass::Ptr
            } else {
                Pass::Int(4)
            }
        }
        In => {
            if ty.string
                || ty.storage != Storage::Inline
                || is_c_array(ty)
                || is_inline_port_array(ty)
            {
                Pass::Ptr
            } else if ty.port {
                Pass::Int(4)
            } else {
                match value_size(ty) {
                    n @ (1 | 2 | 4 | 8) => Pass::Int(n),
                    3 | 5..=7 => Pass::Int(8),
                    9..=16 => Pass::Pair,
                    n => Pass::Mem(n),
                }
            }
        }
        Out | InOut => Pass::Ptr,
    })
}
