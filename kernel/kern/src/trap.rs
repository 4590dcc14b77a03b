//! Exceptions and interrupts: the [`TrapFrame`], the dispatcher the IDT stubs call, fault
//! reports with registers and a frame-pointer backtrace.
//!
//! A fault in ring 3 ends the current task with a report; a fault in ring 0 is a kernel
//! bug and panics, except `int3`, which is reported and resumed (the tests use it).

use crate::arch::{cpu, gdt, timer};
use crate::console::print_raw;
use crate::sched;
use crate::task;
use core::sync::atomic::{AtomicU64, Ordering};

/// Registers saved on every entry into the kernel (interrupt, exception or `syscall`),
/// lowest address first, exactly as the entry stubs push them.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Vector number (or `SYSCALL_VECTOR`).
    pub vector: u64,
    /// Error code pushed by the CPU, or 0.
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// The FPU/SSE state (`fxsave64` image) saved below every [`TrapFrame`].
#[derive(Clone)]
#[repr(C, align(16))]
pub struct FxArea(pub [u8; 512]);

impl FxArea {
    /// The state a new thread starts with: FCW 0x37f (all x87 exceptions masked), MXCSR
    /// 0x1f80, registers zero.
    pub fn initial() -> FxArea {
        let mut a = [0u8; 512];
        a[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        a[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        FxArea(a)
    }
}

impl core::fmt::Debug for FxArea {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FxArea")
    }
}

impl TrapFrame {
    /// Whether the trap came from ring 3.
    pub fn is_from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// Timer ticks since the timer started.
pub static TICKS: AtomicU64 = AtomicU64::new(0);
/// Kernel breakpoints reported and resumed.
pub static BREAKPOINTS: AtomicU64 = AtomicU64::new(0);
/// Interrupts on vectors nothing is attached to.
pub static STRAY_INTERRUPTS: AtomicU64 = AtomicU64::new(0);

/// The mnemonic and name of an exception vector.
pub fn exception_name(v: u64) -> (&'static str, &'static str) {
    match v {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point exception"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point exception"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection exception"),
        _ => ("#??", "reserved exception"),
    }
}

/// Prints the registers of a frame (on the raw console: callers may hold the console lock).
pub fn print_registers(f: &TrapFrame) {
    print_raw(format_args!(
        "  rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x}\n  rsi={:016x} rdi={:016x} rbp={:016x} rsp={:016x}\n  r8 ={:016x} r9 ={:016x} r10={:016x} r11={:016x}\n  r12={:016x} r13={:016x} r14={:016x} r15={:016x}\n  rip={:016x} cs={:#x} rflags={:#x} ss={:#x} err={:#x} cr2={:#x} cr3={:#x}\n",
        f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp, f.rsp, f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15,
        f.rip, f.cs, f.rflags, f.ss, f.error, cpu::read_cr2(), cpu::read_cr3()
    ));
}

/// Prints a frame-pointer backtrace through kernel stacks, starting at `rip`/`rbp`.
pub fn kernel_backtrace(rip: u64, mut rbp: u64) {
    print_raw(format_args!("  backtrace: {rip:#x}"));
    let ranges = gdt::stack_ranges();
    for _ in 0..16 {
        let Some(&(lo, hi)) = ranges.iter().find(|(lo, hi)| rbp >= *lo && rbp < *hi) else {
            break;
        };
        let (Some(next), Some(ret)) = (
            crate::arch::phys::read_kernel_word(rbp, lo, hi),
            crate::arch::phys::read_kernel_word(rbp + 8, lo, hi),
        ) else {
            break;
        };
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

fn page_fault_detail(error: u64) -> &'static str {
    match (error & 1 != 0, error & 2 != 0, error & 0x10 != 0) {
        (_, _, true) => "instruction fetch",
        (false, true, _) => "write to a non-present page",
        (false, false, _) => "read of a non-present page",
        (true, true, _) => "write protection violation",
        (true, false, _) => "read protection violation",
    }
}

/// Called by the IDT stubs with interrupts disabled, on an IST stack.
#[no_mangle]
extern "C" fn trap_entry(frame: &mut TrapFrame, fx: &mut FxArea) {
    let v = frame.vector;
    if v == u64::from(timer::TIMER_VECTOR) {
        let now = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
        timer::end_of_interrupt();
        let mut k = sched::lock();
        k.tick(now);
        crate::console::poll_input(&mut k);
        if !frame.is_from_user() {
            return;
        }
        if k.charge() {
            if let Some((_, task)) = k.current_ids() {
                k.terminate_task(task, task::Outcome::TimeLimit);
            }
        }
        sched::leave(k, frame, fx, false);
        return;
    }
    if v == u64::from(timer::SPURIOUS_VECTOR) {
        return;
    }
    if v >= 32 {
        STRAY_INTERRUPTS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let (mnemonic, name) = exception_name(v);
    if frame.is_from_user() {
        let cr2 = cpu::read_cr2();
        let detail = if v == 14 {
            page_fault_detail(frame.error)
        } else {
            ""
        };
        let mut k = sched::lock();
        let task = k.current_ids().map(|(_, t)| t);
        if v == 14 {
            // A fault the task's map can satisfy (zero fill on demand, a page whose mapping
            // is out of date) is satisfied and the instruction restarted.
            let resolved = task
                .and_then(|t| k.tasks.get_mut(&t))
                .map(|t| crate::vm::handle_fault(&mut t.vm, t.root, cr2, frame.error));
            match resolved {
                Some(Ok(())) => {
                    sched::leave(k, frame, fx, false);
                    return;
                }
                Some(Err(crate::vm::KERN_RESOURCE_SHORTAGE)) => {
                    print_raw(format_args!(
                        "[vm] no free frame for a page fault at {cr2:#x}: the task ends\n"
                    ));
                }
                _ => {}
            }
        }
        let t = task::NameBuf::of(task.and_then(|t| k.tasks.get(&t)));
        print_raw(format_args!(
            "[fault] task {t}: {name} ({mnemonic}, vector {v}) error {:#x} {detail} at rip {:#x}{}\n",
            frame.error,
            frame.rip,
            if v == 14 { FmtCr2(cr2) } else { FmtCr2(u64::MAX) }
        ));
        print_registers(frame);
        task::user_backtrace(frame.rip, frame.rbp);
        if let Some(task) = task {
            k.terminate_task(
                task,
                task::Outcome::Fault {
                    vector: v,
                    error: frame.error,
                    rip: frame.rip,
                    cr2,
                },
            );
        }
        sched::leave(k, frame, fx, false);
        return;
    }
    if v == 14 {
        if let Some(resume) = crate::arch::probe::fixup(frame.rip, frame.error) {
            frame.rip = resume;
            frame.rax = 1;
            return;
        }
    }
    print_raw(format_args!(
        "[kernel] {name} ({mnemonic}, vector {v}) in the kernel at rip {:#x}\n",
        frame.rip
    ));
    print_registers(frame);
    kernel_backtrace(frame.rip, frame.rbp);
    if v == 3 {
        BREAKPOINTS.fetch_add(1, Ordering::Relaxed);
        print_raw(format_args!("[kernel] breakpoint resumed\n"));
        return;
    }
    panic!("{name} ({mnemonic}) in the kernel at {:#x}", frame.rip);
}

struct FmtCr2(u64);
impl core::fmt::Display for FmtCr2 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0 == u64::MAX {
            Ok(())
        } else {
            write!(f, " address {:#x}", self.0)
        }
    }
}
