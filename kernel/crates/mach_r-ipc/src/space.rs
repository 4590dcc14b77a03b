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
    pub entries: BTreeMap<Name, Entry>,
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

    /// Records that `name` is free again.
    pub fn free_name(&mut self, name: Name) {
        self.free.retain(|&n| n != name);
        self.free.push(name);
    }

    /// Inserts an entry under a name known to be free.
    pub fn insert(&mut self, name: Name, e: Entry) {
        debug_assert!(
            !self.entries.contains_key(&name),
            "name {name} reused while in use"
        );
        if e.has(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE) {
            if let Obj::Port(p) = e.obj {
                self.by_port.insert(p, name);
            }
        }
        self.entries.insert(name, e);
    }

    /// Replaces an existing entry (or removes it, with `None`), keeping the reverse map.
    pub fn set(&mut self, name: Name, e: Option<Entry>) {
        if let Some(old) = self.entries.get(&name) {
            if let Obj::Port(p) = old.obj {
                if self.by_port.get(&p) == Some(&name) {
                    self.by_port.remove(&p);
                }
            }
        }
        match e {
            Some(e) => {
                self.entries.remove(&name);
                self.insert(name, e)
            }
            None => {
                self.entries.remove(&name);
                self.free_name(name);
            }
        }
    }
}
