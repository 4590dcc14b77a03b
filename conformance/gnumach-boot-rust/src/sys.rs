//! What the program needs below the stubs: the entry point and the four Mach traps (x86_64 GNU
//! Mach: negative numbers entered with `syscall`), the memory functions `core` calls, and the
//! `Transport` that runs the stubs' `mach_msg` on the trap.

use core::sync::atomic::{AtomicU32, Ordering};

use mach_rt as rt;

// At entry %rsp points at argc, then the argv pointers, a NULL, an empty environment ending in
// NULL. Trap arguments go in %rdi %rsi %rdx %r10 %r8 %r9 and a seventh on the user stack just
// above the return address (the trap stubs leave %rsp as the caller left it), as in
// ../gnumach-boot/start.S.
core::arch::global_asm!(
    ".text",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call boot_start",
    "2: hlt",
    "jmp 2b",
    ".globl mach_msg_trap",
    "mach_msg_trap:",
    "mov rax, -25",
    "mov r10, rcx",
    "syscall",
    "ret",
    ".globl mach_reply_port",
    "mach_reply_port:",
    "mov rax, -26",
    "syscall",
    "ret",
    ".globl mach_task_self_trap",
    "mach_task_self_trap:",
    "mov rax, -28",
    "syscall",
    "ret",
    ".globl mach_host_self_trap",
    "mach_host_self_trap:",
    "mov rax, -29",
    "syscall",
    "ret",
);

extern "C" {
    fn mach_msg_trap(
        msg: *mut u8,
        option: u32,
        send_size: u32,
        rcv_size: u32,
        rcv_name: u32,
        timeout: u32,
        notify: u32,
    ) -> i32;
    fn mach_reply_port() -> u32;
    fn mach_task_self_trap() -> u32;
    fn mach_host_self_trap() -> u32;
}

/// `mach_task_self()`: a send right to this task.
pub fn task_self() -> rt::SendRight {
    // SAFETY: the trap takes no arguments and only returns a name.
    rt::SendRight::from_name(rt::PortName(unsafe { mach_task_self_trap() }))
}

/// `mach_host_self()`: a send right to the host.
pub fn host_self() -> rt::SendRight {
    // SAFETY: the trap takes no arguments and only returns a name.
    rt::SendRight::from_name(rt::PortName(unsafe { mach_host_self_trap() }))
}

const MACH_RCV_INTERRUPTED: i32 = 0x1000_4005;

/// `mach_msg` on the trap, with one cached reply port (the program has one thread).
#[derive(Debug, Default)]
pub struct GnuMach;

static REPLY_PORT: AtomicU32 = AtomicU32::new(0);

// SAFETY: a successful receive is the kernel's: out-of-line regions it names are mapped in
// this task and belong to it.
unsafe impl rt::Transport for GnuMach {
    fn mach_msg(
        &mut self,
        msg: &mut [u8],
        option: u32,
        send_size: u32,
        rcv_size: u32,
        rcv_name: rt::PortName,
        timeout: u32,
        notify: rt::PortName,
    ) -> rt::KernReturn {
        let rcv_size = rcv_size.min(msg.len() as u32);
        let send_size = send_size.min(msg.len() as u32);
        let p = msg.as_mut_ptr();
        // SAFETY: `msg` is valid for max(send_size, rcv_size) bytes (both clamped to its
        // length) and 8-byte aligned (a `MsgBuf`); the kernel writes at most `rcv_size`.
        let mut r = unsafe {
            mach_msg_trap(
                p, option, send_size, rcv_size, rcv_name.0, timeout, notify.0,
            )
        };
        // Retry an interrupted receive (the send half has completed then).
        while r == MACH_RCV_INTERRUPTED {
            // SAFETY: as above, receive only.
            r = unsafe {
                mach_msg_trap(
                    p,
                    option & !rt::msg::MACH_SEND_MSG,
                    0,
                    rcv_size,
                    rcv_name.0,
                    timeout,
                    notify.0,
                )
            };
        }
        r
    }

    fn get_reply_port(&mut self) -> rt::PortName {
        let mut p = REPLY_PORT.load(Ordering::Relaxed);
        if p == 0 {
            // SAFETY: the trap takes no arguments and returns a new receive right's name.
            p = unsafe { mach_reply_port() };
            REPLY_PORT.store(p, Ordering::Relaxed);
        }
        rt::PortName(p)
    }

    fn dealloc_reply_port(&mut self, port: rt::PortName) {
        // The port is in an unknown state: take a fresh one next time (the right is leaked;
        // the program does not run long enough for that to matter).
        let _ = REPLY_PORT.compare_exchange(port.0, 0, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// GNU Mach refuses a program without a data segment: this keeps one.
#[used]
static DATA_SEGMENT: AtomicU32 = AtomicU32::new(0x6d69_6763);

// The memory functions the precompiled `core` calls, written as plain loops (volatile-free
// but not recognisable as memcpy: the compiler would otherwise call them recursively).

/// # Safety
/// `dst` and `src` valid for `n` bytes, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and both are valid for n bytes (the caller's contract).
        unsafe { core::ptr::write_volatile(dst.add(i), core::ptr::read_volatile(src.add(i))) };
        i += 1;
    }
    dst
}

/// # Safety
/// `dst` and `src` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) {
        // SAFETY: copying forwards never reads a byte already overwritten when dst <= src.
        return unsafe { memcpy(dst, src, n) };
    }
    let mut i = n;
    while i > 0 {
        i -= 1;
        // SAFETY: i < n; copying backwards is safe for overlapping regions with dst > src.
        unsafe { core::ptr::write_volatile(dst.add(i), core::ptr::read_volatile(src.add(i))) };
    }
    dst
}

/// # Safety
/// `dst` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and dst is valid for n bytes.
        unsafe { core::ptr::write_volatile(dst.add(i), c as u8) };
        i += 1;
    }
    dst
}

/// # Safety
/// `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and both are valid for n bytes.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// As `memcmp`.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` points to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to the NUL is readable.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// `core` is built with unwinding tables; with `panic = "abort"` nothing unwinds.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
