//! The IDT and the entry stubs of all 256 vectors.
//!
//! Every vector runs on an IST stack (see the red-zone note in the kernel README): the
//! CPU never pushes onto the interrupted stack, so the red zone of a precompiled leaf
//! function in `core` survives an interrupt. Each stub is 16 bytes at `isr_table + 16*n`;
//! it pushes a zero error code where the CPU pushes none, then the vector number, and
//! jumps to `isr_common`, which saves all general registers into a [`TrapFrame`] and the
//! FPU/SSE state with `fxsave64` below it, calls `trap_entry(&mut TrapFrame)`, and
//! restores everything on return.

use super::gdt::{IST_DOUBLE_FAULT, IST_EXCEPTION, IST_IRQ, IST_MACHINE_CHECK, IST_NMI, KERNEL_CS};
use crate::trap::TrapFrame;
use core::cell::UnsafeCell;

core::arch::global_asm!(
    r#"
.section .text
.balign 16
.global isr_table
isr_table:
.set vec, 0
.rept 256
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
.endr

isr_common:
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
    call trap_entry
    fxrstor64 (%rsp)
    mov %rbx, %rsp
/* trap_return: %rsp at a TrapFrame; restores every register and leaves with iretq (also the
 * `syscall` stub's way out when it enters another thread). */
.global trap_return
trap_return:
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
"#,
    options(att_syntax)
);

extern "C" {
    static isr_table: [u8; 256 * 16];
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_lo: u16,
    selector: u16,
    ist: u8,
    kind: u8,
    offset_mid: u16,
    offset_hi: u32,
    reserved: u32,
}

struct Idt(UnsafeCell<[Gate; 256]>);
// SAFETY: written once during single-threaded boot by `init`, then only read by the CPU.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new(
    [Gate {
        offset_lo: 0,
        selector: 0,
        ist: 0,
        kind: 0,
        offset_mid: 0,
        offset_hi: 0,
        reserved: 0,
    }; 256],
));

/// The IST slot of a vector.
fn ist_for(vector: usize) -> u8 {
    match vector {
        2 => IST_NMI,
        8 => IST_DOUBLE_FAULT,
        18 => IST_MACHINE_CHECK,
        0..=31 => IST_EXCEPTION,
        _ => IST_IRQ,
    }
}

/// Fills and loads the IDT: 256 interrupt gates (DPL 0, so `int n` from ring 3 is a #GP).
pub fn init() {
    let base = core::ptr::addr_of!(isr_table) as u64;
    // SAFETY: boot is single-threaded and interrupts are off; nothing else references IDT yet.
    let idt = unsafe { &mut *IDT.0.get() };
    for (v, gate) in idt.iter_mut().enumerate() {
        let h = base + 16 * v as u64;
        *gate = Gate {
            offset_lo: h as u16,
            selector: KERNEL_CS,
            ist: ist_for(v),
            kind: 0x8e,
            offset_mid: (h >> 16) as u16,
            offset_hi: (h >> 32) as u32,
            reserved: 0,
        };
    }
    let idtr: [u64; 2] = [
        ((256 * 16 - 1) as u64) | ((idt.as_ptr() as u64) << 16),
        (idt.as_ptr() as u64) >> 48,
    ];
    // SAFETY: the IDT is a static that lives forever, and every gate points at a stub above.
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) idtr.as_ptr(), options(nostack, preserves_flags))
    };
}

/// Size check of the frame the stubs build (15 registers, vector, error, 5-word CPU frame).
const _: () = assert!(core::mem::size_of::<TrapFrame>() == 22 * 8);
