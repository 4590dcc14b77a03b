//! Kernel mode: what the server stubs of a `KernelServer` subsystem use when a kernel serves
//! requests from its own IPC space (GNU MIG's `KernelServer` idea, without its C translations).
//!
//! A kernel that delivers a request to itself holds the message as plain bytes: its port names
//! are names of the kernel's IPC space, and its out-of-line regions are not mapped memory of
//! the caller but whatever the kernel's IPC layer put in the address slot (a handle of a copied
//! region, say). So in kernel mode nothing is dereferenced:
//!
//! - [`KernelRequest`] wraps the request bytes; making one is safe, because it never reads
//!   through an address the message carries;
//! - out-of-line data, in a request or a reply, is an [`OolToken`]: the 64-bit value of the
//!   address slot and an element count, opaque to the stubs. The kernel gives it meaning: it
//!   resolves a request's token to the region its IPC layer copied in, and it makes the token of
//!   a reply's region itself (the reply then goes through its ordinary copy-in path, which
//!   resolves the token again);
//! - a dynamic array (`array[]`) arrives as [`DynamicIn`] (the inline elements or a token) and
//!   is replied as [`DynamicOut`] (a count of elements in the stub's buffer, or a token).
//!
//! This module has no unsafe code.

use core::marker::PhantomData;

use crate::msg::Reader;
use crate::ool::Scalar;

/// A request the kernel delivered to itself, as bytes of its own IPC space.
#[derive(Debug, Clone, Copy)]
pub struct KernelRequest<'a> {
    reader: Reader<'a>,
}

impl<'a> KernelRequest<'a> {
    /// Wraps request bytes (header first). The stubs check sizes and descriptors themselves.
    pub fn new(bytes: &'a [u8]) -> Self {
        KernelRequest {
            reader: Reader::new(bytes),
        }
    }

    pub fn reader(&self) -> Reader<'a> {
        self.reader
    }

    /// The out-of-line datum whose address slot is at `off`, of `len` elements.
    pub fn ool<E: Scalar>(&self, off: usize, len: usize) -> OolToken<E> {
        OolToken::new(self.reader.u64(off), len)
    }
}

/// Out-of-line data in kernel mode: the value of the address slot and the number of
/// elements. The stubs copy it between message and server unchanged; only the kernel knows
/// what the value names.
#[derive(Debug, PartialEq, Eq, Hash)]
#[must_use = "an out-of-line region stays held until the kernel releases its token"]
pub struct OolToken<E: Scalar> {
    token: u64,
    len: usize,
    _e: PhantomData<E>,
}

impl<E: Scalar> OolToken<E> {
    /// A token for `len` elements named by `token` (a reply's region, made by the kernel).
    pub const fn new(token: u64, len: usize) -> Self {
        OolToken {
            token,
            len,
            _e: PhantomData,
        }
    }
    /// The value of the address slot.
    pub const fn token(&self) -> u64 {
        self.token
    }
    /// Elements.
    pub const fn len(&self) -> usize {
        self.len
    }
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Bytes of the region.
    pub const fn size(&self) -> usize {
        self.len * E::SIZE
    }
    /// Gives up the token: `(token, len)`.
    pub fn into_raw(self) -> (u64, usize) {
        (self.token, self.len)
    }
}

/// A dynamic array (`array[]`) as a kernel server receives it.
#[derive(Debug, PartialEq, Eq)]
pub enum DynamicIn<'a, E: Scalar> {
    /// The elements travelled in the message.
    Inline(&'a [E]),
    /// They travelled out of line.
    OutOfLine(OolToken<E>),
}

/// A dynamic array (`array[]`) as a kernel server replies with it: the count of elements it
/// put in the reply buffer the stub gave it, or a token of out-of-line data.
#[derive(Debug, PartialEq, Eq)]
pub enum DynamicOut<E: Scalar> {
    Inline(usize),
    OutOfLine(OolToken<E>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::MsgBuf;

    #[test]
    fn a_request_token_is_the_address_slot() {
        let mut buf = MsgBuf::<64>::new();
        buf.writer().u64(56, 0xdead_beef_0000_1000);
        let req = KernelRequest::new(buf.bytes());
        let t = req.ool::<u32>(56, 3);
        assert_eq!(
            (t.token(), t.len(), t.size()),
            (0xdead_beef_0000_1000, 3, 12)
        );
        assert_eq!(t.into_raw(), (0xdead_beef_0000_1000, 3));
        assert!(req.ool::<u8>(60, 0).is_empty());
    }

    #[test]
    fn dynamic_arrays_carry_tokens() {
        let d = DynamicIn::OutOfLine(OolToken::<u32>::new(5, 100));
        assert!(matches!(d, DynamicIn::OutOfLine(ref t) if t.token() == 5 && t.size() == 400));
        let o = DynamicOut::<u16>::Inline(3);
        assert_eq!(o, DynamicOut::Inline(3));
    }
}
