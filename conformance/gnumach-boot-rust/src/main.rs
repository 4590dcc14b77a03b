//! The GNU Mach bootstrap program in Rust: the same checks, in the same order, printing the
//! same lines as `../gnumach-boot/boot.c`, through the Rust stubs that `build.rs` generates
//! with `mig_backend_rust::Builder` and the `mach-rt` runtime. It runs as the first task of
//! GNU Mach (QEMU loads it as a multiboot module) and ends with `host_reboot`.

#![no_std]
#![no_main]

mod console;
mod sys;

use core::fmt::Write;

use mach_rt as rt;

use console::Console;
use sys::GnuMach;

#[allow(dead_code)]
mod mach {
    include!(concat!(env!("OUT_DIR"), "/mach.rs"));
}
#[allow(dead_code)]
mod mach_host {
    include!(concat!(env!("OUT_DIR"), "/mach_host.rs"));
}
#[allow(dead_code)]
mod mach_port {
    include!(concat!(env!("OUT_DIR"), "/mach_port.rs"));
}
#[allow(dead_code)]
mod device {
    include!(concat!(env!("OUT_DIR"), "/device.rs"));
}

const PAGE_SIZE: u64 = 4096;
const HOST_BASIC_INFO: i32 = 1;
const HOST_BASIC_INFO_COUNT: usize = 6;
const TASK_BASIC_INFO: i32 = 1;
const TASK_BASIC_INFO_COUNT: usize = 30;
const MACH_PORT_RIGHT_RECEIVE: u32 = 1;
const MACH_PORT_TYPE_RECEIVE: u32 = 1 << 17;
const MACH_PORT_TYPE_SEND: u32 = 1 << 16;
const D_READ: u32 = 1;
const D_WRITE: u32 = 2;

struct Boot {
    t: GnuMach,
    out: Console,
    failures: u32,
}

impl Boot {
    fn fail(&mut self, what: &str, code: u32) {
        let _ = writeln!(self.out, "FAIL {what}: 0x{code:x}");
        self.failures += 1;
    }

    fn fail_kr(&mut self, what: &str, e: rt::Error) {
        self.fail(what, e.code() as u32);
    }

    fn check_host(&mut self) {
        let mut info = [0i32; 1024];
        match mach_host::client::host_info(
            &mut self.t,
            &sys::host_self(),
            HOST_BASIC_INFO,
            &mut info[..HOST_BASIC_INFO_COUNT],
        ) {
            Err(e) => self.fail_kr("host_info", e),
            Ok(n) if n != HOST_BASIC_INFO_COUNT => self.fail("host_info count", n as u32),
            Ok(_) => {
                let memory = (info[2] as u32 as u64) | ((info[3] as u32 as u64) << 32);
                let _ = writeln!(
                    self.out,
                    "ok host_info basic: max_cpus={} avail_cpus={} memory_size={} cpu_type={} cpu_subtype={}",
                    info[0], info[1], memory, info[4], info[5]
                );
            }
        }
        match mach_host::client::host_get_kernel_version(&mut self.t, &sys::host_self()) {
            Err(e) => self.fail_kr("host_get_kernel_version", e),
            Ok(version) => {
                // Only the first line: the rest carries the build's date and host.
                let v = version.as_bytes();
                let end = v
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(v.len());
                let text = core::str::from_utf8(&v[..end]).unwrap_or("?");
                let _ = writeln!(self.out, "ok host_get_kernel_version: {text}");
            }
        }
    }

    fn check_vm(&mut self) {
        let size = 3 * PAGE_SIZE;
        let task = sys::task_self();
        let address = match mach::client::vm_allocate(&mut self.t, &task, 0, size, 1) {
            Ok(a) => a,
            Err(e) => return self.fail_kr("vm_allocate", e),
        };
        if address == 0 || address % PAGE_SIZE != 0 {
            return self.fail(
                "vm_allocate address alignment",
                (address % PAGE_SIZE) as u32,
            );
        }
        // SAFETY: vm_allocate just mapped `size` zero-filled bytes at `address` for this task,
        // and nothing else refers to them until vm_deallocate below.
        let mut region = unsafe { rt::OolBuffer::<u8>::from_raw(address, size as usize) };
        let mem = region.as_mut_slice();
        if let Some(i) = mem.iter().position(|&b| b != 0) {
            return self.fail("vm_allocate zero fill at offset", i as u32);
        }
        for (i, b) in mem.iter_mut().enumerate() {
            *b = (i as u64).wrapping_mul(7).wrapping_add(3) as u8;
        }
        let mut sum: u64 = 0;
        for (i, &b) in mem.iter().enumerate() {
            if b != (i as u64).wrapping_mul(7).wrapping_add(3) as u8 {
                return self.fail("vm_allocate read back at offset", i as u32);
            }
            sum = sum.wrapping_mul(31).wrapping_add(b as u64);
        }
        let _ = region.into_raw();
        if let Err(e) = mach::client::vm_deallocate(&mut self.t, &task, address, size) {
            return self.fail_kr("vm_deallocate", e);
        }
        let _ = writeln!(
            self.out,
            "ok vm_allocate round trip: size={size} zero-filled, read back checksum={sum:x}"
        );
        // The region is gone: vm_region from its address finds a later region, or none.
        match mach::client::vm_region(&mut self.t, &task, address) {
            Ok((region, ..)) if region <= address => {
                self.fail("vm_deallocate left a region at the address", 0)
            }
            r => {
                let how = if r.is_ok() {
                    "finds a later region"
                } else {
                    "finds none"
                };
                let _ = writeln!(
                    self.out,
                    "ok vm_deallocate: no region left at the address (vm_region {how})"
                );
            }
        }
    }

    fn check_task_info(&mut self) {
        let mut info = [0i32; 1024];
        match mach::client::task_info(
            &mut self.t,
            &sys::task_self(),
            TASK_BASIC_INFO,
            &mut info[..TASK_BASIC_INFO_COUNT],
        ) {
            Err(e) => self.fail_kr("task_info", e),
            Ok(n) if n != TASK_BASIC_INFO_COUNT => self.fail("task_info count", n as u32),
            Ok(n) => {
                let _ = writeln!(
                    self.out,
                    "ok task_info basic: count={n} suspend_count={} base_priority={}",
                    info[0], info[1]
                );
            }
        }
    }

    /// A message sent to itself: an inline int32 array and an out-of-line page, through the
    /// runtime's writer and reader (no stub describes this message).
    fn check_self_message(&mut self, port: &rt::ReceiveRight) {
        use rt::msg::types::{
            MACH_MSG_TYPE_BYTE, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND,
        };
        let task = sys::task_self();
        let page = match mach::client::vm_allocate(&mut self.t, &task, 0, PAGE_SIZE, 1) {
            Ok(a) => a,
            Err(e) => return self.fail_kr("vm_allocate for the message", e),
        };
        // SAFETY: a fresh page of this task, used only through this buffer until deallocated.
        let mut sent = unsafe { rt::OolBuffer::<u8>::from_raw(page, PAGE_SIZE as usize) };
        for (i, b) in sent.as_mut_slice().iter_mut().enumerate() {
            *b = (i as u8) ^ 0x5a;
        }
        const SIZE: u32 = 80;
        let mut buf = rt::MsgBuf::<256>::new();
        {
            let mut w = buf.writer();
            w.header(&rt::Header {
                msgh_bits: rt::msg::msgh_bits(MACH_MSG_TYPE_MAKE_SEND, 0)
                    | rt::msg::MACH_MSGH_BITS_COMPLEX,
                msgh_size: SIZE,
                msgh_remote_port: rt::PortSlot {
                    name: port.name(),
                    upper: 0,
                },
                msgh_local_port: rt::PortSlot::default(),
                msgh_seqno: 0,
                msgh_id: 4242,
            });
            w.desc(
                32,
                rt::TypeDesc::new(MACH_MSG_TYPE_INTEGER_32, 32, 6, true, false, false),
            );
            for i in 0..6 {
                w.scalar::<i32>(40 + 4 * i, 0x1000 * i as i32 - 3);
            }
            // Copy semantics: the sender keeps its page (deallocate clear).
            w.desc(
                64,
                rt::TypeDesc::new(MACH_MSG_TYPE_BYTE, 8, PAGE_SIZE as u32, false, true, false),
            );
            w.u64(72, page);
        }
        let r = rt::Transport::mach_msg(
            &mut self.t,
            buf.bytes_mut(),
            rt::msg::MACH_SEND_MSG | rt::msg::MACH_RCV_MSG,
            SIZE,
            256,
            port.name(),
            0,
            rt::PortName::NULL,
        );
        if r != 0 {
            return self.fail("mach_msg send+receive to self", r as u32);
        }
        // SAFETY: the transport received this message from the kernel just now.
        let m = unsafe { rt::Received::from_kernel(buf.bytes()) };
        let rd = m.reader();
        let h = rd.header();
        let words = rd.desc(32);
        let ool = rd.desc(64);
        let mut copy = m.ool::<u8>(72, ool.number as usize);
        let mut ok = h.msgh_id == 4242
            && h.msgh_size == SIZE
            && h.msgh_local_port.name == port.name()
            && words.number == 6
            && !ool.inline()
            && ool.number == PAGE_SIZE as u32
            && copy.address() != 0
            && copy.address() != page;
        for i in 0..6 {
            ok = ok && rd.scalar::<i32>(40 + 4 * i) == 0x1000 * i as i32 - 3;
        }
        ok = ok
            && copy
                .as_slice()
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i as u8) ^ 0x5a);
        // Copy semantics: writing the received copy leaves the sender's page as it was.
        if ok {
            copy.as_mut_slice().fill(0xee);
            ok = sent
                .as_slice()
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i as u8) ^ 0x5a);
        }
        if !ok {
            let _ = writeln!(
                self.out,
                "FAIL mach_msg to self: received message differs: id={} size={} local={} number={} ool_inline={} ool_number={} ool_moved={}",
                h.msgh_id,
                h.msgh_size,
                h.msgh_local_port.name.0,
                words.number,
                ool.inline() as u32,
                ool.number,
                (copy.address() != page) as u32
            );
            self.failures += 1;
            return;
        }
        let _ = writeln!(
            self.out,
            "ok mach_msg to self: id={} size={} bits=0x{:x} inline data and out-of-line copy match",
            h.msgh_id, h.msgh_size, h.msgh_bits
        );
        let (copy_address, _) = copy.into_raw();
        let _ = mach::client::vm_deallocate(&mut self.t, &task, copy_address, PAGE_SIZE);
        let _ = sent.into_raw();
        let _ = mach::client::vm_deallocate(&mut self.t, &task, page, PAGE_SIZE);
    }

    fn check_ports(&mut self) {
        let task = sys::task_self();
        let port = match mach_port::client::mach_port_allocate(
            &mut self.t,
            &task,
            MACH_PORT_RIGHT_RECEIVE,
        ) {
            Ok(p) if p != 0 => rt::ReceiveRight::from_name(rt::PortName(p)),
            Ok(_) => return self.fail("mach_port_allocate", 0),
            Err(e) => return self.fail_kr("mach_port_allocate", e),
        };
        let name = port.name().0;
        match mach_port::client::mach_port_type(&mut self.t, &task, name) {
            Ok(ty) if ty == MACH_PORT_TYPE_RECEIVE => {
                let _ = writeln!(
                    self.out,
                    "ok mach_port_allocate receive: mach_port_type=0x{ty:x}"
                );
            }
            Ok(ty) => self.fail("mach_port_type after mach_port_allocate", ty),
            Err(e) => self.fail_kr("mach_port_type after mach_port_allocate", e),
        }
        let make_send = rt::Poly::new(port.name(), rt::msg::types::MACH_MSG_TYPE_MAKE_SEND);
        let r = mach_port::client::mach_port_insert_right(&mut self.t, &task, name, make_send)
            .and_then(|()| mach_port::client::mach_port_type(&mut self.t, &task, name));
        match r {
            Ok(ty) if ty == MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND => {
                let _ = writeln!(
                    self.out,
                    "ok mach_port_insert_right make-send: mach_port_type=0x{ty:x}"
                );
            }
            Ok(ty) => self.fail("mach_port_insert_right make-send", ty),
            Err(e) => self.fail_kr("mach_port_insert_right make-send", e),
        }
        self.check_self_message(&port);
        // Destroying the port consumes the receive right.
        let name = port.into_name().0;
        if let Err(e) = mach_port::client::mach_port_destroy(&mut self.t, &task, name) {
            return self.fail_kr("mach_port_destroy", e);
        }
        match mach_port::client::mach_port_type(&mut self.t, &task, name) {
            Ok(ty) => self.fail("mach_port_type after mach_port_destroy succeeded", ty),
            Err(e) => {
                let _ = writeln!(
                    self.out,
                    "ok mach_port_destroy: mach_port_type now returns 0x{:x}",
                    e.code()
                );
            }
        }
    }
}

/// Parses a decimal number at the start of `s`.
fn decimal(s: &[u8]) -> u32 {
    s.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u32, |v, &c| {
            v.wrapping_mul(10).wrapping_add((c - b'0') as u32)
        })
}

/// # Safety
/// `args` is the initial stack of a GNU Mach bootstrap task: argc, then argc pointers to
/// NUL-terminated strings.
#[no_mangle]
unsafe extern "C" fn boot_start(args: *const i64) -> ! {
    // SAFETY: the kernel put argc at the top of the stack.
    let argc = unsafe { *args };
    let mut host_priv = 0;
    let mut device_master = 0;
    for i in 1..argc.max(0) as usize {
        // SAFETY: argv[i] for i < argc is a NUL-terminated string the kernel copied.
        let arg = unsafe {
            let p = *args.add(1 + i) as *const u8;
            core::slice::from_raw_parts(p, sys::strlen(p))
        };
        if let Some(v) = arg.strip_prefix(b"--host-priv-port=") {
            host_priv = decimal(v);
        } else if let Some(v) = arg.strip_prefix(b"--device-master-port=") {
            device_master = decimal(v);
        }
    }
    let host_priv = rt::SendRight::from_name(rt::PortName(host_priv));
    let device_master = rt::SendRight::from_name(rt::PortName(device_master));
    let mut t = GnuMach;
    let console =
        match device::client::device_open(&mut t, &device_master, D_READ | D_WRITE, b"console") {
            Ok(c) => c,
            Err(_) => {
                // Nothing can be printed; reboot at once, the test sees no lines.
                let _ = mach_host::client::host_reboot(&mut t, &host_priv, 0);
                halt();
            }
        };
    let mut boot = Boot {
        t,
        out: Console::new(console),
        failures: 0,
    };
    let _ = writeln!(
        boot.out,
        "gnumach-boot: argc={argc} host-priv-port={} device-master-port={}",
        host_priv.name().0,
        device_master.name().0
    );
    boot.check_host();
    boot.check_vm();
    boot.check_task_info();
    boot.check_ports();
    let failures = boot.failures;
    let _ = writeln!(
        boot.out,
        "gnumach-boot: {}, {failures} failures",
        if failures != 0 { "FAILED" } else { "passed" }
    );
    let r = mach_host::client::host_reboot(&mut boot.t, &host_priv, 0);
    let _ = writeln!(
        boot.out,
        "FAIL host_reboot: 0x{:x}",
        rt::error::code_of(&r) as u32
    );
    halt()
}

fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    halt()
}
