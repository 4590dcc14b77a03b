//! Plain element types, out-of-line memory and fixed C strings.
//!
//! [`OolBuffer`] is memory that arrived out of line in a message (or that the program owns as
//! whole pages and gives away by moving it into a message): the receiver owns the region and
//! must `vm_deallocate` it. [`OolData`] is what a stub with a run-time `dealloc[]` flag sends:
//! borrowed memory (copied by the kernel) or an owned buffer (moved out of the task).
#![allow(unsafe_code)]

use core::marker::PhantomData;

use crate::port::PortName;

/// Element types that are plain data: every bit pattern is a value, no padding, no pointers.
///
/// # Safety
/// Implementors must be `Copy` types of exactly `SIZE` bytes for which any initialised bytes
/// are a valid value. Only this crate implements it.
pub unsafe trait Scalar: Copy + 'static {
    const SIZE: usize;
    /// The all-zero value.
    const ZERO: Self;
    /// Reads a value from exactly `SIZE` bytes (native order).
    fn load(b: &[u8]) -> Self;
    /// Writes the value into exactly `SIZE` bytes (native order).
    fn store(self, b: &mut [u8]);
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        // SAFETY: a primitive integer: any bit pattern is a value, no padding.
        unsafe impl Scalar for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            const ZERO: Self = 0;
            fn load(b: &[u8]) -> Self {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..Self::SIZE]);
                <$t>::from_ne_bytes(a)
            }
            fn store(self, b: &mut [u8]) {
                b[..Self::SIZE].copy_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
scalar!(u8, i8, u16, i16, u32, i32, u64, i64);

// SAFETY: `PortName` is `repr(transparent)` over `u32`.
unsafe impl Scalar for PortName {
    const SIZE: usize = 4;
    const ZERO: Self = PortName(0);
    fn load(b: &[u8]) -> Self {
        PortName(u32::load(b))
    }
    fn store(self, b: &mut [u8]) {
        self.0.store(b)
    }
}

// SAFETY: an array of plain elements has no padding and any bit pattern is a value.
unsafe impl<E: Scalar, const N: usize> Scalar for [E; N] {
    const SIZE: usize = E::SIZE * N;
    const ZERO: Self = [E::ZERO; N];
    fn load(b: &[u8]) -> Self {
        core::array::from_fn(|i| E::load(&b[i * E::SIZE..]))
    }
    fn store(self, b: &mut [u8]) {
        for (i, e) in self.iter().enumerate() {
            e.store(&mut b[i * E::SIZE..]);
        }
    }
}

/// Out-of-line memory owned by this task: `len` elements at `address`.
///
/// Received buffers come from [`crate::Received`] (the transport vouches that the kernel
/// mapped them); the task must deallocate them (`vm_deallocate`) when done: the buffer is not
/// released on drop, as that takes a call through a transport.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "out-of-line memory stays mapped until vm_deallocate"]
pub struct OolBuffer<E: Scalar> {
    address: u64,
    len: usize,
    _e: PhantomData<E>,
}

impl<E: Scalar> OolBuffer<E> {
    /// A buffer over memory the caller owns and may give away.
    ///
    /// # Safety
    /// `address .. address + len * size_of::<E>()` must be mapped, readable, aligned for `E`,
    /// owned by the caller and not used through any other reference while the buffer lives.
    pub unsafe fn from_raw(address: u64, len: usize) -> Self {
        OolBuffer {
            address,
            len,
            _e: PhantomData,
        }
    }

    /// A received buffer (only the runtime creates them, from delivered messages).
    pub(crate) fn received(address: u64, len: usize) -> Self {
        OolBuffer {
            address,
            len,
            _e: PhantomData,
        }
    }

    pub fn address(&self) -> u64 {
        self.address
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Bytes of the region.
    pub fn size(&self) -> usize {
        self.len * E::SIZE
    }

    /// The elements.
    pub fn as_slice(&self) -> &[E] {
        if self.len == 0 || self.address == 0 {
            return &[];
        }
        // SAFETY: the region was delivered by the kernel (or vouched for by `from_raw`): it is
        // mapped, owned by this task, page-aligned (so aligned for every `Scalar`) and holds
        // `len` elements; `E: Scalar` makes any bytes a valid value; the borrow of `self`
        // keeps the buffer from being given away while the slice lives.
        unsafe { core::slice::from_raw_parts(self.address as usize as *const E, self.len) }
    }

    /// The elements, writable.
    pub fn as_mut_slice(&mut self) -> &mut [E] {
        if self.len == 0 || self.address == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`; the region is private to this task (copy-on-write copies
        // of sent memory), and `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.address as usize as *mut E, self.len) }
    }

    /// Gives up ownership: `(address, len)`.
    pub fn into_raw(self) -> (u64, usize) {
        (self.address, self.len)
    }
}

/// Out-of-line data with a run-time deallocate flag (`dealloc[]`): borrowed memory is copied
/// by the kernel (flag clear); an owned buffer is moved out of the task (flag set).
#[derive(Debug)]
pub enum OolData<'a, E: Scalar> {
    Borrowed(&'a [E]),
    Owned(OolBuffer<E>),
}

impl<E: Scalar> OolData<'_, E> {
    pub fn address(&self) -> u64 {
        match self {
            OolData::Borrowed(s) => s.as_ptr() as usize as u64,
            OolData::Owned(b) => b.address(),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            OolData::Borrowed(s) => s.len(),
            OolData::Owned(b) => b.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn deallocate(&self) -> bool {
        matches!(self, OolData::Owned(_))
    }
}

/// A received dynamic array (`array[]`): inline, copied into the caller's buffer (the count of
/// elements), or out of line.
#[derive(Debug, PartialEq, Eq)]
pub enum Dynamic<E: Scalar> {
    Inline(usize),
    OutOfLine(OolBuffer<E>),
}

impl<E: Scalar> Dynamic<E> {
    /// The elements: the first `n` of `buffer` when inline.
    pub fn as_slice<'a>(&'a self, buffer: &'a [E]) -> &'a [E] {
        match self {
            Dynamic::Inline(n) => buffer.get(..*n).unwrap_or(buffer),
            Dynamic::OutOfLine(b) => b.as_slice(),
        }
    }
}

/// A `c_string[N]` value: up to `N - 1` bytes and a NUL in `N` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedString<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Default for FixedString<N> {
    fn default() -> Self {
        FixedString { bytes: [0; N] }
    }
}

impl<const N: usize> FixedString<N> {
    /// Copies up to `N - 1` bytes of `s`, stopping at a NUL (`mig_strncpy`).
    pub fn new(s: &[u8]) -> Self {
        let mut f = Self::default();
        let n = s
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(s.len())
            .min(N.saturating_sub(1));
        f.bytes[..n].copy_from_slice(&s[..n]);
        f
    }
    /// The bytes before the first NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let n = self.bytes.iter().position(|&b| b == 0).unwrap_or(N);
        &self.bytes[..n]
    }
    /// The string, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
    /// All `N` bytes as they travel.
    pub fn raw(&self) -> &[u8; N] {
        &self.bytes
    }
    pub fn raw_mut(&mut self) -> &mut [u8; N] {
        &mut self.bytes
    }
}
