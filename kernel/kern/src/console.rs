//! The console: `kprintln!` to the serial port. The kernel's own lines end in `\r\n`, as GNU
//! Mach's do, and a task's bytes go out unchanged, so a transcript tells the two apart (the
//! suite's cut drops kernel lines between a program's markers, a fault report among them).
//!
//! The console device's input: bytes received on COM1, kept until a `device_read` takes them,
//! and the reads waiting for them.
//!
//! A read that finds no input does not wait on the kernel stack: the device server keeps
//! the request (bytes of the kernel's IPC space, its reply right stays there) with
//! [`wait_for_input`] and answers `MIG_NO_REPLY`; [`poll_input`], called on every tick,
//! drains the UART and runs the kept requests through the generated server again
//! ([`crate::msg::serve_request`]), which now finds input and sends the reply.

use crate::arch::serial;
use crate::sync::IrqLock;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
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

/// Bytes kept for readers at most; later ones are dropped until a read makes room.
pub const INPUT_LIMIT: usize = 4096;

/// Console input not yet read, and the requests of reads waiting for it.
struct Input {
    bytes: VecDeque<u8>,
    waiting: VecDeque<Vec<u8>>,
}

static INPUT: IrqLock<Input> = IrqLock::new(Input {
    bytes: VecDeque::new(),
    waiting: VecDeque::new(),
});

fn drain_uart(i: &mut Input) {
    while let Some(b) = serial::read_byte() {
        if i.bytes.len() < INPUT_LIMIT {
            i.bytes.push_back(b);
        }
    }
}

/// Takes up to `max` bytes of console input (what is there, received bytes first drained
/// from the UART); `None` when there is none, or when earlier reads still wait for it (they
/// come first): the read must wait.
pub fn take_input(max: usize) -> Option<Vec<u8>> {
    let mut i = INPUT.lock();
    drain_uart(&mut i);
    if i.bytes.is_empty() || !i.waiting.is_empty() {
        return None;
    }
    let n = max.min(i.bytes.len());
    Some(i.bytes.drain(..n).collect())
}

/// Keeps the request of a read that found no input, to be served again when input arrives
/// (its reply right stays in the kernel space meanwhile).
pub fn wait_for_input(request: Vec<u8>) {
    INPUT.lock().waiting.push_back(request);
}

/// Drains the UART; when input is there and reads wait, serves them again in the order they
/// came (a read that finds the input gone waits again). A read whose reply port died in the
/// meantime still takes its input, as on GNU Mach (observed: `devread`); its reply goes
/// nowhere.
pub fn poll_input(k: &mut crate::sched::Kernel) {
    let ready: Vec<Vec<u8>> = {
        let mut i = INPUT.lock();
        drain_uart(&mut i);
        if i.bytes.is_empty() || i.waiting.is_empty() {
            return;
        }
        i.waiting.drain(..).collect()
    };
    for request in ready {
        let mut ool = crate::msg::KernelOol::default();
        crate::msg::serve_request(k, &request, &mut ool);
    }
}
