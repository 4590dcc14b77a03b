//! The kernel's `Server` impls for the migc-generated servers of [`crate::mig`]: every
//! request to a kernel object arrives here as bytes of the kernel's IPC space and is decoded
//! by generated code only; these impls translate names of the kernel space to kernel objects
//! and call the IPC core, the scheduler and the VM code.
//!
//! Rights that arrive in a request (a right to insert, a notification port) are names in
//! the kernel space: an impl takes each out with `extract_right` and gives it to whoever
//! keeps it. Rights and out-of-line data in a reply are given to the kernel space (or to
//! the [`KernelOol`] table) and leave it when the reply is copied in.

use crate::kobj::{kept, KObject};
use crate::mig;
use crate::msg::KernelOol;
use crate::sched::{Kernel, ThreadId};
use crate::task::TaskId;
use crate::task::TASK_PORT_REGISTER_MAX;
use crate::trap::TrapFrame;
use alloc::vec::Vec;
use mach_r_ipc::consts::*;
use mach_r_ipc::{Name, Right, SpaceId};
use mach_rt as rt;

/// What `host_info` reports as `memory_size`: set at boot from the memory map.
pub static MEMORY_SIZE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// `memory_size` as GNU Mach reports it, observed under QEMU with -m 128, 256 and 512: the end
/// of the highest usable region below 4 GiB minus 64 KiB (RAM - 192 KiB on QEMU's map).
pub fn set_memory_size(highest_usable_end: u64) {
    MEMORY_SIZE.store(
        highest_usable_end.saturating_sub(0x1_0000),
        core::sync::atomic::Ordering::Relaxed,
    );
}

/// `HOST_BASIC_INFO`.
const HOST_BASIC_INFO: i32 = 1;
/// Words of `struct host_basic_info` on x86_64.
const HOST_BASIC_INFO_COUNT: usize = 6;
/// `CPU_TYPE_X86_64`, as GNU Mach reports it.
const CPU_TYPE_X86_64: i32 = 21;
/// The `cpu_subtype` GNU Mach reports under QEMU.
const CPU_SUBTYPE: i32 = 1;
/// `TASK_BASIC_INFO`.
const TASK_BASIC_INFO: i32 = 1;
/// Words of `struct task_basic_info` on x86_64.
const TASK_BASIC_INFO_COUNT: usize = 30;

/// `D_NO_SUCH_DEVICE`.
const D_NO_SUCH_DEVICE: i32 = 2502;
/// `D_INVALID_OPERATION`.
const D_INVALID_OPERATION: i32 = 2505;
/// `MIG_NO_REPLY`: the reply goes later (a console read waiting for input).
const MIG_NO_REPLY: i32 = -305;
/// The most `device_read_inband` returns (`io_buf_ptr_inband_t`).
const INBAND_MAX: usize = 128;
/// `RB_HALT`: halt instead of rebooting.
const RB_HALT: i32 = 0x8;
/// `RB_DEBUGGER`: enter the kernel debugger instead of rebooting.
const RB_DEBUGGER: i32 = 0x1000;
/// Ports of the x86 I/O space: bits of a task's I/O permission bitmap.
const IO_PORTS: usize = 0x10000;
/// `KERN_INVALID_HOST`.
const KERN_INVALID_HOST: i32 = 22;

fn err(code: KernReturn) -> rt::Error {
    rt::Error::new(code as i32)
}

/// `KERN_RESOURCE_SHORTAGE` when the heap is down to its reserve (`heap::RESERVE`): asked
/// first by every call that grows kernel state (ports, names, threads, tasks, regions), after
/// the IPC tables have made room for their next entry (a table doubling must not fail later).
fn room(k: &mut Kernel) -> Result<(), rt::Error> {
    if k.ipc().try_grow() && crate::heap::has_room(0) {
        Ok(())
    } else {
        Err(err(crate::vm::KERN_RESOURCE_SHORTAGE as KernReturn))
    }
}

/// The state the impls work on.
pub struct Srv<'a> {
    k: &'a mut Kernel,
    ool: &'a mut KernelOol,
    /// The request being served (kept by a console read that must wait for input).
    request: &'a [u8],
}

/// Hands a request (bytes of the kernel space) to the generated server of its subsystem;
/// returns the reply (in a buffer of that subsystem's largest reply size).
pub fn dispatch(k: &mut Kernel, request: &[u8], ool: &mut KernelOol) -> Vec<u8> {
    let id = request
        .get(28..32)
        .map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    let req = rt::KernelRequest::new(request);
    let mut s = Srv { k, ool, request };
    let mut reply;
    match id {
        2000..=2099 => {
            reply = s.reply_buf(mig::mach::server::MAX_REPLY_SIZE);
            mig::mach::server::dispatch(&mut s, req, &mut reply);
        }
        2600..=2699 => {
            reply = s.reply_buf(mig::mach_host::server::MAX_REPLY_SIZE);
            mig::mach_host::server::dispatch(&mut s, req, &mut reply);
        }
        2800..=2899 => {
            reply = s.reply_buf(mig::device::server::MAX_REPLY_SIZE);
            mig::device::server::dispatch(&mut s, req, &mut reply);
        }
        3800..=3899 => {
            reply = s.reply_buf(mig::mach_i386::server::MAX_REPLY_SIZE);
            mig::mach_i386::server::dispatch(&mut s, req, &mut reply);
        }
        // mach_port (3200..) and every unknown id: the latter get MIG_BAD_ID from it.
        _ => {
            reply = s.reply_buf(mig::mach_port::server::MAX_REPLY_SIZE);
            mig::mach_port::server::dispatch(&mut s, req, &mut reply);
        }
    }
    reply
}

impl Srv<'_> {
    /// A zeroed reply buffer of `len` bytes, reused from the kernel's message buffers.
    fn reply_buf(&mut self, len: usize) -> Vec<u8> {
        crate::msg::take_buf(&mut self.k.msg_bufs, len)
    }

    fn kernel_space(&mut self) -> SpaceId {
        self.k.ipc().kernel_space()
    }

    fn object(&mut self, name: rt::PortName) -> Option<KObject> {
        self.k.kobject_of(name.raw())
    }

    /// The task a request port names.
    fn task(&mut self, name: rt::PortName) -> Result<TaskId, rt::Error> {
        match self.object(name) {
            Some(KObject::Task(t)) if self.k.tasks.get(&t).is_some_and(|t| t.outcome.is_none()) => {
                Ok(t)
            }
            _ => Err(err(KERN_INVALID_ARGUMENT)),
        }
    }

    /// The IPC space of the task a request port names (`KERN_INVALID_TASK` otherwise).
    fn space(&mut self, name: rt::PortName) -> Result<SpaceId, rt::Error> {
        match self.object(name) {
            Some(KObject::Task(t)) => self
                .k
                .space_of(t)
                .filter(|_| self.k.tasks.get(&t).is_some_and(|t| t.outcome.is_none()))
                .ok_or(err(KERN_INVALID_TASK)),
            _ => Err(err(KERN_INVALID_TASK)),
        }
    }

    fn thread(&mut self, name: rt::PortName) -> Result<ThreadId, rt::Error> {
        match self.object(name) {
            Some(KObject::Thread(t)) if self.k.threads.contains_key(&t) => Ok(t),
            _ => Err(err(KERN_INVALID_ARGUMENT)),
        }
    }

    /// Takes a right that arrived in the request out of the kernel space.
    fn take(&mut self, name: rt::PortName, received: u32) -> Right {
        if name.raw() == MACH_PORT_NULL {
            return Right::Null;
        }
        if name.raw() == MACH_PORT_DEAD {
            return Right::Dead;
        }
        let ks = self.kernel_space();
        match self.k.ipc().extract_right(ks, name.raw(), received) {
            Ok((r, _)) => r,
            Err(_) => Right::Null,
        }
    }

    /// Gives a right to the kernel space for the reply to carry; its name there.
    fn give(&mut self, right: Right) -> rt::PortName {
        match right {
            Right::Null => rt::PortName::NULL,
            Right::Dead => rt::PortName::DEAD,
            r => {
                let ks = self.kernel_space();
                match self.k.ipc().give_right(ks, r) {
                    Ok(n) => rt::PortName(n),
                    Err((_, r)) => {
                        self.k.ipc().destroy_right(r);
                        rt::PortName::NULL
                    }
                }
            }
        }
    }

    /// The kernel space's name for a kernel port (it holds one send right for it).
    fn kname(&mut self, port: mach_r_ipc::PortId) -> rt::PortName {
        let ks = self.kernel_space();
        rt::PortName(self.k.ipc().port_name(ks, port).unwrap_or(MACH_PORT_NULL))
    }

    fn words_token(&mut self, words: &[u32]) -> u64 {
        let mut bytes = Vec::with_capacity(words.len() * 4);
        for w in words {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        self.ool.put(bytes)
    }
}

fn kr<T>(r: Result<T, KernReturn>) -> Result<T, rt::Error> {
    r.map_err(err)
}

impl mig::mach_port::server::Server for Srv<'_> {
    fn mach_port_names(
        &mut self,
        task: rt::PortName,
    ) -> Result<(rt::OolToken<u32>, rt::OolToken<u32>), rt::Error> {
        let space = self.space(task)?;
        let (names, types) = kr(self.k.ipc().names(space))?;
        let n = self.words_token(&names);
        let t = self.words_token(&types);
        Ok((
            rt::OolToken::new(n, names.len()),
            rt::OolToken::new(t, types.len()),
        ))
    }

    fn mach_port_type(&mut self, task: rt::PortName, name: u32) -> Result<u32, rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().port_type(space, name))
    }

    fn mach_port_rename(
        &mut self,
        task: rt::PortName,
        old: u32,
        new: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().rename(space, old, new))
    }

    fn mach_port_allocate_name(
        &mut self,
        task: rt::PortName,
        right: u32,
        name: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        room(self.k)?;
        kr(self.k.ipc().allocate_name(space, right, name))
    }

    fn mach_port_allocate(&mut self, task: rt::PortName, right: u32) -> Result<u32, rt::Error> {
        let space = self.space(task)?;
        room(self.k)?;
        let r = self.k.ipc().allocate(space, right);
        kr(r)
    }

    fn mach_port_destroy(&mut self, task: rt::PortName, name: u32) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().destroy(space, name))
    }

    fn mach_port_deallocate(&mut self, task: rt::PortName, name: u32) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().deallocate(space, name))
    }

    fn mach_port_get_refs(
        &mut self,
        task: rt::PortName,
        name: u32,
        right: u32,
    ) -> Result<u32, rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().get_refs(space, name, right))
    }

    fn mach_port_mod_refs(
        &mut self,
        task: rt::PortName,
        name: u32,
        right: u32,
        delta: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().mod_refs(space, name, right, delta as i32))
    }

    fn mach_port_set_qlimit(
        &mut self,
        task: rt::PortName,
        name: u32,
        qlimit: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().set_qlimit(space, name, qlimit))
    }

    fn mach_port_set_mscount(
        &mut self,
        task: rt::PortName,
        name: u32,
        mscount: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().set_mscount(space, name, mscount))
    }

    fn mach_port_get_set_status(
        &mut self,
        task: rt::PortName,
        name: u32,
    ) -> Result<rt::OolToken<u32>, rt::Error> {
        let space = self.space(task)?;
        let members = kr(self.k.ipc().get_set_status(space, name))?;
        let t = self.words_token(&members);
        Ok(rt::OolToken::new(t, members.len()))
    }

    fn mach_port_move_member(
        &mut self,
        task: rt::PortName,
        member: u32,
        after: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().move_member(space, member, after))
    }

    fn mach_port_request_notification(
        &mut self,
        task: rt::PortName,
        name: u32,
        id: u32,
        sync: u32,
        notify: rt::SendOnceRight,
    ) -> Result<rt::Poly, rt::Error> {
        let n = notify.name();
        let right = self.take(n, MACH_MSG_TYPE_MOVE_SEND_ONCE);
        let space = match self.space(task) {
            Ok(s) => s,
            Err(e) => {
                self.k.ipc().destroy_right(right);
                return Err(e);
            }
        };
        match self
            .k
            .ipc()
            .request_notification(space, name, id as i32, sync, right)
        {
            Ok(prev) => {
                let p = self.give(prev);
                Ok(rt::Poly::new(p, MACH_MSG_TYPE_MOVE_SEND_ONCE))
            }
            Err((code, r)) => {
                self.k.ipc().destroy_right(r);
                Err(err(code))
            }
        }
    }

    fn mach_port_insert_right(
        &mut self,
        task: rt::PortName,
        name: u32,
        poly: rt::Poly,
    ) -> Result<(), rt::Error> {
        let right = self.take(poly.name, poly.disposition);
        let space = match self.space(task) {
            Ok(s) => s,
            Err(e) => {
                self.k.ipc().destroy_right(right);
                return Err(e);
            }
        };
        match self.k.ipc().insert_right(space, name, right) {
            Ok(()) => Ok(()),
            Err((code, r)) => {
                self.k.ipc().destroy_right(r);
                Err(err(code))
            }
        }
    }

    fn mach_port_extract_right(
        &mut self,
        task: rt::PortName,
        name: u32,
        msgt_name: u32,
    ) -> Result<rt::Poly, rt::Error> {
        let space = self.space(task)?;
        let (right, ty) = kr(self.k.ipc().extract_right(space, name, msgt_name))?;
        let n = self.give(right);
        Ok(rt::Poly::new(n, ty))
    }

    fn mach_port_get_receive_status(
        &mut self,
        task: rt::PortName,
        name: u32,
    ) -> Result<[u32; 9], rt::Error> {
        let space = self.space(task)?;
        let s = kr(self.k.ipc().get_receive_status(space, name))?;
        Ok([
            s.pset,
            s.seqno,
            s.mscount,
            s.qlimit,
            s.msgcount,
            s.sorights,
            u32::from(s.srights),
            u32::from(s.pdrequest),
            u32::from(s.nsrequest),
        ])
    }

    fn mach_port_set_seqno(
        &mut self,
        task: rt::PortName,
        name: u32,
        seqno: u32,
    ) -> Result<(), rt::Error> {
        let space = self.space(task)?;
        kr(self.k.ipc().set_seqno(space, name, seqno))
    }
}

/// The device a `device_open` name opens, by GNU Mach's rule (observed: `devread`): the name
/// is a prefix up to its first digit, then an optional decimal unit (wrapping at 2^32), then
/// anything; `console` with any unit and `com` with unit 0 (QEMU's one serial line, which is
/// the console with `console=com0`) are the console. Other names: `None`.
fn device_of_name(name: &[u8]) -> Option<KObject> {
    let name = name.split(|&b| b == 0).next().unwrap_or(&[]);
    let digits = name
        .iter()
        .position(u8::is_ascii_digit)
        .unwrap_or(name.len());
    let (prefix, rest) = name.split_at(digits);
    let unit = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u32, |u, &d| {
            u.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
        });
    match (prefix, unit) {
        (b"console", _) | (b"com", 0) => Some(KObject::Console),
        _ => None,
    }
}

impl Srv<'_> {
    /// `device_open` and `device_open_new`: on another port than the device master,
    /// `D_INVALID_OPERATION` (observed on the host port: `devread`).
    fn open_device(
        &mut self,
        master_port: rt::PortName,
        name: &[u8],
    ) -> Result<rt::Poly, rt::Error> {
        if self.object(master_port) != Some(KObject::DeviceMaster) {
            return Err(rt::Error::new(D_INVALID_OPERATION));
        }
        if device_of_name(name) != Some(KObject::Console) {
            return Err(rt::Error::new(D_NO_SUCH_DEVICE));
        }
        let console = self.k.kports().console;
        let n = self.kname(console);
        Ok(rt::Poly::new(n, MACH_MSG_TYPE_COPY_SEND))
    }

    /// Console input for a read of `wanted` bytes (GNU Mach's rule, observed: `devread`): the
    /// read waits until input is there, whatever the mode (`D_NOWAIT` too), then returns what
    /// is there up to `wanted` (a negative count asks for everything, 0 returns nothing) and
    /// at most `max`. `None`: no input yet; the request is kept and answered later (without
    /// a reply port it is dropped: nobody would get the answer).
    fn console_input(&mut self, reply: rt::PortName, wanted: i32, max: usize) -> Option<Vec<u8>> {
        let wanted = if wanted < 0 {
            max
        } else {
            (wanted as usize).min(max)
        };
        match crate::console::take_input(wanted) {
            Some(bytes) => Some(bytes),
            None => {
                if reply != rt::PortName::NULL {
                    crate::console::wait_for_input(self.request.to_vec());
                }
                None
            }
        }
    }
}

impl mig::device::server::Server for Srv<'_> {
    fn device_open(
        &mut self,
        master_port: rt::PortName,
        _reply_port: rt::Poly,
        _mode: u32,
        name: &[u8],
    ) -> Result<rt::Poly, rt::Error> {
        self.open_device(master_port, name)
    }

    fn device_open_new(
        &mut self,
        master_port: rt::PortName,
        _reply_port: rt::Poly,
        _mode: u32,
        name: &[u8],
    ) -> Result<rt::Poly, rt::Error> {
        self.open_device(master_port, name)
    }

    fn device_read(
        &mut self,
        device: rt::PortName,
        reply_port: rt::Poly,
        _mode: u32,
        _recnum: u64,
        bytes_wanted: i32,
    ) -> Result<rt::OolToken<u8>, rt::Error> {
        if self.object(device) != Some(KObject::Console) {
            return Err(rt::Error::new(D_NO_SUCH_DEVICE));
        }
        let bytes = self
            .console_input(reply_port.name, bytes_wanted, crate::console::INPUT_LIMIT)
            .ok_or(rt::Error::new(MIG_NO_REPLY))?;
        let len = bytes.len();
        Ok(rt::OolToken::new(self.ool.put(bytes), len))
    }

    fn device_read_inband(
        &mut self,
        device: rt::PortName,
        reply_port: rt::Poly,
        _mode: u32,
        _recnum: u64,
        bytes_wanted: i32,
        data: &mut [u8],
    ) -> Result<usize, rt::Error> {
        if self.object(device) != Some(KObject::Console) {
            return Err(rt::Error::new(D_NO_SUCH_DEVICE));
        }
        let bytes = self
            .console_input(reply_port.name, bytes_wanted, INBAND_MAX.min(data.len()))
            .ok_or(rt::Error::new(MIG_NO_REPLY))?;
        data[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn device_close(&mut self, device: rt::PortName) -> Result<(), rt::Error> {
        match self.object(device) {
            Some(KObject::Console) => Ok(()),
            _ => Err(rt::Error::new(D_NO_SUCH_DEVICE)),
        }
    }

    fn device_write(
        &mut self,
        device: rt::PortName,
        _reply_port: rt::Poly,
        _mode: u32,
        _recnum: u64,
        data: rt::OolToken<u8>,
    ) -> Result<i32, rt::Error> {
        let (token, len) = data.into_raw();
        if self.object(device) != Some(KObject::Console) {
            return Err(rt::Error::new(D_NO_SUCH_DEVICE));
        }
        let bytes = self
            .ool
            .get(token)
            .map(|b| &b[..len.min(b.len())])
            .unwrap_or(&[]);
        crate::console::write_device(bytes);
        Ok(bytes.len() as i32)
    }

    fn device_write_inband(
        &mut self,
        device: rt::PortName,
        _reply_port: rt::Poly,
        _mode: u32,
        _recnum: u64,
        data: &[u8],
    ) -> Result<i32, rt::Error> {
        if self.object(device) != Some(KObject::Console) {
            return Err(rt::Error::new(D_NO_SUCH_DEVICE));
        }
        crate::console::write_device(data);
        Ok(data.len() as i32)
    }
}

impl mig::mach_host::server::Server for Srv<'_> {
    /// GNU Mach's answers under QEMU `-no-reboot` (observed: `conformance/tests/reboot.rs`):
    /// `RB_DEBUGGER` (with or without `RB_HALT`) panics for want of a debugger and then
    /// reboots; `RB_HALT` says so and halts for good; any other flags reboot at once.
    fn host_reboot(&mut self, host_priv: rt::PortName, options: i32) -> Result<(), rt::Error> {
        if self.object(host_priv) != Some(KObject::HostPriv) {
            return Err(rt::Error::new(KERN_INVALID_HOST));
        }
        if options & RB_DEBUGGER != 0 {
            crate::kprintln!("panic: host_reboot: RB_DEBUGGER, but Mach_R has no kernel debugger");
            crate::arch::reset::reset()
        }
        if options & RB_HALT != 0 {
            crate::kprintln!("host_reboot: RB_HALT: halted; power off or reset the machine");
            crate::arch::cpu::halt_forever()
        }
        crate::arch::reset::reset()
    }

    fn host_info(
        &mut self,
        host: rt::PortName,
        flavor: i32,
        out: &mut [i32],
    ) -> Result<usize, rt::Error> {
        if !matches!(self.object(host), Some(KObject::Host | KObject::HostPriv)) {
            return Err(rt::Error::new(KERN_INVALID_HOST));
        }
        if flavor != HOST_BASIC_INFO || out.len() < HOST_BASIC_INFO_COUNT {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let mem = MEMORY_SIZE.load(core::sync::atomic::Ordering::Relaxed);
        out[0] = 1;
        out[1] = 1;
        out[2] = mem as i32;
        out[3] = (mem >> 32) as i32;
        out[4] = CPU_TYPE_X86_64;
        out[5] = CPU_SUBTYPE;
        Ok(HOST_BASIC_INFO_COUNT)
    }

    fn host_get_kernel_version(
        &mut self,
        host: rt::PortName,
    ) -> Result<rt::FixedString<512>, rt::Error> {
        match self.object(host) {
            Some(KObject::Host | KObject::HostPriv) => Ok(rt::FixedString::new(
                alloc::format!("Mach_R {}", crate::VERSION).as_bytes(),
            )),
            _ => Err(rt::Error::new(KERN_INVALID_HOST)),
        }
    }
}

/// `THREAD_BASIC_INFO`.
const THREAD_BASIC_INFO: i32 = 1;
/// Words of `struct thread_basic_info` (`THREAD_BASIC_INFO_COUNT` on x86_64).
const THREAD_BASIC_INFO_COUNT: usize = 32;
/// `TH_STATE_RUNNING`.
const TH_STATE_RUNNING: i32 = 1;
/// `TH_STATE_STOPPED`.
const TH_STATE_STOPPED: i32 = 2;
/// `TH_STATE_WAITING`.
const TH_STATE_WAITING: i32 = 3;

/// Words of `struct i386_thread_state` on x86_64 (`i386_THREAD_STATE_COUNT`).
const THREAD_STATE_COUNT: usize = 42;
/// `i386_THREAD_STATE`.
const I386_THREAD_STATE: i32 = 1;

/// RFLAGS bits a thread state cannot set: IOPL (12-13), NT (14), RF (16).
const RFLAGS_KERNEL_BITS: u64 = 0x1_7000;
/// RFLAGS.IF.
const RFLAGS_IF: u64 = crate::task::RFLAGS_IF;

/// `TASK_KERNEL_PORT` (mach/task_special_ports.h).
const TASK_KERNEL_PORT: i32 = 1;
/// `TASK_EXCEPTION_PORT`.
const TASK_EXCEPTION_PORT: i32 = 3;
/// `TASK_BOOTSTRAP_PORT`.
const TASK_BOOTSTRAP_PORT: i32 = 4;
/// `THREAD_KERNEL_PORT` (mach/thread_special_ports.h).
const THREAD_KERNEL_PORT: i32 = 1;
/// `THREAD_EXCEPTION_PORT`.
const THREAD_EXCEPTION_PORT: i32 = 3;

fn state_of(f: &TrapFrame) -> [u64; 21] {
    [
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rsp, f.rbx,
        f.rdx, f.rcx, f.rax, f.rip, f.cs, f.rflags, f.rsp, f.ss,
    ]
}

impl mig::mach::server::Server for Srv<'_> {
    fn task_create(
        &mut self,
        target_task: rt::PortName,
        inherit_memory: u32,
    ) -> Result<rt::PortName, rt::Error> {
        let parent = self.task(target_task)?;
        room(self.k)?;
        let child = crate::task::create_child(self.k, parent, inherit_memory != 0).map_err(err)?;
        let port = self.k.tasks[&child].port;
        Ok(self.kname(port))
    }

    fn task_suspend(&mut self, target_task: rt::PortName) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        self.k.suspend_task(t);
        Ok(())
    }

    fn task_resume(&mut self, target_task: rt::PortName) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        if self.k.resume_task(t) {
            Ok(())
        } else {
            Err(err(crate::task::KERN_FAILURE))
        }
    }

    fn task_threads(
        &mut self,
        target_task: rt::PortName,
    ) -> Result<rt::OolToken<rt::PortName>, rt::Error> {
        let t = self.task(target_task)?;
        let ports: Vec<mach_r_ipc::PortId> = self.k.tasks[&t]
            .threads
            .iter()
            .filter_map(|id| self.k.threads.get(id).and_then(|th| th.port))
            .collect();
        let names: Vec<u32> = ports.iter().map(|&p| self.kname(p).raw()).collect();
        let token = self.words_token(&names);
        Ok(rt::OolToken::new(token, names.len()))
    }

    fn task_terminate(&mut self, target_task: rt::PortName) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        self.k.terminate_task(t, crate::task::Outcome::Terminated);
        Ok(())
    }

    /// Mach_R has no system call emulation: every task's vector is empty, starting at 0,
    /// which is what GNU Mach answers for a task that set none (suite `startup`).
    fn task_get_emulation_vector(
        &mut self,
        task: rt::PortName,
    ) -> Result<(i32, rt::OolToken<u64>), rt::Error> {
        self.task(task)?;
        let token = self.ool.put(Vec::new());
        Ok((0, rt::OolToken::new(token, 0)))
    }

    /// The kernel port (the task's own), `TASK_EXCEPTION_PORT`, `TASK_BOOTSTRAP_PORT`;
    /// `KERN_INVALID_ARGUMENT` for another `which` or a port that is no task, as GNU Mach.
    fn task_get_special_port(
        &mut self,
        task: rt::PortName,
        which_port: i32,
    ) -> Result<rt::PortName, rt::Error> {
        let t = self.task(task)?;
        let tk = &self.k.tasks[&t];
        let name = match which_port {
            TASK_KERNEL_PORT => {
                let port = tk.port;
                return Ok(self.kname(port));
            }
            TASK_EXCEPTION_PORT => tk.exception_port,
            TASK_BOOTSTRAP_PORT => tk.bootstrap_port,
            _ => return Err(err(KERN_INVALID_ARGUMENT)),
        };
        Ok(rt::PortName(kept::get(self.k.ipc(), name)))
    }

    /// Keeps the send right that came in the request (the task's old one is released).
    /// The kernel port cannot be replaced (GNU Mach: not probed; Mach_R answers
    /// `KERN_INVALID_ARGUMENT`).
    fn task_set_special_port(
        &mut self,
        task: rt::PortName,
        which_port: i32,
        special_port: rt::SendRight,
    ) -> Result<(), rt::Error> {
        let name = special_port.into_name().raw();
        let t = match self.task(task) {
            Ok(t) if matches!(which_port, TASK_EXCEPTION_PORT | TASK_BOOTSTRAP_PORT) => t,
            Ok(_) => {
                kept::release(self.k.ipc(), name);
                return Err(err(KERN_INVALID_ARGUMENT));
            }
            Err(e) => {
                kept::release(self.k.ipc(), name);
                return Err(e);
            }
        };
        let tk = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        let slot = if which_port == TASK_EXCEPTION_PORT {
            &mut tk.exception_port
        } else {
            &mut tk.bootstrap_port
        };
        let old = core::mem::replace(slot, name);
        kept::release(self.k.ipc(), old);
        Ok(())
    }

    /// The thread's kernel port or `THREAD_EXCEPTION_PORT`.
    fn thread_get_special_port(
        &mut self,
        thread: rt::PortName,
        which_port: i32,
    ) -> Result<rt::PortName, rt::Error> {
        let t = self.thread(thread)?;
        let th = &self.k.threads[&t];
        match which_port {
            THREAD_KERNEL_PORT => {
                let port = th.port.ok_or(err(KERN_INVALID_ARGUMENT))?;
                Ok(self.kname(port))
            }
            THREAD_EXCEPTION_PORT => {
                let name = th.exception_port;
                Ok(rt::PortName(kept::get(self.k.ipc(), name)))
            }
            _ => Err(err(KERN_INVALID_ARGUMENT)),
        }
    }

    /// Keeps `THREAD_EXCEPTION_PORT` (the kernel port cannot be replaced, as for tasks).
    fn thread_set_special_port(
        &mut self,
        thread: rt::PortName,
        which_port: i32,
        special_port: rt::SendRight,
    ) -> Result<(), rt::Error> {
        let name = special_port.into_name().raw();
        let t = match self.thread(thread) {
            Ok(t) if which_port == THREAD_EXCEPTION_PORT => t,
            other => {
                kept::release(self.k.ipc(), name);
                return Err(other.err().unwrap_or(err(KERN_INVALID_ARGUMENT)));
            }
        };
        let th = self
            .k
            .threads
            .get_mut(&t)
            .ok_or(err(KERN_INVALID_ARGUMENT))?;
        let old = core::mem::replace(&mut th.exception_port, name);
        kept::release(self.k.ipc(), old);
        Ok(())
    }

    /// Keeps up to `TASK_PORT_REGISTER_MAX` send rights (the rest of the slots null);
    /// more is `KERN_INVALID_ARGUMENT`, as GNU Mach.
    fn mach_ports_register(
        &mut self,
        target_task: rt::PortName,
        init_port_set: rt::OolToken<rt::PortName>,
    ) -> Result<(), rt::Error> {
        let (token, count) = init_port_set.into_raw();
        let names: Vec<Name> = self
            .ool
            .get(token)
            .unwrap_or(&[])
            .chunks_exact(4)
            .take(count)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = self.task(target_task);
        let t = match t {
            Ok(t) if names.len() <= TASK_PORT_REGISTER_MAX => t,
            other => {
                for n in names {
                    kept::release(self.k.ipc(), n);
                }
                return Err(other.err().unwrap_or(err(KERN_INVALID_ARGUMENT)));
            }
        };
        let mut new = [MACH_PORT_NULL; TASK_PORT_REGISTER_MAX];
        new[..names.len()].copy_from_slice(&names);
        let old = core::mem::replace(&mut self.k.tasks.get_mut(&t).unwrap().registered, new);
        for n in old {
            kept::release(self.k.ipc(), n);
        }
        Ok(())
    }

    /// The registered ports: always `TASK_PORT_REGISTER_MAX` of them, null where unset.
    fn mach_ports_lookup(
        &mut self,
        target_task: rt::PortName,
    ) -> Result<rt::OolToken<rt::PortName>, rt::Error> {
        let t = self.task(target_task)?;
        let names = self.k.tasks[&t].registered;
        let names: Vec<u32> = names.iter().map(|&n| kept::get(self.k.ipc(), n)).collect();
        let token = self.words_token(&names);
        Ok(rt::OolToken::new(token, names.len()))
    }

    fn thread_create(&mut self, parent_task: rt::PortName) -> Result<rt::PortName, rt::Error> {
        let task = self.task(parent_task)?;
        room(self.k)?;
        let tid = crate::task::new_thread(self.k, task);
        let port = self.k.threads[&tid]
            .port
            .ok_or(err(KERN_INVALID_ARGUMENT))?;
        Ok(self.kname(port))
    }

    fn thread_terminate(&mut self, target_thread: rt::PortName) -> Result<(), rt::Error> {
        let t = self.thread(target_thread)?;
        self.k.terminate_thread(t);
        Ok(())
    }

    fn thread_get_state(
        &mut self,
        target_thread: rt::PortName,
        flavor: i32,
        old_state: &mut [u32],
    ) -> Result<usize, rt::Error> {
        let t = self.thread(target_thread)?;
        if flavor != I386_THREAD_STATE || old_state.len() < THREAD_STATE_COUNT {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let f = self.k.threads[&t].frame;
        let words = state_of(&f);
        for (i, w) in words.iter().enumerate() {
            old_state[2 * i] = *w as u32;
            old_state[2 * i + 1] = (*w >> 32) as u32;
        }
        Ok(THREAD_STATE_COUNT)
    }

    fn thread_set_state(
        &mut self,
        target_thread: rt::PortName,
        flavor: i32,
        new_state: &[u32],
    ) -> Result<(), rt::Error> {
        let t = self.thread(target_thread)?;
        if flavor != I386_THREAD_STATE || new_state.len() < THREAD_STATE_COUNT {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let w = |i: usize| u64::from(new_state[2 * i]) | (u64::from(new_state[2 * i + 1]) << 32);
        let rip = w(16);
        let rsp = w(19);
        // GNU Mach takes any rip and rsp (suite `task-hostile`): a thread started at a kernel
        // or unmapped address, or with a bad stack, faults in ring 3 and its task ends. A
        // non-canonical rip would fault on `iretq` in ring 0 (GNU Mach 1.8 panics there), so
        // Mach_R refuses it.
        if !mach_r_mm::paging::is_canonical(rip) {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let Some(th) = self.k.threads.get_mut(&t) else {
            return Err(err(KERN_INVALID_ARGUMENT));
        };
        let f = &mut th.frame;
        f.r8 = w(0);
        f.r9 = w(1);
        f.r10 = w(2);
        f.r11 = w(3);
        f.r12 = w(4);
        f.r13 = w(5);
        f.r14 = w(6);
        f.r15 = w(7);
        f.rdi = w(8);
        f.rsi = w(9);
        f.rbp = w(10);
        f.rbx = w(12);
        f.rdx = w(13);
        f.rcx = w(14);
        f.rax = w(15);
        f.rip = rip;
        // As GNU Mach keeps it (read back in suite `task-hostile`): IOPL, NT and RF cleared,
        // IF set, every other bit as given (the CPU ignores the reserved ones; TF traps).
        f.rflags = (w(18) & !RFLAGS_KERNEL_BITS) | RFLAGS_IF;
        f.rsp = rsp;
        Ok(())
    }

    fn thread_suspend(&mut self, target_thread: rt::PortName) -> Result<(), rt::Error> {
        let t = self.thread(target_thread)?;
        if let Some(th) = self.k.threads.get_mut(&t) {
            th.suspend_count += 1;
        }
        if self.k.current == Some(t) {
            self.k.resched = true;
        }
        Ok(())
    }

    fn thread_resume(&mut self, target_thread: rt::PortName) -> Result<(), rt::Error> {
        let t = self.thread(target_thread)?;
        let Some(th) = self.k.threads.get_mut(&t) else {
            return Err(err(KERN_INVALID_ARGUMENT));
        };
        if th.suspend_count == 0 {
            return Err(rt::Error::new(5)); // KERN_FAILURE
        }
        th.suspend_count -= 1;
        self.k.make_ready(t);
        Ok(())
    }

    fn vm_allocate(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        size: u64,
        anywhere: u32,
    ) -> Result<u64, rt::Error> {
        let t = self.task(target_task)?;
        room(self.k)?;
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::allocate(&mut task.vm, task.root, address, size, anywhere != 0).map_err(err)
    }

    fn vm_protect(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        size: u64,
        set_maximum: u32,
        new_protection: u32,
    ) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::protect(
            &mut task.vm,
            task.root,
            address,
            size,
            set_maximum != 0,
            new_protection,
        )
        .map_err(err)
    }

    fn vm_inherit(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        size: u64,
        new_inheritance: u32,
    ) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::inherit(&mut task.vm, address, size, new_inheritance).map_err(err)
    }

    #[allow(clippy::type_complexity)]
    fn vm_region(
        &mut self,
        target_task: rt::PortName,
        address: u64,
    ) -> Result<(u64, u64, u32, u32, u32, u32, rt::SendRight, u64), rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        let r = task
            .vm
            .region(address)
            .ok_or(err(crate::vm::KERN_NO_SPACE))?;
        Ok((
            r.start,
            r.size,
            r.region.prot,
            r.region.max_prot,
            r.region.inherit,
            0,
            rt::SendRight::from_name(rt::PortName::NULL),
            0,
        ))
    }

    fn vm_read(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        size: u64,
    ) -> Result<rt::OolToken<u8>, rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        let (pages, offset) =
            crate::vm::read_pages(&task.vm, task.root, address, size).map_err(err)?;
        Ok(rt::OolToken::new(
            self.ool.put_at(pages, offset),
            size as usize,
        ))
    }

    fn vm_write(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        data: rt::OolToken<u8>,
    ) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        let (token, len) = data.into_raw();
        // Data that did not start on a page: KERN_INVALID_ARGUMENT (observed, suite `vm`).
        if self.ool.source_offset(token) != 0 {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let bytes = self
            .ool
            .get(token)
            .map(|b| &b[..len.min(b.len())])
            .unwrap_or(&[]);
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::write(&mut task.vm, task.root, address, bytes).map_err(err)
    }

    fn vm_copy(
        &mut self,
        target_task: rt::PortName,
        source_address: u64,
        size: u64,
        dest_address: u64,
    ) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::copy(&mut task.vm, task.root, source_address, size, dest_address).map_err(err)
    }

    fn vm_statistics(&mut self, target_task: rt::PortName) -> Result<[i32; 13], rt::Error> {
        self.task(target_task)?;
        // struct vm_statistics: pagesize, free_count, active_count, inactive_count,
        // wire_count, zero_fill_count, reactivations, pageins, pageouts, faults,
        // cow_faults, lookups, hits.
        let mut st = [0i32; 13];
        st[0] = mach_r_mm::PAGE_SIZE as i32;
        st[1] = crate::mm::free_frames() as i32;
        Ok(st)
    }

    fn task_info(
        &mut self,
        target_task: rt::PortName,
        flavor: i32,
        out: &mut [i32],
    ) -> Result<usize, rt::Error> {
        let t = self.task(target_task)?;
        if flavor != TASK_BASIC_INFO || out.len() < TASK_BASIC_INFO_COUNT {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let task = self.k.tasks.get(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        let size = task.vm.mapped_bytes();
        out[..TASK_BASIC_INFO_COUNT].fill(0);
        // Byte offsets of `struct task_basic_info` (x86_64): suspend_count 0, base_priority 4,
        // virtual_size 8, resident_size 16.
        out[0] = task.suspend_count as i32;
        out[1] = i32::from(crate::sched::DEFAULT_PRIORITY);
        out[2] = size as i32;
        out[3] = (size >> 32) as i32;
        out[4] = size as i32;
        out[5] = (size >> 32) as i32;
        Ok(TASK_BASIC_INFO_COUNT)
    }

    fn thread_info(
        &mut self,
        target_thread: rt::PortName,
        flavor: i32,
        out: &mut [i32],
    ) -> Result<usize, rt::Error> {
        let t = self.thread(target_thread)?;
        if flavor != THREAD_BASIC_INFO || out.len() < THREAD_BASIC_INFO_COUNT {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let th = &self.k.threads[&t];
        let task_suspended = self
            .k
            .tasks
            .get(&th.task)
            .is_some_and(|t| t.suspend_count > 0);
        let run_state = if th.suspend_count > 0 || task_suspended {
            TH_STATE_STOPPED
        } else if th.state == crate::sched::State::Waiting {
            TH_STATE_WAITING
        } else {
            TH_STATE_RUNNING
        };
        out[..THREAD_BASIC_INFO_COUNT].fill(0);
        // Word offsets of `struct thread_basic_info` (x86_64: 16-byte rpc_time_value_t).
        out[9] = i32::from(th.priority);
        out[10] = i32::from(th.sched_pri);
        out[11] = run_state;
        out[13] = th.suspend_count as i32;
        Ok(THREAD_BASIC_INFO_COUNT)
    }

    fn vm_deallocate(
        &mut self,
        target_task: rt::PortName,
        address: u64,
        size: u64,
    ) -> Result<(), rt::Error> {
        let t = self.task(target_task)?;
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        crate::vm::deallocate(&mut task.vm, task.root, address, size).map_err(err)
    }
}

/// Sets (`deny`) or clears the bits of ports `from..=to` in an I/O permission bitmap.
fn set_io_bits(bitmap: &mut [u8], from: u16, to: u16, deny: bool) {
    for port in usize::from(from)..=usize::from(to) {
        let (byte, bit) = (port / 8, 1u8 << (port % 8));
        if deny {
            bitmap[byte] |= bit;
        } else {
            bitmap[byte] &= !bit;
        }
    }
}

impl mig::mach_i386::server::Server for Srv<'_> {
    /// A new port standing for the ports `from..=to` (observed: `ioperm`): on the device
    /// master port only, `KERN_INVALID_ARGUMENT` otherwise and when `from > to`.
    fn i386_io_perm_create(
        &mut self,
        master_port: rt::PortName,
        from: u16,
        to: u16,
    ) -> Result<rt::PortName, rt::Error> {
        if self.object(master_port) != Some(KObject::DeviceMaster) || from > to {
            return Err(err(KERN_INVALID_ARGUMENT));
        }
        let port = crate::kobj::new_port(self.k.ipc(), KObject::IoPerm { from, to });
        Ok(self.kname(port))
    }

    /// Grants (`enable` non-zero) or withdraws the ports of `io_perm` in the task's I/O
    /// bitmap, which the TSS carries while the task runs (`arch::gdt::set_io_bitmap`).
    /// `KERN_INVALID_ARGUMENT` for a target that is no task or a port that is no I/O
    /// permission (GNU Mach 1.8 faults in the kernel on the latter: not probed further).
    fn i386_io_perm_modify(
        &mut self,
        target_task: rt::PortName,
        io_perm: rt::SendRight,
        enable: u32,
    ) -> Result<(), rt::Error> {
        let right = self.take(io_perm.into_name(), MACH_MSG_TYPE_PORT_SEND);
        let perm = match &right {
            Right::Send(p) => KObject::from_tag(self.k.ipc().kobject(*p)),
            _ => None,
        };
        self.k.ipc().destroy_right(right);
        let t = self.task(target_task)?;
        let Some(KObject::IoPerm { from, to }) = perm else {
            return Err(err(KERN_INVALID_ARGUMENT));
        };
        let task = self.k.tasks.get_mut(&t).ok_or(err(KERN_INVALID_ARGUMENT))?;
        let bitmap = task
            .io_bitmap
            .get_or_insert_with(|| alloc::vec![0xff; IO_PORTS / 8].into_boxed_slice());
        set_io_bits(bitmap, from, to, enable == 0);
        self.k.reload_io_bitmap(t);
        Ok(())
    }
}

/// The name of a send right a task holds for kernel object `port`, made for a trap.
pub fn self_port(k: &mut Kernel, space: SpaceId, port: mach_r_ipc::PortId) -> Name {
    k.ipc().make_send(space, port).unwrap_or(MACH_PORT_NULL)
}
