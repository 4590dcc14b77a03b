//! The linked wire test of `tests/wire.rs`: GNU MIG's C client and C server (the in-process
//! harness, linked in as a static library) with the Rust stubs between them.
//!
//! The harness's `main` (renamed `harness_main`) calls every routine through GNU MIG's C client
//! stubs; its `mach_msg` records the request, delivers it and calls the demux, which is
//! `rust_demux` here: the Rust `dispatch` with a loopback server, whose Rust client sends the
//! request on through [`Inner`] to GNU MIG's C server stubs (`<subsystem>_server`), whose
//! server functions check every value they receive and fill every value they return. The
//! reply goes back the same way and the C client checks every value it gets.
//!
//! On top of the harness's own checks (its `fail` lines), this compares the Rust client's
//! request and the Rust server's reply with GNU MIG's (from the GNU-GNU run), byte for byte,
//! as `wire_driver.rs` does. Results go to stderr (`ok ...`, `mismatch ...`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, c_void, CStr};

use mach_rt as rt;

use crate::driver::{compare, compare_ool, received, walk, Exchange};

extern "C" {
    static h_case: u32;
    static h_routine: *const c_char;
    fn fflush(f: *mut c_void) -> i32;
}

/// A C demux: `boolean_t <subsystem>_server(mach_msg_header_t *, mach_msg_header_t *)`.
pub type Demux = unsafe extern "C" fn(*mut u8, *mut u8) -> i32;

pub struct State {
    pub reference: BTreeMap<(String, String), Exchange>,
    pub seen_request: BTreeSet<(String, String)>,
    pub seen_reply: BTreeSet<(String, String)>,
    pub problems: Vec<String>,
    pub compared: usize,
}

thread_local! {
    pub static STATE: std::cell::RefCell<Option<State>> = const { std::cell::RefCell::new(None) };
}

/// (routine, `case=k`) of the call in progress.
fn current() -> (String, String) {
    // SAFETY: the harness's globals, written by the same thread between calls.
    let (routine, k) = unsafe { (h_routine, h_case) };
    // SAFETY: `h_routine` always points to a string literal of the harness.
    let name = unsafe { CStr::from_ptr(routine) }.to_string_lossy().into_owned();
    (name, format!("case={k}"))
}

/// What the harness's kernel does between send and receive, in place; out-of-line regions are
/// copied (the sender's stay the sender's).
fn deliver_in_place(msg: &mut [u8]) {
    let h = rt::Reader::new(msg).header();
    let size = msg.len() as u32;
    let nb = (h.msgh_bits & !0xffff)
        | rt::msg::msgh_bits(
            received(rt::msg::msgh_bits_local(h.msgh_bits)),
            received(rt::msg::msgh_bits_remote(h.msgh_bits)),
        );
    let mut w = rt::Writer::new(msg);
    w.u32(0, nb);
    w.u32(4, size);
    w.port(8, h.msgh_local_port.name);
    w.port(16, h.msgh_remote_port.name);
    for (off, d, addr) in walk(msg) {
        if (16..=21).contains(&d.name()) {
            rt::Writer::new(msg).desc(off, d.with_name(received(d.name())));
        }
        if let Some(a) = addr {
            let n = crate::driver::ool_bytes(&d);
            let p = rt::Reader::new(msg).u64(a) as usize as *const u8;
            let mut copy = vec![0u64; n.div_ceil(8).max(1)];
            if n > 0 && !p.is_null() {
                // SAFETY: the sender's stub wrote the address of a live region of `n` bytes
                // (its descriptor's count), in this process.
                unsafe { std::ptr::copy_nonoverlapping(p, copy.as_mut_ptr() as *mut u8, n) };
            }
            rt::Writer::new(msg).u64(a, copy.as_mut_ptr() as usize as u64);
            std::mem::forget(copy);
        }
    }
}

/// The Rust client's transport: on to the C server's demux.
pub struct Inner {
    demux: Demux,
    reply_port: rt::PortName,
}

// SAFETY: replies come from the C server stubs, delivered by `deliver_in_place`: out-of-line
// addresses point to fresh leaked copies.
unsafe impl rt::Transport for Inner {
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
        let key = current();
        let sent = &msg[..send_size as usize];
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let s = s.as_mut().expect("state");
            if s.seen_request.insert(key.clone()) {
                let what = format!("{} {} Rust client request", key.0, key.1);
                match s.reference.get(&key).and_then(|e| e.request.clone()) {
                    Some(want) => {
                        let before = s.problems.len();
                        compare(&what, sent, &want, &mut s.problems);
                        let ool = s.reference[&key].request_ool.clone();
                        compare_ool(&what, sent, &ool, &mut s.problems);
                        s.compared += 1;
                        if s.problems.len() == before {
                            eprintln!("ok {what}");
                        }
                    }
                    None => s.problems.push(format!("{what}: not in GNU's records")),
                }
            }
        });
        let mut req = rt::MsgBuf::<65536>::new();
        req.bytes_mut().fill(0x5a);
        req.bytes_mut()[..sent.len()].copy_from_slice(sent);
        deliver_in_place(&mut req.bytes_mut()[..send_size as usize]);
        let mut rep = rt::MsgBuf::<65536>::new();
        rep.bytes_mut().fill(0x3c);
        // SAFETY: both buffers are 65536 bytes, as the harness's own; the request is a
        // delivered message whose out-of-line addresses point to live copies.
        unsafe { (self.demux)(req.bytes_mut().as_mut_ptr(), rep.bytes_mut().as_mut_ptr()) };
        let retcode = rt::Reader::new(rep.bytes()).scalar::<i32>(40);
        if option & rt::msg::MACH_RCV_MSG == 0 {
            // A simple routine: the C server function's result stands for the send's.
            return retcode;
        }
        let size = (rt::Reader::new(rep.bytes()).u32(4) as usize).min(msg.len());
        deliver_in_place(&mut rep.bytes_mut()[..size]);
        msg[..size].copy_from_slice(&rep.bytes()[..size]);
        0
    }

    fn get_reply_port(&mut self) -> rt::PortName {
        self.reply_port
    }
}

/// The body of `rust_demux`: the Rust `dispatch` through `dispatch`, with an [`Inner`]
/// transport to the C demux `inner`.
///
/// # Safety
/// `input` and `output` are the harness's 65536-byte buffers; `input` holds a delivered
/// message.
pub unsafe fn demux<F>(input: *mut u8, output: *mut u8, inner: Demux, mut dispatch: F) -> i32
where
    F: FnMut(&mut Inner, rt::PortName, u32, rt::Received<'_>, &mut [u8]) -> bool,
{
    // SAFETY: the caller's contract.
    let (req, out) = unsafe {
        (
            std::slice::from_raw_parts(input as *const u8, 65536),
            std::slice::from_raw_parts_mut(output, 65536),
        )
    };
    let h = rt::Reader::new(req).header();
    let size = (h.msgh_size as usize).min(req.len());
    // SAFETY: the harness delivered it: out-of-line addresses point to its copies.
    let received_msg = unsafe { rt::Received::from_kernel(&req[..size]) };
    let mut t = Inner {
        demux: inner,
        reply_port: h.msgh_remote_port.name,
    };
    let handled = dispatch(
        &mut t,
        h.msgh_remote_port.name,
        rt::msg::msgh_bits_remote(h.msgh_bits),
        received_msg,
        out,
    );
    let key = current();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut().expect("state");
        if !s.seen_reply.insert(key.clone()) {
            return;
        }
        let e = &s.reference.get(&key);
        let what = format!("{} {} Rust server reply", key.0, key.1);
        match e.and_then(|e| e.reply.clone()) {
            Some(want) => {
                let rsize = (rt::Reader::new(out).u32(4) as usize).min(out.len());
                let before = s.problems.len();
                compare(&what, &out[..rsize], &want, &mut s.problems);
                let ool = s.reference[&key].reply_ool.clone();
                compare_ool(&what, &out[..rsize], &ool, &mut s.problems);
                s.compared += 1;
                if s.problems.len() == before {
                    eprintln!("ok {what}");
                }
            }
            // A simple routine: the harness checks the return code itself.
            None => {}
        }
    });
    handled as i32
}

/// Runs the harness with the reference records of the GNU-GNU run; returns its exit code.
pub fn run(harness_main: unsafe extern "C" fn() -> i32, reference: &str) -> i32 {
    let (reference, _) = crate::driver::parse_wire(reference);
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            reference,
            seen_request: BTreeSet::new(),
            seen_reply: BTreeSet::new(),
            problems: Vec::new(),
            compared: 0,
        })
    });
    // SAFETY: the harness's main takes no arguments; it calls back into `rust_demux`.
    let code = unsafe { harness_main() };
    // SAFETY: fflush(NULL) flushes every C stream.
    unsafe { fflush(std::ptr::null_mut()) };
    STATE.with(|s| {
        let s = s.borrow();
        let s = s.as_ref().expect("state");
        for p in &s.problems {
            eprintln!("mismatch {p}");
        }
        eprintln!("compared {} problems {}", s.compared, s.problems.len());
    });
    code
}
