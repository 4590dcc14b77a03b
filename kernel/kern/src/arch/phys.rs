//! Physical memory through the direct map (HHDM): byte copies, frame zeroing, page-table
//! entries and MMIO registers.
//!
//! At entry the direct map is the loader's (Limine's HHDM offset) or the boot stub's
//! (the low 4 GiB at `0xffff800000000000`); after the switch to the kernel's own page
//! tables it is the kernel's, covering all of physical memory that the memory map names
//! (at least 4 GiB). [`set_window`] records the offset and the size currently mapped;
//! every access is checked against that window.

use core::sync::atomic::{AtomicU64, Ordering};

static OFFSET: AtomicU64 = AtomicU64::new(0xffff_8000_0000_0000);
static LIMIT: AtomicU64 = AtomicU64::new(0x1_0000_0000);

/// Records that physical `[0, limit)` is mapped at `offset`.
pub fn set_window(offset: u64, limit: u64) {
    OFFSET.store(offset, Ordering::SeqCst);
    LIMIT.store(limit, Ordering::SeqCst);
}

/// The virtual address of `[paddr, paddr + len)` in the direct map, if it is inside the window.
fn window(paddr: u64, len: u64) -> Option<u64> {
    let end = paddr.checked_add(len)?;
    (end <= LIMIT.load(Ordering::Relaxed)).then(|| OFFSET.load(Ordering::Relaxed) + paddr)
}

/// Copies physical memory into `buf`; `false` if the range is outside the direct map.
pub fn read(paddr: u64, buf: &mut [u8]) -> bool {
    let Some(va) = window(paddr, buf.len() as u64) else {
        return false;
    };
    // SAFETY: the range lies inside the direct map, which maps it readable; the copy is
    // volatile-free but the source is plain RAM or firmware tables the kernel does not own.
    unsafe { core::ptr::copy_nonoverlapping(va as *const u8, buf.as_mut_ptr(), buf.len()) };
    true
}

/// Copies `data` into physical memory; `false` if the range is outside the direct map.
/// The caller must own the frames (allocated from the frame allocator).
pub fn write(paddr: u64, data: &[u8]) -> bool {
    let Some(va) = window(paddr, data.len() as u64) else {
        return false;
    };
    // SAFETY: the range is mapped writable by the direct map and owned by the caller.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), va as *mut u8, data.len()) };
    true
}

/// Fills a frame with zeros.
pub fn zero_frame(paddr: u64) {
    let va = window(paddr, 4096).expect("zero_frame outside the direct map");
    // SAFETY: one whole frame owned by the caller, mapped writable by the direct map.
    unsafe { core::ptr::write_bytes(va as *mut u8, 0, 4096) };
}

/// Copies the frame at `src` over the frame at `dst` (both owned by the caller).
pub fn copy_frame(dst: u64, src: u64) {
    let d = window(dst, 4096).expect("copy_frame outside the direct map");
    let s = window(src, 4096).expect("copy_frame outside the direct map");
    // SAFETY: two whole frames inside the direct map; the caller owns `dst` (freshly
    // allocated, so distinct from `src`) and holds a reference to `src`.
    unsafe { core::ptr::copy_nonoverlapping(s as *const u8, d as *mut u8, 4096) };
}

/// Reads a 64-bit word (page-table entries).
pub fn read_u64(paddr: u64) -> u64 {
    let va = window(paddr, 8).expect("read_u64 outside the direct map");
    // SAFETY: an aligned word of a page table inside the direct map.
    unsafe { core::ptr::read_volatile(va as *const u64) }
}

/// Writes a 64-bit word (page-table entries).
pub fn write_u64(paddr: u64, v: u64) {
    let va = window(paddr, 8).expect("write_u64 outside the direct map");
    // SAFETY: an aligned word of a page table owned by the kernel inside the direct map.
    unsafe { core::ptr::write_volatile(va as *mut u64, v) };
}

/// Reads a 32-bit MMIO register.
pub fn mmio_read32(paddr: u64) -> u32 {
    let va = window(paddr, 4).expect("mmio outside the direct map");
    // SAFETY: a device register inside the direct map (the local APIC page).
    unsafe { core::ptr::read_volatile(va as *const u32) }
}

/// Writes a 32-bit MMIO register.
pub fn mmio_write32(paddr: u64, v: u32) {
    let va = window(paddr, 4).expect("mmio outside the direct map");
    // SAFETY: a device register inside the direct map (the local APIC page).
    unsafe { core::ptr::write_volatile(va as *mut u32, v) };
}

/// A slice of physical memory that stays mapped and unchanged for the kernel's lifetime
/// (boot modules, which the frame allocator never hands out).
pub fn static_slice(paddr: u64, len: u64) -> Option<&'static [u8]> {
    let va = window(paddr, len)?;
    // SAFETY: the caller passes a reserved boot-module range: never freed, never written.
    Some(unsafe { core::slice::from_raw_parts(va as *const u8, len as usize) })
}

/// Reads a word of kernel virtual memory if the address is inside `[lo, hi)` (for backtraces
/// through kernel stacks, whose bounds the caller knows).
pub fn read_kernel_word(va: u64, lo: u64, hi: u64) -> Option<u64> {
    if !va.is_multiple_of(8) || va < lo || va.checked_add(8)? > hi {
        return None;
    }
    // SAFETY: the word lies inside a kernel stack range given by the caller, which is mapped.
    Some(unsafe { core::ptr::read_volatile(va as *const u64) })
}

/// Writes a word at kernel virtual address `va`, which must lie in `[lo, hi)`, a window the
/// caller has just mapped writable (the paging tests' scratch window).
pub fn write_mapped_u64(va: u64, lo: u64, hi: u64, v: u64) -> bool {
    if !va.is_multiple_of(8) || va < lo || va.saturating_add(8) > hi {
        return false;
    }
    // SAFETY: the caller mapped the page writable and owns the window.
    unsafe { core::ptr::write_volatile(va as *mut u64, v) };
    true
}

/// Reads a word at kernel virtual address `va` inside a window `[lo, hi)` the caller mapped.
pub fn read_mapped_u64(va: u64, lo: u64, hi: u64) -> Option<u64> {
    read_kernel_word(va, lo, hi)
}
