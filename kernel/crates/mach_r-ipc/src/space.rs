//! IPC spaces: a task's names, what each denotes, and the name-allocation policy.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::consts::*;
use crate::{PortId, PsetId};

/// What an entry's name denotes besides its rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Obj {
    /// A port (send, receive and/or send-once rights).
    Port(PortId),
    /// A port set.
    Pset(PsetId),
    /// Nothing: a dead name.
    None,
}

/// One name of a space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub obj: Obj,
    /// `MACH_PORT_TYPE_{SEND,RECEIVE,SEND_ONCE,PORT_SET,DEAD_NAME}` bits.
    pub ty: u32,
    /// User references: of the send right (when `ty` has SEND) or of the dead name.
    /// A receive-only, send-once or port-set entry keeps 1 here.
    pub urefs: u32,
    /// A dead-name request is registered for this name.
    pub dnrequest: bool,
}

impl Entry {
    pub fn has(&self, bit: u32) -> bool {
        self.ty & bit != 0
    }

    pub fn port(&self) -> Option<PortId> {
        match self.obj {
            Obj::Port(p) => Some(p),
            _ => None,
        }
    }
}

/// A task's (or the kernel's) IPC space.
#[derive(Debug, Default)]
pub(crate) struct Space {
    pub entries: crate::slab::Names,
    /// The name of the send and/or receive right for each port held (one name per port).
    pub by_port: BTreeMap<PortId, Name>,
    /// Names freed, most recent last (GNU Mach reuses them last-freed-first).
    free: Vec<Name>,
    /// The highest name the allocator has handed out of fresh ground.
    high: Name,
}

impl Space {
    /// Picks the name for a new right: **the one place of the name policy**.
    ///
    /// As observed on GNU Mach (`conformance/suite/OBSERVED.md`): freed names are reused
    /// last-freed-first; with none waiting, the next name is one past the highest name
    /// handed out so far (names taken explicitly, by `allocate_name`, are skipped).
    pub fn choose_name(&mut self, limit: usize) -> Option<Name> {
        if self.entries.len() >= limit {
            return None;
        }
        while let Some(n) = self.free.pop() {
            if !self.entries.contains_key(&n) {
                return Some(n);
            }
        }
        let mut n = self.high.checked_add(1)?;
        while self.entries.contains_key(&n) {
            n = n.checked_add(1)?;
        }
        if !name_valid(n) {
            return None;
        }
        self.high = n;
        Some(n)
    }

    /// Records that `name` was taken explicitly (it leaves the free list).
    pub fn take_name(&mut self, name: Name) {
        self.free.retain(|&n| n != name);
    }

    /// Records that `name`, which was in use, is free again (it heads the free list).
    pub fn free_name(&mut self, name: Name) {
        self.free.push(name);
    }

    /// Puts an unused `name` at the head of the free list (GNU Mach's failed explicit
    /// allocations), without leaving a second copy of it deeper in the list.
    pub fn free_unused_name(&mut self, name: Name) {
        self.free.retain(|&n| n != name);
        self.free.push(name);
    }

    /// The port whose reverse-map entry this entry is, if any.
    fn reverse_key(e: &Entry) -> Option<PortId> {
        match e.obj {
            Obj::Port(p) if e.has(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE) => Some(p),
            _ => None,
        }
    }

    /// Inserts an entry under a name known to be free.
    pub fn insert(&mut self, name: Name, e: Entry) {
        debug_assert!(
            !self.entries.contains_key(&name),
            "name {name} reused while in use"
        );
        if let Some(p) = Self::reverse_key(&e) {
            self.by_port.insert(p, name);
        }
        self.entries.insert(name, e);
    }

    /// Replaces an existing entry (or removes it, with `None`), keeping the reverse map.
    pub fn set(&mut self, name: Name, e: Option<Entry>) {
        let Some(slot) = self.entries.get_mut(&name) else {
            if let Some(e) = e {
                self.insert(name, e);
            }
            return;
        };
        let old = *slot;
        let old_key = Self::reverse_key(&old);
        let new_key = e.as_ref().and_then(Self::reverse_key);
        match e {
            Some(e) => *slot = e,
            None => {
                self.entries.remove(&name);
                self.free_name(name);
            }
        }
        if old_key != new_key {
            if let Some(p) = old_key {
                if self.by_port.get(&p) == Some(&name) {
                    self.by_port.remove(&p);
                }
            }
            if let Some(p) = new_key {
                self.by_port.insert(p, name);
            }
        }
    }
}
