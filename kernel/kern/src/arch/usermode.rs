//! Ring 3: the `syscall` entry, the first entry into a task (`iretq`), and the way back
//! to the kernel's task runner when a task ends.
//!
//! `syscall` arrives with the user RSP, RIP in RCX and RFLAGS in R11, interrupts masked
//! by SFMASK. The stub switches to the kernel stack, builds the same [`TrapFrame`] as
//! the interrupt stubs (vector [`SYSCALL_VECTOR`]), saves the FPU/SSE state, calls
//! `syscall_entry_rust(&mut TrapFrame)`, restores, and leaves with `sysretq`. The
//! return RIP is always canonical because no user page is mapped in the last page of
//! the lower half (`mach_r_mm::paging::USER_TOP`).
//!
//! [`enter_user`] saves the runner's callee-saved registers, RFLAGS and RSP, loads a
//! clean FPU state and a [`TrapFrame`] and `iretq`s to ring 3. [`exit_to_runner`]
//! (called from a trap or system-call handler when the task ends) discards the trap
//! stack, restores the runner's registers and returns from `enter_user`.

use super::cpu::{rdmsr, wrmsr};
use super::gdt::{kernel_stack_top, KERNEL_CS};
use crate::trap::{FxArea, TrapFrame};
use core::cell::UnsafeCell;

/// The `vector` field of a frame built by the `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

const MSR_EFER: u32 = 0xc000_0080;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;

/// State shared between the assembly and Rust: the kernel stack, the scratch slot for the
/// user RSP and the runner's saved RSP.
#[repr(C, align(16))]
struct Shared {
    kernel_rsp: u64,
    user_rsp_scratch: u64,
    runner_rsp: u64,
    pad: u64,
}

struct SharedCell(UnsafeCell<Shared>);
// SAFETY: one CPU; the fields are touched only with interrupts disabled (syscall entry masks
// IF, `enter_user` and `exit_to_runner` run with IF clear), never concurrently.
unsafe impl Sync for SharedCell {}

#[no_mangle]
static USERMODE_SHARED: SharedCell = SharedCell(UnsafeCell::new(Shared {
    kernel_rsp: 0,
    user_rsp_scratch: 0,
    runner_rsp: 0,
    pad: 0,
}));

core::arch::global_asm!(
    r#"
.section .text
.global syscall_entry
syscall_entry:
    mov %rsp, USERMODE_SHARED+8(%rip)
    mov USERMODE_SHARED(%rip), %rsp
    pushq $0x23
    pushq USERMODE_SHARED+8(%rip)
    push %r11
    pushq $0x2b
    push %rcx
    pushq $0
    pushq $0x100
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx
    sub $512, %rsp
    and $-16, %rsp
    fxsave64 (%rsp)
    cld
    mov %rbx, %rdi
    mov %rsp, %rsi
    call syscall_entry_rust
    fxrstor64 (%rsp)
    mov %rbx, %rsp
    test %rax, %rax
    jnz 1f
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    pop %rcx
    add $8, %rsp
    pop %r11
    pop %rsp
    sysretq
    /* Another thread (or a changed frame): every register restored, iretq. */
1:  jmp trap_return

/* enter_user_asm(frame: *const TrapFrame, fx: *const FxArea) -> u64 */
.global enter_user_asm
enter_user_asm:
    pushfq
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    cli
    mov %rsp, USERMODE_SHARED+16(%rip)
    fxrstor64 (%rsi)
    mov %rdi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* exit_to_runner_asm(code: u64) -> ! : returns `code` from enter_user_asm */
.global exit_to_runner_asm
exit_to_runner_asm:
    cli
    mov USERMODE_SHARED+16(%rip), %rsp
    fninit
    movl $0x1f80, -8(%rsp)
    ldmxcsr -8(%rsp)
    mov %rdi, %rax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    popfq
    ret
"#,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
    fn enter_user_asm(frame: *const TrapFrame, fx: *const FxArea) -> u64;
    fn exit_to_runner_asm(code: u64) -> !;
}

/// Enables `syscall`/`sysret` (EFER.SCE) and points LSTAR at the entry stub.
pub fn init() {
    // SAFETY: nothing runs in ring 3 yet; the shared block is only read by the stubs later.
    let shared = unsafe { &mut *USERMODE_SHARED.0.get() };
    shared.kernel_rsp = kernel_stack_top();
    // STAR: syscall CS = 0x08 (SS 0x10); sysret base 0x18 -> CS 0x2b, SS 0x23.
    let star = (0x18u64 << 48) | (u64::from(KERNEL_CS) << 32);
    // SAFETY: EFER keeps LME/LMA/NXE and gains SCE; STAR/LSTAR/SFMASK only affect `syscall`,
    // whose entry stub is above. SFMASK clears IF, TF, DF, AC and NT on entry.
    unsafe {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
        wrmsr(MSR_STAR, star);
        wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        wrmsr(MSR_SFMASK, 0x4_7700);
    }
}

/// Runs the task described by `frame` in ring 3 until it ends; returns the code passed to
/// [`exit_to_runner`]. The task's page tables must be loaded.
pub fn enter_user(frame: &TrapFrame, fx: &FxArea) -> u64 {
    assert!(
        frame.cs == super::gdt::USER_CS && frame.ss == super::gdt::USER_DS,
        "enter_user: not a ring-3 frame"
    );
    // SAFETY: the frame selects ring 3 (checked above), so `iretq` cannot enter the kernel with
    // user-chosen registers; the runner context is saved before the switch and restored by
    // `exit_to_runner`, which is the only way back.
    unsafe { enter_user_asm(frame, fx) }
}

/// Abandons the current trap or system-call stack and returns `code` from [`enter_user`].
/// Must only be called while a task entered by `enter_user` is current, with no lock held
/// and nothing on the abandoned stack that needs dropping.
pub fn exit_to_runner(code: u64) -> ! {
    // SAFETY: `enter_user` saved a valid runner context (the caller guarantees a task is
    // current), and the contract forbids live destructors on the abandoned stack.
    unsafe { exit_to_runner_asm(code) }
}
