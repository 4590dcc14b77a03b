//! The [`Transport`] trait (`mach_msg` and the reply port) and [`Received`], a message that a
//! transport vouches was delivered by the kernel (or by something that behaves like it).
#![allow(unsafe_code)]

use crate::error::{Error, KernReturn, KERN_SUCCESS, MIG_REPLY_MISMATCH, MIG_SERVER_DIED};
use crate::msg::{Reader, MACH_NOTIFY_SEND_ONCE, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG};
use crate::msg::{MACH_SEND_TIMEOUT, REPLY_HEADER_SIZE};
use crate::ool::{OolBuffer, Scalar};
use crate::port::PortName;

/// `mach_msg` and the MIG reply-port calls, as the stubs use them.
///
/// # Safety
/// When [`Transport::mach_msg`] returns `KERN_SUCCESS` with `MACH_RCV_MSG` in `option`, the
/// buffer must hold a message delivered the way the kernel delivers it: every out-of-line
/// region it points to is mapped in this task, page-aligned, at least as large as its type
/// descriptor says, and owned by the receiver. [`Received`] and [`OolBuffer`] rely on it.
pub unsafe trait Transport {
    /// `mach_msg(msg, option, send_size, rcv_size, rcv_name, timeout, notify)`. `msg` starts
    /// 8-byte aligned and is at least `max(send_size, rcv_size)` bytes long.
    #[allow(clippy::too_many_arguments)]
    fn mach_msg(
        &mut self,
        msg: &mut [u8],
        option: u32,
        send_size: u32,
        rcv_size: u32,
        rcv_name: PortName,
        timeout: u32,
        notify: PortName,
    ) -> KernReturn;

    /// `mig_get_reply_port()`
    fn get_reply_port(&mut self) -> PortName;

    /// `mig_put_reply_port(port)`: the call is over, the port may be reused.
    fn put_reply_port(&mut self, _port: PortName) {}

    /// `mig_dealloc_reply_port(port)`: the port is in an unknown state; stop using it.
    fn dealloc_reply_port(&mut self, _port: PortName) {}
}

/// A delivered message: a [`Reader`] over its bytes, and the out-of-line regions it carries.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    reader: Reader<'a>,
}

impl<'a> Received<'a> {
    /// A message a transport received.
    ///
    /// # Safety
    /// `bytes` must satisfy the promise of [`Transport`]: every out-of-line region it points
    /// to is mapped in this task and owned by the receiver (who takes ownership through
    /// [`Received::ool`]).
    pub unsafe fn from_kernel(bytes: &'a [u8]) -> Self {
        Received {
            reader: Reader::new(bytes),
        }
    }

    pub fn reader(&self) -> Reader<'a> {
        self.reader
    }

    /// The out-of-line region whose address is at `off`, of `len` elements.
    pub fn ool<E: Scalar>(&self, off: usize, len: usize) -> OolBuffer<E> {
        OolBuffer::received(self.reader.u64(off), len)
    }
}

/// Sends a request and receives its reply in `buf` (a routine's `mach_msg` call and its
/// reply-port handling, as GNU MIG's user stubs do it). `own_reply` is true when the reply
/// port came from [`Transport::get_reply_port`].
#[allow(clippy::too_many_arguments)]
pub fn rpc<'b, T: Transport + ?Sized>(
    t: &mut T,
    buf: &'b mut [u8],
    send_size: u32,
    reply_port: PortName,
    own_reply: bool,
    reply_id: u32,
    option: u32,
    timeout: Option<u32>,
) -> Result<Received<'b>, Error> {
    let rcv_size = buf.len() as u32;
    let (option, timeout) = match timeout {
        Some(t) => (MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT | option, t),
        None => (MACH_SEND_MSG | MACH_RCV_MSG | option, 0),
    };
    let r = t.mach_msg(
        buf,
        option,
        send_size,
        rcv_size,
        reply_port,
        timeout,
        PortName::NULL,
    );
    if r != KERN_SUCCESS {
        if own_reply {
            t.dealloc_reply_port(reply_port);
        }
        return Err(Error::new(r));
    }
    if own_reply {
        t.put_reply_port(reply_port);
    }
    // SAFETY: `mach_msg` succeeded with MACH_RCV_MSG: by the `Transport` contract the buffer
    // holds a delivered message.
    let received = unsafe { Received::from_kernel(buf) };
    let id = received.reader().u32(28);
    if id != reply_id {
        if id == MACH_NOTIFY_SEND_ONCE {
            return Err(Error::new(MIG_SERVER_DIED));
        }
        if own_reply {
            t.dealloc_reply_port(reply_port);
        }
        return Err(Error::new(MIG_REPLY_MISMATCH));
    }
    Ok(received)
}

/// Sends a one-way message (a simple routine).
pub fn send<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    send_size: u32,
    option: u32,
    timeout: Option<u32>,
) -> Result<(), Error> {
    let (option, timeout) = match timeout {
        Some(t) => (MACH_SEND_MSG | MACH_SEND_TIMEOUT | option, t),
        None => (MACH_SEND_MSG | option, 0),
    };
    Error::check(t.mach_msg(
        buf,
        option,
        send_size,
        0,
        PortName::NULL,
        timeout,
        PortName::NULL,
    ))
}

/// The reply a server sends when a routine failed: only the header and the return code.
pub const fn error_reply_size() -> u32 {
    REPLY_HEADER_SIZE
}
