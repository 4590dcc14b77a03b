//! The console: `kprintln!` to the serial port. The kernel's own lines end in `\r\n`, as GNU
//! Mach's do, and a task's bytes go out unchanged, so a transcript tells the two apart (the
//! suite's cut drops kernel lines between a program's markers, a fault report among them).

use crate::arch::serial;
use crate::sync::IrqLock;
use core::fmt::{self, Write};

static CONSOLE: IrqLock<()> = IrqLock::new(());

/// Writes to the serial port without locking.
pub struct RawSerial;

impl Write for RawSerial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                serial::write_byte(b'\r');
            }
            serial::write_byte(b);
        }
        Ok(())
    }
}

/// Prints formatted text atomically with respect to other console users.
pub fn print(args: fmt::Arguments<'_>) {
    let _g = CONSOLE.lock();
    let _ = RawSerial.write_fmt(args);
}

/// Prints bytes (from a user task), replacing control characters other than newline and tab.
pub fn print_bytes(prefix: fmt::Arguments<'_>, bytes: &[u8]) {
    let _g = CONSOLE.lock();
    let _ = RawSerial.write_fmt(prefix);
    for &b in bytes {
        serial::write_byte(if b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b) {
            b
        } else {
            b'?'
        });
    }
}

/// Prints without taking the console lock (panic and fatal-fault paths only).
pub fn print_raw(args: fmt::Arguments<'_>) {
    let _ = RawSerial.write_fmt(args);
}

/// `print!` to the serial console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// `println!` to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes the bytes a task sent to the console device (`device_write`), unchanged, as a
/// serial line gets them on GNU Mach.
pub fn write_device(bytes: &[u8]) {
    let _g = CONSOLE.lock();
    for &b in bytes {
        serial::write_byte(b);
    }
}
