//! Messages: copyin from a sender's bytes, queueing, dequeueing and copyout into the
//! receiver's space, in GNU Mach's x86_64 format (32-byte header, 8-byte type descriptors,
//! data padded to 8, inline port rights in 8-byte slots, out-of-line port arrays of 32-bit
//! names).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::consts::*;
use crate::right::copyin_entry;
use crate::space::Entry;
use crate::{Ipc, Receiver, Right, SpaceId, Trash, Waitable, Wakeup};

/// Reads out-of-line regions of the sender (the kernel implements it over the sender's
/// address space).
pub trait OolReader {
    /// The `len` bytes at `addr`, or `None` if they are not all readable.
    fn read(&mut self, addr: u64, len: u64) -> Option<Vec<u8>>;
    /// Deallocates the region (the sender set `msgt_deallocate`); called only for regions
    /// `read` returned, once the message was accepted (or destroyed after a body error).
    fn deallocate(&mut self, addr: u64, len: u64);
}

/// Places out-of-line regions into the receiver (the kernel maps new memory there).
pub trait OolWriter {
    /// New memory of `len` bytes (> 0) in the receiver, or `None` if there is no room.
    fn allocate(&mut self, len: u64) -> Option<u64>;
    /// Fills memory `allocate` returned.
    fn fill(&mut self, addr: u64, data: &[u8]);
}

/// One carried datum of a complex message body.
#[derive(Debug)]
pub(crate) enum Item {
    /// Port rights: inline (8-byte slots from `at`) or out of line (a pointer at `at`).
    Ports {
        at: usize,
        ool: bool,
        rights: Vec<Right>,
    },
    /// Out-of-line data (a pointer at `at`).
    Ool { at: usize, data: Vec<u8> },
}

/// A message in the kernel: the sender's bytes with rights in place of names.
#[derive(Debug)]
pub struct KMsg {
    /// `msgh_bits` without the port types.
    pub(crate) other_bits: u32,
    pub(crate) dest: Right,
    pub(crate) reply: Right,
    /// The reply right's received type (`MACH_MSG_TYPE_PORT_SEND{,_ONCE}`, 0 for none).
    pub(crate) reply_type: u32,
    pub(crate) bytes: Vec<u8>,
    pub(crate) items: Vec<Item>,
    pub(crate) stamp: u64,
}

impl KMsg {
    /// `msgh_size`.
    pub fn size(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// `msgh_id`.
    pub fn id(&self) -> i32 {
        i32::from_le_bytes(self.bytes[28..32].try_into().expect("4 bytes"))
    }

    /// `msgh_seqno` (set when the message is dequeued).
    pub fn seqno(&self) -> u32 {
        rd32(&self.bytes, 24)
    }

    /// The destination port.
    pub fn dest_port(&self) -> Option<crate::PortId> {
        self.dest.port()
    }

    /// Every carried right, for accounting (destination, reply, body).
    pub fn rights(&self) -> impl Iterator<Item = &Right> {
        let body = self.items.iter().flat_map(|i| match i {
            Item::Ports { rights, .. } => rights.iter(),
            Item::Ool { .. } => [].iter(),
        });
        [&self.dest, &self.reply].into_iter().chain(body)
    }

    pub(crate) fn into_trash(self, trash: &mut Vec<Trash>) {
        trash.push(Trash::Right(self.dest));
        trash.push(Trash::Right(self.reply));
        for i in self.items {
            if let Item::Ports { rights, .. } = i {
                for r in rights {
                    trash.push(Trash::Right(r));
                }
            }
        }
    }
}

/// Where [`Ipc::send`] put a message.
#[derive(Debug)]
pub enum Sent {
    /// Queued on the port (wake-ups recorded).
    Queued(crate::PortId),
    /// The destination is a kernel object (its receive right is in the kernel space): the
    /// caller serves the message at once.
    Kernel(KMsg),
    /// The destination died: the message was destroyed (Mach reports success).
    Dropped,
}

/// Why [`Ipc::receive`] gave no message.
#[derive(Debug, PartialEq, Eq)]
pub enum RecvError {
    /// `MACH_RCV_INVALID_NAME`.
    InvalidName,
    /// `MACH_RCV_IN_SET`: the port is a member of a port set.
    InSet,
    /// Nothing queued: wait on this (or time out with `MACH_RCV_TIMED_OUT`).
    Wait(Waitable),
    /// `MACH_RCV_TOO_LARGE` with `MACH_RCV_LARGE`: the message stays queued; `size` goes in
    /// the caller's `msgh_size`.
    TooLarge {
        /// The queued message's size.
        size: u32,
    },
    /// `MACH_RCV_TOO_LARGE` without `MACH_RCV_LARGE`: the message was dequeued and
    /// destroyed; `header` is what the caller receives (its header, destination named,
    /// reply `MACH_PORT_NULL`).
    TooLargeDestroyed {
        /// The 32 header bytes to copy out.
        header: [u8; HEADER_SIZE],
    },
}

impl RecvError {
    /// The `mach_msg` return code (`None` for [`RecvError::Wait`]).
    pub fn code(&self) -> Option<KernReturn> {
        match self {
            RecvError::InvalidName => Some(MACH_RCV_INVALID_NAME),
            RecvError::InSet => Some(MACH_RCV_IN_SET),
            RecvError::Wait(_) => None,
            RecvError::TooLarge { .. } | RecvError::TooLargeDestroyed { .. } => {
                Some(MACH_RCV_TOO_LARGE)
            }
        }
    }
}

/// A copied-out message: its bytes and the receive's return code (`MACH_MSG_SUCCESS`, or
/// `MACH_RCV_HEADER_ERROR` / `MACH_RCV_BODY_ERROR` with `MACH_MSG_IPC_SPACE` /
/// `MACH_MSG_VM_SPACE` when a right or region could not be placed).
#[derive(Debug)]
pub struct Copyout {
    /// The message as the receiver sees it.
    pub bytes: Vec<u8>,
    /// The return code.
    pub code: KernReturn,
}

/// The queue is full: the message comes back so the sender can wait and retry (or time out
/// and get it back with [`Ipc::copyout_pseudo`]).
#[derive(Debug)]
pub struct QueueFull(pub KMsg);

pub(crate) fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn rd64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn wr32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn wr64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn align8(x: u64) -> u64 {
    (x + 7) & !7
}

/// The `msgt_name` a disposition is received as.
fn received_type(disp: u32) -> u32 {
    match disp {
        MACH_MSG_TYPE_MOVE_RECEIVE => MACH_MSG_TYPE_PORT_RECEIVE,
        MACH_MSG_TYPE_MOVE_SEND_ONCE | MACH_MSG_TYPE_MAKE_SEND_ONCE => MACH_MSG_TYPE_PORT_SEND_ONCE,
        _ => MACH_MSG_TYPE_PORT_SEND,
    }
}

/// A body datum found by the walk of the body, before any right moves.
#[derive(Debug)]
enum Planned {
    Ports {
        desc: usize,
        at: usize,
        ool: bool,
        disp: u32,
        names: Vec<Name>,
        region: Option<(u64, u64, bool)>,
    },
    Ool {
        at: usize,
        addr: u64,
        len: u64,
        dealloc: bool,
        data: Vec<u8>,
    },
}

/// Where a body failed: the item index, the element of a port array, the code.
struct BodyError {
    item: usize,
    elem: usize,
    code: KernReturn,
}

/// What GNU Mach does with a message whose **body** fails to copy in (`MACH_SEND_INVALID_
/// RIGHT`, `_TYPE`, `_MEMORY`, `_MSG_TOO_SMALL` past the header): the manual says these
/// codes "imply that some or all of the message was destroyed" — the header rights and the
/// body items before the bad one are copied in and then destroyed, the rest is untouched.
/// Header errors change nothing. This constant is the one switch: `false` would leave the
/// sender's space exactly as before on every error.
pub const BODY_ERROR_DESTROYS_PREFIX: bool = true;

/// Which `msgt_size` a port right must have: 64 inline (a `mach_port_name_inlined_t`
/// slot), 32 out of line (an array of `mach_port_name_t`); anything else is
/// `MACH_SEND_INVALID_TYPE`.
fn port_size_ok(inline: bool, bits: u32) -> bool {
    bits == if inline {
        INLINE_PORT_BITS
    } else {
        OOL_PORT_BITS
    }
}

impl Ipc {
    /// Copies a message in from `space`: `bytes` are the `send_size` bytes the sender gave
    /// (`msgh_size` is taken from their length). Checks the header (`MACH_SEND_MSG_TOO_SMALL`,
    /// `MACH_SEND_INVALID_HEADER`, `_DEST`, `_REPLY`) and, when `MACH_MSGH_BITS_COMPLEX` is
    /// set, walks the typed body, copying in port rights (`MACH_SEND_INVALID_RIGHT`,
    /// `_TYPE`, `_MSG_TOO_SMALL`) and reading out-of-line data through `ool`
    /// (`MACH_SEND_INVALID_MEMORY`). A header error changes nothing; a body error destroys
    /// what was copied in before it (see [`BODY_ERROR_DESTROYS_PREFIX`]).
    pub fn copyin(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        ool: &mut impl OolReader,
    ) -> Result<KMsg, KernReturn> {
        if !self.spaces.contains_key(&space) {
            return Err(MACH_SEND_INVALID_DEST);
        }
        let size = bytes.len();
        if size < HEADER_SIZE || !size.is_multiple_of(MSG_ALIGNMENT) || size > u32::MAX as usize {
            return Err(MACH_SEND_MSG_TOO_SMALL);
        }
        let bits = rd32(bytes, 0);
        let dest_name = rd32(bytes, 8);
        let reply_name = rd32(bytes, 16);
        let dest_disp = bits & MACH_MSGH_BITS_REMOTE_MASK;
        let reply_disp = (bits & MACH_MSGH_BITS_LOCAL_MASK) >> 8;
        if !msg_type_port_any_send(dest_disp)
            || if reply_disp == 0 {
                reply_name != MACH_PORT_NULL
            } else {
                !msg_type_port_any_send(reply_disp)
            }
        {
            return Err(MACH_SEND_INVALID_HEADER);
        }
        if !name_valid(dest_name) {
            return Err(MACH_SEND_INVALID_DEST);
        }
        self.check_entry(space, dest_name);
        if name_valid(reply_name) {
            self.check_entry(space, reply_name);
        }
        // Simulate the header on copies of the entries: (name, disposition, dead_ok) in the
        // order they are applied.
        let header_plan = self.plan_header(space, dest_name, dest_disp, reply_name, reply_disp)?;
        let complex = bits & MACH_MSGH_BITS_COMPLEX != 0;
        let mut overlay: BTreeMap<Name, Option<Entry>> = BTreeMap::new();
        for &(name, disp, dead_ok) in &header_plan {
            let e = overlay
                .entry(name)
                .or_insert_with(|| self.entry(space, name));
            copyin_entry(e, disp, dead_ok).expect("header plan was checked");
        }
        let (plan, failure) = if complex {
            self.plan_body(space, bytes, ool, &mut overlay)
        } else {
            (Vec::new(), None)
        };
        if failure.is_some() && !BODY_ERROR_DESTROYS_PREFIX {
            return Err(failure.map(|f| f.code).unwrap_or(0));
        }
        // Apply: nothing below can fail for the prefix the plan accepted.
        let mut rights_of_header = Vec::new();
        for &(name, disp, dead_ok) in &header_plan {
            let r = self
                .copyin_right(space, name, disp, dead_ok)
                .expect("header plan was checked");
            rights_of_header.push((name, disp, r));
        }
        let (dest, mut reply) = split_header(rights_of_header, dest_name, dest_disp);
        if reply_name == MACH_PORT_DEAD {
            reply = Right::Dead;
        }
        let mut kbytes = bytes.to_vec();
        wr64(&mut kbytes, 8, 0);
        wr64(&mut kbytes, 16, 0);
        wr32(&mut kbytes, 4, size as u32);
        let mut kmsg = KMsg {
            other_bits: bits & MACH_MSGH_BITS_COMPLEX,
            dest,
            reply,
            reply_type: if reply_disp == 0 {
                0
            } else {
                received_type(reply_disp)
            },
            bytes: kbytes,
            items: Vec::new(),
            stamp: 0,
        };
        let stop = failure.as_ref().map(|f| (f.item, f.elem));
        for (i, p) in plan.into_iter().enumerate() {
            let limit = match stop {
                Some((item, _)) if i > item => break,
                Some((item, elem)) if i == item => Some(elem),
                _ => None,
            };
            match p {
                Planned::Ports {
                    desc,
                    at,
                    ool: is_ool,
                    disp,
                    names,
                    region,
                } => {
                    let n = limit.unwrap_or(names.len());
                    let mut rights = Vec::with_capacity(n);
                    for &name in &names[..n] {
                        rights.push(if name_valid(name) {
                            self.copyin_right(space, name, disp, true)
                                .expect("body plan was checked")
                        } else if name == MACH_PORT_DEAD {
                            Right::Dead
                        } else {
                            Right::Null
                        });
                    }
                    let word = rd32(&kmsg.bytes, desc);
                    wr32(&mut kmsg.bytes, desc, (word & !0xff) | received_type(disp));
                    if is_ool {
                        wr64(&mut kmsg.bytes, at, 0);
                        if let Some((addr, len, true)) = region {
                            if limit.is_none() {
                                ool.deallocate(addr, len);
                            }
                        }
                    } else {
                        kmsg.bytes[at..at + 8 * names.len()].fill(0);
                    }
                    kmsg.items.push(Item::Ports {
                        at,
                        ool: is_ool,
                        rights,
                    });
                }
                Planned::Ool {
                    at,
                    addr,
                    len,
                    dealloc,
                    data,
                } => {
                    if limit.is_some() {
                        break;
                    }
                    wr64(&mut kmsg.bytes, at, 0);
                    if dealloc && len > 0 {
                        ool.deallocate(addr, len);
                    }
                    kmsg.items.push(Item::Ool { at, data });
                }
            }
        }
        if let Some(f) = failure {
            self.trash.push(Trash::Msg(kmsg));
            self.flush();
            return Err(f.code);
        }
        self.flush();
        Ok(kmsg)
    }

    /// Checks the header's rights as one (GNU Mach processes the header atomically) and
    /// returns them in the order to apply: non-consuming uses of a shared name first.
    fn plan_header(
        &self,
        space: SpaceId,
        dest_name: Name,
        dest_disp: u32,
        reply_name: Name,
        reply_disp: u32,
    ) -> Result<Vec<(Name, u32, bool)>, KernReturn> {
        let mut d = self.entry(space, dest_name);
        copyin_entry(&mut d, dest_disp, false).map_err(|_| MACH_SEND_INVALID_DEST)?;
        if !name_valid(reply_name) {
            return Ok(vec![(dest_name, dest_disp, false)]);
        }
        let mut r = self.entry(space, reply_name);
        copyin_entry(&mut r, reply_disp, true).map_err(|_| MACH_SEND_INVALID_REPLY)?;
        if reply_name != dest_name {
            return Ok(vec![
                (dest_name, dest_disp, false),
                (reply_name, reply_disp, true),
            ]);
        }
        let consumes = |disp: u32| {
            matches!(
                disp,
                MACH_MSG_TYPE_MOVE_SEND | MACH_MSG_TYPE_MOVE_SEND_ONCE | MACH_MSG_TYPE_MOVE_RECEIVE
            )
        };
        let order = if consumes(dest_disp) && !consumes(reply_disp) {
            vec![
                (reply_name, reply_disp, true),
                (dest_name, dest_disp, false),
            ]
        } else {
            vec![
                (dest_name, dest_disp, false),
                (reply_name, reply_disp, true),
            ]
        };
        let mut e = self.entry(space, dest_name);
        for &(_, disp, dead_ok) in &order {
            copyin_entry(&mut e, disp, dead_ok).map_err(|_| MACH_SEND_INVALID_REPLY)?;
        }
        Ok(order)
    }

    /// Walks a complex body, simulating every right on `overlay`, reading out-of-line
    /// data; stops at the first error.
    fn plan_body(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        ool: &mut impl OolReader,
        overlay: &mut BTreeMap<Name, Option<Entry>>,
    ) -> (Vec<Planned>, Option<BodyError>) {
        let size = bytes.len() as u64;
        let mut plan = Vec::new();
        let mut o = HEADER_SIZE as u64;
        while o < size {
            let item = plan.len();
            let fail = |code| {
                Some(BodyError {
                    item,
                    elem: 0,
                    code,
                })
            };
            if o + DESCRIPTOR_SIZE as u64 > size {
                return (plan, fail(MACH_SEND_MSG_TOO_SMALL));
            }
            let word = rd32(bytes, o as usize);
            let number = rd32(bytes, o as usize + 4);
            let name = word & 0xff;
            let elem_bits = (word >> 8) & 0xffff;
            let inline = word & (1 << 29) != 0;
            let dealloc = word & (1 << 31) != 0;
            let data_at = o + DESCRIPTOR_SIZE as u64;
            let is_port = msg_type_port_any(name);
            if is_port && !port_size_ok(inline, elem_bits) {
                return (plan, fail(MACH_SEND_INVALID_TYPE));
            }
            let len = (elem_bits as u64 * number as u64).div_ceil(8);
            let next = if inline {
                data_at + align8(len)
            } else {
                data_at + 8
            };
            if next > size {
                return (plan, fail(MACH_SEND_MSG_TOO_SMALL));
            }
            let addr = if inline {
                0
            } else {
                rd64(bytes, data_at as usize)
            };
            if is_port {
                let (names, region) = if inline {
                    let names = (0..number as usize)
                        .map(|i| rd32(bytes, data_at as usize + 8 * i))
                        .collect();
                    (names, None)
                } else if len == 0 {
                    (Vec::new(), None)
                } else {
                    match ool.read(addr, len) {
                        Some(data) => (
                            data.chunks_exact(4)
                                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                                .collect(),
                            Some((addr, len, dealloc)),
                        ),
                        None => return (plan, fail(MACH_SEND_INVALID_MEMORY)),
                    }
                };
                for (elem, &n) in names.iter().enumerate() {
                    if !name_valid(n) {
                        continue;
                    }
                    self.check_entry(space, n);
                    let e = overlay.entry(n).or_insert_with(|| self.entry(space, n));
                    if copyin_entry(e, name, true).is_err() {
                        plan.push(Planned::Ports {
                            desc: o as usize,
                            at: data_at as usize,
                            ool: !inline,
                            disp: name,
                            names,
                            region,
                        });
                        return (
                            plan,
                            Some(BodyError {
                                item,
                                elem,
                                code: MACH_SEND_INVALID_RIGHT,
                            }),
                        );
                    }
                }
                plan.push(Planned::Ports {
                    desc: o as usize,
                    at: data_at as usize,
                    ool: !inline,
                    disp: name,
                    names,
                    region,
                });
            } else if !inline {
                let data = if len == 0 {
                    Vec::new()
                } else {
                    match ool.read(addr, len) {
                        Some(d) => d,
                        None => return (plan, fail(MACH_SEND_INVALID_MEMORY)),
                    }
                };
                plan.push(Planned::Ool {
                    at: data_at as usize,
                    addr,
                    len,
                    dealloc,
                    data,
                });
            }
            o = next;
        }
        (plan, None)
    }

    /// Queues a message on its destination. A full queue (`qlimit` messages) refuses a
    /// message sent to a send right unless `always` (kernel sends never wait); a send-once
    /// destination ignores the limit, as in Mach.
    pub fn send(&mut self, kmsg: KMsg, always: bool) -> Result<Sent, QueueFull> {
        let p = kmsg
            .dest
            .port()
            .expect("a copied-in message has a destination");
        let port = &self.ports[&p];
        if !port.active {
            self.trash.push(Trash::Msg(kmsg));
            self.flush();
            return Ok(Sent::Dropped);
        }
        if matches!(port.receiver, Receiver::Space(s, _) if s == self.kernel_space())
            && port.kobject != 0
        {
            return Ok(Sent::Kernel(kmsg));
        }
        let full = port.queue.len() as u32 >= port.qlimit;
        if full && !always && matches!(kmsg.dest, Right::Send(_)) {
            return Err(QueueFull(kmsg));
        }
        self.enqueue(p, kmsg);
        Ok(Sent::Queued(p))
    }

    /// Puts a message on `p`'s queue (no limit) and records the wake-up.
    pub(crate) fn enqueue(&mut self, p: crate::PortId, mut kmsg: KMsg) {
        self.stamp += 1;
        kmsg.stamp = self.stamp;
        let port = self.port_mut(p);
        port.queue.push_back(kmsg);
        let set = port.pset;
        self.wakeups.push(Wakeup::Message { port: p, set });
    }

    /// Queues a kernel-made message ignoring the queue limit; a dead destination destroys it.
    pub(crate) fn send_always(&mut self, kmsg: KMsg) {
        let p = kmsg.dest.port().expect("notification has a destination");
        if self.port_active(p) {
            self.enqueue(p, kmsg);
        } else {
            self.trash.push(Trash::Msg(kmsg));
        }
    }

    /// Dequeues the next message for `space`'s `name` (a receive right not in a set, or a
    /// port set: the oldest message of any member), stamping `msgh_seqno` from the port.
    /// A message larger than `rcv_size` stays queued with `large` (`MACH_RCV_LARGE`) and is
    /// otherwise dequeued and destroyed (see [`RecvError`]).
    pub fn receive(
        &mut self,
        space: SpaceId,
        name: Name,
        rcv_size: u32,
        large: bool,
    ) -> Result<KMsg, RecvError> {
        self.check_entry(space, name);
        let e = self.entry(space, name).ok_or(RecvError::InvalidName)?;
        let p = match e.obj {
            crate::space::Obj::Pset(s) => {
                let set = &self.psets[&s];
                set.members
                    .iter()
                    .filter_map(|p| self.ports[p].queue.front().map(|m| (m.stamp, *p)))
                    .min()
                    .map(|(_, p)| p)
                    .ok_or(RecvError::Wait(Waitable::Set(s)))?
            }
            crate::space::Obj::Port(p) if e.has(MACH_PORT_TYPE_RECEIVE) => {
                let port = &self.ports[&p];
                if port.pset.is_some() {
                    return Err(RecvError::InSet);
                }
                if port.queue.is_empty() {
                    return Err(RecvError::Wait(Waitable::Port(p)));
                }
                p
            }
            _ => return Err(RecvError::InvalidName),
        };
        let port = self.port_mut(p);
        let size = port.queue.front().expect("non-empty").size();
        if size > rcv_size && large {
            return Err(RecvError::TooLarge { size });
        }
        let was_full = port.queue.len() as u32 >= port.qlimit;
        let mut kmsg = port.queue.pop_front().expect("non-empty");
        let seqno = port.seqno;
        port.seqno = port.seqno.wrapping_add(1);
        wr32(&mut kmsg.bytes, 24, seqno);
        if was_full {
            self.wakeups.push(Wakeup::Room(p));
        }
        if size > rcv_size {
            return Err(RecvError::TooLargeDestroyed {
                header: self.too_large(space, kmsg),
            });
        }
        Ok(kmsg)
    }

    /// A too-large message without `MACH_RCV_LARGE`: **the one place of that policy**.
    /// As the GNU Mach manual describes it: the message is destroyed, the caller gets its
    /// header with the destination named and the reply port `MACH_PORT_NULL`.
    fn too_large(&mut self, space: SpaceId, mut kmsg: KMsg) -> [u8; HEADER_SIZE] {
        let (local, dest_type) = self.copyout_dest(space, &mut kmsg);
        let mut h = [0u8; HEADER_SIZE];
        h.copy_from_slice(&kmsg.bytes[..HEADER_SIZE]);
        wr32(
            &mut h,
            0,
            kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type),
        );
        wr64(&mut h, 8, 0);
        wr64(&mut h, 16, local as u64);
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
        h
    }

    /// Consumes the destination right; returns the receiver's name for the port
    /// (`MACH_PORT_NULL` if `space` does not hold its receive right, `MACH_PORT_DEAD` if it
    /// died) and the local type.
    fn copyout_dest(&mut self, space: SpaceId, kmsg: &mut KMsg) -> (Name, u32) {
        let dest = core::mem::replace(&mut kmsg.dest, Right::Null);
        let ty = dest.received_type();
        let p = dest.port().expect("destination");
        let local = match self.ports.get(&p) {
            Some(port) if port.active => match port.receiver {
                Receiver::Space(s, n) if s == space => n,
                _ => MACH_PORT_NULL,
            },
            _ => MACH_PORT_DEAD,
        };
        match dest {
            Right::Send(p) => self.release_send(p),
            Right::SendOnce(p) => {
                self.port_mut(p).sorights -= 1;
                self.maybe_free(p);
            }
            other => self.release(other),
        }
        (local, ty)
    }

    /// Copies a received message out into `space`: the reply right becomes
    /// `msgh_remote_port`, the destination's receive name `msgh_local_port` (bits swapped
    /// accordingly), every carried right a name, every out-of-line region new memory
    /// through `ool`.
    pub fn copyout(&mut self, space: SpaceId, mut kmsg: KMsg, ool: &mut impl OolWriter) -> Copyout {
        let (local, dest_type) = self.copyout_dest(space, &mut kmsg);
        let reply = core::mem::replace(&mut kmsg.reply, Right::Null);
        let reply_name = match self.copyout_right(space, reply) {
            Ok(n) => n,
            Err((r, _)) => {
                self.release(r);
                let header = self.header_only(kmsg, local, dest_type);
                return Copyout {
                    bytes: header,
                    code: MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_SPACE,
                };
            }
        };
        let bits = kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type);
        self.finish_copyout(space, kmsg, ool, bits, reply_name as u64, local as u64)
    }

    /// The pseudo-receive of a message that could not be sent (`MACH_SEND_TIMED_OUT`):
    /// every right goes back into the sender's `space`, the header unswapped
    /// (`msgh_remote_port` names the destination right, `msgh_local_port` the reply right).
    pub fn copyout_pseudo(
        &mut self,
        space: SpaceId,
        mut kmsg: KMsg,
        ool: &mut impl OolWriter,
    ) -> Copyout {
        let dest = core::mem::replace(&mut kmsg.dest, Right::Null);
        let dest_type = dest.received_type();
        let reply = core::mem::replace(&mut kmsg.reply, Right::Null);
        let mut code = MACH_MSG_SUCCESS;
        let mut name_of = |ipc: &mut Ipc, r: Right| match ipc.copyout_right(space, r) {
            Ok(n) => n,
            Err((r, _)) => {
                ipc.release(r);
                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                MACH_PORT_NULL
            }
        };
        let d = name_of(self, dest);
        let r = name_of(self, reply);
        let bits = kmsg.other_bits | msgh_bits(dest_type, kmsg.reply_type);
        let mut c = self.finish_copyout(space, kmsg, ool, bits, d as u64, r as u64);
        if c.code == MACH_MSG_SUCCESS {
            c.code = code;
        }
        c
    }

    fn header_only(&mut self, kmsg: KMsg, local: Name, dest_type: u32) -> Vec<u8> {
        let mut h = kmsg.bytes[..HEADER_SIZE].to_vec();
        wr32(
            &mut h,
            0,
            kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type),
        );
        wr64(&mut h, 8, 0);
        wr64(&mut h, 16, local as u64);
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
        h
    }

    fn finish_copyout(
        &mut self,
        space: SpaceId,
        kmsg: KMsg,
        ool: &mut impl OolWriter,
        bits: u32,
        remote: u64,
        local: u64,
    ) -> Copyout {
        let KMsg {
            mut bytes, items, ..
        } = kmsg;
        wr32(&mut bytes, 0, bits);
        wr64(&mut bytes, 8, remote);
        wr64(&mut bytes, 16, local);
        let mut code = MACH_MSG_SUCCESS;
        for item in items {
            match item {
                Item::Ports {
                    at,
                    ool: false,
                    rights,
                } => {
                    for (i, r) in rights.into_iter().enumerate() {
                        let n = match self.copyout_right(space, r) {
                            Ok(n) => n,
                            Err((r, _)) => {
                                self.release(r);
                                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                                MACH_PORT_NULL
                            }
                        };
                        wr64(&mut bytes, at + 8 * i, n as u64);
                    }
                }
                Item::Ports {
                    at,
                    ool: true,
                    rights,
                } => {
                    if rights.is_empty() {
                        wr64(&mut bytes, at, 0);
                        continue;
                    }
                    let len = 4 * rights.len() as u64;
                    let Some(addr) = ool.allocate(len) else {
                        for r in rights {
                            self.release(r);
                        }
                        code = MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE;
                        wr64(&mut bytes, at, 0);
                        continue;
                    };
                    let mut names = Vec::with_capacity(len as usize);
                    for r in rights {
                        let n = match self.copyout_right(space, r) {
                            Ok(n) => n,
                            Err((r, _)) => {
                                self.release(r);
                                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                                MACH_PORT_NULL
                            }
                        };
                        names.extend_from_slice(&n.to_le_bytes());
                    }
                    ool.fill(addr, &names);
                    wr64(&mut bytes, at, addr);
                }
                Item::Ool { at, data } => {
                    let addr = if data.is_empty() {
                        0
                    } else if let Some(a) = ool.allocate(data.len() as u64) {
                        ool.fill(a, &data);
                        a
                    } else {
                        code = MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE;
                        0
                    };
                    wr64(&mut bytes, at, addr);
                }
            }
        }
        self.flush();
        Copyout { bytes, code }
    }

    /// Destroys a message: its rights are released (send-once rights to live ports send
    /// send-once notifications, receive rights destroy their ports).
    pub fn destroy_kmsg(&mut self, kmsg: KMsg) {
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
    }
}

/// Splits the applied header rights into (destination, reply).
fn split_header(
    rights: Vec<(Name, u32, Right)>,
    dest_name: Name,
    dest_disp: u32,
) -> (Right, Right) {
    let mut dest = None;
    let mut reply = None;
    for (name, disp, r) in rights {
        if dest.is_none() && name == dest_name && disp == dest_disp && !matches!(r, Right::Dead) {
            dest = Some(r);
        } else {
            reply = Some(r);
        }
    }
    (
        dest.expect("destination right"),
        reply.unwrap_or(Right::Null),
    )
}
