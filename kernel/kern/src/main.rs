//! Mach_R: the kernel binary. Boot entries, machine set-up and the task runner.
//!
//! One ELF, four entries (Limine, PVH, Multiboot2, Multiboot v1), all filling one
//! [`BootInfo`]; then
//! GDT/TSS/IDT, the kernel's own page tables and heap, `syscall`, the tick, and the user
//! programs found in the boot modules. With `test` on the command line it runs the
//! in-kernel test suite ([`ktest`]) and exits QEMU; with `bench` it runs the `bench_*`
//! programs. This crate does not implement Mach IPC, scheduling between tasks, SMP, or
//! drivers beyond the serial port and the timer.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

mod arch;
mod console;
mod heap;
mod kobj;
mod ktest;
mod mig;
mod mm;
mod msg;
mod sched;
mod servers;
mod sync;
mod syscall;
mod task;
mod trap;
mod uaccess;
mod vm;

use alloc::string::String;
use alloc::vec::Vec;
use arch::{cpu, gdt, idt, phys, serial, timer, usermode};
use core::sync::atomic::{AtomicU8, Ordering};
use mach_r_boot::bootstrap::{ModulePlan, PortRef, Resume, Script, ScriptError};
use mach_r_boot::{archive, cmdline, BootInfo, BootProtocol, MemoryKind, Module, PhysMemory};

/// The kernel's version, printed on the first serial line.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const KERNEL_OFFSET: u64 = 0xffff_ffff_8000_0000;

/// A user program found in the boot modules.
#[derive(Debug)]
pub struct Program {
    /// Name: the file name in an archive, or `argv[0]` of a module line (its first word).
    pub name: String,
    /// The ELF image, in a reserved module range.
    pub image: &'static [u8],
    /// For a module that is no archive: its boot-script line as GNU Mach reads it (arguments,
    /// ports to insert, create/resume). `None` for an archive entry (argv is its name alone).
    pub plan: Option<ModulePlan>,
    /// The boot module it came from (what a task variable, `PortRef::Task`, names).
    pub module: usize,
}

fn first_line(p: BootProtocol) {
    serial::init();
    kprintln!("Mach_R {VERSION} booted via {}", p.name());
    kprintln!("[boot] guest tsc {}", cpu::rdtsc());
}

/// Physical memory as the boot-info parsers see it: through the current direct map.
struct BootMemory;
impl PhysMemory for BootMemory {
    fn read(&self, paddr: u64, buf: &mut [u8]) -> bool {
        phys::read(paddr, buf)
    }
}

/// Entry from the 32-bit stub (PVH: path 1, Multiboot2: path 2, Multiboot v1: path 3), on
/// the boot stack, in the higher half, on the stub's page tables.
#[no_mangle]
extern "C" fn boot32_main(path: u32, info: u32, magic: u32) -> ! {
    let protocol = match path {
        1 => BootProtocol::Pvh,
        3 => BootProtocol::Multiboot1,
        _ => BootProtocol::Multiboot2,
    };
    first_line(protocol);
    phys::set_window(mm::HHDM_BASE, 0x1_0000_0000);
    let parsed = match protocol {
        BootProtocol::Pvh => mach_r_boot::pvh::parse(&BootMemory, u64::from(info)),
        BootProtocol::Multiboot1 => {
            assert!(
                magic == mach_r_boot::multiboot1::BOOTLOADER_MAGIC,
                "bad Multiboot magic {magic:#x}"
            );
            mach_r_boot::multiboot1::parse(&BootMemory, u64::from(info))
        }
        _ => {
            assert!(
                magic == mach_r_boot::multiboot2::BOOTLOADER_MAGIC,
                "bad Multiboot2 magic {magic:#x}"
            );
            mach_r_boot::multiboot2::parse(&BootMemory, u64::from(info))
        }
    };
    let mut bi = parsed.unwrap_or_else(|e| panic!("boot information: {e:?}"));
    let (kstart, ..) = arch::image_layout();
    bi.kernel_virt_base = kstart;
    bi.kernel_phys_base = kstart - KERNEL_OFFSET;
    bi.hhdm_offset = mm::HHDM_BASE;
    kmain(bi)
}

mod limine_boot {
    //! The Limine requests (base revision 2: Limine 8.x and later) and the Limine entry.
    use super::*;
    use limine::memory_map::EntryType;
    use limine::request::{
        ExecutableAddressRequest, ExecutableCmdlineRequest, HhdmRequest, MemoryMapRequest,
        ModuleRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
    };
    use limine::BaseRevision;

    #[used]
    #[link_section = ".requests_start_marker"]
    static START: RequestsStartMarker = RequestsStartMarker::new();
    #[used]
    #[link_section = ".requests"]
    static BASE_REVISION: BaseRevision = BaseRevision::with_revision(2);
    #[used]
    #[link_section = ".requests"]
    static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();
    #[used]
    #[link_section = ".requests"]
    static HHDM: HhdmRequest = HhdmRequest::new();
    #[used]
    #[link_section = ".requests"]
    static ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();
    #[used]
    #[link_section = ".requests"]
    static MODULES: ModuleRequest = ModuleRequest::new();
    #[used]
    #[link_section = ".requests"]
    static RSDP: RsdpRequest = RsdpRequest::new();
    #[used]
    #[link_section = ".requests"]
    static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();
    #[used]
    #[link_section = ".requests_end_marker"]
    static END: RequestsEndMarker = RequestsEndMarker::new();

    fn kind(t: EntryType) -> MemoryKind {
        match t {
            EntryType::USABLE => MemoryKind::Usable,
            EntryType::ACPI_RECLAIMABLE => MemoryKind::AcpiReclaimable,
            EntryType::ACPI_NVS => MemoryKind::AcpiNvs,
            EntryType::BAD_MEMORY => MemoryKind::BadMemory,
            EntryType::BOOTLOADER_RECLAIMABLE => MemoryKind::BootloaderReclaimable,
            EntryType::EXECUTABLE_AND_MODULES => MemoryKind::KernelAndModules,
            EntryType::FRAMEBUFFER => MemoryKind::Framebuffer,
            _ => MemoryKind::Reserved,
        }
    }

    /// Entry from `limine_entry` (SSE on, boot stack, Limine's page tables).
    #[no_mangle]
    extern "C" fn limine_main() -> ! {
        first_line(BootProtocol::Limine);
        assert!(
            BASE_REVISION.is_supported(),
            "the loader does not support Limine base revision 2"
        );
        let hhdm = HHDM.get_response().expect("no HHDM response").offset();
        let mut bi = BootInfo::new(BootProtocol::Limine);
        let map = MEMORY_MAP.get_response().expect("no memory map response");
        for e in map.entries() {
            bi.push_region(mach_r_boot::MemoryRegion {
                base: e.base,
                len: e.length,
                kind: kind(e.entry_type),
            });
        }
        phys::set_window(
            hhdm,
            bi.regions()
                .iter()
                .map(|r| r.end())
                .max()
                .unwrap_or(0)
                .max(0x1_0000_0000),
        );
        let addr = ADDRESS
            .get_response()
            .expect("no executable address response");
        bi.kernel_phys_base = addr.physical_base();
        bi.kernel_virt_base = addr.virtual_base();
        bi.hhdm_offset = hhdm;
        if let Some(m) = MODULES.get_response() {
            for f in m.modules() {
                let s = f.string().to_bytes();
                let name = if s.is_empty() { f.path().to_bytes() } else { s };
                bi.push_module(Module::new(f.addr() as u64 - hhdm, f.size(), name));
            }
        }
        if let Some(c) = CMDLINE.get_response() {
            bi.set_cmdline(c.cmdline().to_bytes());
        }
        if let Some(r) = RSDP.get_response() {
            let a = r.address() as u64;
            bi.rsdp = Some(if a >= hhdm { a - hhdm } else { a });
        }
        kmain(bi)
    }
}

static TIMER_SOURCE: AtomicU8 = AtomicU8::new(0);

/// The device driving the tick.
pub fn timer_source() -> timer::Source {
    if TIMER_SOURCE.load(Ordering::Relaxed) == 1 {
        timer::Source::Lapic
    } else {
        timer::Source::Pit
    }
}

fn base_name(path: &[u8]) -> &[u8] {
    let word = path.split(|&c| c == b' ').next().unwrap_or(path);
    word.rsplit(|&c| c == b'/').next().unwrap_or(word)
}

/// Stops the boot on a bad boot-script line, with GNU Mach's messages where it has one.
fn script_error(line: &[u8], e: ScriptError) -> ! {
    let text = |a: usize, b: usize| core::str::from_utf8(&line[a..b]).unwrap_or("?");
    match e {
        ScriptError::UndefinedSymbol { start, end, .. } => {
            kprintln!("bootstrap script missing symbol '{}'", text(start, end));
            panic!("bootstrap_create: ERROR in executing boot script: undefined symbol")
        }
        ScriptError::ResumeWithoutTask { .. } => {
            kprintln!("boot_script_task_resume failed with 4");
            panic!("bootstrap_create: ERROR in executing boot script: mach error")
        }
        other => panic!("bootstrap_create: ERROR in executing boot script: {other:?}"),
    }
}

/// The programs in the boot modules. A ustar archive contributes each of its files, run with
/// its name as `argv[0]`. Any other module is a line of GNU Mach's boot script: it is a
/// program when it says `$(task-create)` and `$(task-resume)` (or `$(prompt-task-resume)`),
/// named by its first word; a line that creates no task, or leaves it suspended, runs nothing.
fn programs(bi: &BootInfo) -> Vec<Program> {
    let lines = bi.modules().iter().map(Module::name);
    let script = Script::new(bi.cmdline(), lines);
    let mut out = Vec::new();
    for (index, m) in bi.modules().iter().enumerate() {
        let Some(data) = phys::static_slice(m.phys, m.len) else {
            kprintln!(
                "[boot] module at {:#x} outside the direct map, ignored",
                m.phys
            );
            continue;
        };
        if archive::is_ustar(data) {
            for e in archive::entries(data) {
                match e {
                    Ok(e) => out.push(Program {
                        name: String::from_utf8_lossy(base_name(e.name)).into_owned(),
                        image: e.data,
                        plan: None,
                        module: index,
                    }),
                    Err(err) => kprintln!("[boot] archive error {err:?}"),
                }
            }
            continue;
        }
        if m.name_truncated() {
            panic!(
                "boot module {index}: string longer than {} bytes",
                mach_r_boot::MAX_MODULE_NAME
            );
        }
        let plan = match script.plan(index, m.name()) {
            Ok(plan) => plan,
            Err(ScriptError::Empty { .. }) => {
                kprintln!("[boot] module {index} has no string: not a task");
                continue;
            }
            Err(e) => script_error(m.name(), e),
        };
        let name = String::from_utf8_lossy(plan.name()).into_owned();
        if !plan.create {
            kprintln!("[boot] module {index} ({name}): no $(task-create), not a task");
            continue;
        }
        if plan.resume == Resume::Never {
            // Created all the same, as GNU Mach does: its task port can be in another
            // module's line (`$(name=task-create)`), and a task holding it can resume it.
            kprintln!("[boot] module {index} ({name}): task left suspended (no resume)");
        }
        out.push(Program {
            name,
            image: data,
            plan: Some(plan),
            module: index,
        });
    }
    out
}

/// Starts the tasks of GNU Mach-style boot-script lines together and runs them until every
/// thread has ended (or is held by a suspension) or one of them reboots the machine
/// (`host_reboot`). As GNU Mach executes its boot script: every task is created first,
/// suspended; then each gets the send rights its line names, in order (names 1, 2, ...; a task
/// variable is the task port of the module that defines it, before or after this line); then
/// the tasks with a resume directive start. A task without one stays suspended.
fn boot_tasks(progs: &[Program]) -> ! {
    {
        let mut k = sched::lock();
        let kp = k.kports();
        let mut created: Vec<(&Program, &ModulePlan, task::TaskId)> = Vec::new();
        for p in progs {
            let Some(plan) = &p.plan else { continue };
            match task::create(&mut k, &p.name, p.image, 1, &[], Some(plan)) {
                Ok((id, _)) => created.push((p, plan, id)),
                Err(e) => kprintln!("[boot] {} not started: {e:?}", p.name),
            }
        }
        // A line naming the task of a module that could not be created is not started either
        // (its names would shift): it is said on the console and the others go on.
        let mut dropped: Vec<task::TaskId> = Vec::new();
        for &(p, plan, id) in &created {
            let mut ports = Vec::new();
            for r in plan.ports() {
                ports.push(match *r {
                    PortRef::HostPriv => kp.host_priv,
                    PortRef::DeviceMaster => kp.device_master,
                    PortRef::Task(m) => match created.iter().find(|c| c.0.module == m) {
                        Some(&(_, _, t)) => k.tasks[&t].port,
                        None => {
                            kprintln!(
                                "[boot] {} not started: it names the task of module {m}, which was not created",
                                p.name
                            );
                            dropped.push(id);
                            break;
                        }
                    },
                });
            }
            if dropped.last() == Some(&id) {
                k.terminate_task(id, task::Outcome::Terminated);
            } else {
                task::insert_boot_ports(&mut k, id, &ports);
            }
        }
        created.retain(|c| !dropped.contains(&c.2));
        for &(p, plan, id) in &created {
            if plan.resume != Resume::Never && k.resume_task(id) {
                // GNU Mach's words when it resumes a bootstrap task (no newline: the
                // task's first line follows), so transcripts cut the same way on both.
                kprint!("start {}: ", p.name);
            }
        }
    }
    sched::run();
    kprintln!("[run] all tasks ended");
    serial::qemu_exit(ktest::QEMU_PASS);
    cpu::halt_forever()
}

fn kmain(bi: BootInfo) -> ! {
    kprintln!(
        "[boot] command line: {}",
        core::str::from_utf8(bi.cmdline()).unwrap_or("?")
    );
    for r in bi.regions() {
        kprintln!(
            "[boot] memory {:#014x}-{:#014x} {:?}",
            r.base,
            r.end(),
            r.kind
        );
    }
    for m in bi.modules() {
        kprintln!(
            "[boot] module {:#x} {} bytes {}",
            m.phys,
            m.len,
            core::str::from_utf8(m.name()).unwrap_or("?")
        );
    }
    gdt::init();
    idt::init();
    mm::init(&bi);
    let f = mm::FRAMES.lock();
    kprintln!(
        "[boot] {} MiB free in {} frames; {} MiB above 4 GiB ignored; direct map up to {:#x}",
        f.free_frames() >> 8,
        f.free_frames(),
        f.ignored_bytes() >> 20,
        mm::hhdm_top()
    );
    drop(f);
    usermode::init();
    let source = timer::init(cmdline::value(bi.cmdline(), b"timer") == Some(b"pit"));
    TIMER_SOURCE.store(
        if source == timer::Source::Lapic { 1 } else { 2 },
        Ordering::Relaxed,
    );
    kprintln!("[boot] timer: {:?} at {} Hz", source, timer::HZ);
    servers::set_memory_size(
        bi.regions()
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable && r.end() <= 0x1_0000_0000)
            .map(|r| r.end())
            .max()
            .unwrap_or(0),
    );
    sched::lock().init_ipc();
    cpu::enable_interrupts();
    let progs = programs(&bi);
    kprintln!("[boot] {} user programs", progs.len());
    if cmdline::has_flag(bi.cmdline(), b"test") {
        ktest::run(&bi, &progs);
    }
    let bench = cmdline::has_flag(bi.cmdline(), b"bench");
    if !bench && progs.iter().any(|p| p.plan.is_some()) {
        boot_tasks(&progs);
    }
    for p in progs.iter().filter(|p| {
        (!bench || p.name.starts_with("bench"))
            && p.plan
                .as_ref()
                .is_none_or(|plan| plan.resume != Resume::Never)
    }) {
        kprintln!("[run] {}", p.name);
        match task::run(&p.name, p.image) {
            Ok(r) => kprintln!(
                "[run] {} ended: {:?} after {} traps",
                p.name,
                r.outcome,
                r.traps
            ),
            Err(e) => kprintln!("[run] {} not started: {:?}", p.name, e),
        }
    }
    kprintln!("[run] all programs ended");
    serial::qemu_exit(ktest::QEMU_PASS);
    cpu::halt_forever()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cpu::disable_interrupts();
    console::print_raw(format_args!("[panic] {info}\n"));
    trap::kernel_backtrace(0, cpu::frame_pointer());
    serial::qemu_exit(ktest::QEMU_FAIL);
    cpu::halt_forever()
}
