//! Periodic timer hardware: the local APIC timer (calibrated against PIT channel 2), or
//! the PIT on IRQ 0 through the 8259 PIC as a fallback. Both deliver [`TIMER_VECTOR`].

use super::cpu::{cpuid, inb, outb, rdmsr};
use super::phys::{mmio_read32, mmio_write32};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// The vector of the periodic tick.
pub const TIMER_VECTOR: u8 = 0x20;
/// The local APIC spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// Tick frequency.
pub const HZ: u64 = 100;

const PIT_HZ: u64 = 1_193_182;

/// Which device drives the tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Local APIC timer in periodic mode.
    Lapic,
    /// PIT channel 0 through the PIC.
    Pit,
}

static SOURCE: AtomicU8 = AtomicU8::new(0);
static APIC_BASE: AtomicU64 = AtomicU64::new(0);
static APIC_COUNT: AtomicU64 = AtomicU64::new(0);

/// Remaps the 8259 PICs to vectors 0x20..0x30 and masks every line except those in `unmask`.
fn pic_init(unmask: u16) {
    // SAFETY: the standard 8259 initialisation sequence on its fixed ports.
    unsafe {
        outb(0x20, 0x11);
        outb(0xa0, 0x11);
        outb(0x21, 0x20);
        outb(0xa1, 0x28);
        outb(0x21, 0x04);
        outb(0xa1, 0x02);
        outb(0x21, 0x01);
        outb(0xa1, 0x01);
        outb(0x21, !(unmask as u8));
        outb(0xa1, !((unmask >> 8) as u8));
    }
}

/// Busy-waits `ms` milliseconds (at most 50) on PIT channel 2 (also the independent clock
/// of `ktest`'s `timer_ticks`).
pub fn pit_wait_ms(ms: u64) {
    let count = PIT_HZ * ms / 1000;
    // SAFETY: PIT channel 2 and its gate in port 0x61 are used only here (boot calibration,
    // then the single-threaded test runner), so nothing else programs them meanwhile.
    unsafe {
        let gate = inb(0x61);
        outb(0x61, (gate & !0x02) | 0x01);
        outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0
        outb(0x42, count as u8);
        outb(0x42, (count >> 8) as u8);
        let g = inb(0x61);
        outb(0x61, g & !0x01);
        outb(0x61, g | 0x01);
        while inb(0x61) & 0x20 == 0 {}
    }
}

fn apic_reg(off: u64) -> u64 {
    APIC_BASE.load(Ordering::Relaxed) + off
}

/// Starts the periodic tick. Uses the PIT when `force_pit` or when CPUID reports no APIC.
pub fn init(force_pit: bool) -> Source {
    let has_apic = cpuid(1).3 & (1 << 9) != 0;
    if has_apic && !force_pit {
        pic_init(0);
        let base = rdmsr(0x1b) & 0x000f_ffff_ffff_f000;
        APIC_BASE.store(base, Ordering::Relaxed);
        mmio_write32(apic_reg(0xf0), 0x100 | u32::from(SPURIOUS_VECTOR));
        mmio_write32(apic_reg(0x3e0), 0x3); // divide by 16
        mmio_write32(apic_reg(0x320), 1 << 16); // masked while calibrating
        mmio_write32(apic_reg(0x380), u32::MAX);
        pit_wait_ms(10);
        let elapsed = u32::MAX - mmio_read32(apic_reg(0x390));
        let per_tick = (u64::from(elapsed) * 100 / HZ).max(1);
        APIC_COUNT.store(per_tick, Ordering::Relaxed);
        mmio_write32(apic_reg(0x320), u32::from(TIMER_VECTOR) | (1 << 17)); // periodic
        mmio_write32(apic_reg(0x380), per_tick as u32);
        SOURCE.store(1, Ordering::Relaxed);
        Source::Lapic
    } else {
        pic_init(0x0001);
        let div = PIT_HZ / HZ;
        // SAFETY: PIT channel 0, mode 2 (rate generator), on its fixed ports.
        unsafe {
            outb(0x43, 0x34);
            outb(0x40, div as u8);
            outb(0x40, (div >> 8) as u8);
        }
        SOURCE.store(2, Ordering::Relaxed);
        Source::Pit
    }
}

/// The LAPIC timer's initial count per tick (0 when the PIT drives the tick).
pub fn apic_count_per_tick() -> u64 {
    APIC_COUNT.load(Ordering::Relaxed)
}

/// Acknowledges the tick interrupt.
pub fn end_of_interrupt() {
    match SOURCE.load(Ordering::Relaxed) {
        1 => mmio_write32(apic_reg(0xb0), 0),
        // SAFETY: non-specific EOI to the master PIC.
        2 => unsafe { outb(0x20, 0x20) },
        _ => {}
    }
}
