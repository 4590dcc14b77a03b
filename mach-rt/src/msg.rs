//! Typed Mach messages of GNU Mach on x86_64: the header, the type descriptor, inline port
//! slots, the numbers that go in them, an aligned buffer and bounds-checked access to it.
//!
//! A message is a [`Header`] followed by (type descriptor, data) pairs, every datum padded to
//! 8 bytes (`docs/wire-format-gnu.md`). Generated stubs declare one `#[repr(C)]` structure per
//! request and reply, assert its layout at compile time, and write and read its members at
//! their offsets through a [`Writer`] and a [`Reader`] (which never panic: an access outside
//! the buffer writes nothing and reads zeros; stubs check sizes before they read).

use crate::port::PortName;
use crate::Scalar;

/// `MACH_MSG_TYPE_*` values of GNU Mach (`<mach/message.h>`).
pub mod types {
    pub const MACH_MSG_TYPE_UNSTRUCTURED: u32 = 0;
    pub const MACH_MSG_TYPE_BIT: u32 = 0;
    pub const MACH_MSG_TYPE_BOOLEAN: u32 = 0;
    pub const MACH_MSG_TYPE_INTEGER_16: u32 = 1;
    pub const MACH_MSG_TYPE_INTEGER_32: u32 = 2;
    pub const MACH_MSG_TYPE_CHAR: u32 = 8;
    pub const MACH_MSG_TYPE_BYTE: u32 = 9;
    pub const MACH_MSG_TYPE_INTEGER_8: u32 = 9;
    pub const MACH_MSG_TYPE_REAL: u32 = 10;
    pub const MACH_MSG_TYPE_INTEGER_64: u32 = 11;
    pub const MACH_MSG_TYPE_STRING: u32 = 12;
    pub const MACH_MSG_TYPE_STRING_C: u32 = 12;
    pub const MACH_MSG_TYPE_PORT_NAME: u32 = 15;
    pub const MACH_MSG_TYPE_MOVE_RECEIVE: u32 = 16;
    pub const MACH_MSG_TYPE_MOVE_SEND: u32 = 17;
    pub const MACH_MSG_TYPE_MOVE_SEND_ONCE: u32 = 18;
    pub const MACH_MSG_TYPE_COPY_SEND: u32 = 19;
    pub const MACH_MSG_TYPE_MAKE_SEND: u32 = 20;
    pub const MACH_MSG_TYPE_MAKE_SEND_ONCE: u32 = 21;
    pub const MACH_MSG_TYPE_PORT_RECEIVE: u32 = 16;
    pub const MACH_MSG_TYPE_PORT_SEND: u32 = 17;
    pub const MACH_MSG_TYPE_PORT_SEND_ONCE: u32 = 18;
    pub const MACH_MSG_TYPE_PROTECTED_PAYLOAD: u32 = 23;

    /// `MACH_MSG_TYPE_PORT_ANY(x)`: a disposition that carries a right.
    pub const fn port_any(x: u32) -> bool {
        x >= MACH_MSG_TYPE_MOVE_RECEIVE && x <= MACH_MSG_TYPE_MAKE_SEND_ONCE
    }
}

/// `MACH_MSGH_BITS_COMPLEX`: the message carries rights or out-of-line memory.
pub const MACH_MSGH_BITS_COMPLEX: u32 = 0x8000_0000;
/// `MACH_SEND_MSG`, `MACH_RCV_MSG`, `MACH_SEND_TIMEOUT`, `MACH_RCV_TIMEOUT`.
pub const MACH_SEND_MSG: u32 = 1;
pub const MACH_RCV_MSG: u32 = 2;
pub const MACH_SEND_TIMEOUT: u32 = 0x10;
pub const MACH_RCV_TIMEOUT: u32 = 0x100;
pub const MACH_MSG_OPTION_NONE: u32 = 0;
pub const MACH_MSG_TIMEOUT_NONE: u32 = 0;
/// `MACH_NOTIFY_SEND_ONCE`: what arrives instead of a reply when the server died.
pub const MACH_NOTIFY_SEND_ONCE: u32 = 0o107;
/// `sizeof(mig_reply_header_t)`: a reply with only its return code.
pub const REPLY_HEADER_SIZE: u32 = 48;

/// `MACH_MSGH_BITS(remote, local)`
pub const fn msgh_bits(remote: u32, local: u32) -> u32 {
    remote | (local << 8)
}
/// `MACH_MSGH_BITS_REMOTE(bits)`
pub const fn msgh_bits_remote(bits: u32) -> u32 {
    bits & 0xff
}
/// `MACH_MSGH_BITS_LOCAL(bits)`
pub const fn msgh_bits_local(bits: u32) -> u32 {
    (bits >> 8) & 0xff
}

/// An inline port right (`mach_port_name_inlined_t`): the name in the low half of 8 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortSlot {
    pub name: PortName,
    /// `kernel_port_do_not_use`'s upper half: zero when sent, ignored when received.
    pub upper: u32,
}

/// `mach_msg_header_t` (32 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub msgh_bits: u32,
    pub msgh_size: u32,
    pub msgh_remote_port: PortSlot,
    pub msgh_local_port: PortSlot,
    pub msgh_seqno: u32,
    pub msgh_id: u32,
}

/// `mach_msg_type_t` / `mach_msg_type_long_t` (8 bytes each on x86_64: the long form overlays
/// the short one): `msgt_name:8 msgt_size:16 unused:5 inline:1 longform:1 deallocate:1`, then
/// `msgt_number`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypeDesc {
    pub bits: u32,
    pub number: u32,
}

const _: () = assert!(core::mem::size_of::<Header>() == 32);
const _: () = assert!(core::mem::size_of::<TypeDesc>() == 8);
const _: () = assert!(core::mem::size_of::<PortSlot>() == 8);

impl TypeDesc {
    pub const fn new(
        name: u32,
        size_bits: u32,
        number: u32,
        inline: bool,
        longform: bool,
        deallocate: bool,
    ) -> TypeDesc {
        TypeDesc {
            bits: (name & 0xff)
                | ((size_bits & 0xffff) << 8)
                | ((inline as u32) << 29)
                | ((longform as u32) << 30)
                | ((deallocate as u32) << 31),
            number,
        }
    }
    pub const fn name(self) -> u32 {
        self.bits & 0xff
    }
    pub const fn size(self) -> u32 {
        (self.bits >> 8) & 0xffff
    }
    pub const fn inline(self) -> bool {
        self.bits & (1 << 29) != 0
    }
    pub const fn longform(self) -> bool {
        self.bits & (1 << 30) != 0
    }
    pub const fn deallocate(self) -> bool {
        self.bits & (1 << 31) != 0
    }
    pub const fn with_name(self, name: u32) -> TypeDesc {
        TypeDesc {
            bits: (self.bits & !0xff) | (name & 0xff),
            number: self.number,
        }
    }
    pub const fn with_size(self, size_bits: u32) -> TypeDesc {
        TypeDesc {
            bits: (self.bits & !0x00ff_ff00) | ((size_bits & 0xffff) << 8),
            number: self.number,
        }
    }
    pub const fn with_inline(self, inline: bool) -> TypeDesc {
        TypeDesc {
            bits: (self.bits & !(1 << 29)) | ((inline as u32) << 29),
            number: self.number,
        }
    }
    pub const fn with_deallocate(self, deallocate: bool) -> TypeDesc {
        TypeDesc {
            bits: (self.bits & !(1 << 31)) | ((deallocate as u32) << 31),
            number: self.number,
        }
    }
    pub const fn with_number(self, number: u32) -> TypeDesc {
        TypeDesc {
            bits: self.bits,
            number,
        }
    }
}

/// A message buffer of `N` bytes, aligned for every message member.
#[repr(C, align(8))]
#[derive(Debug, Clone)]
pub struct MsgBuf<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Default for MsgBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MsgBuf<N> {
    pub const fn new() -> Self {
        MsgBuf { bytes: [0; N] }
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The bytes; the slice starts 8-byte aligned.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    pub fn writer(&mut self) -> Writer<'_> {
        Writer {
            buf: &mut self.bytes,
        }
    }
}

/// Writes message members at byte offsets.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf }
    }
    pub fn bytes(&mut self, off: usize, data: &[u8]) {
        if let Some(d) = off
            .checked_add(data.len())
            .and_then(|end| self.buf.get_mut(off..end))
        {
            d.copy_from_slice(data);
        }
    }
    pub fn zero(&mut self, off: usize, len: usize) {
        if let Some(d) = off
            .checked_add(len)
            .and_then(|end| self.buf.get_mut(off..end))
        {
            d.fill(0);
        }
    }
    pub fn u32(&mut self, off: usize, v: u32) {
        self.bytes(off, &v.to_ne_bytes());
    }
    pub fn u64(&mut self, off: usize, v: u64) {
        self.bytes(off, &v.to_ne_bytes());
    }
    pub fn scalar<E: Scalar>(&mut self, off: usize, v: E) {
        if let Some(d) = off
            .checked_add(E::SIZE)
            .and_then(|end| self.buf.get_mut(off..end))
        {
            v.store(d);
        }
    }
    /// Elements one after the other from `off`.
    pub fn scalars<E: Scalar>(&mut self, off: usize, v: &[E]) {
        for (i, e) in v.iter().enumerate() {
            self.scalar(off + i * E::SIZE, *e);
        }
    }
    pub fn desc(&mut self, off: usize, d: TypeDesc) {
        self.u32(off, d.bits);
        self.u32(off + 4, d.number);
    }
    /// An inline port slot: the name, the upper half cleared.
    pub fn port(&mut self, off: usize, name: PortName) {
        self.u32(off, name.0);
        self.u32(off + 4, 0);
    }
    /// Inline port slots from `off`.
    pub fn ports(&mut self, off: usize, names: &[PortName]) {
        for (i, n) in names.iter().enumerate() {
            self.port(off + 8 * i, *n);
        }
    }
    /// The address of out-of-line data.
    pub fn pointer<E>(&mut self, off: usize, data: *const E) {
        self.u64(off, data as usize as u64);
    }
    pub fn header(&mut self, h: &Header) {
        self.u32(0, h.msgh_bits);
        self.u32(4, h.msgh_size);
        self.port(8, h.msgh_remote_port.name);
        self.port(16, h.msgh_local_port.name);
        self.u32(24, h.msgh_seqno);
        self.u32(28, h.msgh_id);
    }
    pub fn set_size(&mut self, size: u32) {
        self.u32(4, size);
    }
    pub fn or_bits(&mut self, bits: u32) {
        let old = Reader::new(self.buf).u32(0);
        self.u32(0, old | bits);
    }
}

/// Reads message members at byte offsets.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    /// `len` bytes at `off`, or fewer at the end of the buffer.
    pub fn bytes(&self, off: usize, len: usize) -> &'a [u8] {
        let end = off.saturating_add(len).min(self.buf.len());
        self.buf.get(off.min(end)..end).unwrap_or(&[])
    }
    pub fn scalar<E: Scalar>(&self, off: usize) -> E {
        let b = self.bytes(off, E::SIZE);
        if b.len() == E::SIZE {
            E::load(b)
        } else {
            E::ZERO
        }
    }
    /// Fills `out` with elements from `off`.
    pub fn scalars<E: Scalar>(&self, off: usize, out: &mut [E]) {
        for (i, e) in out.iter_mut().enumerate() {
            *e = self.scalar(off + i * E::SIZE);
        }
    }
    pub fn u32(&self, off: usize) -> u32 {
        self.scalar(off)
    }
    pub fn u64(&self, off: usize) -> u64 {
        self.scalar(off)
    }
    pub fn desc(&self, off: usize) -> TypeDesc {
        TypeDesc {
            bits: self.u32(off),
            number: self.u32(off + 4),
        }
    }
    pub fn port(&self, off: usize) -> PortName {
        PortName(self.u32(off))
    }
    /// Fills `out` with the names of inline port slots from `off`.
    pub fn ports(&self, off: usize, out: &mut [PortName]) {
        for (i, n) in out.iter_mut().enumerate() {
            *n = self.port(off + 8 * i);
        }
    }
    pub fn header(&self) -> Header {
        Header {
            msgh_bits: self.u32(0),
            msgh_size: self.u32(4),
            msgh_remote_port: PortSlot {
                name: self.port(8),
                upper: 0,
            },
            msgh_local_port: PortSlot {
                name: self.port(16),
                upper: 0,
            },
            msgh_seqno: self.u32(24),
            msgh_id: self.u32(28),
        }
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}
