//! Memory-management logic of Mach_R that does not touch hardware: the physical frame
//! allocator and the x86_64 4-level page-table code.
//!
//! Page tables are reached through the [`paging::TableMemory`] trait, so the same code
//! edits live tables in the kernel (through its direct map) and boxed arrays in the host
//! tests. This crate never dereferences a physical address, never loads CR3 and never
//! flushes a TLB: the kernel does those after calling it.

#![no_std]
#![forbid(unsafe_code)]

pub mod frame;
pub mod paging;

/// Size of a small page and of a physical frame.
pub const PAGE_SIZE: u64 = 4096;
/// Size of a large (2 MiB) page.
pub const LARGE_PAGE_SIZE: u64 = 2 * 1024 * 1024;

/// Rounds `x` up to a multiple of `align` (a power of two); `None` on overflow.
pub fn align_up(x: u64, align: u64) -> Option<u64> {
    Some(x.checked_add(align - 1)? & !(align - 1))
}

/// Rounds `x` down to a multiple of `align` (a power of two).
pub fn align_down(x: u64, align: u64) -> u64 {
    x & !(align - 1)
}
