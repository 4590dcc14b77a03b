//! The kernel's GDT and TSS, with the interrupt stacks (IST) every IDT vector uses, and the
//! TSS's I/O permission bitmap: the bitmap of the task whose address space is loaded
//! ([`set_io_bitmap`]), or none (every port faults in ring 3).
//!
//! Selector layout (fixed by `syscall`/`sysret`, see `STAR` in [`super::usermode`]):
//! 0x08 kernel code, 0x10 kernel data, 0x18 unused (32-bit user code slot),
//! 0x20 user data (0x23 with RPL 3), 0x28 user code (0x2b), 0x30 TSS.

use core::arch::asm;
use core::cell::UnsafeCell;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// User data selector with RPL 3.
pub const USER_DS: u64 = 0x23;
/// User code selector with RPL 3.
pub const USER_CS: u64 = 0x2b;
const TSS_SEL: u16 = 0x30;

/// IST slot (1-based, as in the IDT) for double faults.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot for NMIs.
pub const IST_NMI: u8 = 2;
/// IST slot for machine checks.
pub const IST_MACHINE_CHECK: u8 = 3;
/// IST slot for all other exceptions.
pub const IST_EXCEPTION: u8 = 4;
/// IST slot for device interrupts.
pub const IST_IRQ: u8 = 5;

const IST_STACK_SIZE: usize = 32 * 1024;
const IST_STACKS: usize = 5;
/// Size of the stack used by system calls (and TSS.RSP0).
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct Stacks {
    ist: [[u8; IST_STACK_SIZE]; IST_STACKS],
    kernel: [u8; KERNEL_STACK_SIZE],
}

/// Bytes of an I/O permission bitmap: one bit per port of the 64 Ki ports.
pub const IO_BITMAP_BYTES: usize = 0x10000 / 8;

/// `iomap_base` beyond the TSS limit: no bitmap, every port denied in ring 3.
const NO_IO_BITMAP: u16 = u16::MAX;

#[repr(C)]
struct Tables {
    gdt: [u64; 8],
    tss: Tss,
    /// Follows the TSS at once (`iomap_base` = the TSS's size), with the 0xff byte the CPU
    /// reads past the last port.
    iomap: [u8; IO_BITMAP_BYTES + 1],
}

/// Written by [`init`] during boot, and later only by [`set_io_bitmap`] (interrupts masked,
/// under the kernel lock); otherwise read only by the CPU.
struct CpuTables(UnsafeCell<Tables>);
// SAFETY: one CPU; written during single-threaded boot (`init`) and by `set_io_bitmap` with
// interrupts masked, which touches only the I/O bitmap fields the CPU reads on port I/O.
unsafe impl Sync for CpuTables {}

/// The stacks are used by the CPU on traps; Rust never reads or writes them as values.
struct CpuStacks(UnsafeCell<Stacks>);
// SAFETY: Rust code only takes their addresses.
unsafe impl Sync for CpuStacks {}

static TABLES: CpuTables = CpuTables(UnsafeCell::new(Tables {
    gdt: [0; 8],
    tss: Tss {
        reserved0: 0,
        rsp: [0; 3],
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: 0,
    },
    iomap: [0xff; IO_BITMAP_BYTES + 1],
}));
static STACKS: CpuStacks = CpuStacks(UnsafeCell::new(Stacks {
    ist: [[0; IST_STACK_SIZE]; IST_STACKS],
    kernel: [0; KERNEL_STACK_SIZE],
}));

/// Top of the stack that `syscall` switches to (also TSS.RSP0).
pub fn kernel_stack_top() -> u64 {
    let s = STACKS.0.get() as u64;
    s + core::mem::offset_of!(Stacks, kernel) as u64 + KERNEL_STACK_SIZE as u64
}

/// Address ranges of all kernel trap stacks (for backtrace bounds).
pub fn stack_ranges() -> [(u64, u64); 2] {
    let s = STACKS.0.get() as u64;
    [
        (s, s + core::mem::size_of::<Stacks>() as u64),
        super::boot_stack_range(),
    ]
}

/// Builds and loads the GDT and TSS, reloads the segment registers and the task register.
pub fn init() {
    let stacks = STACKS.0.get() as u64;
    // SAFETY: boot is single-threaded and interrupts are off; nothing else references TABLES yet.
    let t = unsafe { &mut *TABLES.0.get() };
    for i in 0..IST_STACKS {
        t.tss.ist[i] = stacks + ((i + 1) * IST_STACK_SIZE) as u64;
    }
    t.tss.rsp[0] = kernel_stack_top();
    t.tss.iomap_base = NO_IO_BITMAP; // no I/O bitmap until a task has one: ring 3 has no ports
    let tss = core::ptr::addr_of!(t.tss) as u64;
    let limit = (core::mem::size_of::<Tss>() + IO_BITMAP_BYTES) as u64;
    t.gdt = [
        0,
        0x00af_9a00_0000_ffff, // kernel code, 64-bit
        0x00cf_9200_0000_ffff, // kernel data
        0,                     // 32-bit user code: not used
        0x00cf_f200_0000_ffff, // user data, DPL 3
        0x00af_fa00_0000_ffff, // user code, 64-bit, DPL 3
        (limit & 0xffff) | ((tss & 0xff_ffff) << 16) | (0x89 << 40) | ((tss >> 24 & 0xff) << 56),
        tss >> 32,
    ];
    let gdtr: [u64; 2] = [
        ((core::mem::size_of::<[u64; 8]>() - 1) as u64) | ((t.gdt.as_ptr() as u64) << 16),
        (t.gdt.as_ptr() as u64) >> 48,
    ];
    // SAFETY: the GDT just built has the code and data descriptors the selectors name; the far
    // return reloads CS with the same 64-bit code segment, and the TSS descriptor is available.
    unsafe {
        asm!(
            "lgdt [{gdtr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "xor {tmp:e}, {tmp:e}",
            "mov fs, {tmp:x}",
            "mov gs, {tmp:x}",
            "ltr {tss:x}",
            gdtr = in(reg) gdtr.as_ptr(),
            cs = in(reg) u64::from(KERNEL_CS),
            ds = in(reg) u64::from(KERNEL_DS),
            tss = in(reg) u64::from(TSS_SEL),
            tmp = out(reg) _,
        );
    }
}

/// Loads a task's I/O permission bitmap into the TSS (`IO_BITMAP_BYTES` bytes, a set bit
/// denies the port), or, with `None`, no bitmap at all. Called with interrupts masked.
pub fn set_io_bitmap(bitmap: Option<&[u8]>) {
    // SAFETY: one CPU with interrupts masked (the kernel lock is held): nothing else runs
    // while the bitmap fields change, and the CPU reads them only on port I/O in ring 3.
    let t = unsafe { &mut *TABLES.0.get() };
    match bitmap {
        Some(bits) if bits.len() == IO_BITMAP_BYTES => {
            t.iomap[..IO_BITMAP_BYTES].copy_from_slice(bits);
            t.tss.iomap_base = core::mem::size_of::<Tss>() as u16;
        }
        _ => t.tss.iomap_base = NO_IO_BITMAP,
    }
}
