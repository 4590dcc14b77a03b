//! Single x86_64 instructions: port I/O, control registers, MSRs, CPUID, TLB, halting.
//!
//! Each function wraps one instruction. Those that can break memory safety on their
//! own (CR3, CR0, CR4, MSR writes) are `unsafe fn`; port I/O is also `unsafe` because a
//! port can be a DMA engine. Reading state is safe.

use core::arch::asm;

/// Writes a byte to an I/O port.
///
/// # Safety
/// The port must belong to a device the caller owns; writing may have any device side effect.
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: the caller guarantees the port write is allowed.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// As for [`outb`]: reads can have device side effects.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: the caller guarantees the port read is allowed.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Writes a double word to an I/O port.
///
/// # Safety
/// As for [`outb`].
pub unsafe fn outl(port: u16, v: u32) {
    // SAFETY: the caller guarantees the port write is allowed.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a model-specific register.
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reading the MSRs Mach_R uses (EFER, APIC base, STAR...) has no side effect; an
    // unknown MSR would fault, which the kernel reports as a kernel bug.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// The value must keep the machine consistent (for example EFER must keep LME set).
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller guarantees the value is consistent.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack, preserves_flags))
    }
}

/// CPUID leaf `leaf`, subleaf 0: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

macro_rules! read_cr {
    ($name:ident, $reg:literal) => {
        #[doc = concat!("Reads ", $reg, ".")]
        pub fn $name() -> u64 {
            let v: u64;
            // SAFETY: reading a control register has no side effect.
            unsafe { asm!(concat!("mov {}, ", $reg), out(reg) v, options(nomem, nostack, preserves_flags)) }
            v
        }
    };
}
read_cr!(read_cr0, "cr0");
read_cr!(read_cr2, "cr2");
read_cr!(read_cr3, "cr3");
read_cr!(read_cr4, "cr4");

/// Writes CR0.
///
/// # Safety
/// Must keep protected mode and paging on.
pub unsafe fn write_cr0(v: u64) {
    // SAFETY: see the function contract.
    unsafe { asm!("mov cr0, {}", in(reg) v, options(nostack, preserves_flags)) }
}

/// Writes CR4.
///
/// # Safety
/// Must keep PAE on.
pub unsafe fn write_cr4(v: u64) {
    // SAFETY: see the function contract.
    unsafe { asm!("mov cr4, {}", in(reg) v, options(nostack, preserves_flags)) }
}

/// Loads a new top-level page table.
///
/// # Safety
/// The tables must map the running code, its stack and all kernel data.
pub unsafe fn write_cr3(v: u64) {
    // SAFETY: see the function contract.
    unsafe { asm!("mov cr3, {}", in(reg) v, options(nostack, preserves_flags)) }
}

/// Flushes the TLB entry of one page.
pub fn invlpg(va: u64) {
    // SAFETY: invalidating a TLB entry never breaks memory safety.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) }
}

/// Enables interrupts and halts until the next one, atomically.
pub fn enable_and_halt() {
    // SAFETY: every vector has a handler on an IST stack, so interrupts may arrive anywhere.
    unsafe { asm!("sti; hlt", options(nomem, nostack)) }
}

/// Enables interrupts.
pub fn enable_interrupts() {
    // SAFETY: as for `enable_and_halt`.
    unsafe { asm!("sti", options(nomem, nostack)) }
}

/// Disables interrupts.
pub fn disable_interrupts() {
    // SAFETY: disabling interrupts is always safe.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Whether interrupts are enabled (RFLAGS.IF).
pub fn interrupts_enabled() -> bool {
    let f: u64;
    // SAFETY: reading RFLAGS through the stack is harmless.
    unsafe { asm!("pushfq; pop {}", out(reg) f, options(nomem, preserves_flags)) }
    f & 0x200 != 0
}

/// Halts forever with interrupts off.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: halting with interrupts disabled stops the CPU; nothing is touched.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) }
    }
}

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effect.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The current frame pointer.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let v: u64;
    // SAFETY: reading RBP has no side effect.
    unsafe { asm!("mov {}, rbp", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Executes `int3` (a breakpoint exception the kernel reports and resumes from).
pub fn breakpoint() {
    // SAFETY: the #BP handler returns to the next instruction.
    unsafe { asm!("int3", options(nomem, nostack)) }
}

/// Loads `pattern` into xmm0-7, takes at least `interrupts` interrupts (`sti; hlt`), and
/// stores xmm0-7 into `out`: a check that interrupt entry preserves the SSE state.
pub fn sse_roundtrip_through_interrupts(pattern: &[u64; 16], out: &mut [u64; 16], interrupts: u32) {
    // SAFETY: reads 128 bytes from `pattern` and writes 128 bytes to `out`, both valid; the
    // interrupt handlers run on IST stacks and return here.
    unsafe {
        asm!(
            "movdqu xmm0, [{p}]", "movdqu xmm1, [{p} + 16]", "movdqu xmm2, [{p} + 32]", "movdqu xmm3, [{p} + 48]",
            "movdqu xmm4, [{p} + 64]", "movdqu xmm5, [{p} + 80]", "movdqu xmm6, [{p} + 96]", "movdqu xmm7, [{p} + 112]",
            "2:",
            "sti",
            "hlt",
            "cli",
            "dec {n:e}",
            "jnz 2b",
            "sti",
            "movdqu [{o}], xmm0", "movdqu [{o} + 16], xmm1", "movdqu [{o} + 32], xmm2", "movdqu [{o} + 48], xmm3",
            "movdqu [{o} + 64], xmm4", "movdqu [{o} + 80], xmm5", "movdqu [{o} + 96], xmm6", "movdqu [{o} + 112], xmm7",
            p = in(reg) pattern.as_ptr(),
            o = in(reg) out.as_mut_ptr(),
            n = inout(reg) interrupts => _,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
        );
    }
}
