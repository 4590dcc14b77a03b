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
//!   the same stubs run on GNU Mach, on Mach_R and in-process in tests;
//! - [`kernel`]: kernel mode, for the server stubs of a `KernelServer` subsystem run by a
//!   kernel over requests in its own IPC space ([`KernelRequest`], out-of-line data as opaque
//!   [`OolToken`]s): nothing there dereferences an address, so a kernel needs no `unsafe`.
//!
//! # Unsafe code
//! The crate denies unsafe code except in two places, each block with a `// SAFETY:` note:
//! [`ool`] (reading out-of-line memory that a message delivered) and [`transport`] (the
//! promise a transport makes about what it received). Generated stubs contain no unsafe code.
//!
//! # What this crate does not do
//! No system calls (a [`Transport`] makes them), no allocation, no `std`. It describes only
//! the x86_64 GNU Mach message format (migc's `x86_64-gnu` target).

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod error;
pub mod kernel;
pub mod msg;
pub mod ool;
pub mod port;
pub mod transport;

pub use error::{Error, KernReturn};
pub use kernel::{DynamicIn, DynamicOut, KernelRequest, OolToken};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_descriptor_bits_are_gnu_machs() {
        // MACH_MSG_TYPE_INTEGER_32, 32 bits, 1 element, inline: as GNU MIG's constants.
        let d = TypeDesc::new(
            msg::types::MACH_MSG_TYPE_INTEGER_32,
            32,
            1,
            true,
            false,
            false,
        );
        assert_eq!(d.bits, 0x2000_2002);
        assert_eq!(d.number, 1);
        let l = TypeDesc::new(msg::types::MACH_MSG_TYPE_BYTE, 8, 4096, false, true, true);
        assert_eq!(
            (l.name(), l.size(), l.inline(), l.longform(), l.deallocate()),
            (9, 8, false, true, true)
        );
        assert_eq!(l.with_inline(true).with_deallocate(false).bits, 0x6000_0809);
        assert_eq!(d.with_name(17).name(), 17);
        assert_eq!(d.with_size(64).size(), 64);
    }

    #[test]
    fn writer_and_reader_never_panic_out_of_bounds() {
        let mut buf = MsgBuf::<16>::new();
        let mut w = buf.writer();
        w.u64(12, u64::MAX);
        w.u32(usize::MAX - 1, 1);
        w.port(8, PortName(7));
        let r = Reader::new(buf.bytes());
        assert_eq!(r.port(8), PortName(7));
        assert_eq!(r.u32(12), 0, "a port slot's upper half is cleared");
        assert_eq!(r.u64(12), 0, "a read past the end gives zero");
        assert!(r.bytes(20, 4).is_empty());
    }

    #[test]
    fn header_round_trip() {
        let h = Header {
            msgh_bits: msg::msgh_bits(19, 21) | msg::MACH_MSGH_BITS_COMPLEX,
            msgh_size: 48,
            msgh_remote_port: PortSlot {
                name: PortName(3),
                upper: 0,
            },
            msgh_local_port: PortSlot {
                name: PortName(4),
                upper: 0,
            },
            msgh_seqno: 0,
            msgh_id: 2000,
        };
        let mut buf = MsgBuf::<32>::new();
        buf.writer().header(&h);
        assert_eq!(Reader::new(buf.bytes()).header(), h);
        assert_eq!(msg::msgh_bits_remote(h.msgh_bits), 19);
        assert_eq!(msg::msgh_bits_local(h.msgh_bits), 21);
    }

    #[test]
    fn fixed_strings_stop_at_nul_and_keep_one() {
        let s = FixedString::<4>::new(b"abcdef");
        assert_eq!(s.as_bytes(), b"abc");
        assert_eq!(s.raw(), b"abc\0");
        assert_eq!(FixedString::<8>::new(b"ab\0cd").as_str(), Some("ab"));
    }

    #[test]
    fn scalars_of_arrays() {
        let mut b = [0u8; 8];
        [1i32, -2].store(&mut b);
        assert_eq!(<[i32; 2]>::load(&b), [1, -2]);
        assert_eq!(<[u16; 3] as Scalar>::SIZE, 6);
    }

    #[test]
    fn errors() {
        assert_eq!(Error::check(0), Ok(()));
        assert_eq!(Error::check(-307), Err(Error::ARRAY_TOO_LARGE));
        assert!(Error::TYPE_ERROR.is_mig());
        assert!(!Error::FAILURE.is_mig());
        assert_eq!(Error::new(0).code(), error::KERN_FAILURE);
    }
}
