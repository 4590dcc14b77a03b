//! Mach traps, entered with `syscall` under the GNU Mach x86_64 convention: the trap number
//! (negative for Mach traps) in RAX, arguments in RDI, RSI, RDX, R10, R8, R9 (the user stub
//! copies RCX to R10), the result in RAX; every other register is preserved.
//!
//! Implemented: `mach_msg_trap` (-25, [`crate::msg`]), `mach_reply_port` (-26), `mach_thread_self` (-27), `mach_task_self` (-28),
//! `mach_host_self` (-29), `mach_print` (-30), `swtch_pri` (-59), `swtch` (-60),
//! `thread_switch` (-61), `syscall_task_terminate` (-69). Any other number, positive or
//! negative, returns `KERN_INVALID_ARGUMENT`, as GNU Mach's `kern_invalid` does.

use crate::arch::usermode;
use crate::console;
use crate::kobj::KObject;
use crate::sched::{self, Kernel, Resume, ThreadId, Wait, WaitKind};
use crate::task::{self, Task, TaskId};
use crate::trap::{FxArea, TrapFrame};
use crate::uaccess;
use crate::{msg, servers};
use mach_r_ipc::consts::MACH_PORT_NULL;
use mach_r_ipc::SpaceId;

/// `KERN_SUCCESS`.
pub const KERN_SUCCESS: u64 = 0;
/// `KERN_INVALID_ADDRESS`.
pub const KERN_INVALID_ADDRESS: u64 = 1;
/// `KERN_INVALID_ARGUMENT`.
pub const KERN_INVALID_ARGUMENT: u64 = 4;

/// Longest string `mach_print` accepts.
pub const MACH_PRINT_MAX: usize = 1024;

/// The Mach trap numbers Mach_R implements.
pub mod nr {
    /// `mach_msg_trap(msg, option, send_size, rcv_size, rcv_name, timeout, notify)`.
    pub const MACH_MSG_TRAP: i64 = -25;
    /// `mach_reply_port()`.
    pub const MACH_REPLY_PORT: i64 = -26;
    /// `mach_thread_self()`.
    pub const MACH_THREAD_SELF: i64 = -27;
    /// `mach_task_self()`.
    pub const MACH_TASK_SELF: i64 = -28;
    /// `mach_host_self()`.
    pub const MACH_HOST_SELF: i64 = -29;
    /// `mach_print(const char *)`.
    pub const MACH_PRINT: i64 = -30;
    /// `swtch_pri(int)`.
    pub const SWTCH_PRI: i64 = -59;
    /// `swtch()`.
    pub const SWTCH: i64 = -60;
    /// `thread_switch(thread, option, time)`.
    pub const THREAD_SWITCH: i64 = -61;
    /// `syscall_task_terminate(task)`.
    pub const TASK_TERMINATE: i64 = -69;
}

enum Action {
    /// Return this value to the thread.
    Return(u64),
    /// The thread waits, or is gone: its result is set when it is woken.
    NoReturn,
}

/// Called by the `syscall` stub with interrupts masked, on the kernel stack. Returns 0 to
/// leave with `sysretq` to the same thread, 1 to leave with `iretq` (to whatever thread is
/// now in `frame`).
#[no_mangle]
extern "C" fn syscall_entry_rust(frame: &mut TrapFrame, fx: &mut FxArea) -> u64 {
    debug_assert_eq!(frame.vector, usermode::SYSCALL_VECTOR);
    let number = frame.rax as i64;
    let args = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    let mut k = sched::lock();
    let Some((thread, task)) = k.current_ids() else {
        panic!("syscall with no current thread");
    };
    // One lookup of the task: its count of traps and its space.
    let space = match k.tasks.get_mut(&task) {
        Some(t) => {
            t.traps += 1;
            Some(t.space)
        }
        None => None,
    };
    let action = match space {
        Some(space) => dispatch(&mut k, thread, task, space, number, args),
        None => Action::NoReturn,
    };
    match action {
        Action::Return(v) => frame.rax = v,
        Action::NoReturn => {}
    }
    sched::leave(k, frame, fx, true)
}

fn dispatch(
    k: &mut Kernel,
    thread: ThreadId,
    task: TaskId,
    space: SpaceId,
    number: i64,
    a: [u64; 6],
) -> Action {
    use nr::*;
    let r = match number {
        MACH_MSG_TRAP => {
            return match msg::mach_msg(k, thread, task, a) {
                Some(v) => Action::Return(v),
                None => Action::NoReturn,
            }
        }
        MACH_REPLY_PORT => u64::from(k.ipc().reply_port(space)),
        MACH_THREAD_SELF => match k.threads.get(&thread).and_then(|t| t.port) {
            Some(p) => u64::from(servers::self_port(k, space, p)),
            None => u64::from(MACH_PORT_NULL),
        },
        MACH_TASK_SELF => match k.tasks.get(&task).map(|t| t.port) {
            Some(p) => u64::from(servers::self_port(k, space, p)),
            None => u64::from(MACH_PORT_NULL),
        },
        MACH_HOST_SELF => {
            let p = k.kports().host;
            u64::from(servers::self_port(k, space, p))
        }
        MACH_PRINT => match k.tasks.get_mut(&task) {
            Some(t) => mach_print(t, a[0]),
            None => KERN_INVALID_ADDRESS,
        },
        SWTCH_PRI | SWTCH => {
            let others = k.others_ready();
            if others {
                k.resched = true;
            }
            u64::from(others)
        }
        THREAD_SWITCH => return thread_switch(k, thread, space, a[0], a[1], a[2]),
        TASK_TERMINATE => return task_terminate(k, space, a[0]),
        _ => {
            if let Some(t) = k.tasks.get_mut(&task) {
                t.invalid_traps += 1;
            }
            KERN_INVALID_ARGUMENT
        }
    };
    Action::Return(r)
}

/// The kernel object a task's name stands for.
fn object_of(k: &mut Kernel, space: SpaceId, name: u64) -> Option<KObject> {
    let name = u32::try_from(name).ok()?;
    let ipc = k.ipc();
    let p = ipc.name_port(space, name)?;
    KObject::from_tag(ipc.kobject(p))
}

fn mach_print(t: &mut Task, s: u64) -> u64 {
    match uaccess::read_cstr_map(&t.vm, t.root, s, MACH_PRINT_MAX) {
        Some(bytes) => {
            // Each line of a task's output is prefixed with its name.
            for line in bytes.split_inclusive(|&b| b == b'\n') {
                if t.at_line_start {
                    console::print_bytes(format_args!("[{}] ", t.name), line);
                } else {
                    console::print_bytes(format_args!(""), line);
                }
                t.at_line_start = line.ends_with(b"\n");
            }
            KERN_SUCCESS
        }
        None => KERN_INVALID_ADDRESS,
    }
}

/// `SWITCH_OPTION_NONE`.
const SWITCH_OPTION_NONE: u64 = 0;
/// `SWITCH_OPTION_DEPRESS`.
const SWITCH_OPTION_DEPRESS: u64 = 1;
/// `SWITCH_OPTION_WAIT`.
const SWITCH_OPTION_WAIT: u64 = 2;

/// `thread_switch(thread, option, time)`: the hint must be null or a name of a thread; the
/// caller gives up the CPU (to the hinted thread first when it is ready), with its priority
/// depressed for `time` ms (`SWITCH_OPTION_DEPRESS`) or blocked for `time` ms
/// (`SWITCH_OPTION_WAIT`).
fn thread_switch(
    k: &mut Kernel,
    thread: ThreadId,
    space: SpaceId,
    hint: u64,
    option: u64,
    time: u64,
) -> Action {
    if option > SWITCH_OPTION_WAIT {
        return Action::Return(KERN_INVALID_ARGUMENT);
    }
    if hint != u64::from(MACH_PORT_NULL) {
        match object_of(k, space, hint) {
            Some(KObject::Thread(_)) => {}
            _ => return Action::Return(KERN_INVALID_ARGUMENT),
        }
    }
    let ms = u32::try_from(time).unwrap_or(u32::MAX);
    match option {
        SWITCH_OPTION_WAIT => {
            k.block(
                thread,
                Wait {
                    kind: WaitKind::Sleep,
                    deadline: Some(sched::now() + sched::ms_to_ticks(ms)),
                    resume: Resume::Value(KERN_SUCCESS),
                },
            );
            Action::NoReturn
        }
        SWITCH_OPTION_DEPRESS | SWITCH_OPTION_NONE => {
            if option == SWITCH_OPTION_DEPRESS {
                if let Some(t) = k.threads.get_mut(&thread) {
                    t.sched_pri = (sched::NRQS - 1) as u8;
                    t.depress_until = Some(sched::now() + sched::ms_to_ticks(ms));
                }
            }
            if k.others_ready() {
                k.resched = true;
            }
            Action::Return(KERN_SUCCESS)
        }
        _ => Action::Return(KERN_INVALID_ARGUMENT),
    }
}

/// `syscall_task_terminate(task)`: the task a name of the caller's denotes ends.
fn task_terminate(k: &mut Kernel, space: SpaceId, task_name: u64) -> Action {
    let Some(KObject::Task(target)) = object_of(k, space, task_name) else {
        return Action::Return(KERN_INVALID_ARGUMENT);
    };
    k.terminate_task(target, task::Outcome::Terminated);
    if k.current.is_some() {
        Action::Return(KERN_SUCCESS)
    } else {
        Action::NoReturn
    }
}
