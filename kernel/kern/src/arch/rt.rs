//! Runtime symbols the precompiled `core` expects from a freestanding program: memory
//! functions (`compiler_builtins` ships none here) and an empty unwinding personality.

use core::arch::asm;

/// # Safety
/// C `memcpy` contract: valid, non-overlapping ranges.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller upholds the memcpy contract; `rep movsq` then `rep movsb` copy
    // forwards, eight bytes per step and then the rest.
    unsafe {
        asm!("rep movsq", "mov rcx, {rest}", "rep movsb", rest = in(reg) n % 8, inout("rcx") n / 8 => _, inout("rdi") dst => _, inout("rsi") src => _, options(nostack, preserves_flags))
    };
    dst
}

/// # Safety
/// C `memmove` contract: valid ranges, possibly overlapping.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize).wrapping_add(n) {
        // SAFETY: a forward copy is correct when dst is below src or the ranges are disjoint.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: backwards copy with the direction flag set, restored afterwards.
    unsafe {
        asm!("std", "rep movsb", "cld", inout("rcx") n => _, inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _, options(nostack));
    }
    dst
}

/// # Safety
/// C `memset` contract.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller upholds the memset contract; `rep stosq` fills eight bytes per step
    // (the byte repeated), `rep stosb` the rest.
    unsafe {
        asm!("rep stosq", "mov rcx, {rest}", "rep stosb", rest = in(reg) n % 8, inout("rcx") n / 8 => _, inout("rdi") dst => _, in("rax") u64::from(c as u8) * 0x0101_0101_0101_0101, options(nostack, preserves_flags))
    };
    dst
}

/// # Safety
/// C `memcmp` contract.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: both ranges are valid for `n` bytes (caller contract).
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// C `bcmp` contract.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller guarantees a terminating NUL.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}

/// Never called: `alloc` is precompiled with unwinding tables that name it, but the kernel
/// aborts on panic and never unwinds.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    super::cpu::halt_forever()
}

/// Never called: the kernel is built with `panic = "abort"`, but `core` references it.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
