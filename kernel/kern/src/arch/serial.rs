//! The COM1 16550 UART, polled: the kernel console, the test transcript and the console
//! device's input (drained on every tick and at every read, `console::poll_input`).

use super::cpu::{inb, outb};

const COM1: u16 = 0x3f8;

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.
pub fn init() {
    // SAFETY: COM1 is the kernel's console; these are the standard 16550 set-up writes.
    unsafe {
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x80);
        outb(COM1, 0x01);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03);
        outb(COM1 + 2, 0xc7);
        outb(COM1 + 4, 0x03);
    }
}

/// Sends one byte, waiting for the transmitter.
pub fn write_byte(b: u8) {
    // SAFETY: reading the line status and writing the data register of COM1 only.
    unsafe {
        for _ in 0..100_000 {
            if inb(COM1 + 5) & 0x20 != 0 {
                break;
            }
        }
        outb(COM1, b);
    }
}

/// The next received byte, if the receiver holds one.
pub fn read_byte() -> Option<u8> {
    // SAFETY: reading the line status and the receive buffer of COM1 only; reading the
    // buffer takes the byte out of the UART, which only the console input does.
    unsafe {
        if inb(COM1 + 5) & 0x01 != 0 {
            Some(inb(COM1))
        } else {
            None
        }
    }
}

/// Ends the QEMU run through `isa-debug-exit` (port 0xf4): QEMU exits with `(code << 1) | 1`.
/// On a machine without that device the write is ignored.
pub fn qemu_exit(code: u32) {
    // SAFETY: port 0xf4 is the debug-exit device under QEMU and unused elsewhere.
    unsafe { super::cpu::outl(0xf4, code) }
}
