//! Messages: copyin from a sender's bytes, queueing, dequeueing and copyout into the
//! receiver's space, in GNU Mach's x86_64 format (32-byte header, 8-byte type descriptors,
//! data padded to 8, inline port rights in 8-byte slots, out-of-line port arrays of 32-bit
//! names).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::consts::*;
use crate::{Ipc, Receiver, Right, SpaceId, Trash, Waitable, Wakeup};

/// Reads out-of-line regions of the sender (the kernel implements it over the sender's
/// address space).
pub trait OolReader {
    /// The `len` bytes at `addr`, or `None` if they are not all readable.
    fn read(&mut self, addr: u64, len: u64) -> Option<Vec<u8>>;
    /// Out-of-line data with its surroundings: the bytes of the whole pages holding
    /// `[addr, addr + len)` and the index in them where the datum starts (GNU Mach moves
    /// whole pages: a receiver finds the datum at the sender's offset in its page, among the
    /// sender's neighbouring bytes). By default just the datum, at index 0.
    /// The data may also come as [`OolPages`] (frames the kernel shares copy-on-write).
    fn read_pages(&mut self, addr: u64, len: u64) -> Option<(OolData, usize)> {
        self.read(addr, len).map(|d| (OolData::Bytes(d), 0))
    }
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
    /// Fills memory `allocate` returned with pages a reader gave as [`OolPages`] (by
    /// default their bytes, through [`OolWriter::fill`]).
    fn fill_pages(&mut self, addr: u64, pages: Box<dyn OolPages>) {
        self.fill(addr, &pages.to_bytes());
    }
}

/// Out-of-line data the kernel holds as pages (copy-on-write frames), opaque to this crate;
/// dropping it (a message destroyed) gives the pages back.
pub trait OolPages: core::fmt::Debug + Send {
    /// Its length in bytes (whole pages).
    fn len(&self) -> usize;
    /// Whether it is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A copy of its bytes.
    fn to_bytes(&self) -> Vec<u8>;
    /// Itself, for the kernel's writer to take the pages back.
    fn into_any(self: Box<Self>) -> Box<dyn core::any::Any>;
}

/// The data of an out-of-line region in a message.
#[derive(Debug)]
pub enum OolData {
    /// Bytes.
    Bytes(Vec<u8>),
    /// Pages of the kernel's.
    Pages(Box<dyn OolPages>),
}

impl OolData {
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        match self {
            OolData::Bytes(b) => b.len(),
            OolData::Pages(p) => p.len(),
        }
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
    /// Out-of-line data (a pointer at `at`): `data` holds the datum from index `offset`
    /// (see [`OolReader::read_pages`]).
    Ool {
        at: usize,
        data: OolData,
        offset: usize,
    },
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

    /// The ports whose receive rights the message carries (destination and reply rights
    /// are never receive rights, but are looked at too): nothing to walk for a simple message.
    pub(crate) fn receive_rights(&self) -> impl Iterator<Item = crate::PortId> + '_ {
        let carries = !self.items.is_empty()
            || matches!(self.dest, Right::Receive(_))
            || matches!(self.reply, Right::Receive(_));
        carries
            .then(|| {
                self.rights().filter_map(|r| match *r {
                    Right::Receive(p) => Some(p),
                    _ => None,
                })
            })
            .into_iter()
            .flatten()
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

pub(crate) fn rd64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

pub(crate) fn wr32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn wr64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn align8(x: u64) -> u64 {
    (x + 7) & !7
}

/// The `msgt_name` a disposition is received as.
pub(crate) fn received_type(disp: u32) -> u32 {
    match disp {
        MACH_MSG_TYPE_MOVE_RECEIVE => MACH_MSG_TYPE_PORT_RECEIVE,
        MACH_MSG_TYPE_MOVE_SEND_ONCE | MACH_MSG_TYPE_MAKE_SEND_ONCE => MACH_MSG_TYPE_PORT_SEND_ONCE,
        _ => MACH_MSG_TYPE_PORT_SEND,
    }
}

mod copyin;
mod copyout;

pub use copyin::BODY_ERROR_DESTROYS_PREFIX;

impl Ipc {
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
        if self.circular(&kmsg, p) {
            self.trash.push(Trash::Msg(kmsg));
            self.flush();
            return Ok(Sent::Dropped);
        }
        let port = &self.ports[&p];
        let full = port.queue.len() as u32 >= port.qlimit;
        if full && !always && matches!(kmsg.dest, Right::Send(_)) {
            return Err(QueueFull(kmsg));
        }
        self.enqueue(p, kmsg);
        Ok(Sent::Queued(p))
    }

    /// True if queueing `kmsg` on `dest` would put a receive right it carries inside its
    /// own queue, directly or through a chain of receive rights in queued messages. GNU Mach
    /// destroys such a message and reports success (observed: a port's receive right sent
    /// to itself, and two ports sent into each other, end as dead names).
    fn circular(&self, kmsg: &KMsg, dest: crate::PortId) -> bool {
        kmsg.receive_rights().any(|r| {
            let mut d = dest;
            loop {
                if d == r {
                    return true;
                }
                match self.ports.get(&d) {
                    Some(port) if port.receiver == Receiver::Transit => match port.carrier {
                        Some(next) => d = next,
                        None => return false,
                    },
                    _ => return false,
                }
            }
        })
    }

    /// Puts a message on `p`'s queue (no limit) and records the wake-up; a circular
    /// message is destroyed instead.
    pub(crate) fn enqueue(&mut self, p: crate::PortId, mut kmsg: KMsg) {
        if self.circular(&kmsg, p) {
            self.trash.push(Trash::Msg(kmsg));
            return;
        }
        self.stamp += 1;
        kmsg.stamp = self.stamp;
        for r in kmsg.receive_rights() {
            if let Some(port) = self.ports.get_mut(&r) {
                port.carrier = Some(p);
            }
        }
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
        for r in kmsg.receive_rights() {
            if let Some(port) = self.ports.get_mut(&r) {
                port.carrier = None;
            }
        }
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

    /// Destroys a message: its rights are released (send-once rights to live ports send
    /// send-once notifications, receive rights destroy their ports).
    pub fn destroy_kmsg(&mut self, kmsg: KMsg) {
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
    }
}
