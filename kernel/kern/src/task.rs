//! Tasks: a static ELF program loaded into its own address space, with threads that the
//! scheduler ([`crate::sched`]) runs in ring 3.
//!
//! A task ends when it is terminated, when the last thread of a loaded program ends (a
//! `task_create` child lives on without threads, as on GNU Mach), when a ring-3 fault
//! kills it or when it exhausts its time budget; [`release`] then frees every frame of its
//! lower half and its PML4, and its record stays until [`run`] (or the boot runner) reads
//! the report.

use crate::arch::{cpu, gdt, phys};
use crate::console::print_raw;
use crate::kobj::{self, kept, KObject};
use crate::mm::{self, Tables, FRAMES};
use crate::sched::{self, Kernel, Thread, ThreadId};
use crate::trap::TrapFrame;
use crate::uaccess;
use crate::vm::{self, VmMap};
use alloc::string::String;
use alloc::vec::Vec;
use mach_r_boot::bootstrap::{self, ModulePlan};
use mach_r_elf::ElfError;
use mach_r_ipc::{Name, PortId, SpaceId};
use mach_r_mm::paging::{self, Flags, MapError, PageSize};
use mach_r_mm::PAGE_SIZE;

/// Timer ticks a task may run in ring 3 before it is ended (a safety net: 3 s at 100 Hz; the
/// test programs other than `spin` need well under 0.2 s even on a loaded host).
pub const TICK_BUDGET: u64 = 300;
/// One past the top of a task's stack.
pub const USER_STACK_TOP: u64 = 0x7fff_fff0_0000;
/// Pages of user stack.
pub const USER_STACK_PAGES: u64 = 32;

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It called `task_terminate` on itself.
    Terminated,
    /// A ring-3 exception ended it.
    Fault {
        /// Exception vector.
        vector: u64,
        /// Error code.
        error: u64,
        /// Faulting instruction.
        rip: u64,
        /// CR2 at the fault (meaningful for page faults).
        cr2: u64,
    },
    /// It ran longer than [`TICK_BUDGET`].
    TimeLimit,
}

/// Why a program could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The ELF image was refused.
    Elf(ElfError),
    /// No frame was left.
    NoMemory,
    /// Mapping failed.
    Map(MapError),
}

/// A task's identifier (never reused during a boot).
pub type TaskId = u32;

/// A task: an address space, port names and threads.
#[derive(Debug)]
pub struct Task {
    /// Its identifier.
    #[allow(dead_code)] // read by the task port's server, which lands next
    pub id: TaskId,
    /// Program name (argv[0]).
    pub name: String,
    /// Physical address of the PML4 (0 once released).
    pub root: u64,
    /// Its regions.
    pub vm: VmMap,
    /// Its IPC space.
    pub space: SpaceId,
    /// Its kernel port (`mach_task_self`).
    pub port: PortId,
    /// Ticks spent in ring 3.
    pub ticks: u64,
    /// Traps made.
    pub traps: u64,
    /// Traps with a number Mach_R does not implement.
    pub invalid_traps: u64,
    /// Set when the task ends.
    pub outcome: Option<Outcome>,
    /// Whether the task's console output is at the start of a line.
    pub at_line_start: bool,
    /// Its live threads.
    pub threads: Vec<ThreadId>,
    /// `task_suspend` count.
    pub suspend_count: u32,
    /// Its I/O permission bitmap (a set bit denies the port), once `i386_io_perm_modify`
    /// gave it one; the TSS carries it while the task's address space is loaded.
    pub io_bitmap: Option<alloc::boxed::Box<[u8]>>,
    /// Whether the task ends with its last thread: true for a loaded program (the runner's
    /// report needs an end), false for a `task_create` child, which lives on with no thread
    /// as on GNU Mach (suite `tasks`).
    pub ends_with_last_thread: bool,
    /// `TASK_EXCEPTION_PORT` (a [`crate::kobj::kept`] name; a child inherits it).
    pub exception_port: Name,
    /// `TASK_BOOTSTRAP_PORT` (kept; a child inherits it).
    pub bootstrap_port: Name,
    /// The `mach_ports_register` ports (kept; a child inherits them).
    pub registered: [Name; TASK_PORT_REGISTER_MAX],
}

/// `TASK_PORT_REGISTER_MAX` (mach/mach_param.h): how many ports `mach_ports_register` keeps.
pub const TASK_PORT_REGISTER_MAX: usize = 4;

/// What [`run`] reports.
#[derive(Debug, Clone)]
pub struct Report {
    /// How the task ended.
    pub outcome: Outcome,
    /// Ticks spent in ring 3.
    pub ticks: u64,
    /// Traps made.
    pub traps: u64,
    /// Traps with an unimplemented number.
    pub invalid_traps: u64,
    /// Free frames before loading minus free frames after tear-down (0 = nothing leaked).
    pub leaked_frames: i64,
}

/// A copy of a task's name that needs no allocation.
#[derive(Debug)]
pub struct NameBuf([u8; 32], usize);

impl core::fmt::Display for NameBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(core::str::from_utf8(&self.0[..self.1]).unwrap_or("?"))
    }
}

impl NameBuf {
    /// The name of `task` (or `?`).
    pub fn of(task: Option<&Task>) -> NameBuf {
        let mut b = NameBuf([0; 32], 0);
        if let Some(t) = task {
            let n = t.name.len().min(32);
            b.0[..n].copy_from_slice(&t.name.as_bytes()[..n]);
            b.1 = n;
        }
        if b.1 == 0 {
            b.0[0] = b'?';
            b.1 = 1;
        }
        b
    }
}

/// Prints a frame-pointer backtrace through the current task's stack.
pub fn user_backtrace(rip: u64, mut rbp: u64) {
    let root = cpu::read_cr3() & mach_r_mm::paging::ADDR_MASK;
    print_raw(format_args!("  user backtrace: {rip:#x}"));
    for _ in 0..16 {
        let mut w = [0u8; 16];
        if rbp == 0 || !rbp.is_multiple_of(8) || !uaccess::copy_in(root, rbp, &mut w) {
            break;
        }
        let next = u64::from_le_bytes(w[..8].try_into().unwrap_or([0; 8]));
        let ret = u64::from_le_bytes(w[8..].try_into().unwrap_or([0; 8]));
        if ret == 0 {
            break;
        }
        print_raw(format_args!(" {ret:#x}"));
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    print_raw(format_args!("\n"));
}

fn map_user_page(
    root: u64,
    va: u64,
    flags: Flags,
    contents: &[(u64, &[u8])],
) -> Result<(), LoadError> {
    let f = mm::alloc_zeroed_frame().ok_or(LoadError::NoMemory)?;
    for (off, bytes) in contents {
        phys::write(f + off, bytes);
    }
    paging::map(
        &mut Tables,
        root,
        va,
        f,
        PageSize::Size4K,
        flags | Flags::USER,
    )
    .map_err(|e| {
        mm::free_frame(f);
        LoadError::Map(e)
    })
}

fn build_space(
    root: u64,
    image: &[u8],
    plan: &mach_r_elf::LoadPlan,
    name: &str,
    vm: &mut VmMap,
    args: Option<&ModulePlan>,
) -> Result<u64, LoadError> {
    for seg in plan.segments() {
        vm.record(
            seg.page_start(),
            seg.page_end(),
            vm::VM_PROT_READ
                | if seg.write { vm::VM_PROT_WRITE } else { 0 }
                | if seg.execute { vm::VM_PROT_EXECUTE } else { 0 },
        );
        let mut flags = Flags::EMPTY;
        if seg.write {
            flags = flags | Flags::WRITABLE;
        }
        if !seg.execute {
            flags = flags | Flags::NO_EXECUTE;
        }
        let (file_lo, file_hi) = (seg.vaddr, seg.vaddr + seg.file_size);
        let mut page = seg.page_start();
        while page < seg.page_end() {
            let (lo, hi) = (page.max(file_lo), (page + PAGE_SIZE).min(file_hi));
            let src_lo = (seg.offset + lo.saturating_sub(seg.vaddr)) as usize;
            let bytes: &[u8] = if lo < hi {
                &image[src_lo..src_lo + (hi - lo) as usize]
            } else {
                // A page with no bytes of the file (.bss) is zero fill on demand.
                page += PAGE_SIZE;
                continue;
            };
            map_user_page(root, page, flags, &[(lo.saturating_sub(page), bytes)])?;
            page += PAGE_SIZE;
        }
    }
    // Stack: argc, the argv pointers, NULL, an empty environment, NULL, then the strings,
    // laid out as GNU Mach starts its bootstrap tasks.
    let top = USER_STACK_TOP;
    vm.record(top - USER_STACK_PAGES * PAGE_SIZE, top, vm::VM_PROT_DEFAULT);
    for i in 0..USER_STACK_PAGES {
        map_user_page(
            root,
            top - (i + 1) * PAGE_SIZE,
            Flags::WRITABLE | Flags::NO_EXECUTE,
            &[],
        )?;
    }
    let mut img = alloc::vec![0u8; 4096];
    let st = match args {
        Some(plan) => plan.build_stack(top, &mut img),
        None => bootstrap::build_stack(
            top,
            core::iter::once(name.as_bytes()),
            core::iter::empty(),
            &mut img,
        ),
    }
    .map_err(|_| LoadError::NoMemory)?;
    let sp = st.sp;
    if !uaccess::copy_out(root, sp, &img[..st.len]) {
        return Err(LoadError::NoMemory);
    }
    // From here the map owns the frames the loader mapped.
    vm.adopt(root);
    Ok(sp)
}

fn destroy(root: u64) {
    vm::destroy_space(&mut VmMap::new(), root);
}

/// Loads `image` into a new address space: its root and the initial stack pointer.
fn load(
    name: &str,
    image: &[u8],
    args: Option<&ModulePlan>,
) -> Result<(u64, u64, u64, VmMap), LoadError> {
    let plan = mach_r_elf::parse(image).map_err(LoadError::Elf)?;
    let root = vm::new_space().ok_or(LoadError::NoMemory)?;
    let mut vm = VmMap::new();
    match build_space(root, image, &plan, name, &mut vm, args) {
        Ok(sp) => Ok((root, sp, plan.entry, vm)),
        Err(e) => {
            destroy(root);
            Err(e)
        }
    }
}

/// Creates a task running `image` with one thread, the task suspended `suspend` times (as GNU
/// Mach leaves a boot-script task until its `$(task-resume)`), started as GNU Mach starts a
/// bootstrap task: the send rights of `ports` under the names 1, 2, ..., then the arguments of
/// `args` (or just `name`) on its stack.
pub fn create(
    k: &mut Kernel,
    name: &str,
    image: &[u8],
    suspend: u32,
    ports: &[PortId],
    args: Option<&ModulePlan>,
) -> Result<(TaskId, ThreadId), LoadError> {
    let (root, sp, entry, vm) = load(name, image, args)?;
    let frame = TrapFrame {
        rip: entry,
        cs: gdt::USER_CS,
        rflags: 0x202,
        rsp: sp,
        ss: gdt::USER_DS,
        ..TrapFrame::default()
    };
    let id = k.next_task;
    k.next_task += 1;
    let tid = k.new_thread_id();
    let ipc = k.ipc();
    let space = ipc.space_create();
    let port = kobj::new_port(ipc, KObject::Task(id));
    let tport = kobj::new_port(ipc, KObject::Thread(tid));
    insert_ports(ipc, space, ports);
    k.tasks.insert(
        id,
        Task {
            id,
            name: String::from(name),
            root,
            vm,
            space,
            port,
            ticks: 0,
            traps: 0,
            invalid_traps: 0,
            outcome: None,
            at_line_start: true,
            threads: alloc::vec![tid],
            suspend_count: suspend,
            io_bitmap: None,
            ends_with_last_thread: true,
            // GNU Mach's boot tasks start with null special ports (suite `special`).
            exception_port: 0,
            bootstrap_port: 0,
            registered: [0; TASK_PORT_REGISTER_MAX],
        },
    );
    let mut t = Thread::new(tid, id, frame, 0);
    t.port = Some(tport);
    k.add_thread(t);
    Ok((id, tid))
}

/// Send rights to `ports` for a fresh space: names 1, 2, ... in order, as GNU Mach gives a
/// boot task the ports of its line.
fn insert_ports(ipc: &mut mach_r_ipc::Ipc, space: SpaceId, ports: &[PortId]) {
    for &p in ports {
        let _ = ipc.make_send(space, p);
    }
}

/// Gives a boot task made by [`create`] with no ports the send rights of its line.
pub fn insert_boot_ports(k: &mut Kernel, id: TaskId, ports: &[PortId]) {
    let Some(space) = k.space_of(id) else {
        return;
    };
    insert_ports(k.ipc(), space, ports);
}

/// RFLAGS.IF: what GNU Mach's `thread_get_state` shows as a new thread's flags.
pub const RFLAGS_IF: u64 = 0x200;

/// `thread_create`: a new thread of `task`, stopped once (`suspend_count` 1), with an empty
/// user state (user segments, IF) and its thread port; listed last in the task's threads.
pub fn new_thread(k: &mut Kernel, task: TaskId) -> ThreadId {
    let tid = k.new_thread_id();
    let frame = TrapFrame {
        cs: gdt::USER_CS,
        ss: gdt::USER_DS,
        rflags: RFLAGS_IF,
        ..TrapFrame::default()
    };
    let mut t = Thread::new(tid, task, frame, 1);
    t.port = Some(kobj::new_port(k.ipc(), KObject::Thread(tid)));
    if let Some(tk) = k.tasks.get_mut(&task) {
        tk.threads.push(tid);
    }
    k.add_thread(t);
    tid
}

/// `task_create`: a new task with no threads, an empty IPC space (GNU Mach gives a child no
/// names), its own task port and, with `inherit_memory`, the regions of `parent` as their
/// inheritance says (`vm::inherit_into`); otherwise an empty address map. Returns the child
/// or `KERN_RESOURCE_SHORTAGE`.
pub fn create_child(k: &mut Kernel, parent: TaskId, inherit_memory: bool) -> Result<TaskId, u32> {
    let root = vm::new_space().ok_or(vm::KERN_RESOURCE_SHORTAGE)?;
    let mut map = VmMap::new();
    if inherit_memory {
        let Some(p) = k.tasks.get_mut(&parent) else {
            destroy(root);
            return Err(vm::KERN_INVALID_ARGUMENT);
        };
        if let Err(e) = vm::inherit_into(&mut p.vm, p.root, &mut map, root) {
            vm::destroy_space(&mut map, root);
            return Err(e);
        }
    }
    let name = k
        .tasks
        .get(&parent)
        .map_or_else(String::new, |t| t.name.clone());
    // What GNU Mach's child inherits (suite `special`): the exception and bootstrap ports
    // and the registered ports, each one more reference of the parent's right.
    let from = k
        .tasks
        .get(&parent)
        .map_or((0, 0, [0; TASK_PORT_REGISTER_MAX]), |t| {
            (t.exception_port, t.bootstrap_port, t.registered)
        });
    let id = k.next_task;
    k.next_task += 1;
    let ipc = k.ipc();
    let inherited = (
        kept::dup(ipc, from.0),
        kept::dup(ipc, from.1),
        from.2.map(|n| kept::dup(ipc, n)),
    );
    let space = ipc.space_create();
    let port = kobj::new_port(ipc, KObject::Task(id));
    k.tasks.insert(
        id,
        Task {
            id,
            name,
            root,
            vm: map,
            space,
            port,
            ticks: 0,
            traps: 0,
            invalid_traps: 0,
            outcome: None,
            at_line_start: true,
            threads: Vec::new(),
            suspend_count: 0,
            // A new task has no I/O permissions of its own (not probed on GNU Mach).
            io_bitmap: None,
            ends_with_last_thread: false,
            exception_port: inherited.0,
            bootstrap_port: inherited.1,
            registered: inherited.2,
        },
    );
    Ok(id)
}

/// `KERN_FAILURE`.
pub const KERN_FAILURE: u32 = 5;

/// Destroys a kernel port (its holders' send rights become dead names).
pub fn destroy_kport(k: &mut Kernel, port: PortId) {
    let ipc = k.ipc();
    let ks = ipc.kernel_space();
    if let Some(n) = ipc.port_name(ks, port) {
        let _ = ipc.destroy(ks, n);
    }
}

/// Frees what a dead task holds (address space, IPC space, task port); its record stays
/// for the report. The caller has loaded other page tables if these were loaded.
pub fn release(k: &mut Kernel, id: TaskId) {
    let Some(t) = k.tasks.get_mut(&id) else {
        return;
    };
    if t.root != 0 {
        vm::destroy_space(&mut t.vm, t.root);
        t.root = 0;
    }
    // GNU Mach's order (suite `tasks`): the IPC space goes first (its receive rights die,
    // its send rights are released), the task port last.
    let (space, port) = (t.space, t.port);
    let mut kept_names = alloc::vec![
        core::mem::take(&mut t.exception_port),
        core::mem::take(&mut t.bootstrap_port)
    ];
    kept_names.extend(core::mem::take(&mut t.registered));
    let _ = k.ipc().space_destroy(space);
    for n in kept_names {
        kept::release(k.ipc(), n);
    }
    destroy_kport(k, port);
    // The wake-ups of its dead ports now, then the IPC tables and buffers give back what
    // the task's ports took (heap.rs: RESERVE).
    crate::msg::process_wakeups(k);
    k.ipc().compact();
}

/// Loads `image` as task `name`, runs the scheduler until every thread has ended, and
/// reports how this task ended.
pub fn run(name: &str, image: &[u8]) -> Result<Report, LoadError> {
    let free_before = FRAMES.lock().free_frames() as i64;
    let id = {
        let mut k = sched::lock();
        let kp = k.kports();
        create(
            &mut k,
            name,
            image,
            0,
            &[kp.host_priv, kp.device_master],
            None,
        )?
        .0
    };
    sched::run();
    let task = sched::lock()
        .tasks
        .remove(&id)
        .expect("the task record vanished");
    let outcome = task
        .outcome
        .unwrap_or_else(|| panic!("task {name} ended with no outcome"));
    let report = Report {
        outcome,
        ticks: task.ticks,
        traps: task.traps,
        invalid_traps: task.invalid_traps,
        leaked_frames: 0,
    };
    drop(task);
    let free_after = FRAMES.lock().free_frames() as i64;
    Ok(Report {
        leaked_frames: free_before - free_after,
        ..report
    })
}
