//! Mach traps, entered with `syscall` under the GNU Mach x86_64 convention: the trap number
//! (negative for Mach traps) in RAX, arguments in RDI, RSI, RDX, R10, R8, R9 (the user stub
//! copies RCX to R10), the result in RAX; every other register is preserved.
//!
//! Implemented: `mach_reply_port` (-26), `mach_thread_self` (-27), `mach_task_self` (-28),
//! `mach_host_self` (-29), `mach_print` (-30), `swtch_pri` (-59), `swtch` (-60),
//! `thread_switch` (-61), `syscall_task_terminate` (-69). Any other number, positive or
//! negative, returns `KERN_INVALID_ARGUMENT`, as GNU Mach's `kern_invalid` does.

use crate::arch::usermode;
use crate::console;
use crate::ipc::{Object, Right, MACH_PORT_NULL};
use crate::task::{self, Task};
use crate::trap::TrapFrame;
use crate::uaccess;

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
    Return(u64),
    Terminate,
}

/// Called by the `syscall` stub with interrupts masked, on the kernel stack.
#[no_mangle]
extern "C" fn syscall_entry_rust(frame: &mut TrapFrame) {
    debug_assert_eq!(frame.vector, usermode::SYSCALL_VECTOR);
    let number = frame.rax as i64;
    let args = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    let action = task::with_current(|t| {
        t.traps += 1;
        dispatch(t, number, args)
    });
    match action {
        Some(Action::Return(v)) => frame.rax = v,
        Some(Action::Terminate) => {
            task::set_outcome(task::Outcome::Terminated);
            usermode::exit_to_runner(task::EXIT_TERMINATED)
        }
        None => panic!("syscall with no current task"),
    }
}

fn dispatch(t: &mut Task, number: i64, a: [u64; 6]) -> Action {
    use nr::*;
    let r = match number {
        MACH_REPLY_PORT => u64::from(t.ports.new_receive_right()),
        MACH_THREAD_SELF => u64::from(t.ports.send_right_to(Object::Thread)),
        MACH_TASK_SELF => u64::from(t.ports.send_right_to(Object::Task)),
        MACH_HOST_SELF => u64::from(t.ports.send_right_to(Object::Host)),
        MACH_PRINT => mach_print(t, a[0]),
        // One thread runs at a time, so there is never another thread to switch to: FALSE.
        SWTCH_PRI | SWTCH => 0,
        THREAD_SWITCH => thread_switch(t, a[0], a[1]),
        TASK_TERMINATE => return task_terminate(t, a[0]),
        _ => {
            t.invalid_traps += 1;
            KERN_INVALID_ARGUMENT
        }
    };
    Action::Return(r)
}

fn mach_print(t: &mut Task, s: u64) -> u64 {
    match uaccess::read_cstr(t.root, s, MACH_PRINT_MAX) {
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

/// `thread_switch(thread, option, time)`: options are `SWITCH_OPTION_NONE` (0),
/// `SWITCH_OPTION_DEPRESS` (1) and `SWITCH_OPTION_WAIT` (2); the hint must be null or a
/// name of a thread. No other thread exists, so the call returns at once.
fn thread_switch(t: &Task, thread: u64, option: u64) -> u64 {
    if option > 2 {
        return KERN_INVALID_ARGUMENT;
    }
    let Ok(name) = u32::try_from(thread) else {
        return KERN_INVALID_ARGUMENT;
    };
    if name != MACH_PORT_NULL
        && !matches!(t.ports.lookup(name), Some(e) if e.object == Object::Thread)
    {
        return KERN_INVALID_ARGUMENT;
    }
    KERN_SUCCESS
}

/// `syscall_task_terminate(task)`: only a task's own task port is accepted.
fn task_terminate(t: &Task, task_name: u64) -> Action {
    match u32::try_from(task_name)
        .ok()
        .and_then(|n| t.ports.lookup(n))
    {
        Some(e) if e.object == Object::Task && e.right == Right::Send => Action::Terminate,
        _ => Action::Return(KERN_INVALID_ARGUMENT),
    }
}
