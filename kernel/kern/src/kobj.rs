//! Kernel objects as ports: the task, thread, host, host-privileged, device-master,
//! console and I/O permission ports, whose receive rights live in the kernel's IPC space.
//!
//! Each such port carries a tag ([`KObject::tag`]) that the IPC core keeps opaque. A
//! message sent to one is served at once by the kernel ([`crate::msg::serve`]); the
//! generated server hands the kernel's `Server` impls names of the kernel space, which
//! [`Kernel::kobject_of`] turns back into the object. The kernel space also holds one send
//! right (one user reference) for every kernel port, so a reply can carry a send right to
//! it with `MACH_MSG_TYPE_COPY_SEND`, as the interfaces declare.

use crate::sched::{Kernel, ThreadId};
use crate::task::TaskId;
use mach_r_ipc::{Ipc, Name, PortId, SpaceId};

/// A kernel object a port stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KObject {
    /// A task.
    Task(TaskId),
    /// A thread.
    Thread(ThreadId),
    /// The host (name port: `mach_host_self`).
    Host,
    /// The privileged host port (`${host-port}`).
    HostPriv,
    /// The device master port (`${device-port}`).
    DeviceMaster,
    /// The console device (`device_open("console")`).
    Console,
    /// A permission for the I/O ports `from..=to` (`i386_io_perm_create`).
    IoPerm {
        /// First port.
        from: u16,
        /// Last port.
        to: u16,
    },
}

const KIND_SHIFT: u32 = 56;

impl KObject {
    /// The port tag (never 0).
    pub fn tag(self) -> u64 {
        let (kind, id) = match self {
            KObject::Task(t) => (1, u64::from(t)),
            KObject::Thread(t) => (2, u64::from(t)),
            KObject::Host => (3, 0),
            KObject::HostPriv => (4, 0),
            KObject::DeviceMaster => (5, 0),
            KObject::Console => (6, 0),
            KObject::IoPerm { from, to } => (7, u64::from(from) << 16 | u64::from(to)),
        };
        (kind << KIND_SHIFT) | id
    }

    /// The object of a tag.
    pub fn from_tag(tag: u64) -> Option<KObject> {
        let id = (tag & ((1 << KIND_SHIFT) - 1)) as u32;
        Some(match tag >> KIND_SHIFT {
            1 => KObject::Task(id),
            2 => KObject::Thread(id),
            3 => KObject::Host,
            4 => KObject::HostPriv,
            5 => KObject::DeviceMaster,
            6 => KObject::Console,
            7 => KObject::IoPerm {
                from: (id >> 16) as u16,
                to: id as u16,
            },
            _ => return None,
        })
    }
}

/// The ports of the kernel's single objects.
#[derive(Debug, Clone, Copy)]
pub struct KPorts {
    /// The host name port.
    pub host: PortId,
    /// The privileged host port.
    pub host_priv: PortId,
    /// The device master port.
    pub device_master: PortId,
    /// The console device port.
    pub console: PortId,
}

/// A new kernel port for `obj`, with the kernel space's one send right.
pub fn new_port(ipc: &mut Ipc, obj: KObject) -> PortId {
    let p = ipc
        .kobject_port(obj.tag())
        .expect("the kernel space has room for kernel ports");
    let ks = ipc.kernel_space();
    ipc.make_send(ks, p)
        .expect("the kernel space has room for kernel ports");
    p
}

impl Kernel {
    /// Makes the IPC state and the kernel's single ports (once, at boot).
    pub fn init_ipc(&mut self) {
        if self.ipc.is_some() {
            return;
        }
        let mut ipc = Ipc::new();
        let kports = KPorts {
            host: new_port(&mut ipc, KObject::Host),
            host_priv: new_port(&mut ipc, KObject::HostPriv),
            device_master: new_port(&mut ipc, KObject::DeviceMaster),
            console: new_port(&mut ipc, KObject::Console),
        };
        self.ipc = Some(ipc);
        self.kports = Some(kports);
    }

    /// The IPC state.
    pub fn ipc(&mut self) -> &mut Ipc {
        self.ipc.as_mut().expect("IPC initialised at boot")
    }

    /// The kernel's single ports.
    pub fn kports(&self) -> KPorts {
        self.kports.expect("IPC initialised at boot")
    }

    /// The kernel object a name of the kernel space stands for.
    pub fn kobject_of(&mut self, name: Name) -> Option<KObject> {
        let ipc = self.ipc();
        let ks = ipc.kernel_space();
        let p = ipc.name_port(ks, name)?;
        KObject::from_tag(ipc.kobject(p))
    }

    /// The IPC space of a task.
    pub fn space_of(&self, task: TaskId) -> Option<SpaceId> {
        self.tasks.get(&task).map(|t| t.space)
    }
}

/// Send rights the kernel keeps for a task or thread (special and registered ports): each is
/// a name of the kernel space holding one user reference (a dead name once its port died),
/// or `MACH_PORT_NULL` / `MACH_PORT_DEAD` as set. A reply hands one out with
/// `MACH_MSG_TYPE_COPY_SEND` from that name, so the kernel keeps its reference.
pub mod kept {
    use mach_r_ipc::consts::{
        MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_SEND,
        MACH_PORT_TYPE_DEAD_NAME,
    };
    use mach_r_ipc::{Ipc, Name};

    fn is_dead(ipc: &mut Ipc, name: Name) -> bool {
        let ks = ipc.kernel_space();
        ipc.port_type(ks, name)
            .is_ok_and(|t| t & MACH_PORT_TYPE_DEAD_NAME != 0)
    }

    fn real(name: Name) -> bool {
        name != MACH_PORT_NULL && name != MACH_PORT_DEAD
    }

    /// One more reference to a kept right (a `task_create` child inherits its parent's).
    pub fn dup(ipc: &mut Ipc, name: Name) -> Name {
        if !real(name) {
            return name;
        }
        let ks = ipc.kernel_space();
        let right = if is_dead(ipc, name) {
            MACH_PORT_RIGHT_DEAD_NAME
        } else {
            MACH_PORT_RIGHT_SEND
        };
        match ipc.mod_refs(ks, name, right, 1) {
            Ok(()) => name,
            Err(_) => MACH_PORT_NULL,
        }
    }

    /// Gives a kept reference back.
    pub fn release(ipc: &mut Ipc, name: Name) {
        if real(name) {
            let ks = ipc.kernel_space();
            let _ = ipc.deallocate(ks, name);
        }
    }

    /// The name a reply copies the kept right from: `MACH_PORT_DEAD` once its port died
    /// (as GNU Mach answers, suite `special`).
    pub fn get(ipc: &mut Ipc, name: Name) -> Name {
        if real(name) && is_dead(ipc, name) {
            MACH_PORT_DEAD
        } else {
            name
        }
    }
}
