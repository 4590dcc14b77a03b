//! The IPC core of Mach_R: ports, port sets, IPC spaces (names, rights, user references),
//! typed messages in GNU Mach's x86_64 format, message queues and notifications, all in one
//! state value, [`Ipc`], that the kernel keeps behind its lock.
//!
//! The model (see the crate README for the invariants and the error codes per operation):
//! - a **port** has one receive right, held by a space (under a name) or carried in a
//!   message; `srights`/`sorights` count every send and send-once right to it wherever it
//!   is (one per space entry, whatever its user references, one per carried right, one per
//!   notification request). A port dies when its receive right is destroyed; the dead port
//!   is freed when its last send and send-once right is gone.
//! - a **space** maps names to entries; send and receive rights for one port share one
//!   name, each send-once right has a name of its own. A send right whose port died turns
//!   into a dead name the next time its name is looked at (as GNU Mach does).
//! - a carried right is a [`Right`], which cannot be copied: every right leaves the crate
//!   only as a `Right` value that must be given back (inserted, sent or destroyed).
//! - messages are copied in from a sender's bytes ([`Ipc::copyin`]) into a [`KMsg`] holding
//!   rights instead of names, queued ([`Ipc::send`]), dequeued ([`Ipc::receive`]) and copied
//!   out into the receiver's space ([`Ipc::copyout`]).
//!
//! What this crate does not do: it never touches user memory (the kernel copies message
//! bytes in and out; out-of-line regions go through [`OolReader`] / [`OolWriter`]), never
//! blocks or schedules (it reports what to wait on and what to wake: [`Ipc::take_wakeups`]),
//! and knows nothing of tasks or threads beyond their spaces.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod consts;
mod invariants;
mod msg;
mod notify;
mod ops;
mod right;
mod slab;
mod space;

use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

pub use consts::{KernReturn, Name};
pub use msg::{
    Copyout, KMsg, OolData, OolPages, OolReader, OolWriter, QueueFull, RecvError, Sent,
    BODY_ERROR_DESTROYS_PREFIX,
};
pub use ops::PortStatus;

use consts::*;
use slab::{Slab, SlabKey};
use space::{Entry, Obj, Space};

/// Identity of a port (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(u64);

/// Identity of a port set (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PsetId(u64);

/// Identity of an IPC space (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpaceId(u64);

macro_rules! slab_key {
    ($($t:ident),*) => {$(
        impl SlabKey for $t {
            fn from_raw(raw: u64) -> Self {
                $t(raw)
            }
            fn raw(self) -> u64 {
                self.0
            }
        }
    )*};
}
slab_key!(PortId, PsetId, SpaceId);

/// A port right outside any space: in a message, or in the kernel's hands between two
/// calls. Not `Clone`: a right is moved, never duplicated.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a right must be inserted, sent or destroyed"]
pub enum Right {
    /// `MACH_PORT_NULL` in place of a right.
    Null,
    /// `MACH_PORT_DEAD` in place of a right.
    Dead,
    /// A send right.
    Send(PortId),
    /// A send-once right.
    SendOnce(PortId),
    /// The receive right.
    Receive(PortId),
}

impl Right {
    /// The port the right is for, if any.
    pub fn port(&self) -> Option<PortId> {
        match *self {
            Right::Send(p) | Right::SendOnce(p) | Right::Receive(p) => Some(p),
            Right::Null | Right::Dead => None,
        }
    }

    /// The `msgt_name` this right is received as (`MACH_MSG_TYPE_PORT_*`), 0 for null/dead.
    pub fn received_type(&self) -> u32 {
        match self {
            Right::Send(_) => MACH_MSG_TYPE_PORT_SEND,
            Right::SendOnce(_) => MACH_MSG_TYPE_PORT_SEND_ONCE,
            Right::Receive(_) => MACH_MSG_TYPE_PORT_RECEIVE,
            Right::Null | Right::Dead => 0,
        }
    }
}

/// Something a receiving thread can wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waitable {
    /// A port (receive right).
    Port(PortId),
    /// A port set.
    Set(PsetId),
}

/// An event the kernel must act on: wake the threads waiting on an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// A message was queued on `port` (member of `set`, if any): receivers waiting on
    /// either re-run their receive.
    Message {
        /// The port.
        port: PortId,
        /// Its port set at the time.
        set: Option<PsetId>,
    },
    /// The queue of `port` has room again (a message was dequeued or the limit raised):
    /// senders blocked on its queue limit retry.
    Room(PortId),
    /// Receivers waiting on the object must give up with `code`: `MACH_RCV_PORT_DIED`
    /// (the port or set was destroyed, or the receive right left the space) or
    /// `MACH_RCV_PORT_CHANGED` (the port was moved into a port set). Blocked senders of a
    /// dead port also retry (and find their destination dead).
    Abort {
        /// The object waited on.
        on: Waitable,
        /// The `mach_msg` return code for its waiters.
        code: KernReturn,
    },
}

/// Where a port's receive right is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Receiver {
    /// In a space, under a name.
    Space(SpaceId, Name),
    /// Carried: in a message, a notification request or the kernel's hands.
    Transit,
}

/// A registered dead-name request: `notify` (a send-once right) is told when the port dies.
#[derive(Debug)]
pub(crate) struct DnRequest {
    pub space: SpaceId,
    pub name: Name,
    pub notify: PortId,
}

#[derive(Debug)]
pub(crate) struct Port {
    pub active: bool,
    pub receiver: Receiver,
    pub srights: u32,
    pub sorights: u32,
    pub mscount: u32,
    pub seqno: u32,
    pub qlimit: u32,
    pub queue: VecDeque<KMsg>,
    pub pset: Option<PsetId>,
    pub kobject: u64,
    /// While the receive right is carried in a queued message: the port it is queued on.
    pub carrier: Option<PortId>,
    /// Send-once right for the no-senders notification.
    pub nsrequest: Option<PortId>,
    /// Send-once right for the port-destroyed notification.
    pub pdrequest: Option<PortId>,
    pub dnrequests: Vec<DnRequest>,
}

#[derive(Debug)]
pub(crate) struct PortSet {
    pub space: SpaceId,
    pub name: Name,
    pub members: BTreeSet<PortId>,
}

/// Default most names one space may hold ([`Ipc::with_name_limit`] changes it); past it,
/// allocation fails with `KERN_NO_SPACE` and received rights with `MACH_MSG_IPC_SPACE`.
pub const DEFAULT_NAME_LIMIT: usize = 1 << 16;

/// Most wake-ups a buffer traded by [`Ipc::swap_wakeups`] keeps room for.
const WAKEUPS_KEEP: usize = 256;

/// The whole IPC state: every port, port set and space, plus the kernel's own space.
#[derive(Debug)]
pub struct Ipc {
    pub(crate) ports: Slab<PortId, Port>,
    pub(crate) psets: Slab<PsetId, PortSet>,
    pub(crate) spaces: Slab<SpaceId, Space>,
    kernel: SpaceId,
    pub(crate) stamp: u64,
    pub(crate) name_limit: usize,
    pub(crate) wakeups: Vec<Wakeup>,
    /// Rights and messages waiting to be destroyed (processed by `flush`, never recursively).
    pub(crate) trash: Vec<Trash>,
    ports_created: u64,
    ports_freed: u64,
}

#[derive(Debug)]
pub(crate) enum Trash {
    Right(Right),
    Msg(KMsg),
}

impl Default for Ipc {
    fn default() -> Self {
        Ipc::new()
    }
}

impl Ipc {
    /// A fresh state holding only the (empty) kernel space.
    pub fn new() -> Ipc {
        Ipc::with_name_limit(DEFAULT_NAME_LIMIT)
    }

    /// Like [`Ipc::new`] with at most `limit` names per space.
    pub fn with_name_limit(limit: usize) -> Ipc {
        let mut ipc = Ipc {
            ports: Slab::new(),
            psets: Slab::new(),
            spaces: Slab::new(),
            kernel: SpaceId(0),
            stamp: 0,
            name_limit: limit,
            wakeups: Vec::new(),
            trash: Vec::new(),
            ports_created: 0,
            ports_freed: 0,
        };
        ipc.kernel = ipc.space_create();
        ipc
    }

    /// The kernel's own space (receive rights of kernel-object ports live there).
    pub fn kernel_space(&self) -> SpaceId {
        self.kernel
    }

    /// Creates an empty space.
    pub fn space_create(&mut self) -> SpaceId {
        self.spaces.insert_new(Space::default())
    }

    /// True while `space` exists.
    pub fn space_exists(&self, space: SpaceId) -> bool {
        self.spaces.contains_key(&space)
    }

    /// Destroys a space: every name is destroyed as by `mach_port_destroy`, in ascending
    /// order of names (receive rights destroy their ports, so other spaces' send rights
    /// become dead names and the notifications Mach sends are sent). The id becomes invalid.
    pub fn space_destroy(&mut self, space: SpaceId) -> Result<(), KernReturn> {
        if space == self.kernel {
            return Err(KERN_INVALID_TASK);
        }
        let names: Vec<Name> = self
            .spaces
            .get(&space)
            .ok_or(KERN_INVALID_TASK)?
            .entries
            .keys()
            .collect();
        for name in names {
            if self.spaces[&space].entries.contains_key(&name) {
                self.destroy_name(space, name);
                // Each name's rights go before the next name's: the notifications leave in
                // name order, as GNU Mach sends them (suite `tasks`).
                self.flush();
            }
        }
        self.spaces.remove(&space);
        Ok(())
    }

    /// Gives back the tables' memory of freed entries at their end (see `Slab::compact`):
    /// the kernel calls it when a task is gone, so that the heap a task's ports took
    /// comes back.
    pub fn compact(&mut self) {
        self.ports.compact();
        self.psets.compact();
        self.spaces.compact();
        let ks = self.kernel;
        if let Some(s) = self.spaces.get_mut(&ks) {
            s.entries.compact();
        }
        // The work lists grow with a task's rights while it dies.
        if self.trash.is_empty() && self.trash.capacity() > 64 {
            self.trash = Vec::new();
        }
        if self.wakeups.is_empty() && self.wakeups.capacity() > 64 {
            self.wakeups = Vec::new();
        }
    }

    /// Makes room for one more port, port set and space in the tables without failing on an
    /// exhausted heap (see `Slab::try_grow`): false when the allocator refuses.
    pub fn try_grow(&mut self) -> bool {
        self.ports.try_grow() && self.psets.try_grow() && self.spaces.try_grow()
    }

    /// The wake-ups recorded since the last call, oldest first.
    pub fn take_wakeups(&mut self) -> Vec<Wakeup> {
        core::mem::take(&mut self.wakeups)
    }

    /// Like [`Ipc::take_wakeups`] without allocating: `buf` is cleared and swapped with
    /// the recorded list, so the caller's buffer is reused for the next wake-ups.
    /// A buffer grown by a burst (a dying task's ports) is dropped rather than kept.
    pub fn swap_wakeups(&mut self, buf: &mut Vec<Wakeup>) {
        buf.clear();
        if buf.capacity() > WAKEUPS_KEEP {
            *buf = Vec::new();
        }
        core::mem::swap(&mut self.wakeups, buf);
    }

    /// Ports created and freed so far (a freed port's id is never reused).
    pub fn port_counts(&self) -> (u64, u64) {
        (self.ports_created, self.ports_freed)
    }

    /// True while the port object exists (alive, or dead but still named by some right).
    pub fn port_exists(&self, port: PortId) -> bool {
        self.ports.contains_key(&port)
    }

    /// True if the port exists and has not died.
    pub fn port_active(&self, port: PortId) -> bool {
        self.ports.get(&port).is_some_and(|p| p.active)
    }

    /// The port's kernel-object tag (0 = none).
    pub fn kobject(&self, port: PortId) -> u64 {
        self.ports.get(&port).map_or(0, |p| p.kobject)
    }

    /// Sets the port's kernel-object tag.
    pub fn set_kobject(&mut self, port: PortId, kobject: u64) {
        if let Some(p) = self.ports.get_mut(&port) {
            p.kobject = kobject;
        }
    }

    /// The port a space's name denotes a send, receive or send-once right for (after the
    /// dead-name check), e.g. to translate a name of the kernel space to a kernel object.
    pub fn name_port(&mut self, space: SpaceId, name: Name) -> Option<PortId> {
        self.check_entry(space, name);
        self.entry(space, name).and_then(|e| e.port())
    }

    /// The name `space` uses for its send and/or receive right to `port`, if any.
    pub fn port_name(&self, space: SpaceId, port: PortId) -> Option<Name> {
        self.spaces.get(&space)?.by_port.get(&port).copied()
    }

    /// Creates a port whose receive right is in the kernel space, tagged `kobject`.
    pub fn kobject_port(&mut self, kobject: u64) -> Result<PortId, KernReturn> {
        let k = self.kernel;
        let name = self.alloc_receive(k)?;
        let p = self
            .entry(k, name)
            .and_then(|e| e.port())
            .ok_or(KERN_INVALID_NAME)?;
        self.ports.get_mut(&p).ok_or(KERN_INVALID_NAME)?.kobject = kobject;
        Ok(p)
    }

    /// Makes a send right to `port` (as `MACH_MSG_TYPE_MAKE_SEND` does: the make-send count
    /// goes up) and gives it to `space`: the name it already uses for the port gains one
    /// user reference (pegged at `MACH_PORT_SEND_UREFS_MAX`), or a new name gets the right.
    /// This is `mach_task_self` and its kind, and how a bootstrap task gets its ports.
    pub fn make_send(&mut self, space: SpaceId, port: PortId) -> Result<Name, KernReturn> {
        match self.ports.get_mut(&port) {
            Some(p) if p.active => {
                p.mscount = p.mscount.wrapping_add(1);
                p.srights += 1;
            }
            _ => return Err(KERN_INVALID_CAPABILITY),
        }
        let r = self.copyout_right(space, Right::Send(port));
        let out = match r {
            Ok(n) => Ok(n),
            Err((r, kr)) => {
                self.release(r);
                Err(kr)
            }
        };
        self.flush();
        out
    }

    /// `mach_reply_port`: a new port whose receive right `space` gets under a new name;
    /// `MACH_PORT_NULL` when no name is left.
    pub fn reply_port(&mut self, space: SpaceId) -> Name {
        self.alloc_receive(space).unwrap_or(MACH_PORT_NULL)
    }

    /// Destroys a carried right (a send-once right to a live port sends a send-once
    /// notification; a receive right destroys its port).
    pub fn destroy_right(&mut self, right: Right) {
        self.release(right);
        self.flush();
    }

    // ---- internals shared by the modules ----

    pub(crate) fn entry(&self, space: SpaceId, name: Name) -> Option<Entry> {
        self.spaces.get(&space)?.entries.get(&name).copied()
    }

    pub(crate) fn new_port(&mut self, receiver: Receiver) -> PortId {
        self.ports_created += 1;
        self.ports.insert_new(Port {
            active: true,
            receiver,
            srights: 0,
            sorights: 0,
            mscount: 0,
            seqno: 0,
            qlimit: MACH_PORT_QLIMIT_DEFAULT,
            queue: VecDeque::new(),
            pset: None,
            kobject: 0,
            carrier: None,
            nsrequest: None,
            pdrequest: None,
            dnrequests: Vec::new(),
        })
    }

    pub(crate) fn new_pset(&mut self, space: SpaceId, name: Name) -> PsetId {
        self.psets.insert_new(PortSet {
            space,
            name,
            members: BTreeSet::new(),
        })
    }

    pub(crate) fn alloc_name(&mut self, space: SpaceId) -> Result<Name, KernReturn> {
        let limit = self.name_limit;
        self.spaces
            .get_mut(&space)
            .ok_or(KERN_INVALID_TASK)?
            .choose_name(limit)
            .ok_or(KERN_NO_SPACE)
    }

    pub(crate) fn alloc_receive(&mut self, space: SpaceId) -> Result<Name, KernReturn> {
        let name = self.alloc_name(space)?;
        let p = self.new_port(Receiver::Space(space, name));
        self.space_mut(space).insert(
            name,
            Entry {
                obj: Obj::Port(p),
                ty: MACH_PORT_TYPE_RECEIVE,
                urefs: 1,
                dnrequest: false,
            },
        );
        Ok(name)
    }

    pub(crate) fn space_mut(&mut self, space: SpaceId) -> &mut Space {
        self.spaces.get_mut(&space).expect("space exists")
    }

    pub(crate) fn port_mut(&mut self, port: PortId) -> &mut Port {
        self.ports.get_mut(&port).expect("port exists")
    }

    /// Turns a send or send-once right whose port died into a dead name (GNU Mach does the
    /// same lazily, when the name is next used). A dead-name request on the name adds one
    /// user reference (its notification was sent when the port died).
    pub(crate) fn check_entry(&mut self, space: SpaceId, name: Name) {
        let Some(e) = self.entry(space, name) else {
            return;
        };
        let Obj::Port(p) = e.obj else { return };
        if self.ports.get(&p).is_some_and(|port| port.active) {
            return;
        }
        debug_assert!(!e.has(MACH_PORT_TYPE_RECEIVE));
        let urefs = if e.has(MACH_PORT_TYPE_SEND) {
            e.urefs
        } else {
            1
        };
        let urefs = if e.dnrequest {
            (urefs + 1).min(MACH_PORT_UREFS_MAX)
        } else {
            urefs
        };
        let s = self.space_mut(space);
        s.by_port.remove(&p);
        s.entries.insert(
            name,
            Entry {
                obj: Obj::None,
                ty: MACH_PORT_TYPE_DEAD_NAME,
                urefs,
                dnrequest: false,
            },
        );
        let port = self.port_mut(p);
        if e.has(MACH_PORT_TYPE_SEND) {
            port.srights -= 1;
        } else {
            port.sorights -= 1;
        }
        self.maybe_free(p);
    }

    pub(crate) fn maybe_free(&mut self, p: PortId) {
        if let Some(port) = self.ports.get(&p) {
            if !port.active && port.srights == 0 && port.sorights == 0 {
                debug_assert!(port.queue.is_empty());
                self.ports.remove(&p);
                self.ports_freed += 1;
            }
        }
    }

    /// Queues a right for destruction (see [`Ipc::flush`]).
    pub(crate) fn release(&mut self, r: Right) {
        if !matches!(r, Right::Null | Right::Dead) {
            self.trash.push(Trash::Right(r));
        }
    }

    /// Destroys everything queued for destruction, iteratively (destroying a port destroys
    /// its queued messages, whose rights may destroy other ports...).
    pub(crate) fn flush(&mut self) {
        while let Some(t) = self.trash.pop() {
            match t {
                Trash::Msg(m) => m.into_trash(&mut self.trash),
                Trash::Right(Right::Send(p)) => self.release_send(p),
                Trash::Right(Right::SendOnce(p)) => {
                    if self.port_active(p) {
                        self.notify_send_once(p);
                    } else {
                        self.port_mut(p).sorights -= 1;
                        self.maybe_free(p);
                    }
                }
                Trash::Right(Right::Receive(p)) => self.destroy_port(p),
                Trash::Right(Right::Null | Right::Dead) => {}
            }
        }
    }

    /// One send right less; the last one fires the no-senders request.
    pub(crate) fn release_send(&mut self, p: PortId) {
        let port = self.port_mut(p);
        port.srights -= 1;
        if port.srights == 0 && port.active {
            if let Some(n) = port.nsrequest.take() {
                let mscount = port.mscount;
                self.notify_no_senders(n, mscount);
            }
        }
        self.maybe_free(p);
    }

    /// The receive right of `p` is destroyed: a port-destroyed request takes the right
    /// instead; otherwise the port dies.
    pub(crate) fn destroy_port(&mut self, p: PortId) {
        self.leave_set(p);
        let port = self.port_mut(p);
        debug_assert!(port.active);
        port.receiver = Receiver::Transit;
        port.carrier = None;
        if let Some(n) = port.pdrequest.take() {
            port.mscount = 0;
            port.seqno = 0;
            self.notify_port_destroyed(n, p);
            return;
        }
        port.active = false;
        let queue = core::mem::take(&mut port.queue);
        let ns = port.nsrequest.take();
        let dns = core::mem::take(&mut port.dnrequests);
        self.wakeups.push(Wakeup::Abort {
            on: Waitable::Port(p),
            code: MACH_RCV_PORT_DIED,
        });
        for m in queue {
            self.trash.push(Trash::Msg(m));
        }
        if let Some(n) = ns {
            self.trash.push(Trash::Right(Right::SendOnce(n)));
        }
        for d in dns {
            self.notify_dead_name(d.notify, d.name);
        }
        self.maybe_free(p);
    }

    /// Takes `p` out of its port set, if any.
    pub(crate) fn leave_set(&mut self, p: PortId) {
        if let Some(s) = self.port_mut(p).pset.take() {
            if let Some(set) = self.psets.get_mut(&s) {
                set.members.remove(&p);
            }
        }
    }

    /// Removes `name`'s dead-name request from its port, returning the notify port.
    pub(crate) fn cancel_dnrequest(
        &mut self,
        space: SpaceId,
        name: Name,
        p: PortId,
    ) -> Option<PortId> {
        let port = self.ports.get_mut(&p)?;
        let i = port
            .dnrequests
            .iter()
            .position(|d| d.space == space && d.name == name)?;
        Some(port.dnrequests.remove(i).notify)
    }

    /// A name with a dead-name request disappears: its request is cancelled and the
    /// registered send-once right gets a port-deleted notification.
    pub(crate) fn name_deleted(&mut self, space: SpaceId, name: Name, e: &Entry) {
        if !e.dnrequest {
            return;
        }
        if let Some(p) = e.port() {
            if let Some(n) = self.cancel_dnrequest(space, name, p) {
                self.notify_port_deleted(n, name);
            }
        }
    }

    /// Destroys every right `name` denotes (`mach_port_destroy` without the checks).
    pub(crate) fn destroy_name(&mut self, space: SpaceId, name: Name) {
        self.check_entry(space, name);
        let Some(e) = self.entry(space, name) else {
            return;
        };
        self.name_deleted(space, name, &e);
        self.space_mut(space).set(name, None);
        match e.obj {
            Obj::Pset(s) => self.destroy_pset(s),
            Obj::Port(p) => {
                if e.has(MACH_PORT_TYPE_RECEIVE) {
                    self.release(Right::Receive(p));
                }
                if e.has(MACH_PORT_TYPE_SEND) {
                    self.release(Right::Send(p));
                }
                if e.has(MACH_PORT_TYPE_SEND_ONCE) {
                    self.release(Right::SendOnce(p));
                }
            }
            Obj::None => {}
        }
    }

    pub(crate) fn destroy_pset(&mut self, s: PsetId) {
        if let Some(set) = self.psets.remove(&s) {
            for p in set.members {
                if let Some(port) = self.ports.get_mut(&p) {
                    port.pset = None;
                }
            }
            self.wakeups.push(Wakeup::Abort {
                on: Waitable::Set(s),
                code: MACH_RCV_PORT_DIED,
            });
        }
    }
}
