//! x86_64 machine code: every `unsafe` operation of the kernel that touches hardware lives
//! in one of these small modules, named for what it touches.

pub mod boot;
pub mod cpu;
pub mod gdt;
pub mod idt;
pub mod phys;
pub mod probe;
pub mod reset;
pub mod rt;
pub mod serial;
pub mod timer;
pub mod usermode;

extern "C" {
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
    static __kernel_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __data_end: u8;
}

/// The boot stack, on which the kernel's main thread (the task runner) runs.
pub fn boot_stack_range() -> (u64, u64) {
    (
        core::ptr::addr_of!(boot_stack_bottom) as u64,
        core::ptr::addr_of!(boot_stack_top) as u64,
    )
}

/// Virtual section boundaries of the kernel image: (start, end of text, end of rodata, end).
pub fn image_layout() -> (u64, u64, u64, u64) {
    (
        core::ptr::addr_of!(__kernel_start) as u64,
        core::ptr::addr_of!(__text_end) as u64,
        core::ptr::addr_of!(__rodata_end) as u64,
        core::ptr::addr_of!(__data_end) as u64,
    )
}
