//! Port name spaces: the names a task uses for its rights.
//!
//! This issue gives tasks the names the Mach traps hand out: send rights to the task's,
//! thread's and host's own ports (`mach_task_self`, `mach_thread_self`, `mach_host_self`,
//! one name each whose user-reference count grows with every call, as in GNU Mach) and
//! receive rights to new ports (`mach_reply_port`). Message transfer is not part of it.

use alloc::collections::BTreeMap;

/// A port name as seen by a task.
pub type PortName = u32;
/// The null name.
pub const MACH_PORT_NULL: PortName = 0;
/// Most names one task may hold.
pub const MAX_NAMES: usize = 4096;
/// Most user references on one name (GNU Mach's `MACH_PORT_UREFS_MAX`).
pub const UREFS_MAX: u32 = 0xffff;

/// The kernel object a port stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The task itself.
    Task,
    /// The task's (only) thread.
    Thread,
    /// The host.
    Host,
    /// A port with no kernel object (created by `mach_reply_port`), by serial number.
    Port(u64),
}

/// The kind of right a name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// A send right.
    Send,
    /// The receive right.
    Receive,
}

/// One name's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What the port stands for.
    pub object: Object,
    /// The right held.
    pub right: Right,
    /// User references.
    pub urefs: u32,
}

/// A task's names.
#[derive(Debug, Default)]
pub struct PortSpace {
    entries: BTreeMap<PortName, Entry>,
    next_name: PortName,
    next_port: u64,
}

impl PortSpace {
    /// An empty space.
    pub fn new() -> PortSpace {
        PortSpace {
            entries: BTreeMap::new(),
            next_name: 1,
            next_port: 1,
        }
    }

    fn fresh_name(&mut self) -> Option<PortName> {
        if self.entries.len() >= MAX_NAMES {
            return None;
        }
        while self.entries.contains_key(&self.next_name)
            || self.next_name == MACH_PORT_NULL
            || self.next_name == u32::MAX
        {
            self.next_name = self.next_name.wrapping_add(1);
        }
        let n = self.next_name;
        self.next_name = self.next_name.wrapping_add(1);
        Some(n)
    }

    /// The name of a send right to `object`, adding a user reference (inserting it if needed).
    pub fn send_right_to(&mut self, object: Object) -> PortName {
        if let Some((&name, e)) = self
            .entries
            .iter_mut()
            .find(|(_, e)| e.object == object && e.right == Right::Send)
        {
            e.urefs = (e.urefs + 1).min(UREFS_MAX);
            return name;
        }
        match self.fresh_name() {
            Some(name) => {
                self.entries.insert(
                    name,
                    Entry {
                        object,
                        right: Right::Send,
                        urefs: 1,
                    },
                );
                name
            }
            None => MACH_PORT_NULL,
        }
    }

    /// A new port whose receive right the task holds; `MACH_PORT_NULL` when the space is full.
    pub fn new_receive_right(&mut self) -> PortName {
        let Some(name) = self.fresh_name() else {
            return MACH_PORT_NULL;
        };
        let port = self.next_port;
        self.next_port += 1;
        self.entries.insert(
            name,
            Entry {
                object: Object::Port(port),
                right: Right::Receive,
                urefs: 1,
            },
        );
        name
    }

    /// The entry of `name`.
    pub fn lookup(&self, name: PortName) -> Option<Entry> {
        self.entries.get(&name).copied()
    }
}
