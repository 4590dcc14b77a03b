//! The runtime of migc's Rust stubs: what generated code and the programs that use it share.
//!
//! - [`msg`]: the typed message header and type descriptor of the target (GNU Mach, x86_64:
//!   `mach_msg_header_t` of 32 bytes, 8-byte `mach_msg_type_t`), the `MACH_MSG_TYPE_*` and
//!   `MACH_MSGH_BITS_*` numbers, an aligned message buffer and bounds-checked writers and
//!   readers over it;
//! - [`port`]: port names and rights whose types encode ownership: a [`ReceiveRight`] is not
//!   `Copy`, moving a [`SendRight`] into a message consumes it;
//! - [`ool`]: out-of-line memory received or sent ([`OolBuffer`]), fixed C strings
//!   ([`FixedString`]) and the plain element types ([`Scalar`]);
//! - [`error`]: `kern_return_t`, `mach_msg` and MIG codes as one error type, [`Error`];
//! - [`transport`]: the [`Transport`] trait that abstracts `mach_msg` and the reply port, so
//!   the same stubs run on GNU Mach, on Mach_R and in-process in tests.
//!
//! # Unsafe code
//! The crate denies unsafe code except in two places, each block with a `// SAFETY:` note:
//! [`ool`] (reading out-of-line memory that a message delivered) and [`transport`] (the
//! promise a transport makes about what it received). Generated stubs contain no unsafe code.
//!
//! # What this crate does not do
//! No system calls (a [`Transport`] makes them), no allocation, no `std`. It describes only
//! the x86_64 GNU Mach message format (migc's `x86_64-gnu` target).

#![no_std]
#![deny(unsafe_code)]

pub mod error;
pub mod msg;
pub mod ool;
pub mod port;
pub mod transport;

pub use error::{Error, KernReturn};
pub use msg::{Header, MsgBuf, PortSlot, Reader, TypeDesc, Writer};
pub use ool::{Dynamic, FixedString, OolBuffer, OolData, Scalar};
pub use port::{Poly, PolyPorts, PortName, ReceiveRight, SendOnceRight, SendRight};
pub use transport::{Received, Transport};

/// The larger of two sizes, in constant context (message buffers hold a request or a reply).
pub const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}
