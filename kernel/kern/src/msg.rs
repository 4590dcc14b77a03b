//! `mach_msg`: the trap's send and receive phases over the IPC core, the continuations of
//! threads that wait in it, and the service of messages sent to kernel objects.
//!
//! The send phase copies the user's message in (checked copy, then [`Ipc::copyin`]), queues
//! it, and wakes the receivers the IPC core names. A message to a kernel object is served
//! at once ([`serve`]): it is copied out into the kernel's IPC space, the migc-generated
//! server of its subsystem runs over those bytes ([`crate::servers`]), and the reply goes
//! back through the ordinary copy-in path from the kernel space. The receive phase
//! dequeues and copies out into the receiver's space; with nothing queued the thread waits
//! ([`crate::sched::WaitKind::Receive`]) and the phase is re-run when it is woken.
//!
//! Out-of-line regions: a user sender's are read with checked copies (and unmapped when the
//! sender asked for deallocation); a user receiver's are new regions of its address map.
//! In the kernel space a region is a token of [`KernelOol`], never memory.

use crate::sched::{self, Kernel, Resume, ThreadId, Wait, WaitKind};
use crate::task::TaskId;
use crate::uaccess;
use crate::vm::{self, VmMap};
use alloc::boxed::Box;
use alloc::vec::Vec;
use mach_r_ipc::consts::*;
use mach_r_ipc::{Ipc, KMsg, OolData, OolPages, OolReader, OolWriter, RecvError, Sent, Wakeup};
use mach_r_mm::PAGE_SIZE;

/// `MACH_SEND_MSG`.
pub const MACH_SEND_MSG: u32 = 0x1;
/// `MACH_RCV_MSG`.
pub const MACH_RCV_MSG: u32 = 0x2;
/// `MACH_SEND_TIMEOUT`.
pub const MACH_SEND_TIMEOUT: u32 = 0x10;
/// `MACH_RCV_TIMEOUT`.
pub const MACH_RCV_TIMEOUT: u32 = 0x100;
/// `MACH_RCV_LARGE`.
pub const MACH_RCV_LARGE: u32 = 0x800;
/// `MACH_SEND_NO_BUFFER`: a message larger than the kernel accepts.
pub const MACH_SEND_NO_BUFFER: u32 = 0x1000_000d;
/// `MACH_RCV_INVALID_DATA`: the receive buffer is not writable.
pub const MACH_RCV_INVALID_DATA: u32 = 0x1000_4008;
/// `MIG_NO_REPLY`.
const MIG_NO_REPLY: i32 = -305;
/// `MIG_BAD_ID`.
const MIG_BAD_ID: i32 = -303;
/// `MIG_BAD_ARGUMENTS`.
const MIG_BAD_ARGUMENTS: i32 = -304;

/// Largest message the kernel copies in.
pub const MAX_MSG: u32 = 1 << 20;
/// Largest out-of-line region the kernel copies.
pub const MAX_OOL: u64 = 64 << 20;

/// What a phase of `mach_msg` ends in.
pub enum Outcome {
    /// Return this value from the trap.
    Return(u64),
    /// The thread waits; its result comes with its continuation.
    Wait,
    /// The send phase is done; go on to the receive phase (if asked).
    Sent,
}

/// Out-of-line regions of a user task, read and written through its address map. As on
/// GNU Mach, whole pages travel: a receiver's new region holds the pages around the datum,
/// with the datum at the sender's offset in its page.
pub struct UserOol<'a> {
    /// The task's page tables.
    pub root: u64,
    /// Its regions.
    pub vm: &'a mut VmMap,
}

impl OolReader for UserOol<'_> {
    fn read(&mut self, addr: u64, len: u64) -> Option<Vec<u8>> {
        if len > MAX_OOL {
            return None;
        }
        let mut buf = alloc::vec![0u8; len as usize];
        uaccess::copy_in_map(self.vm, self.root, addr, &mut buf).then_some(buf)
    }
    fn read_pages(&mut self, addr: u64, len: u64) -> Option<(OolData, usize)> {
        if len > MAX_OOL {
            return None;
        }
        addr.checked_add(len)?;
        let frames = vm::share_out(self.vm, self.root, addr, len)?;
        Some((
            OolData::Pages(Box::new(CowPages(frames))),
            (addr % PAGE_SIZE) as usize,
        ))
    }
    fn deallocate(&mut self, addr: u64, len: u64) {
        let _ = vm::deallocate(self.vm, self.root, addr, len);
    }
}

impl OolWriter for UserOol<'_> {
    fn allocate(&mut self, len: u64) -> Option<u64> {
        vm::allocate(self.vm, self.root, 0, len, true).ok()
    }
    fn fill(&mut self, addr: u64, data: &[u8]) {
        let ok = uaccess::copy_out_map(self.vm, self.root, addr, data);
        debug_assert!(ok, "a region the kernel just made is writable");
    }
    fn fill_pages(&mut self, addr: u64, pages: Box<dyn OolPages>) {
        if let Ok(mut p) = pages.into_any().downcast::<CowPages>() {
            let frames = core::mem::take(&mut p.0);
            vm::take_in(self.vm, self.root, addr, &frames);
        }
    }
}

/// Out-of-line data in flight as frames (copy-on-write in the sender; 0 for a zero-fill
/// page): each holds one reference, given back when the message is destroyed or moved into
/// the receiver's map.
#[derive(Debug)]
pub struct CowPages(Vec<u64>);

impl Drop for CowPages {
    fn drop(&mut self) {
        for &f in &self.0 {
            if f != 0 {
                crate::mm::frame_release(f);
            }
        }
    }
}

impl OolPages for CowPages {
    fn len(&self) -> usize {
        self.0.len() * PAGE_SIZE as usize
    }
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = alloc::vec![0u8; self.len()];
        for (i, &f) in self.0.iter().enumerate() {
            if f != 0 {
                let at = i * PAGE_SIZE as usize;
                crate::arch::phys::read(f, &mut out[at..at + PAGE_SIZE as usize]);
            }
        }
        out
    }
    fn into_any(self: Box<Self>) -> Box<dyn core::any::Any> {
        self
    }
}

/// Out-of-line regions in the kernel's space: tokens into a table of byte vectors. A token
/// is `TOKEN_BASE + (index + 1) << TOKEN_SHIFT` plus the offset of the datum in its vector
/// (the sender's offset in its page: `vm_write` refuses data that does not start on a page,
/// as GNU Mach, and `vm_read` of unaligned memory answers the datum at its offset).
#[derive(Debug, Default)]
pub struct KernelOol {
    regions: Vec<Option<Vec<u8>>>,
}

const TOKEN_BASE: u64 = 0x7000_0000_0000;
const TOKEN_SHIFT: u32 = 16;

impl KernelOol {
    /// Keeps `data`; returns its token.
    pub fn put(&mut self, data: Vec<u8>) -> u64 {
        self.put_at(data, 0)
    }
    /// Keeps `pages`, whose datum starts at index `offset` (< a page); returns its token.
    pub fn put_at(&mut self, pages: Vec<u8>, offset: u64) -> u64 {
        self.regions.push(Some(pages));
        TOKEN_BASE + ((self.regions.len() as u64) << TOKEN_SHIFT) + (offset % PAGE_SIZE)
    }
    /// The index and datum offset of a token.
    fn decode(token: u64) -> Option<(usize, usize)> {
        let t = token.checked_sub(TOKEN_BASE)?;
        let i = (t >> TOKEN_SHIFT).checked_sub(1)?;
        Some((i as usize, (t & ((1 << TOKEN_SHIFT) - 1)) as usize))
    }
    /// The offset in its page at which the sender's datum of `token` started.
    pub fn source_offset(&self, token: u64) -> u64 {
        Self::decode(token).map_or(0, |(_, o)| o as u64)
    }
    /// The datum of a token (up to the end of its pages).
    pub fn get(&self, token: u64) -> Option<&[u8]> {
        let (i, o) = Self::decode(token)?;
        self.regions.get(i)?.as_deref()?.get(o..)
    }
}

impl OolReader for KernelOol {
    fn read(&mut self, addr: u64, len: u64) -> Option<Vec<u8>> {
        let r = self.get(addr)?;
        (len as usize <= r.len()).then(|| r[..len as usize].to_vec())
    }
    fn read_pages(&mut self, addr: u64, len: u64) -> Option<(OolData, usize)> {
        let (i, o) = Self::decode(addr)?;
        let r = self.regions.get(i)?.as_deref()?;
        (o.checked_add(len as usize)? <= r.len()).then(|| (OolData::Bytes(r.to_vec()), o))
    }
    fn deallocate(&mut self, addr: u64, _len: u64) {
        if let Some((i, _)) = Self::decode(addr) {
            if let Some(slot) = self.regions.get_mut(i) {
                *slot = None;
            }
        }
    }
}

impl OolWriter for KernelOol {
    fn allocate(&mut self, len: u64) -> Option<u64> {
        (len <= MAX_OOL).then(|| self.put(alloc::vec![0u8; len as usize]))
    }
    fn fill(&mut self, addr: u64, data: &[u8]) {
        if let Some((i, _)) = Self::decode(addr) {
            if let Some(Some(r)) = self.regions.get_mut(i) {
                let n = data.len().min(r.len());
                r[..n].copy_from_slice(&data[..n]);
            }
        }
    }
}

fn msg_args(a: [u64; 6], notify: u32) -> sched::MsgArgs {
    sched::MsgArgs {
        msg: a[0],
        option: a[1] as u32,
        send_size: a[2] as u32,
        rcv_size: a[3] as u32,
        rcv_name: a[4] as u32,
        timeout: a[5] as u32,
        notify,
    }
}

/// The `mach_msg_trap` of thread `tid` of `task`: returns the trap's value, or `None` when
/// the thread now waits.
pub fn mach_msg(k: &mut Kernel, tid: ThreadId, task: TaskId, a: [u64; 6]) -> Option<u64> {
    let args = msg_args(a, 0);
    let deadline = if args.option & (MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT) != 0 && args.timeout != 0
    {
        Some(sched::now() + sched::ms_to_ticks(args.timeout))
    } else {
        None
    };
    if let Some(t) = k.threads.get_mut(&tid) {
        t.msg = args;
        t.msg_deadline = deadline;
        t.timed_out = false;
    }
    if args.option & MACH_SEND_MSG != 0 {
        match send_phase(k, tid, task, None) {
            Outcome::Return(v) => return Some(v),
            Outcome::Wait => return None,
            Outcome::Sent => {}
        }
    }
    if args.option & MACH_RCV_MSG != 0 {
        return match receive_phase(k, tid, task) {
            Outcome::Return(v) => Some(v),
            Outcome::Wait => None,
            Outcome::Sent => Some(u64::from(MACH_MSG_SUCCESS)),
        };
    }
    Some(u64::from(MACH_MSG_SUCCESS))
}

/// Copies the message in (unless `kmsg` is one kept from an earlier try) and queues it.
fn send_phase(k: &mut Kernel, tid: ThreadId, task: TaskId, kmsg: Option<KMsg>) -> Outcome {
    let Some(args) = k.threads.get(&tid).map(|t| t.msg) else {
        return Outcome::Wait;
    };
    let kmsg = match kmsg {
        Some(m) => m,
        None => match copyin_user(k, task, &args) {
            Ok(m) => m,
            Err(code) => return Outcome::Return(u64::from(code)),
        },
    };
    let result = k.ipc().send(kmsg, false);
    match result {
        Ok(Sent::Queued(_)) | Ok(Sent::Dropped) => {
            process_wakeups(k);
            Outcome::Sent
        }
        Ok(Sent::Kernel(m)) => {
            serve(k, m);
            Outcome::Sent
        }
        Err(mach_r_ipc::QueueFull(m)) => {
            let port = m.dest_port();
            let timed_out = k.threads.get(&tid).is_some_and(|t| t.timed_out);
            if args.option & MACH_SEND_TIMEOUT != 0 && (args.timeout == 0 || timed_out) {
                return Outcome::Return(u64::from(send_timed_out(k, task, &args, m)));
            }
            let deadline = k.threads.get(&tid).and_then(|t| t.msg_deadline);
            if let (Some(t), Some(p)) = (k.threads.get_mut(&tid), port) {
                t.pending = Some(m);
                k.block(
                    tid,
                    Wait {
                        kind: WaitKind::Send(p),
                        deadline: if args.option & MACH_SEND_TIMEOUT != 0 {
                            deadline
                        } else {
                            None
                        },
                        resume: Resume::Send,
                    },
                );
            }
            Outcome::Wait
        }
    }
}

/// `MACH_SEND_TIMED_OUT`: the message comes back into the sender's space and buffer.
fn send_timed_out(k: &mut Kernel, task: TaskId, args: &sched::MsgArgs, m: KMsg) -> u32 {
    let Some((ipc, t)) = k.ipc_and_task(task) else {
        return MACH_SEND_TIMED_OUT;
    };
    let mut ool = UserOol {
        root: t.root,
        vm: &mut t.vm,
    };
    let c = ipc.copyout_pseudo(t.space, m, &mut ool);
    let n = c.bytes.len().min(args.send_size as usize);
    let _ = uaccess::copy_out_map(&mut t.vm, t.root, args.msg, &c.bytes[..n]);
    MACH_SEND_TIMED_OUT
}

/// Copies a user message in.
fn copyin_user(k: &mut Kernel, task: TaskId, args: &sched::MsgArgs) -> Result<KMsg, u32> {
    // Observed on GNU Mach: a size that is not a multiple of 4 (0xffffffff included) is
    // MACH_SEND_MSG_TOO_SMALL before anything is read.
    if !args.send_size.is_multiple_of(4) || args.send_size < 32 {
        return Err(MACH_SEND_MSG_TOO_SMALL);
    }
    if args.send_size > MAX_MSG {
        return Err(MACH_SEND_NO_BUFFER);
    }
    // The heap's reserve (heap::RESERVE): nothing is read when even a request to a kernel
    // object would dig too deep; a message that would be queued to a port is refused when
    // the heap is down to the reserve, and comes back into the sender's space (rights and
    // out-of-line regions) as on a send timeout.
    let size = args.send_size as usize;
    if !crate::heap::has_room_for_request(2 * size) {
        return Err(MACH_SEND_NO_BUFFER);
    }
    let mut bytes = take_buf(&mut k.msg_bufs, size);
    let Some((ipc, t)) = k.ipc_and_task(task) else {
        return Err(MACH_SEND_INVALID_DATA);
    };
    if !uaccess::copy_in_map(&t.vm, t.root, args.msg, &mut bytes) {
        return Err(MACH_SEND_INVALID_DATA);
    }
    let mut ool = UserOol {
        root: t.root,
        vm: &mut t.vm,
    };
    let m = ipc.copyin_owned(t.space, bytes, &mut ool)?;
    let to_kernel = m.dest_port().is_some_and(|p| ipc.kobject(p) != 0);
    if !to_kernel && !crate::heap::has_room(0) {
        let c = ipc.copyout_pseudo(t.space, m, &mut ool);
        let n = c.bytes.len().min(size);
        let _ = uaccess::copy_out_map(&mut t.vm, t.root, args.msg, &c.bytes[..n]);
        return Err(MACH_SEND_NO_BUFFER);
    }
    Ok(m)
}

/// Dequeues and copies out; waits when nothing is queued.
fn receive_phase(k: &mut Kernel, tid: ThreadId, task: TaskId) -> Outcome {
    let Some((args, deadline, timed_out)) = k
        .threads
        .get(&tid)
        .map(|t| (t.msg, t.msg_deadline, t.timed_out))
    else {
        return Outcome::Wait;
    };
    let large = args.option & MACH_RCV_LARGE != 0;
    let Some((ipc, t)) = k.ipc_and_task(task) else {
        return Outcome::Wait;
    };
    let r = ipc.receive(t.space, args.rcv_name, args.rcv_size, large);
    let out = match r {
        Ok(m) => {
            let mut ool = UserOol {
                root: t.root,
                vm: &mut t.vm,
            };
            let c = ipc.copyout(t.space, m, &mut ool);
            let ok = uaccess::copy_out_map(&mut t.vm, t.root, args.msg, &c.bytes);
            give_buf(&mut k.msg_bufs, c.bytes);
            if ok {
                Outcome::Return(u64::from(c.code))
            } else {
                Outcome::Return(u64::from(MACH_RCV_INVALID_DATA))
            }
        }
        Err(RecvError::TooLarge { size }) => {
            let _ = uaccess::copy_out_map(&mut t.vm, t.root, args.msg + 4, &size.to_le_bytes());
            Outcome::Return(u64::from(MACH_RCV_TOO_LARGE))
        }
        Err(RecvError::TooLargeDestroyed { header }) => {
            let _ = uaccess::copy_out_map(&mut t.vm, t.root, args.msg, &header);
            Outcome::Return(u64::from(MACH_RCV_TOO_LARGE))
        }
        Err(RecvError::Wait(on)) => {
            if args.option & MACH_RCV_TIMEOUT != 0 && (args.timeout == 0 || timed_out) {
                Outcome::Return(u64::from(MACH_RCV_TIMED_OUT))
            } else {
                k.block(
                    tid,
                    Wait {
                        kind: WaitKind::Receive(on),
                        deadline: if args.option & MACH_RCV_TIMEOUT != 0 {
                            deadline
                        } else {
                            None
                        },
                        resume: Resume::Receive,
                    },
                );
                return Outcome::Wait;
            }
        }
        Err(e) => Outcome::Return(u64::from(e.code().unwrap_or(MACH_RCV_INVALID_NAME))),
    };
    process_wakeups(k);
    out
}

/// Runs the continuation of woken thread `id` (called by the scheduler before entering it).
pub fn resume(k: &mut Kernel, id: ThreadId, r: Resume) {
    let Some(task) = k.threads.get(&id).map(|t| t.task) else {
        return;
    };
    let out = match r {
        Resume::Value(v) => Outcome::Return(v),
        Resume::Send => {
            let m = k.threads.get_mut(&id).and_then(|t| t.pending.take());
            match send_phase(k, id, task, m) {
                Outcome::Sent => {
                    let rcv = k
                        .threads
                        .get(&id)
                        .is_some_and(|t| t.msg.option & MACH_RCV_MSG != 0);
                    if rcv {
                        if let Some(t) = k.threads.get_mut(&id) {
                            t.timed_out = false;
                        }
                        receive_phase(k, id, task)
                    } else {
                        Outcome::Return(u64::from(MACH_MSG_SUCCESS))
                    }
                }
                o => o,
            }
        }
        Resume::Receive => receive_phase(k, id, task),
    };
    match out {
        Outcome::Return(v) => {
            if let Some(t) = k.threads.get_mut(&id) {
                t.frame.rax = v;
            }
        }
        Outcome::Sent => {
            if let Some(t) = k.threads.get_mut(&id) {
                t.frame.rax = u64::from(MACH_MSG_SUCCESS);
            }
        }
        Outcome::Wait => {}
    }
}

/// Most wake-ups whose buffer [`process_wakeups`] keeps.
const WAKE_BUF_KEEP: usize = 256;

/// Wakes the threads the IPC core's events concern.
pub fn process_wakeups(k: &mut Kernel) {
    // One buffer, traded with the IPC core's, so no wake-up allocates.
    let mut events = core::mem::take(&mut k.wake_buf);
    loop {
        k.ipc().swap_wakeups(&mut events);
        if events.is_empty() {
            // A burst (a dying task's thousands of ports) does not keep its buffer: the heap
            // it took comes back (heap::RESERVE).
            if events.capacity() > WAKE_BUF_KEEP {
                events = Vec::new();
            }
            k.wake_buf = events;
            return;
        }
        for e in events.drain(..) {
            match e {
                Wakeup::Message { port, set } => {
                    k.wake_all(WaitKind::Receive(mach_r_ipc::Waitable::Port(port)));
                    if let Some(s) = set {
                        k.wake_all(WaitKind::Receive(mach_r_ipc::Waitable::Set(s)));
                    }
                }
                Wakeup::Room(port) => k.wake_all(WaitKind::Send(port)),
                Wakeup::Abort { on, code } => {
                    let ids: Vec<ThreadId> = k.waiters(WaitKind::Receive(on)).collect();
                    for id in ids {
                        if let Some(t) = k.threads.get_mut(&id) {
                            if let Some(w) = t.wait.as_mut() {
                                w.resume = Resume::Value(u64::from(code));
                            }
                        }
                        k.wake(id, false);
                    }
                    if let mach_r_ipc::Waitable::Port(p) = on {
                        k.wake_all(WaitKind::Send(p));
                    }
                }
            }
        }
    }
}

/// Serves a message sent to a kernel object: copy-out into the kernel space, the
/// generated server of its subsystem, the reply sent from the kernel space.
pub fn serve(k: &mut Kernel, m: KMsg) {
    let mut ool = KernelOol::default();
    let ks = k.ipc().kernel_space();
    let c = k.ipc().copyout(ks, m, &mut ool);
    serve_request(k, &c.bytes, &mut ool);
    give_buf(&mut k.msg_bufs, c.bytes);
}

/// Most message buffers kept for reuse, and the largest capacity kept.
const MSG_BUFS: usize = 8;
const MSG_BUF_KEEP: usize = 16 << 10;

/// A buffer of `len` zero bytes, reused from `pool` when one is there.
pub fn take_buf(pool: &mut Vec<Vec<u8>>, len: usize) -> Vec<u8> {
    match pool.pop() {
        Some(mut b) => {
            b.clear();
            b.resize(len, 0);
            b
        }
        None => alloc::vec![0u8; len],
    }
}

/// Keeps a message buffer for [`take_buf`] (unless the pool is full or it is large).
pub fn give_buf(pool: &mut Vec<Vec<u8>>, b: Vec<u8>) {
    if pool.len() < MSG_BUFS && b.capacity() <= MSG_BUF_KEEP && b.capacity() > 0 {
        pool.push(b);
    }
}

/// Runs the generated server over a request already in the kernel space and sends its reply
/// from there. With `MIG_NO_REPLY` the server keeps the reply right and the request, and
/// answers later by calling this again (a console read waiting for input:
/// `console::poll_input`).
pub fn serve_request(k: &mut Kernel, request: &[u8], ool: &mut KernelOol) {
    let ks = k.ipc().kernel_space();
    let reply = crate::servers::dispatch(k, request, ool);
    let size =
        (u32::from_le_bytes(reply[4..8].try_into().unwrap_or([0; 4])) as usize).min(reply.len());
    let code = i32::from_le_bytes(reply[40..44].try_into().unwrap_or([0; 4]));
    let remote = u32::from_le_bytes(reply[8..12].try_into().unwrap_or([0; 4]));
    if code == MIG_BAD_ID || code == MIG_BAD_ARGUMENTS {
        // No routine ran: GNU Mach destroys the request, so the rights it carried go.
        k.ipc().destroy_received_body(ks, request, ool);
    }
    if code == MIG_NO_REPLY {
        // The server kept the reply right: it answers later.
    } else if remote == MACH_PORT_NULL {
        // A simple routine: no reply.
    } else {
        let id = i32::from_le_bytes(reply[28..32].try_into().unwrap_or([0; 4]));
        let mut reply = reply;
        reply.truncate(size);
        // The reply's buffer becomes the message (no copy); the receiver's copy-out gives
        // it back to the pool.
        match k.ipc().copyin_owned(ks, reply, ool) {
            Ok(r) => match k.ipc().send(r, true) {
                Ok(Sent::Kernel(r)) => k.ipc().destroy_kmsg(r),
                Ok(_) => {}
                Err(mach_r_ipc::QueueFull(r)) => k.ipc().destroy_kmsg(r),
            },
            // The reply port died while the request waited (a console read): the reply is
            // dropped without a word, as on GNU Mach.
            Err(MACH_SEND_INVALID_DEST) => {}
            Err(e) => {
                crate::kprintln!("[kernel] reply {id} not sent: {e:#x}");
            }
        }
        process_wakeups(k);
        return;
    }
    give_buf(&mut k.msg_bufs, reply);
    process_wakeups(k);
}

impl Kernel {
    /// The IPC state and one task, borrowed together.
    pub fn ipc_and_task(&mut self, task: TaskId) -> Option<(&mut Ipc, &mut crate::task::Task)> {
        let ipc = self.ipc.as_mut()?;
        let t = self.tasks.get_mut(&task)?;
        Some((ipc, t))
    }
}
