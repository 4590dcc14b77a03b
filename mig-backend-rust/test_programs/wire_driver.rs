//! The wire-equivalence driver of `tests/wire.rs` (built as a scratch program with the Rust
//! stubs of a few subsystems and their `loopback` servers).
//!
//! For every request GNU MIG's C client put on the wire in the in-process harness (and the
//! reply GNU MIG's C server answered with), it
//! 1. delivers the recorded request the way the harness's kernel does (ports swapped,
//!    dispositions converted, out-of-line data copied) and hands it to the Rust `dispatch`;
//! 2. the `loopback` server passes the decoded arguments to the Rust client function, whose
//!    transport compares the request the Rust client builds with GNU's, byte for byte
//!    (bytes the harness masks excepted; dispositions compared as received), and its
//!    out-of-line data; then answers with GNU's recorded reply, delivered;
//! 3. the Rust client decodes that reply, the loopback returns the values, and `dispatch`
//!    writes the Rust server's reply, which is compared with GNU's reply the same way.
//!
//! Then it replays GNU's malformed requests (`id-below-base`, `id-past-end`, `size-plus-8`,
//! `size-minus-8`, `wrong-type`) and compares the demux result, the return code and whether
//! the server ran. Prints `ok ...`/`mismatch ...` lines and a summary per subsystem.

use std::collections::BTreeMap;

use mach_rt as rt;

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub bytes: Vec<u8>,
    pub mask: Vec<bool>,
}

#[derive(Debug, Default)]
pub struct Exchange {
    pub request: Option<Record>,
    pub request_ool: BTreeMap<u32, Vec<u8>>,
    pub reply: Option<Record>,
    pub reply_ool: BTreeMap<u32, Vec<u8>>,
    /// `oneway` lines: (demux, retcode).
    pub oneway: Option<(u32, i32)>,
}

fn hex(s: &str) -> Record {
    let b = s.as_bytes();
    let mut r = Record::default();
    for pair in b.chunks(2) {
        if pair == b".." {
            r.bytes.push(0);
            r.mask.push(true);
        } else {
            let v = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
            r.bytes.push(v);
            r.mask.push(false);
        }
    }
    r
}

fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key))
}

fn is_port_right(n: u32) -> bool {
    (16..=21).contains(&n)
}

pub fn received(n: u32) -> u32 {
    match n {
        16 => 16,
        17 | 19 | 20 => 17,
        18 | 21 => 18,
        other => other,
    }
}

/// Descriptor offsets and, for out-of-line data, the offset of the address.
pub fn walk(msg: &[u8]) -> Vec<(usize, rt::TypeDesc, Option<usize>)> {
    let rd = rt::Reader::new(msg);
    let mut off = 32;
    let mut out = Vec::new();
    while off + 8 <= msg.len() {
        let d = rd.desc(off);
        off += 8;
        if d.inline() {
            let n = if is_port_right(d.name()) {
                d.number as usize * 8
            } else {
                (d.number as usize * d.size() as usize).div_ceil(8)
            };
            out.push((off - 8, d, None));
            off += (n + 7) & !7;
        } else {
            out.push((off - 8, d, Some(off)));
            off += 8;
        }
    }
    out
}

pub fn ool_bytes(d: &rt::TypeDesc) -> usize {
    (d.number as usize * d.size() as usize).div_ceil(8)
}

/// Dispositions as the receiver sees them, in the header and in every descriptor.
fn normalize(msg: &mut [u8]) {
    let bits = rt::Reader::new(msg).u32(0);
    let nb = (bits & !0xffff)
        | rt::msg::msgh_bits(
            received(rt::msg::msgh_bits_remote(bits)),
            received(rt::msg::msgh_bits_local(bits)),
        );
    rt::Writer::new(msg).u32(0, nb);
    for (off, d, _) in walk(msg) {
        if is_port_right(d.name()) {
            rt::Writer::new(msg).desc(off, d.with_name(received(d.name())));
        }
    }
}

/// What the harness's kernel does between send and receive; out-of-line data comes from
/// `ool` (by descriptor index) and is copied to leaked memory.
fn deliver(msg: &mut [u8], ool: &BTreeMap<u32, Vec<u8>>) {
    let rd = rt::Reader::new(msg);
    let h = rd.header();
    let size = msg.len() as u32;
    let bits = h.msgh_bits;
    let nb = (bits & !0xffff)
        | rt::msg::msgh_bits(
            received(rt::msg::msgh_bits_local(bits)),
            received(rt::msg::msgh_bits_remote(bits)),
        );
    let mut w = rt::Writer::new(msg);
    w.u32(0, nb);
    w.u32(4, size);
    w.port(8, h.msgh_local_port.name);
    w.port(16, h.msgh_remote_port.name);
    w.u32(24, 0);
    let descs = walk(msg);
    for (i, (off, d, addr)) in descs.into_iter().enumerate() {
        if is_port_right(d.name()) {
            rt::Writer::new(msg).desc(off, d.with_name(received(d.name())));
        }
        if let Some(a) = addr {
            let data = ool.get(&(i as u32)).cloned().unwrap_or_default();
            let mut copy = vec![0u64; data.len().div_ceil(8).max(1)];
            let p = copy.as_mut_ptr() as *mut u8;
            // SAFETY: `copy` has at least `data.len()` bytes.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
            rt::Writer::new(msg).u64(a, p as usize as u64);
            std::mem::forget(copy);
        }
    }
}

/// Bytes after the terminating NUL of inline `c_string` data: no receiver reads them (GNU
/// MIG's server sends whatever its reply buffer held there).
fn after_nul(msg: &[u8]) -> Vec<bool> {
    let mut m = vec![false; msg.len()];
    for (off, d, addr) in walk(msg) {
        if addr.is_none() && d.name() == 12 && d.size() == 8 {
            let start = off + 8;
            let end = (start + d.number as usize).min(msg.len());
            if let Some(nul) = msg[start..end].iter().position(|&b| b == 0) {
                for x in m.iter_mut().take(end).skip(start + nul + 1) {
                    *x = true;
                }
            }
        }
    }
    m
}

/// Compares `got` with a GNU record (masked bytes excepted), dispositions normalised.
pub fn compare(what: &str, got: &[u8], want: &Record, problems: &mut Vec<String>) {
    let mut g = got.to_vec();
    normalize(&mut g);
    let mut w = want.bytes.clone();
    normalize(&mut w);
    let junk = after_nul(&w);
    if g.len() != w.len() {
        problems.push(format!("{what}: size {} want {}", g.len(), w.len()));
        return;
    }
    for i in 0..g.len() {
        if !want.mask[i] && !junk[i] && g[i] != w[i] {
            problems.push(format!(
                "{what}: byte {i} is {:02x}, GNU MIG has {:02x}",
                g[i], w[i]
            ));
            return;
        }
    }
}

/// Compares the out-of-line regions `msg` points to with GNU's.
pub fn compare_ool(what: &str, msg: &[u8], want: &BTreeMap<u32, Vec<u8>>, problems: &mut Vec<String>) {
    let rd = rt::Reader::new(msg);
    for (i, (_, d, addr)) in walk(msg).into_iter().enumerate() {
        let Some(a) = addr else { continue };
        let n = ool_bytes(&d);
        let p = rd.u64(a) as usize as *const u8;
        let got: &[u8] = if n == 0 || p.is_null() {
            &[]
        } else {
            // SAFETY: the address was written by a Rust stub from a live slice or buffer of
            // this process, and the descriptor counts its elements.
            unsafe { std::slice::from_raw_parts(p, n) }
        };
        match want.get(&(i as u32)) {
            Some(w) if w.as_slice() == got => {}
            Some(_) => problems.push(format!("{what}: out-of-line data of descriptor {i} differs")),
            None => problems.push(format!("{what}: out-of-line data of descriptor {i} not in GNU's record")),
        }
    }
}

/// The transport of the loopback's client calls.
pub struct Replay<'a> {
    what: String,
    exchange: &'a Exchange,
    problems: &'a mut Vec<String>,
    reply_port: rt::PortName,
    pub calls: u32,
}

// SAFETY: replies are GNU's recorded replies, delivered: their out-of-line addresses point to
// leaked copies owned by nobody else.
unsafe impl rt::Transport for Replay<'_> {
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
        self.calls += 1;
        let sent = msg[..send_size as usize].to_vec();
        match &self.exchange.request {
            Some(want) => {
                compare(&format!("{} request", self.what), &sent, want, self.problems);
                compare_ool(
                    &format!("{} request", self.what),
                    &sent,
                    &self.exchange.request_ool,
                    self.problems,
                );
            }
            None => self.problems.push(format!("{}: no GNU request", self.what)),
        }
        if option & rt::msg::MACH_RCV_MSG == 0 {
            // A simple routine: the loopback's result stands for the C server function's,
            // which the harness records as the (unsent) reply's return code.
            return self.exchange.oneway.map(|(_, rc)| rc).unwrap_or(0);
        }
        let Some(reply) = &self.exchange.reply else {
            self.problems.push(format!("{}: no GNU reply to answer with", self.what));
            return 0x1000_4002u32 as i32;
        };
        let mut r = reply.bytes.clone();
        deliver(&mut r, &self.exchange.reply_ool);
        msg[..r.len()].copy_from_slice(&r);
        0
    }

    fn get_reply_port(&mut self) -> rt::PortName {
        self.reply_port
    }
}

pub struct Summary {
    pub exchanges: usize,
    pub routines: usize,
    pub malformed: usize,
}

/// Replays the records of one subsystem. `dispatch(transport, reply port, reply disposition,
/// request, reply buffer)` runs the Rust server with a loopback over `transport`.
pub fn replay<F>(
    subsystem: &str,
    wire: &str,
    malformed: &str,
    (first, end): (u32, u32),
    problems: &mut Vec<String>,
    mut dispatch: F,
) -> Summary
where
    F: FnMut(&mut Replay<'_>, rt::PortName, u32, rt::Received<'_>, &mut [u8]) -> bool,
{
    let (exchanges, order) = parse_wire(wire);
    replay_parsed(subsystem, &exchanges, &order, malformed, (first, end), problems, &mut dispatch)
}

/// The records of a wire file by (routine, `case=k`), and their order.
#[allow(clippy::type_complexity)]
pub fn parse_wire(wire: &str) -> (BTreeMap<(String, String), Exchange>, Vec<(String, String)>) {
    let mut exchanges: BTreeMap<(String, String), Exchange> = BTreeMap::new();
    let mut order = Vec::new();
    for line in wire.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if words.len() < 3 {
            continue;
        }
        let key = (words[1].to_string(), words[2].to_string());
        if !exchanges.contains_key(&key) {
            order.push(key.clone());
        }
        let e = exchanges.entry(key).or_default();
        match words[0] {
            "request" => e.request = Some(hex(words.last().unwrap())),
            "reply" => e.reply = Some(hex(words.last().unwrap())),
            "request-ool" | "reply-ool" => {
                let desc: u32 = field(&words, "desc=").unwrap().parse().unwrap();
                let bytes: usize = field(&words, "bytes=").unwrap().parse().unwrap();
                let data = if bytes == 0 {
                    Vec::new()
                } else {
                    hex(words.last().unwrap()).bytes
                };
                if words[0] == "request-ool" {
                    e.request_ool.insert(desc, data);
                } else {
                    e.reply_ool.insert(desc, data);
                }
            }
            "oneway" => {
                let demux = field(&words, "demux=").unwrap().parse().unwrap();
                let rc = field(&words, "retcode=").unwrap().parse().unwrap();
                e.oneway = Some((demux, rc));
            }
            _ => {}
        }
    }
    (exchanges, order)
}

#[allow(clippy::type_complexity)]
fn replay_parsed<F>(
    subsystem: &str,
    exchanges: &BTreeMap<(String, String), Exchange>,
    order: &[(String, String)],
    malformed: &str,
    (first, end): (u32, u32),
    problems: &mut Vec<String>,
    dispatch: &mut F,
) -> Summary
where
    F: FnMut(&mut Replay<'_>, rt::PortName, u32, rt::Received<'_>, &mut [u8]) -> bool,
{
    let mut routines = std::collections::BTreeSet::new();
    let mut last_request: BTreeMap<String, Record> = BTreeMap::new();
    for key in order {
        let e = &exchanges[key];
        let what = format!("{subsystem} {} {}", key.0, key.1);
        let Some(request) = &e.request else { continue };
        routines.insert(key.0.clone());
        last_request.insert(key.0.clone(), request.clone());
        let mut req = rt::MsgBuf::<65536>::new();
        let size = request.bytes.len();
        req.bytes_mut()[..size].copy_from_slice(&request.bytes);
        deliver(&mut req.bytes_mut()[..size], &e.request_ool);
        let h = rt::Reader::new(req.bytes()).header();
        let mut out = rt::MsgBuf::<65536>::new();
        out.bytes_mut().fill(0x3c);
        let before = problems.len();
        let mut found = Vec::new();
        let mut t = Replay {
            what: what.clone(),
            exchange: e,
            problems: &mut found,
            reply_port: h.msgh_remote_port.name,
            calls: 0,
        };
        // SAFETY: out-of-line addresses in `req` point to leaked copies made by `deliver`.
        let received = unsafe { rt::Received::from_kernel(&req.bytes()[..size]) };
        let handled = dispatch(
            &mut t,
            h.msgh_remote_port.name,
            rt::msg::msgh_bits_remote(h.msgh_bits),
            received,
            out.bytes_mut(),
        );
        let calls = t.calls;
        problems.append(&mut found);
        if calls != 1 {
            problems.push(format!("{what}: the client ran {calls} times"));
        }
        let rd = rt::Reader::new(out.bytes());
        let rsize = rd.u32(4) as usize;
        match (&e.reply, e.oneway) {
            (Some(want), _) => {
                let got = &out.bytes()[..rsize.min(65536)];
                compare(&format!("{what} reply"), got, want, problems);
                compare_ool(&format!("{what} reply"), got, &e.reply_ool, problems);
            }
            (None, Some((demux, rc))) => {
                let got_rc = rd.scalar::<i32>(40);
                if handled as u32 != demux || got_rc != rc {
                    problems.push(format!(
                        "{what}: oneway demux={} retcode={got_rc}, GNU MIG: demux={demux} retcode={rc}",
                        handled as u32
                    ));
                }
            }
            (None, None) => problems.push(format!("{what}: no reply and no oneway record")),
        }
        if problems.len() == before {
            println!("ok {what}");
        }
    }
    // Malformed requests, from the last request of each routine.
    let mut nmal = 0;
    for line in malformed.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        if words.len() < 7 || words[0] != "malformed" {
            continue;
        }
        let (routine, defect) = (words[1], words[2]);
        let want_demux: u32 = field(&words, "demux=").unwrap().parse().unwrap();
        let want_rc: i32 = field(&words, "retcode=").unwrap().parse().unwrap();
        let want_calls: u32 = field(&words, "server_calls=").unwrap().parse().unwrap();
        let Some(request) = last_request.get(routine) else { continue };
        let key = order
            .iter()
            .rev()
            .find(|k| k.0 == routine)
            .cloned()
            .unwrap();
        let e = &exchanges[&key];
        let mut msg = request.bytes.clone();
        let mut size = msg.len();
        match defect {
            "id-below-base" => rt::Writer::new(&mut msg).u32(28, first.wrapping_sub(1)),
            "id-past-end" => rt::Writer::new(&mut msg).u32(28, end),
            "size-plus-8" => {
                msg.extend_from_slice(&[0; 8]);
                size += 8;
            }
            "size-minus-8" => size -= 8,
            "wrong-type" => {
                let d = rt::Reader::new(&msg).desc(32);
                rt::Writer::new(&mut msg).desc(32, d.with_name(d.name() ^ 1));
            }
            _ => continue,
        }
        let mut req = rt::MsgBuf::<65600>::new();
        req.bytes_mut().fill(0x5a);
        req.bytes_mut()[..size].copy_from_slice(&msg[..size]);
        deliver(&mut req.bytes_mut()[..size], &e.request_ool);
        let h = rt::Reader::new(req.bytes()).header();
        let mut out = rt::MsgBuf::<65536>::new();
        out.bytes_mut().fill(0x3c);
        let mut scratch = Vec::new();
        let mut t = Replay {
            what: format!("{subsystem} {routine} {defect}"),
            exchange: e,
            problems: &mut scratch,
            reply_port: h.msgh_remote_port.name,
            calls: 0,
        };
        // SAFETY: as above.
        let received = unsafe { rt::Received::from_kernel(&req.bytes()[..size]) };
        let handled = dispatch(
            &mut t,
            h.msgh_remote_port.name,
            rt::msg::msgh_bits_remote(h.msgh_bits),
            received,
            out.bytes_mut(),
        );
        let calls = t.calls;
        let rc = rt::Reader::new(out.bytes()).scalar::<i32>(40);
        nmal += 1;
        if handled as u32 != want_demux || rc != want_rc || calls.min(1) != want_calls {
            problems.push(format!(
                "{subsystem} {routine} {defect}: demux={} retcode={rc} server_calls={calls}, GNU MIG: demux={want_demux} retcode={want_rc} server_calls={want_calls}",
                handled as u32
            ));
        } else {
            println!("ok {subsystem} {routine} {defect}");
        }
    }
    Summary {
        exchanges: order.len(),
        routines: routines.len(),
        malformed: nmal,
    }
}
