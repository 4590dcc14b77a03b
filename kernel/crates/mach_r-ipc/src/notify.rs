//! Notifications as GNU Mach sends them (`mach/notify.h`): messages the crate makes and
//! queues on the registered send-once right, ignoring queue limits.
//!
//! Bodies on x86_64: port-deleted and dead-name carry a `MACH_MSG_TYPE_PORT_NAME` (32 bits)
//! name, no-senders a `MACH_MSG_TYPE_INTEGER_32` make-send count, each padded to 8 (48
//! bytes in all); port-destroyed carries the receive right in an inline port slot
//! (`MACH_MSG_TYPE_PORT_RECEIVE`, 64 bits; complex); send-once is a bare header (32 bytes).

use alloc::vec;
use alloc::vec::Vec;

use crate::consts::*;
use crate::msg::{Item, KMsg};
use crate::{Ipc, PortId, Right};

/// A type descriptor word: name, size in bits, inline, short form.
fn descriptor(name: u32, bits: u32, number: u32) -> [u8; 8] {
    let word = name | (bits << 8) | (1 << 29);
    let mut d = [0u8; 8];
    d[..4].copy_from_slice(&word.to_le_bytes());
    d[4..].copy_from_slice(&number.to_le_bytes());
    d
}

fn header(size: usize, id: i32) -> Vec<u8> {
    let mut h = vec![0u8; size];
    h[4..8].copy_from_slice(&(size as u32).to_le_bytes());
    h[28..32].copy_from_slice(&id.to_le_bytes());
    h
}

fn with_u32(id: i32, ty: u32, value: u32) -> Vec<u8> {
    let mut b = header(HEADER_SIZE + 16, id);
    b[32..40].copy_from_slice(&descriptor(ty, 32, 1));
    b[40..44].copy_from_slice(&value.to_le_bytes());
    b
}

fn kmsg(notify: PortId, bytes: Vec<u8>, other_bits: u32, items: Vec<Item>) -> KMsg {
    KMsg {
        other_bits,
        dest: Right::SendOnce(notify),
        reply: Right::Null,
        reply_type: 0,
        bytes,
        items,
        stamp: 0,
    }
}

impl Ipc {
    /// A send-once right to `p` was destroyed unused: it carries a send-once notification.
    pub(crate) fn notify_send_once(&mut self, p: PortId) {
        let m = kmsg(p, header(HEADER_SIZE, MACH_NOTIFY_SEND_ONCE), 0, Vec::new());
        self.send_always(m);
    }

    pub(crate) fn notify_no_senders(&mut self, notify: PortId, mscount: u32) {
        let b = with_u32(MACH_NOTIFY_NO_SENDERS, MACH_MSG_TYPE_INTEGER_32, mscount);
        self.send_always(kmsg(notify, b, 0, Vec::new()));
    }

    pub(crate) fn notify_dead_name(&mut self, notify: PortId, name: Name) {
        let b = with_u32(MACH_NOTIFY_DEAD_NAME, MACH_MSG_TYPE_PORT_NAME, name);
        self.send_always(kmsg(notify, b, 0, Vec::new()));
    }

    pub(crate) fn notify_port_deleted(&mut self, notify: PortId, name: Name) {
        let b = with_u32(MACH_NOTIFY_PORT_DELETED, MACH_MSG_TYPE_PORT_NAME, name);
        self.send_always(kmsg(notify, b, 0, Vec::new()));
    }

    /// The receive right of `port` goes to the port-destroyed request `notify`.
    pub(crate) fn notify_port_destroyed(&mut self, notify: PortId, port: PortId) {
        let mut b = header(HEADER_SIZE + 16, MACH_NOTIFY_PORT_DESTROYED);
        b[32..40].copy_from_slice(&descriptor(MACH_MSG_TYPE_PORT_RECEIVE, INLINE_PORT_BITS, 1));
        let items = vec![Item::Ports {
            at: 40,
            ool: false,
            rights: vec![Right::Receive(port)],
        }];
        self.send_always(kmsg(notify, b, MACH_MSGH_BITS_COMPLEX, items));
    }
}
