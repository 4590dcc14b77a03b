//! The console: text buffered by line and written with `device_write_inband` in pieces of at
//! most the inband maximum (128 bytes), as `../gnumach-boot/runtime.c` does.

use core::fmt;

use mach_rt as rt;

use crate::sys::GnuMach;

const INBAND: usize = 128;

pub struct Console {
    device: rt::SendRight,
    line: [u8; INBAND],
    len: usize,
}

impl Console {
    pub fn new(device: rt::SendRight) -> Self {
        Console {
            device,
            line: [0; INBAND],
            len: 0,
        }
    }

    fn flush(&mut self) {
        let mut done = 0;
        while done < self.len {
            match crate::device::client::device_write_inband(
                &mut GnuMach,
                &self.device,
                0,
                0,
                &self.line[done..self.len],
            ) {
                Ok(n) if n > 0 => done += n as usize,
                _ => break,
            }
        }
        self.len = 0;
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == INBAND {
                self.flush();
            }
            self.line[self.len] = b;
            self.len += 1;
            if b == b'\n' {
                self.flush();
            }
        }
        Ok(())
    }
}
