//! The Rust types of arguments on each side: what a client function takes and returns, what a
//! server method receives and returns.
//!
//! Ports: a right the message moves is taken by value (`MOVE_SEND` takes a [`SendRight`]),
//! a right it copies or makes is borrowed (`COPY_SEND` takes `&SendRight`, `MAKE_SEND`
//! `&ReceiveRight`), a received right arrives owned (`PORT_SEND` gives a `SendRight`).
//! Polymorphic rights are `rt::Poly` (name and disposition). Arrays are slices in and caller
//! buffers out (the count is returned), `c_string[N]` is bytes in and `rt::FixedString<N>`
//! out, out-of-line data is borrowed (copied by the kernel) or an owned `rt::OolBuffer`.
//!
//! [`SendRight`]: https://docs.rs/mach-rt

use mig_ir::{Dealloc, Module, Routine, Type};

use crate::model::{dealloc_always, element_type, value_type, Datum, Shape};

/// A right sent with disposition `name` (`msgt_name`): the parameter type and how to get
/// its name.
pub(crate) fn sent_port(name: u32) -> (&'static str, &'static str) {
    match name {
        16 => ("rt::ReceiveRight", ".into_name()"),
        17 => ("rt::SendRight", ".into_name()"),
        18 => ("rt::SendOnceRight", ".into_name()"),
        19 => ("&rt::SendRight", ".name()"),
        20 | 21 => ("&rt::ReceiveRight", ".name()"),
        _ => ("rt::PortName", ""),
    }
}

/// A right received as `name`: its type and the constructor from a `PortName`.
pub(crate) fn received_port(name: u32) -> (&'static str, &'static str) {
    match name {
        16 => ("rt::ReceiveRight", "rt::ReceiveRight::from_name"),
        17 => ("rt::SendRight", "rt::SendRight::from_name"),
        18 => ("rt::SendOnceRight", "rt::SendOnceRight::from_name"),
        _ => ("rt::PortName", ""),
    }
}

/// A right a server replies with (`name` as sent): its type and how to get its name.
pub(crate) fn server_sent_port(name: u32) -> (&'static str, &'static str) {
    match name {
        16 => ("rt::ReceiveRight", ".into_name()"),
        17 => ("rt::SendRight", ".into_name()"),
        18 => ("rt::SendOnceRight", ".into_name()"),
        _ => ("rt::PortName", ""),
    }
}

/// A header port argument (request or reply port) as the client passes it.
pub(crate) fn client_header_port(ty: &Type) -> (String, String) {
    if ty.name_in.is_polymorphic() {
        return ("rt::Poly".into(), ".name".into());
    }
    let (t, get) = sent_port(ty.name_in.value);
    (t.into(), get.into())
}

/// The type of data sent (a client's in argument, or the value a server's reply carries).
pub(crate) fn in_type(
    module: &Module,
    r: &Routine,
    i: usize,
    d: &Datum<'_>,
    server: bool,
) -> String {
    let ty = module.ty(r.arguments[i].ty);
    let e = element_type(module, ty);
    match d.shape {
        Shape::Port if d.send_poly => "rt::Poly".into(),
        Shape::VarArray { .. } if d.send_poly => "rt::PolyPorts<'_>".into(),
        Shape::Port if server => server_sent_port(d.name_in).0.into(),
        Shape::Port => sent_port(d.name_in).0.into(),
        Shape::Value => value_type(module, ty),
        Shape::FixedString { .. } | Shape::VarString { .. } => "&[u8]".into(),
        Shape::FixedArray { n, .. } | Shape::PortArray { n } => format!("&[{e}; {n}]"),
        Shape::VarArray { .. } | Shape::Dynamic { .. } => format!("&[{e}]"),
        Shape::Ool => {
            if server || dealloc_always(module, r, i) {
                format!("rt::OolBuffer<{e}>")
            } else if r.arguments[i].dealloc == Dealloc::Variable {
                format!("rt::OolData<'_, {e}>")
            } else {
                format!("&[{e}]")
            }
        }
        Shape::RetCode => "rt::KernReturn".into(),
    }
}

/// The type of data received (a client's result, or a server method's argument).
pub(crate) fn out_type(
    module: &Module,
    r: &Routine,
    i: usize,
    d: &Datum<'_>,
    server: bool,
) -> String {
    let ty = module.ty(r.arguments[i].ty);
    let e = element_type(module, ty);
    match d.shape {
        Shape::Port if d.recv_poly => "rt::Poly".into(),
        Shape::Port => received_port(d.name_out).0.into(),
        Shape::VarArray { .. } if server && d.recv_poly => "rt::PolyPorts<'_>".into(),
        Shape::Value => value_type(module, ty),
        Shape::FixedString { max } if server => {
            let _ = max;
            "&[u8]".into()
        }
        Shape::FixedString { max } => format!("rt::FixedString<{max}>"),
        Shape::FixedArray { n, .. } | Shape::PortArray { n } if server => format!("&[{e}; {n}]"),
        Shape::FixedArray { n, .. } | Shape::PortArray { n } => format!("[{e}; {n}]"),
        Shape::VarArray { .. } if server => format!("&[{e}]"),
        Shape::VarString { .. } if server => "&[u8]".into(),
        Shape::Dynamic { .. } if server => format!("&[{e}]"),
        Shape::VarArray { .. } | Shape::VarString { .. } => "usize".into(),
        Shape::Dynamic { .. } => format!("rt::Dynamic<{e}>"),
        Shape::Ool => format!("rt::OolBuffer<{e}>"),
        Shape::RetCode => "rt::KernReturn".into(),
    }
}

/// The caller's buffer for received variable data (client side), or the server's buffer for
/// variable data it replies with.
pub(crate) fn buffer_type(module: &Module, ty: &Type, d: &Datum<'_>) -> Option<String> {
    let e = element_type(module, ty);
    match d.shape {
        Shape::VarArray { .. } | Shape::Dynamic { .. } => Some(format!("&mut [{e}]")),
        Shape::VarString { .. } => Some("&mut [u8]".into()),
        _ => None,
    }
}

/// The type a server method returns for reply datum `d` of argument `i`.
pub(crate) fn server_out_type(module: &Module, r: &Routine, i: usize, d: &Datum<'_>) -> String {
    let ty = module.ty(r.arguments[i].ty);
    let e = element_type(module, ty);
    match d.shape {
        Shape::Port if d.send_poly => "rt::Poly".into(),
        Shape::Port => server_sent_port(d.name_in).0.into(),
        Shape::Value => value_type(module, ty),
        Shape::FixedString { max } => format!("rt::FixedString<{max}>"),
        Shape::FixedArray { n, .. } | Shape::PortArray { n } => format!("[{e}; {n}]"),
        Shape::VarArray { .. } | Shape::VarString { .. } => "usize".into(),
        Shape::Dynamic { .. } => format!("rt::Dynamic<{e}>"),
        Shape::Ool => format!("rt::OolBuffer<{e}>"),
        Shape::RetCode => "rt::KernReturn".into(),
    }
}
