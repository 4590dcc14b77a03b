//! Kernel mode end to end (built and run by `tests/kernel_mode.rs`, next to the stubs of the
//! kernel's own interfaces: user-mode clients, kernel-mode servers).
//!
//! A transport plays the kernel: it delivers each request made by a generated client as GNU
//! Mach delivers a message (header ports swapped, dispositions as the receiver sees them, in
//! the header and in every port descriptor of the body), hands the bytes to the kernel-mode
//! `dispatch` through `rt::KernelRequest::new`, and delivers the reply back the same way.
//! Out-of-line regions are left where they are, so a token is the region's address: the
//! server can compare a request's token with the client's buffer, and the client reads the
//! region a reply's token names (page-aligned static memory, as the `Transport` contract
//! asks). Each check prints `ok <what>` or `FAIL <what>: <detail>`; the last line is
//! `checks <n> failures <m>`.

use mach_rt as rt;

use crate::{device, mach_host, mach_i386, mach_port};

/// Page-aligned memory that a reply's token names.
#[repr(C, align(4096))]
struct Page<T>(T);

const fn sequence<const N: usize>(start: u32) -> [u32; N] {
    let mut a = [0u32; N];
    let mut i = 0;
    while i < N {
        a[i] = start + i as u32;
        i += 1;
    }
    a
}

static NAMES: Page<[u32; 5]> = Page(sequence::<5>(0x100));
static TYPES: Page<[u32; 5]> = Page(sequence::<5>(0x1_0000));
static MEMBERS: Page<[u32; 3]> = Page(sequence::<3>(0x200));
static READ_DATA: Page<[u8; 300]> = Page([0x5a; 300]);
static LDT: Page<[[u32; 2]; 300]> = Page([[0x1234_5678, 0x9abc_def0]; 300]);

fn token<T, E: rt::Scalar>(p: &'static Page<T>, len: usize) -> rt::OolToken<E> {
    rt::OolToken::new(&p.0 as *const T as usize as u64, len)
}

/// What the kernel-mode servers saw, one line per call.
#[derive(Default)]
struct Kernel {
    seen: Vec<String>,
}

impl mach_port::server::Server for Kernel {
    fn mach_port_allocate(&mut self, task: rt::PortName, right: u32) -> Result<u32, rt::Error> {
        self.seen
            .push(format!("allocate task={} right={right}", task.0));
        Ok(0x4242)
    }
    fn mach_port_type(&mut self, _task: rt::PortName, name: u32) -> Result<u32, rt::Error> {
        Err(rt::Error::new(if name == 0 { 15 } else { 4 }))
    }
    fn mach_port_names(
        &mut self,
        _task: rt::PortName,
    ) -> Result<(rt::OolToken<u32>, rt::OolToken<u32>), rt::Error> {
        Ok((token(&NAMES, 5), token(&TYPES, 5)))
    }
    fn mach_port_get_set_status(
        &mut self,
        _task: rt::PortName,
        name: u32,
    ) -> Result<rt::OolToken<u32>, rt::Error> {
        self.seen.push(format!("get_set_status name={name}"));
        Ok(token(&MEMBERS, 3))
    }
    fn mach_port_insert_right(
        &mut self,
        _task: rt::PortName,
        name: u32,
        poly: rt::Poly,
    ) -> Result<(), rt::Error> {
        self.seen.push(format!(
            "insert_right name={name} poly={}/{}",
            poly.name.0, poly.disposition
        ));
        Ok(())
    }
    fn mach_port_extract_right(
        &mut self,
        _task: rt::PortName,
        name: u32,
        msgt_name: u32,
    ) -> Result<rt::Poly, rt::Error> {
        Ok(rt::Poly::new(rt::PortName(name + 1), msgt_name))
    }
    fn mach_port_request_notification(
        &mut self,
        _task: rt::PortName,
        name: u32,
        id: u32,
        sync: u32,
        notify: rt::SendOnceRight,
    ) -> Result<rt::Poly, rt::Error> {
        self.seen.push(format!(
            "request_notification name={name} id={id} sync={sync} notify={}",
            notify.into_name().0
        ));
        Ok(rt::Poly::new(rt::PortName(0x77), 18))
    }
    fn mach_port_get_receive_status(
        &mut self,
        _task: rt::PortName,
        name: u32,
    ) -> Result<[u32; 9], rt::Error> {
        Ok(core::array::from_fn(|i| name * 10 + i as u32))
    }
}

impl device::server::Server for Kernel {
    fn device_open(
        &mut self,
        master: rt::PortName,
        reply: rt::Poly,
        mode: u32,
        name: &[u8],
    ) -> Result<rt::Poly, rt::Error> {
        self.seen.push(format!(
            "device_open master={} reply={}/{} mode={mode} name={}",
            master.0,
            reply.name.0,
            reply.disposition,
            String::from_utf8_lossy(name)
        ));
        Ok(rt::Poly::new(rt::PortName(0x99), 20))
    }
    fn device_write(
        &mut self,
        device: rt::PortName,
        _reply: rt::Poly,
        mode: u32,
        recnum: u64,
        data: rt::OolToken<u8>,
    ) -> Result<i32, rt::Error> {
        self.seen.push(format!(
            "device_write device={} mode={mode} recnum={recnum} token={:#x} len={}",
            device.0,
            data.token(),
            data.len()
        ));
        Ok(data.len() as i32)
    }
    fn device_write_inband(
        &mut self,
        _device: rt::PortName,
        _reply: rt::Poly,
        _mode: u32,
        _recnum: u64,
        data: &[u8],
    ) -> Result<i32, rt::Error> {
        self.seen.push(format!(
            "device_write_inband data={}",
            String::from_utf8_lossy(data)
        ));
        Ok(data.len() as i32)
    }
    fn device_read(
        &mut self,
        _device: rt::PortName,
        _reply: rt::Poly,
        _mode: u32,
        _recnum: u64,
        bytes_wanted: i32,
    ) -> Result<rt::OolToken<u8>, rt::Error> {
        Ok(token(&READ_DATA, bytes_wanted as usize))
    }
}

impl mach_host::server::Server for Kernel {
    fn host_get_kernel_version(
        &mut self,
        _host: rt::PortName,
    ) -> Result<rt::FixedString<512>, rt::Error> {
        Ok(rt::FixedString::new(b"Mach_R kernel-mode test"))
    }
    fn host_info(
        &mut self,
        _host: rt::PortName,
        flavor: i32,
        out: &mut [i32],
    ) -> Result<usize, rt::Error> {
        for (i, w) in out.iter_mut().enumerate() {
            *w = flavor * 100 + i as i32;
        }
        Ok(out.len())
    }
    fn host_reboot(&mut self, host_priv: rt::PortName, options: i32) -> Result<(), rt::Error> {
        self.seen.push(format!(
            "host_reboot host_priv={} options={options}",
            host_priv.0
        ));
        Ok(())
    }
}

impl mach_i386::server::Server for Kernel {
    fn i386_set_ldt(
        &mut self,
        _thread: rt::PortName,
        first: i32,
        list: rt::DynamicIn<'_, [u32; 2]>,
    ) -> Result<(), rt::Error> {
        let line = match list {
            rt::DynamicIn::Inline(d) => format!("inline {} first={:x?}", d.len(), d.first()),
            rt::DynamicIn::OutOfLine(t) => {
                format!("ool token={:#x} len={}", t.token(), t.len())
            }
        };
        self.seen.push(format!("set_ldt first={first} {line}"));
        Ok(())
    }
    fn i386_get_ldt(
        &mut self,
        _thread: rt::PortName,
        _first: i32,
        count: i32,
        buf: &mut [[u32; 2]],
    ) -> Result<rt::DynamicOut<[u32; 2]>, rt::Error> {
        let n = count as usize;
        if n <= buf.len() {
            for (i, d) in buf[..n].iter_mut().enumerate() {
                *d = [i as u32, !(i as u32)];
            }
            Ok(rt::DynamicOut::Inline(n))
        } else {
            Ok(rt::DynamicOut::OutOfLine(token(&LDT, n)))
        }
    }
}

/// A disposition as the receiver of a message sees it.
fn received(disposition: u32) -> u32 {
    match disposition {
        19 | 20 => 17, // COPY_SEND, MAKE_SEND -> PORT_SEND
        21 => 18,      // MAKE_SEND_ONCE -> PORT_SEND_ONCE
        d => d,
    }
}

/// Delivers `msg` (of `size` bytes) in place: header ports swapped, every disposition as the
/// receiver sees it.
fn deliver(msg: &mut [u8], size: usize) {
    let r = rt::Reader::new(&msg[..size]);
    let h = r.header();
    let mut descs = Vec::new();
    let mut off = 32;
    while off + 8 <= size && h.msgh_bits & rt::msg::MACH_MSGH_BITS_COMPLEX != 0 {
        let d = r.desc(off);
        descs.push((off, d));
        let bytes = if d.inline() {
            ((d.number as usize * d.size() as usize).div_ceil(8) + 7) & !7
        } else {
            8
        };
        off += 8 + bytes;
    }
    let mut w = rt::Writer::new(msg);
    let remote = received(rt::msg::msgh_bits_remote(h.msgh_bits));
    let local = received(rt::msg::msgh_bits_local(h.msgh_bits));
    w.header(&rt::Header {
        msgh_bits: (h.msgh_bits & rt::msg::MACH_MSGH_BITS_COMPLEX)
            | rt::msg::msgh_bits(local, remote),
        msgh_remote_port: h.msgh_local_port,
        msgh_local_port: h.msgh_remote_port,
        ..h
    });
    for (off, d) in descs {
        if rt::msg::types::port_any(d.name()) {
            w.desc(off, d.with_name(received(d.name())));
        }
    }
}

/// The kernel: requests go through the kernel-mode `dispatch` of their subsystem.
struct InKernel {
    kernel: Kernel,
    reply_port: rt::PortName,
}

// SAFETY: every out-of-line region a delivered reply points to is a page-aligned static of
// this program (the tokens the servers above return), mapped, and at least as large as its
// descriptor says; nothing deallocates it.
unsafe impl rt::Transport for InKernel {
    fn mach_msg(
        &mut self,
        msg: &mut [u8],
        option: u32,
        send_size: u32,
        _rcv_size: u32,
        _rcv_name: rt::PortName,
        _timeout: u32,
        _notify: rt::PortName,
    ) -> rt::KernReturn {
        assert!(option & rt::msg::MACH_SEND_MSG != 0);
        let mut request = msg[..send_size as usize].to_vec();
        deliver(&mut request, send_size as usize);
        let mut reply = vec![0u8; 8192];
        let req = rt::KernelRequest::new(&request);
        let id = req.reader().header().msgh_id;
        let k = &mut self.kernel;
        let served = match id {
            2600..=2699 => mach_host::server::dispatch(k, req, &mut reply),
            2800..=2899 => device::server::dispatch(k, req, &mut reply),
            3200..=3299 => mach_port::server::dispatch(k, req, &mut reply),
            3800..=3899 => mach_i386::server::dispatch(k, req, &mut reply),
            _ => false,
        };
        assert!(served, "request {id} not served");
        if option & rt::msg::MACH_RCV_MSG == 0 {
            return 0;
        }
        let size = rt::Reader::new(&reply).header().msgh_size as usize;
        deliver(&mut reply, size);
        msg[..size].copy_from_slice(&reply[..size]);
        0
    }
    fn get_reply_port(&mut self) -> rt::PortName {
        self.reply_port
    }
}

struct Checks {
    n: usize,
    failures: usize,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.n += 1;
        if ok {
            println!("ok {what}");
        } else {
            self.failures += 1;
            println!("FAIL {what}: {}", detail());
        }
    }
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        let ok = got == want;
        self.check(what, ok, || format!("got {got:?}, want {want:?}"));
    }
}

fn last(t: &InKernel) -> String {
    t.kernel.seen.last().cloned().unwrap_or_default()
}

pub fn main() {
    let mut t = InKernel {
        kernel: Kernel::default(),
        reply_port: rt::PortName(0x33),
    };
    let mut c = Checks { n: 0, failures: 0 };
    let task = rt::SendRight::from_name(rt::PortName(5));

    // Scalars both ways; an error code comes back as the client's error.
    let r = mach_port::client::mach_port_allocate(&mut t, &task, 1);
    c.eq("mach_port_allocate returns the name", r, Ok(0x4242));
    c.eq(
        "mach_port_allocate request",
        last(&t),
        "allocate task=5 right=1".into(),
    );
    let r = mach_port::client::mach_port_type(&mut t, &task, 0);
    c.eq("mach_port_type error", r.map_err(|e| e.code()), Err(15));

    // Out-of-line replies: the tokens the server made name the client's regions.
    match mach_port::client::mach_port_names(&mut t, &task) {
        Ok((names, types)) => {
            c.eq("mach_port_names names", names.as_slice(), &NAMES.0[..]);
            c.eq("mach_port_names types", types.as_slice(), &TYPES.0[..]);
            let _ = (names.into_raw(), types.into_raw());
        }
        Err(e) => c.check("mach_port_names", false, || format!("{e:?}")),
    }
    match mach_port::client::mach_port_get_set_status(&mut t, &task, 9) {
        Ok(m) => {
            c.eq(
                "mach_port_get_set_status members",
                m.as_slice(),
                &MEMBERS.0[..],
            );
            let _ = m.into_raw();
        }
        Err(e) => c.check("mach_port_get_set_status", false, || format!("{e:?}")),
    }

    // Rights: polymorphic in and out, a send-once right in, a structure out.
    let r = mach_port::client::mach_port_insert_right(
        &mut t,
        &task,
        9,
        rt::Poly::new(rt::PortName(9), rt::msg::types::MACH_MSG_TYPE_MAKE_SEND),
    );
    c.eq("mach_port_insert_right", r, Ok(()));
    c.eq(
        "mach_port_insert_right poly as received",
        last(&t),
        format!("insert_right name=9 poly=9/{}", received(20)),
    );
    let r = mach_port::client::mach_port_extract_right(&mut t, &task, 9, 20);
    c.eq(
        "mach_port_extract_right",
        r,
        Ok(rt::Poly::new(rt::PortName(10), received(20))),
    );
    let r = mach_port::client::mach_port_request_notification(
        &mut t,
        &task,
        9,
        0o110,
        1,
        rt::Poly::new(rt::PortName(0x44), 21),
    );
    c.eq(
        "mach_port_request_notification previous",
        r.map(rt::SendOnceRight::into_name),
        Ok(rt::PortName(0x77)),
    );
    c.eq(
        "mach_port_request_notification request",
        last(&t),
        "request_notification name=9 id=72 sync=1 notify=68".into(),
    );
    let r = mach_port::client::mach_port_get_receive_status(&mut t, &task, 3);
    c.eq(
        "mach_port_get_receive_status",
        r,
        Ok(core::array::from_fn(|i| 30 + i as u32)),
    );

    // Devices: a name and the reply port in, a right out; out-of-line data in both
    // directions.
    let master = rt::SendRight::from_name(rt::PortName(2));
    let r = device::client::device_open(&mut t, &master, 3, b"console");
    c.eq(
        "device_open",
        r.map(rt::SendRight::into_name),
        Ok(rt::PortName(0x99)),
    );
    c.eq(
        "device_open request",
        last(&t),
        "device_open master=2 reply=51/18 mode=3 name=console".into(),
    );
    let dev = rt::SendRight::from_name(rt::PortName(0x99));
    let data = vec![7u8; 5000];
    let r = device::client::device_write(&mut t, &dev, 2, 11, &data);
    c.eq("device_write", r, Ok(5000));
    c.eq(
        "device_write token is the sender's region",
        last(&t),
        format!(
            "device_write device=153 mode=2 recnum=11 token={:#x} len=5000",
            data.as_ptr() as usize
        ),
    );
    let r = device::client::device_write_inband(&mut t, &dev, 0, 0, b"hello, kernel");
    c.eq("device_write_inband", r, Ok(13));
    c.eq(
        "device_write_inband data",
        last(&t),
        "device_write_inband data=hello, kernel".into(),
    );
    match device::client::device_read(&mut t, &dev, 0, 0, 300) {
        Ok(b) => {
            c.eq("device_read data", b.as_slice(), &READ_DATA.0[..]);
            let _ = b.into_raw();
        }
        Err(e) => c.check("device_read", false, || format!("{e:?}")),
    }

    // Host: a fixed string out, a CountInOut array out, a simple call.
    let host = rt::SendRight::from_name(rt::PortName(1));
    let r = mach_host::client::host_get_kernel_version(&mut t, &host);
    c.eq(
        "host_get_kernel_version",
        r.map(|s| s.as_bytes().to_vec()),
        Ok(b"Mach_R kernel-mode test".to_vec()),
    );
    let mut info = [0i32; 12];
    let r = mach_host::client::host_info(&mut t, &host, 1, &mut info);
    c.eq("host_info count", r, Ok(12));
    c.eq(
        "host_info words",
        info,
        core::array::from_fn(|i| 100 + i as i32),
    );
    let r = mach_host::client::host_reboot(&mut t, &host, 0);
    c.eq(
        "host_reboot",
        (r, last(&t)),
        (Ok(()), "host_reboot host_priv=1 options=0".into()),
    );

    // Dynamic arrays: inline and out of line, in and out.
    let thread = rt::SendRight::from_name(rt::PortName(8));
    let small = [[1u32, 2u32]; 3];
    let r = mach_i386::client::i386_set_ldt(&mut t, &thread, 7, &small);
    c.eq(
        "i386_set_ldt inline",
        (r, last(&t)),
        (Ok(()), "set_ldt first=7 inline 3 first=Some([1, 2])".into()),
    );
    let big = vec![[3u32, 4u32]; 400];
    let r = mach_i386::client::i386_set_ldt(&mut t, &thread, 0, &big);
    c.eq(
        "i386_set_ldt out of line",
        (r, last(&t)),
        (
            Ok(()),
            format!(
                "set_ldt first=0 ool token={:#x} len=400",
                big.as_ptr() as usize
            ),
        ),
    );
    let mut buf = [[0u32; 2]; 256];
    match mach_i386::client::i386_get_ldt(&mut t, &thread, 0, 4, &mut buf) {
        Ok(rt::Dynamic::Inline(n)) => c.eq(
            "i386_get_ldt inline",
            buf[..n].to_vec(),
            (0..4u32).map(|i| [i, !i]).collect(),
        ),
        other => c.check("i386_get_ldt inline", false, || format!("{other:?}")),
    }
    match mach_i386::client::i386_get_ldt(&mut t, &thread, 0, 300, &mut buf) {
        Ok(rt::Dynamic::OutOfLine(b)) => {
            c.eq("i386_get_ldt out of line", b.as_slice(), &LDT.0[..]);
            let _ = b.into_raw();
        }
        other => c.check("i386_get_ldt out of line", false, || format!("{other:?}")),
    }

    // Malformed requests: checked before any method runs, as in user mode.
    let mut request = vec![0u8; 64];
    let mut w = rt::Writer::new(&mut request);
    w.header(&rt::Header {
        msgh_bits: rt::msg::msgh_bits(18, 17),
        msgh_size: 56,
        msgh_remote_port: rt::PortSlot {
            name: rt::PortName(0x33),
            upper: 0,
        },
        msgh_local_port: rt::PortSlot {
            name: rt::PortName(5),
            upper: 0,
        },
        msgh_seqno: 0,
        msgh_id: 3204,
    });
    let calls = t.kernel.seen.len();
    let mut reply = vec![0u8; mach_port::server::MAX_REPLY_SIZE];
    let served =
        mach_port::server::dispatch(&mut t.kernel, rt::KernelRequest::new(&request), &mut reply);
    let code = rt::Reader::new(&reply).scalar::<i32>(40);
    c.eq(
        "malformed request: MIG_BAD_ARGUMENTS, method not called",
        (served, code, t.kernel.seen.len()),
        (true, rt::error::MIG_BAD_ARGUMENTS, calls),
    );
    rt::Writer::new(&mut request).u32(28, 3299);
    let served =
        mach_port::server::dispatch(&mut t.kernel, rt::KernelRequest::new(&request), &mut reply);
    let code = rt::Reader::new(&reply).scalar::<i32>(40);
    c.eq(
        "id outside the subsystem: MIG_BAD_ID",
        (served, code),
        (false, rt::error::MIG_BAD_ID),
    );

    println!("checks {} failures {}", c.n, c.failures);
}
