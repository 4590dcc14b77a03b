//! Threads and the scheduler.
//!
//! Mach_R runs on one CPU with one kernel stack and never sleeps on it: a thread is its saved
//! user state ([`TrapFrame`] + [`FxArea`]) and a run state. Every entry from ring 3 (the
//! `syscall` stub, an interrupt or an exception) runs to completion and leaves through
//! [`leave`], which either returns to the thread that entered (with `sysretq` after a
//! system call) or stores that thread's state, takes the next ready thread and rewrites the
//! frame on the stack so that the stub's `iretq` enters it. A thread that waits (in
//! `mach_msg`, `thread_switch` with a wait) records what it waits for; when it is woken the
//! scheduler runs its continuation ([`Resume`]) in the kernel before it is entered again.
//!
//! When no thread is ready, the state of the one that entered is kept and the stack is
//! abandoned: [`leave`] returns to the kernel's runner ([`run`]), which idles with `hlt`
//! on the boot stack until a tick makes a thread ready. Interrupts taken while the runner
//! idles (ring 0) only count ticks and wake threads; they never switch.
//!
//! Priorities are Mach's: 0 is the most urgent, [`NRQS`] - 1 the least; each level is a FIFO
//! queue, and a thread runs for a quantum of [`QUANTUM_TICKS`] ticks before a ready thread of
//! the same or a better priority gets the CPU.

use crate::arch::usermode;
use crate::mm;
use crate::sync::{IrqGuard, IrqLock};
use crate::task::{Outcome, Task, TaskId};
use crate::trap::{FxArea, TrapFrame};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use mach_r_ipc::{Ipc, KMsg, PortId, Waitable};

/// A thread's identifier (never reused during a boot).
pub type ThreadId = u32;

/// Number of priority levels (as many as GNU Mach has).
pub const NRQS: usize = 50;
/// The priority of a new user thread (GNU Mach reports 25 as a task's base priority).
pub const DEFAULT_PRIORITY: u8 = 25;
/// Ticks a thread runs before others of its priority get their turn.
pub const QUANTUM_TICKS: u32 = 5;

/// `leave` result: return to the same thread with `sysretq`.
const EXIT_SYSRET: u64 = 0;
/// `leave` result: enter the thread whose state is now in the frame with `iretq`.
const EXIT_IRET: u64 = 1;
/// `enter_user` result: the runner got the CPU back (no thread ready, or none left).
pub const EXIT_IDLE: u64 = 3;

/// What a thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// In a ready queue (or about to be).
    Ready,
    /// On the CPU.
    Running,
    /// Waiting for an event or a deadline.
    Waiting,
}

/// Work the kernel does for a woken thread before entering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Retry the receive phase of the `mach_msg` it waits in.
    Receive,
    /// Retry the send phase of the `mach_msg` it waits in (its message is kept).
    Send,
    /// Return this value (a plain sleep).
    Value(u64),
}

/// What a waiting thread waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// Only its deadline (`thread_switch` with `SWITCH_OPTION_WAIT`).
    Sleep,
    /// A message on a port or port set (`mach_msg` receive).
    Receive(Waitable),
    /// Room in a full queue (`mach_msg` send).
    Send(PortId),
}

/// A wait: its kind, its deadline (in ticks) and what runs when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// What is awaited.
    pub kind: WaitKind,
    /// Tick at which the wait ends on its own (the thread's `timed_out` is then set).
    pub deadline: Option<u64>,
    /// The continuation, run on wake-up and on timeout.
    pub resume: Resume,
}

/// The arguments of the `mach_msg` a thread is in (kept while it waits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgArgs {
    /// User address of the message buffer.
    pub msg: u64,
    /// `mach_msg_option_t`.
    pub option: u32,
    /// Bytes to send.
    pub send_size: u32,
    /// Bytes of receive buffer.
    pub rcv_size: u32,
    /// Name to receive from.
    pub rcv_name: u32,
    /// Timeout in milliseconds.
    pub timeout: u32,
    /// `notify` argument.
    pub notify: u32,
}

/// A thread.
#[derive(Debug)]
pub struct Thread {
    /// Its identifier.
    pub id: ThreadId,
    /// Its task.
    pub task: TaskId,
    /// User registers (valid while it is not running).
    pub frame: TrapFrame,
    /// User FPU/SSE state (valid while it is not running).
    pub fx: Box<FxArea>,
    /// Run state.
    pub state: State,
    /// `thread_suspend` count; the thread runs only at 0 (and its task's count at 0).
    pub suspend_count: u32,
    /// Base priority.
    pub priority: u8,
    /// Current priority (lowered by `thread_switch` depression).
    pub sched_pri: u8,
    /// Tick at which a priority depression ends.
    pub depress_until: Option<u64>,
    /// Ticks left in its quantum.
    pub quantum: u32,
    /// What it waits for.
    pub wait: Option<Wait>,
    /// Continuation to run before it is entered.
    pub resume: Option<Resume>,
    /// Its current `mach_msg`.
    pub msg: MsgArgs,
    /// The deadline of its current `mach_msg` (kept over spurious wake-ups).
    pub msg_deadline: Option<u64>,
    /// Set when its wait ended by its deadline (read by the continuation).
    pub timed_out: bool,
    /// The message a sender waits to queue.
    pub pending: Option<KMsg>,
    /// Its kernel port (`mach_thread_self`).
    pub port: Option<PortId>,
    /// `THREAD_EXCEPTION_PORT` (a [`crate::kobj::kept`] name; null for a new thread).
    pub exception_port: mach_r_ipc::Name,
    /// Whether it is in a ready queue.
    queued: bool,
}

impl Thread {
    /// A new thread of `task` that starts with `frame`, suspended `suspend_count` times.
    pub fn new(id: ThreadId, task: TaskId, frame: TrapFrame, suspend_count: u32) -> Thread {
        Thread {
            id,
            task,
            frame,
            fx: Box::new(FxArea::initial()),
            state: State::Ready,
            suspend_count,
            priority: DEFAULT_PRIORITY,
            sched_pri: DEFAULT_PRIORITY,
            depress_until: None,
            quantum: QUANTUM_TICKS,
            wait: None,
            resume: None,
            msg: MsgArgs::default(),
            msg_deadline: None,
            timed_out: false,
            pending: None,
            port: None,
            exception_port: 0,
            queued: false,
        }
    }
}

/// Whether thread `t` can run: ready, not suspended, its task neither suspended nor ended.
fn thread_runnable(t: &Thread, tasks: &BTreeMap<TaskId, Task>) -> bool {
    t.state == State::Ready
        && t.suspend_count == 0
        && tasks
            .get(&t.task)
            .is_some_and(|task| task.suspend_count == 0 && task.outcome.is_none())
}

/// Everything the scheduler and the traps share, behind one lock.
#[derive(Debug)]
pub struct Kernel {
    /// Live and dead-but-unreaped tasks.
    pub tasks: BTreeMap<TaskId, Task>,
    /// Threads.
    pub threads: BTreeMap<ThreadId, Thread>,
    /// The thread on the CPU.
    pub current: Option<ThreadId>,
    /// Set when the current thread should give up the CPU at the next exit.
    pub resched: bool,
    ready: [VecDeque<ThreadId>; NRQS],
    /// Bit `p` set when `ready[p]` is not empty (the queues are scanned through it).
    ready_mask: u64,
    /// The current thread and its task, as [`Kernel::current_ids`] last found them (used
    /// while the thread is still `current`, so a trap looks nothing up).
    current_cache: Option<(ThreadId, TaskId)>,
    next_thread: ThreadId,
    /// Next task identifier.
    pub next_task: TaskId,
    loaded_root: u64,
    /// The IPC state (made by [`Kernel::init_ipc`] at boot).
    pub ipc: Option<Ipc>,
    /// The kernel's own ports (host, device master, ...), made with the IPC state.
    pub kports: Option<crate::kobj::KPorts>,
    /// The buffer `msg::process_wakeups` trades with the IPC core's wake-up list.
    pub wake_buf: Vec<mach_r_ipc::Wakeup>,
    /// Message buffers kept for reuse (`msg::take_buf` / `msg::give_buf`), so a message
    /// in steady traffic allocates nothing.
    pub msg_bufs: Vec<Vec<u8>>,
}

/// The kernel's state.
pub static KERNEL: IrqLock<Kernel> = IrqLock::new(Kernel {
    tasks: BTreeMap::new(),
    threads: BTreeMap::new(),
    current: None,
    resched: false,
    ready: [const { VecDeque::new() }; NRQS],
    ready_mask: 0,
    current_cache: None,
    next_thread: 1,
    next_task: 1,
    loaded_root: 0,
    ipc: None,
    kports: None,
    wake_buf: Vec::new(),
    msg_bufs: Vec::new(),
});

/// Locks the kernel state.
pub fn lock() -> IrqGuard<'static, Kernel> {
    KERNEL.lock()
}

/// The current tick count.
pub fn now() -> u64 {
    crate::trap::TICKS.load(core::sync::atomic::Ordering::Relaxed)
}

/// Ticks (rounded up, at least 1) for `ms` milliseconds.
pub fn ms_to_ticks(ms: u32) -> u64 {
    let hz = crate::arch::timer::HZ;
    (u64::from(ms) * hz).div_ceil(1000).max(1)
}

impl Kernel {
    /// A fresh thread identifier.
    pub fn new_thread_id(&mut self) -> ThreadId {
        let id = self.next_thread;
        self.next_thread += 1;
        id
    }

    /// Adds a thread; it is queued if it is runnable.
    pub fn add_thread(&mut self, t: Thread) {
        let id = t.id;
        self.threads.insert(id, t);
        self.make_ready(id);
    }

    fn runnable(&self, id: ThreadId) -> bool {
        self.threads
            .get(&id)
            .is_some_and(|t| thread_runnable(t, &self.tasks))
    }

    /// Puts a ready thread in its queue if it can run (idempotent).
    pub fn make_ready(&mut self, id: ThreadId) {
        let Some(t) = self.threads.get_mut(&id) else {
            return;
        };
        if !thread_runnable(t, &self.tasks) || t.queued || self.current == Some(id) {
            return;
        }
        t.queued = true;
        let p = usize::from(t.sched_pri).min(NRQS - 1);
        self.ready[p].push_back(id);
        self.ready_mask |= 1 << p;
    }

    /// Ends a wait: the thread becomes ready and its continuation runs before it is
    /// entered (`timed_out` tells the continuation why).
    pub fn wake(&mut self, id: ThreadId, timed_out: bool) {
        let Some(t) = self.threads.get_mut(&id) else {
            return;
        };
        if t.state != State::Waiting {
            return;
        }
        let Some(w) = t.wait.take() else {
            return;
        };
        t.state = State::Ready;
        t.resume = Some(w.resume);
        t.timed_out = timed_out;
        let pri = t.sched_pri;
        self.make_ready(id);
        if let Some(c) = self.current {
            if pri < self.threads.get(&c).map_or(NRQS as u8, |t| t.sched_pri) {
                self.resched = true;
            }
        }
    }

    /// Wakes every thread waiting with `kind`.
    pub fn wake_all(&mut self, kind: WaitKind) {
        // In batches on the stack (a woken thread no longer waits, so the next scan skips
        // it): no allocation, the same order.
        const BATCH: usize = 8;
        loop {
            let mut ids = [0; BATCH];
            let mut n = 0;
            for id in self.waiters(kind).take(BATCH) {
                ids[n] = id;
                n += 1;
            }
            for &id in &ids[..n] {
                self.wake(id, false);
            }
            if n < BATCH {
                return;
            }
        }
    }

    /// Makes thread `id` wait for `wait`.
    pub fn block(&mut self, id: ThreadId, wait: Wait) {
        if let Some(t) = self.threads.get_mut(&id) {
            t.state = State::Waiting;
            t.wait = Some(wait);
        }
    }

    /// Threads waiting with the given kind.
    pub fn waiters(&self, kind: WaitKind) -> impl Iterator<Item = ThreadId> + '_ {
        self.threads
            .values()
            .filter(move |t| t.state == State::Waiting && t.wait.is_some_and(|w| w.kind == kind))
            .map(|t| t.id)
    }

    /// The ready queues that are not empty, most urgent first.
    fn nonempty_queues(&self) -> impl Iterator<Item = (usize, &VecDeque<ThreadId>)> + '_ {
        let mut mask = self.ready_mask;
        core::iter::from_fn(move || {
            (mask != 0).then(|| {
                let p = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                (p, &self.ready[p])
            })
        })
    }

    /// Whether a thread other than the current one is ready to run.
    pub fn others_ready(&self) -> bool {
        self.nonempty_queues()
            .flat_map(|(_, q)| q)
            .any(|&id| Some(id) != self.current && self.runnable(id))
    }

    /// The best priority among queued runnable threads.
    fn best_ready(&self) -> Option<u8> {
        self.nonempty_queues()
            .find(|(_, q)| q.iter().any(|&id| self.runnable(id)))
            .map(|(p, _)| p as u8)
    }

    /// Takes the next thread to run, running woken threads' continuations.
    fn pick_next(&mut self) -> Option<ThreadId> {
        loop {
            let mut found = None;
            while self.ready_mask != 0 {
                let p = self.ready_mask.trailing_zeros() as usize;
                while let Some(id) = self.ready[p].pop_front() {
                    if let Some(t) = self.threads.get_mut(&id) {
                        t.queued = false;
                        if thread_runnable(t, &self.tasks) {
                            found = Some((id, t.resume.take()));
                            break;
                        }
                    }
                }
                if self.ready[p].is_empty() {
                    self.ready_mask &= !(1 << p);
                }
                if found.is_some() {
                    break;
                }
            }
            let (id, resume) = found?;
            if let Some(r) = resume {
                crate::msg::resume(self, id, r);
                if !self.runnable(id) {
                    continue;
                }
            }
            return Some(id);
        }
    }

    /// Called on every tick: ends expired waits and depressions.
    pub fn tick(&mut self, now: u64) {
        let mut expired = Vec::new();
        for t in self.threads.values_mut() {
            if let Some(d) = t.depress_until {
                if now >= d {
                    t.depress_until = None;
                    t.sched_pri = t.priority;
                }
            }
            if t.state == State::Waiting {
                if let Some(w) = t.wait {
                    if w.deadline.is_some_and(|d| now >= d) {
                        expired.push(t.id);
                    }
                }
            }
        }
        for id in expired {
            self.wake(id, true);
        }
    }

    /// Charges a tick to the running thread; true when its task has used up its budget.
    pub fn charge(&mut self) -> bool {
        let Some(c) = self.current else {
            return false;
        };
        let Some(t) = self.threads.get_mut(&c) else {
            return false;
        };
        t.quantum = t.quantum.saturating_sub(1);
        let (task, exhausted, pri) = (t.task, t.quantum == 0, t.sched_pri);
        if exhausted {
            if let Some(t) = self.threads.get_mut(&c) {
                t.quantum = QUANTUM_TICKS;
            }
            if self.best_ready().is_some_and(|b| b <= pri) {
                self.resched = true;
            }
        }
        self.tasks.get_mut(&task).is_some_and(|t| {
            t.ticks += 1;
            t.ticks > crate::task::TICK_BUDGET
        })
    }

    /// The current thread's id and task id.
    pub fn current_ids(&mut self) -> Option<(ThreadId, TaskId)> {
        let c = self.current?;
        if let Some((t, task)) = self.current_cache {
            // Thread ids are never reused and a thread never changes task; a thread that
            // ended is no longer `current`.
            if t == c {
                return Some((t, task));
            }
        }
        let ids = (c, self.threads.get(&c)?.task);
        self.current_cache = Some(ids);
        Some(ids)
    }

    /// Loads the page tables of `task` (or the kernel's) if they are not loaded.
    pub fn load_space_of(&mut self, task: Option<TaskId>) {
        let root = task
            .and_then(|t| self.tasks.get(&t))
            .map_or_else(mm::kernel_root, |t| t.root);
        if root != self.loaded_root {
            mm::switch_to(root);
            self.loaded_root = root;
            let bits = task
                .and_then(|t| self.tasks.get(&t))
                .and_then(|t| t.io_bitmap.as_deref());
            crate::arch::gdt::set_io_bitmap(bits);
        }
    }

    /// Reloads the I/O permission bitmap of `task` into the TSS if its address space is the
    /// loaded one (after `i386_io_perm_modify`).
    pub fn reload_io_bitmap(&mut self, task: TaskId) {
        if let Some(t) = self.tasks.get(&task) {
            if t.root == self.loaded_root {
                crate::arch::gdt::set_io_bitmap(t.io_bitmap.as_deref());
            }
        }
    }

    /// Ends task `id` (every thread) with `outcome`; frees its address space and ports.
    pub fn terminate_task(&mut self, id: TaskId, outcome: Outcome) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if task.outcome.is_some() {
            return;
        }
        task.outcome = Some(outcome);
        let threads = core::mem::take(&mut task.threads);
        for tid in threads {
            self.discard_thread(tid);
        }
        if self.current.is_some_and(|c| !self.threads.contains_key(&c)) {
            self.current = None;
        }
        let root = self.tasks.get(&id).map(|t| t.root);
        if root == Some(self.loaded_root) {
            self.load_space_of(None);
        }
        crate::task::release(self, id);
    }

    /// `task_suspend`: one more suspension; none of the task's threads runs until the count
    /// is back at 0.
    pub fn suspend_task(&mut self, id: TaskId) {
        let Some(t) = self.tasks.get_mut(&id) else {
            return;
        };
        t.suspend_count += 1;
        if self.current_ids().is_some_and(|(_, task)| task == id) {
            self.resched = true;
        }
    }

    /// `task_resume`: one suspension less (false when the task was not suspended); at 0 its
    /// ready threads are queued again.
    pub fn resume_task(&mut self, id: TaskId) -> bool {
        let Some(t) = self.tasks.get_mut(&id) else {
            return false;
        };
        if t.suspend_count == 0 {
            return false;
        }
        t.suspend_count -= 1;
        if t.suspend_count == 0 {
            let threads = t.threads.clone();
            for tid in threads {
                self.make_ready(tid);
            }
        }
        true
    }

    /// Removes a thread's record: its kernel port and any message it waited to send are
    /// destroyed.
    fn discard_thread(&mut self, id: ThreadId) {
        let Some(mut t) = self.threads.remove(&id) else {
            return;
        };
        if self.current == Some(id) {
            self.current = None;
        }
        if let Some(m) = t.pending.take() {
            self.ipc().destroy_kmsg(m);
        }
        crate::kobj::kept::release(self.ipc(), t.exception_port);
        if let Some(p) = t.port {
            crate::task::destroy_kport(self, p);
        }
    }

    /// Ends one thread; the task of a loaded program ends with its last thread.
    pub fn terminate_thread(&mut self, id: ThreadId) {
        let Some(task) = self.threads.get(&id).map(|t| t.task) else {
            return;
        };
        self.discard_thread(id);
        let last = self.tasks.get_mut(&task).is_some_and(|tk| {
            tk.threads.retain(|&x| x != id);
            tk.threads.is_empty() && tk.ends_with_last_thread
        });
        if last {
            self.terminate_task(task, Outcome::Terminated);
        }
    }

    /// Whether every thread is held by a suspension (its own or its task's): nothing can run
    /// again unless a thread resumes one, and none can (a boot-script task left suspended,
    /// once the others have ended). True when there is no thread.
    pub fn all_suspended(&self) -> bool {
        self.threads.values().all(|t| {
            t.suspend_count > 0
                || self
                    .tasks
                    .get(&t.task)
                    .is_none_or(|task| task.suspend_count > 0)
        })
    }
}

/// Leaves the kernel towards ring 3: to the thread that entered, or to the next ready one
/// (its state copied into `frame`/`fx`), or to the runner when none is ready. Returns how
/// the entry stub must return (only to the stubs).
pub fn leave(
    mut k: IrqGuard<'static, Kernel>,
    frame: &mut TrapFrame,
    fx: &mut FxArea,
    from_syscall: bool,
) -> u64 {
    let cur = k.current;
    if let Some(c) = cur {
        let stay = !k.resched
            && k.threads
                .get(&c)
                .is_some_and(|t| t.state == State::Running && t.suspend_count == 0)
            && k.current_ids().is_some_and(|(_, task)| {
                k.tasks
                    .get(&task)
                    .is_some_and(|t| t.suspend_count == 0 && t.outcome.is_none())
            });
        if stay {
            return if from_syscall && frame.rcx == frame.rip && frame.r11 == frame.rflags {
                EXIT_SYSRET
            } else {
                EXIT_IRET
            };
        }
    }
    k.resched = false;
    if let Some(c) = cur {
        if let Some(t) = k.threads.get_mut(&c) {
            t.frame = *frame;
            t.fx.0 = fx.0;
            if t.state == State::Running {
                t.state = State::Ready;
            }
        }
        k.current = None;
        k.make_ready(c);
    }
    match k.pick_next() {
        Some(n) => {
            let task = {
                let t = k.threads.get_mut(&n).expect("picked thread exists");
                t.state = State::Running;
                *frame = t.frame;
                fx.0 = t.fx.0;
                t.task
            };
            k.current = Some(n);
            k.load_space_of(Some(task));
            EXIT_IRET
        }
        None => {
            drop(k);
            usermode::exit_to_runner(EXIT_IDLE)
        }
    }
}

/// The runner: enters ready threads and idles until no thread is left. Returns when every
/// thread has ended or is held by a suspension (tasks stay for their reports until reaped).
pub fn run() {
    loop {
        crate::arch::cpu::disable_interrupts();
        let mut k = lock();
        if k.all_suspended() {
            k.load_space_of(None);
            break;
        }
        match k.pick_next() {
            Some(n) => {
                let (frame, fx, task) = {
                    let t = k.threads.get_mut(&n).expect("picked thread exists");
                    t.state = State::Running;
                    (t.frame, t.fx.clone(), t.task)
                };
                k.current = Some(n);
                k.load_space_of(Some(task));
                drop(k);
                usermode::enter_user(&frame, &fx);
                // Back here: the thread that ran last has its state saved (or is gone).
            }
            None => {
                drop(k);
                // `sti; hlt` with interrupts masked until then: a wake-up between the check
                // above and the halt cannot be missed.
                crate::arch::cpu::enable_and_halt();
            }
        }
    }
    crate::arch::cpu::enable_interrupts();
}
