//! Machine reset, as GNU Mach restarts a PC for `host_reboot`: the keyboard controller's
//! reset line (command 0xFE to port 0x64), then a triple fault if the machine is still
//! running. Under QEMU with `-no-reboot` either one ends QEMU with exit status 0 once the
//! serial output is out, which is how a GNU Mach test run ends.

use super::cpu;

/// Status register of the 8042 keyboard controller; bit 1: its input buffer is full.
const KBC_STATUS: u16 = 0x64;
/// Command of the 8042 that pulses the CPU reset line.
const KBC_PULSE_RESET: u8 = 0xFE;
/// Line status register of COM1; bit 6: transmitter empty.
const COM1_LSR: u16 = 0x3fd;

/// Resets the machine. Interrupts are off from the first instruction; nothing returns.
pub fn reset() -> ! {
    cpu::disable_interrupts();
    // Let the console's last byte leave the UART (bounded).
    for _ in 0..100_000 {
        // SAFETY: reading COM1's line status has no side effect.
        if unsafe { cpu::inb(COM1_LSR) } & 0x40 != 0 {
            break;
        }
    }
    // Wait (bounded) until the controller can take a command.
    for _ in 0..100_000 {
        // SAFETY: reading the 8042 status port has no side effect.
        if unsafe { cpu::inb(KBC_STATUS) } & 2 == 0 {
            break;
        }
    }
    // SAFETY: the reset command ends the machine; no kernel state is relied on afterwards.
    unsafe { cpu::outb(KBC_STATUS, KBC_PULSE_RESET) };
    // Give the controller time to act (a few port reads, as on real hardware).
    for _ in 0..1000 {
        // SAFETY: as above, a status read.
        let _ = unsafe { cpu::inb(KBC_STATUS) };
    }
    triple_fault()
}

/// Loads an empty IDT and raises an exception: no handler can be found, so the CPU
/// shuts down (triple fault), which resets a PC.
fn triple_fault() -> ! {
    let idtr = [0u16; 5];
    // SAFETY: interrupts are off; the empty IDT makes the following `int3` fault without a
    // handler, which resets the processor. Nothing after it runs.
    unsafe {
        core::arch::asm!("lidt [{}]", "int3", in(reg) idtr.as_ptr(), options(noreturn));
    }
}
