//! A recoverable kernel write: lets the tests show that the CPU enforces the kernel's
//! own write protection (CR0.WP with read-only text and rodata), not just that the
//! page-table bits are set.
//!
//! `probe_write_byte(addr, value)` is one store at a known address; when it page-faults,
//! `trap_entry` sees the RIP, records the error code, and resumes at the `ret` with RAX = 1.

use core::sync::atomic::{AtomicU64, Ordering};

core::arch::global_asm!(
    r#"
.section .text
.global probe_write_byte
probe_write_byte:
    xor %eax, %eax
.global probe_write_insn
probe_write_insn:
    movb %sil, (%rdi)
.global probe_write_done
probe_write_done:
    ret
"#,
    options(att_syntax)
);

extern "C" {
    fn probe_write_byte(addr: u64, value: u8) -> u64;
    static probe_write_insn: u8;
    static probe_write_done: u8;
}

static LAST_ERROR: AtomicU64 = AtomicU64::new(0);

/// If `rip` is the probe's store, returns where to resume and records the error code.
pub fn fixup(rip: u64, error: u64) -> Option<u64> {
    if rip == core::ptr::addr_of!(probe_write_insn) as u64 {
        LAST_ERROR.store(error, Ordering::Relaxed);
        Some(core::ptr::addr_of!(probe_write_done) as u64)
    } else {
        None
    }
}

/// Reads the byte at kernel address `addr` (which must be mapped readable, as the kernel
/// image is) and writes the same value back. Returns `Err(page-fault error code)` if the
/// write faulted.
pub fn rewrite_byte(addr: u64) -> Result<(), u64> {
    let (lo, hi) = {
        let (start, _, _, end) = super::image_layout();
        (start, end)
    };
    assert!(
        addr >= lo && addr < hi,
        "rewrite_byte: {addr:#x} is outside the kernel image"
    );
    // SAFETY: the address is inside the kernel image, which is mapped readable.
    let v = unsafe { core::ptr::read_volatile(addr as *const u8) };
    // SAFETY: the store writes back the value just read, so it changes nothing even where it
    // succeeds; a fault is recovered by `fixup` in the page-fault handler.
    let faulted = unsafe { probe_write_byte(addr, v) };
    if faulted == 0 {
        Ok(())
    } else {
        Err(LAST_ERROR.load(Ordering::Relaxed))
    }
}
