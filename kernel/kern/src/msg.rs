//! `mach_msg`: the trap's send and receive phases over the IPC core, and the continuations
//! of threads that wait in it.

use crate::sched::{Kernel, Resume, ThreadId};

/// Runs the continuation of woken thread `id` (called by the scheduler before entering it).
pub fn resume(k: &mut Kernel, id: ThreadId, r: Resume) {
    let _ = (k, id, r);
}
