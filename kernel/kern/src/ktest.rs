//! The in-kernel test runner (`cargo xtask test`): kernel tests, then every user program
//! of the boot modules, judged against its expected [`Outcome`].
//!
//! Transcript protocol (one line each, read by the host runner): first
//! `[test] plan N: NAME...` (every test this run declares, see [`KERNEL_TESTS`]), then per test
//! `[test] begin NAME`, then `[test] ok NAME` or `[test] FAIL NAME: reason`, and at the end
//! `[test] done: N passed, M failed`. The kernel then exits QEMU through `isa-debug-exit`
//! with 0x10 (all passed) or 0x11.

use crate::arch::{cpu, phys, serial, timer};
use crate::mm::{self, Tables, FRAMES, SCRATCH_BASE, SCRATCH_SIZE};
use crate::task::{self, Outcome};
use crate::trap::{BREAKPOINTS, TICKS};
use crate::{heap, kprintln, Program};
use crate::{uaccess, vm};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use mach_r_boot::{BootInfo, MemoryKind};
use mach_r_mm::paging::{self, Flags, PageSize};
use mach_r_mm::PAGE_SIZE;

type TestResult = Result<(), String>;

/// A kernel test: its name in the transcript and its body.
type KernelTest = (&'static str, fn(&BootInfo) -> TestResult);

fn check(cond: bool, what: &str) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(String::from(what))
    }
}

/// Exit value for `isa-debug-exit` when every test passed.
pub const QEMU_PASS: u32 = 0x10;
/// Exit value when a test failed.
pub const QEMU_FAIL: u32 = 0x11;

fn boot_info(bi: &BootInfo) -> TestResult {
    kprintln!(
        "  protocol {}, {} regions, {} MiB usable, {} modules",
        bi.protocol.name(),
        bi.regions().len(),
        bi.usable_bytes() >> 20,
        bi.modules().len()
    );
    check(!bi.regions().is_empty(), "memory map is empty")?;
    check(bi.usable_bytes() >= 16 << 20, "less than 16 MiB usable")?;
    check(
        bi.regions()
            .iter()
            .all(|r| r.base.checked_add(r.len).is_some()),
        "a region wraps around",
    )?;
    check(
        !bi.modules().is_empty(),
        "no boot module (user programs) was passed",
    )?;
    check(
        mach_r_boot::cmdline::has_flag(bi.cmdline(), b"test"),
        "command line lacks `test`",
    )
}

fn in_usable(bi: &BootInfo, f: u64) -> bool {
    bi.regions()
        .iter()
        .any(|r| r.kind == MemoryKind::Usable && f >= r.base && f + PAGE_SIZE <= r.end())
}

fn frames(bi: &BootInfo) -> TestResult {
    let before = FRAMES.lock().free_frames();
    kprintln!(
        "  {} free frames ({} MiB), {} managed",
        before,
        (before * 4096) >> 20,
        FRAMES.lock().managed_frames()
    );
    let (kstart, _, _, kend) = crate::arch::image_layout();
    let image_size = kend - kstart;
    let mut got = Vec::new();
    for i in 0..256u64 {
        let f = FRAMES.lock().alloc().ok_or("allocation failed")?;
        check(
            f % PAGE_SIZE == 0 && f >= 0x10_0000,
            "frame unaligned or below 1 MiB",
        )?;
        check(in_usable(bi, f), "frame outside the usable memory map")?;
        for m in bi.modules() {
            check(
                f + PAGE_SIZE <= m.phys || f >= m.phys + m.len,
                "frame overlaps a boot module",
            )?;
        }
        check(
            !(bi.kernel_phys_base..bi.kernel_phys_base + image_size).contains(&f),
            "frame inside the kernel image",
        )?;
        phys::write(f, &(f ^ i).to_le_bytes());
        got.push(f);
    }
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    check(sorted.len() == got.len(), "a frame was handed out twice")?;
    for (i, &f) in got.iter().enumerate() {
        let mut b = [0u8; 8];
        phys::read(f, &mut b);
        check(
            u64::from_le_bytes(b) == f ^ i as u64,
            "frame contents were overwritten",
        )?;
    }
    check(
        FRAMES.lock().free_frames() == before - 256,
        "free count did not drop by 256",
    )?;
    for &f in &got {
        mm::free_frame(f);
    }
    check(
        FRAMES.lock().free_frames() == before,
        "free count not restored",
    )?;
    check(
        FRAMES.lock().free(got[0]).is_err(),
        "double free not detected",
    )?;
    let c = FRAMES
        .lock()
        .alloc_contiguous(16, 0x10000)
        .ok_or("contiguous allocation failed")?;
    check(c % 0x10000 == 0, "contiguous block misaligned")?;
    for i in 0..16 {
        mm::free_frame(c + i * PAGE_SIZE);
    }
    check(
        FRAMES.lock().free_frames() == before,
        "free count not restored after contiguous",
    )
}

fn paging_map_unmap() -> TestResult {
    let root = mm::kernel_root();
    let before = FRAMES.lock().free_frames();
    let f = mm::alloc_zeroed_frame().ok_or("no frame")?;
    let va = SCRATCH_BASE + 5 * PAGE_SIZE;
    check(
        paging::translate(&Tables, root, va).is_none(),
        "scratch page already mapped",
    )?;
    paging::map(
        &mut Tables,
        root,
        va,
        f,
        PageSize::Size4K,
        Flags::WRITABLE | Flags::NO_EXECUTE,
    )
    .map_err(|e| format!("map: {e:?}"))?;
    let t = paging::translate(&Tables, root, va + 0x18).ok_or("not mapped after map")?;
    check(t.phys == f + 0x18, "translation wrong")?;
    check(
        phys::write_mapped_u64(
            va + 0x18,
            SCRATCH_BASE,
            SCRATCH_BASE + SCRATCH_SIZE,
            0x4d61_6368_5f52,
        ),
        "write refused",
    )?;
    check(
        phys::read_u64(f + 0x18) == 0x4d61_6368_5f52,
        "write through the new mapping not seen in the direct map",
    )?;
    check(
        phys::read_mapped_u64(va + 0x18, SCRATCH_BASE, SCRATCH_BASE + SCRATCH_SIZE)
            == Some(0x4d61_6368_5f52),
        "read back failed",
    )?;
    let got = paging::unmap(&mut Tables, root, va).map_err(|e| format!("unmap: {e:?}"))?;
    cpu::invlpg(va);
    check(got == f, "unmap returned another frame")?;
    check(
        paging::translate(&Tables, root, va).is_none(),
        "still mapped after unmap",
    )?;
    mm::free_frame(f);
    // The scratch page table (allocated by `map`) stays; everything else is back.
    check(
        FRAMES.lock().free_frames() + 2 >= before,
        "frames leaked by map/unmap",
    )?;
    // Protections of the kernel's own mappings.
    let (kstart, text_end, rodata_end, _) = crate::arch::image_layout();
    let text = paging::translate(&Tables, root, kstart)
        .ok_or("text unmapped")?
        .flags;
    let rodata = paging::translate(&Tables, root, text_end)
        .ok_or("rodata unmapped")?
        .flags;
    let data = paging::translate(&Tables, root, rodata_end)
        .ok_or("data unmapped")?
        .flags;
    let hhdm = paging::translate(&Tables, root, mm::HHDM_BASE + 0x10_0000)
        .ok_or("direct map missing")?
        .flags;
    check(
        !text.contains(Flags::WRITABLE) && !text.contains(Flags::NO_EXECUTE),
        "text must be R+X",
    )?;
    check(
        !rodata.contains(Flags::WRITABLE) && rodata.contains(Flags::NO_EXECUTE),
        "rodata must be R+NX",
    )?;
    check(
        data.contains(Flags::WRITABLE) && data.contains(Flags::NO_EXECUTE),
        "data must be RW+NX",
    )?;
    check(
        hhdm.contains(Flags::NO_EXECUTE) && !hhdm.contains(Flags::USER),
        "direct map must be NX, kernel-only",
    )?;
    check(cpu::read_cr0() & (1 << 16) != 0, "CR0.WP is off")?;
    check(cpu::rdmsr(0xc000_0080) & (1 << 11) != 0, "EFER.NXE is off")?;
    check(
        cpu::read_cr3() & paging::ADDR_MASK == root,
        "not running on the kernel's tables",
    )
}

/// The CPU refuses kernel writes to text and rodata (CR0.WP), and allows them to data.
fn kernel_write_protection() -> TestResult {
    let (kstart, text_end, rodata_end, _) = crate::arch::image_layout();
    let text = crate::arch::probe::rewrite_byte(kstart + 0x10);
    let rodata = crate::arch::probe::rewrite_byte(text_end + 8);
    let data = crate::arch::probe::rewrite_byte(rodata_end + 8);
    kprintln!("  write to text: {text:x?}, rodata: {rodata:x?}, data: {data:x?}");
    // Error code 0x3: present, write, supervisor.
    check(
        text == Err(3),
        "a kernel write to text did not fault as a protection violation",
    )?;
    check(
        rodata == Err(3),
        "a kernel write to rodata did not fault as a protection violation",
    )?;
    check(data == Ok(()), "a kernel write to data faulted")
}

fn heap_in_use() -> TestResult {
    let (used0, free0) = heap::stats();
    kprintln!(
        "  heap: {} KiB used, {} KiB free",
        used0 / 1024,
        free0 / 1024
    );
    {
        let mut v: Vec<u64> = Vec::new();
        for i in 0..100_000u64 {
            v.push(i * 3);
        }
        check(
            v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3),
            "vector contents",
        )?;
        let b = Box::new([7u8; 4096]);
        let mut m = BTreeMap::new();
        for i in 0..1000u32 {
            m.insert(i, format!("value {i}"));
        }
        check(
            m.get(&999).map(String::as_str) == Some("value 999"),
            "map contents",
        )?;
        check(b.iter().all(|&x| x == 7), "box contents")?;
        let (used1, _) = heap::stats();
        kprintln!("  heap while in use: {} KiB used", used1 / 1024);
        check(used1 >= used0 + 800_000, "heap use did not grow")?;
    }
    let (used2, _) = heap::stats();
    check(used2 == used0, "heap not returned after drop")
}

/// Ticks counted against the TSC, whose rate is measured on PIT channel 2 (an independent
/// counter, not the tick's device when the LAPIC drives it). The period must lie within
/// [0.5, 2] times 1/HZ: wide enough for TCG on a loaded host (a late or coalesced tick only
/// lengthens it), narrow enough to catch a wrong divisor or calibration.
fn timer_ticks() -> TestResult {
    const MEASURED: u64 = 10;
    const CALIBRATION_MS: u64 = 50;
    kprintln!(
        "  source {:?}, lapic count per tick {}",
        crate::timer_source(),
        timer::apic_count_per_tick()
    );
    let tsc0 = cpu::rdtsc();
    timer::pit_wait_ms(CALIBRATION_MS);
    let tsc_per_ms = (cpu::rdtsc() - tsc0) / CALIBRATION_MS;
    check(tsc_per_ms > 0, "the TSC does not advance")?;
    let ticks = || TICKS.load(core::sync::atomic::Ordering::Relaxed);
    let edge = ticks();
    while ticks() == edge {
        cpu::enable_and_halt();
    }
    let (start, tsc_start) = (ticks(), cpu::rdtsc());
    while ticks() < start + MEASURED {
        cpu::enable_and_halt();
    }
    let (end, tsc_end) = (ticks(), cpu::rdtsc());
    let period_us = (tsc_end - tsc_start) * 1000 / tsc_per_ms / (end - start);
    let nominal_us = 1_000_000 / timer::HZ;
    kprintln!(
        "  ticks {start} -> {end}: {period_us} us per tick (nominal {nominal_us} us), TSC {tsc_per_ms} per ms"
    );
    check(
        period_us >= nominal_us / 2 && period_us <= nominal_us * 2,
        &format!("tick period {period_us} us, expected {nominal_us} us within [0.5, 2] times"),
    )
}

fn sse_across_interrupts() -> TestResult {
    let pattern: [u64; 16] =
        core::array::from_fn(|i| 0x0123_4567_89ab_cdef ^ (i as u64 * 0x1111_1111));
    let mut out = [0u64; 16];
    crate::arch::cpu::sse_roundtrip_through_interrupts(&pattern, &mut out, 3);
    check(out == pattern, "xmm0-7 changed across timer interrupts")
}

fn breakpoint() -> TestResult {
    let b = BREAKPOINTS.load(core::sync::atomic::Ordering::Relaxed);
    cpu::breakpoint();
    check(
        BREAKPOINTS.load(core::sync::atomic::Ordering::Relaxed) == b + 1,
        "breakpoint not reported",
    )
}

/// Writes `byte` over `len` bytes at `va` of a map (through the map, faulting pages in).
fn fill_map(map: &mut vm::VmMap, root: u64, va: u64, len: usize, byte: u8) -> TestResult {
    uaccess::write_map(map, root, va, &alloc::vec![byte; len])
        .map_err(|e| format!("write_map at {va:#x}: {e}"))
}

/// The first byte of `va` through a map, or `None` if the map refuses the read.
fn byte_at(map: &vm::VmMap, root: u64, va: u64) -> Option<u8> {
    let mut b = [0u8; 1];
    uaccess::copy_in_map(map, root, va, &mut b).then_some(b[0])
}

fn frame_of(map: &vm::VmMap, va: u64) -> Option<u64> {
    map.pages().find(|&(v, _)| v == va).map(|(_, f)| f)
}

/// Zero fill on demand: `vm_allocate` takes no frame, the first touch one, protection
/// changes reach the page tables, `vm_deallocate` and the end of the space give them back.
fn vm_zero_fill() -> TestResult {
    let before = FRAMES.lock().free_frames();
    let root = vm::new_space().ok_or("no frame for a PML4")?;
    let mut map = vm::VmMap::new();
    let a = vm::allocate(&mut map, root, 0, 64 * PAGE_SIZE, true)
        .map_err(|e| format!("allocate: {e}"))?;
    check(
        FRAMES.lock().free_frames() == before - 1,
        "vm_allocate of 64 pages took frames (only the PML4 expected)",
    )?;
    check(
        byte_at(&map, root, a + 5) == Some(0),
        "an untouched page does not read as zero",
    )?;
    check(
        map.resident_bytes() == 0,
        "a kernel read made a page resident",
    )?;
    vm::handle_fault(&mut map, root, a + 3 * PAGE_SIZE + 8, 0x6)
        .map_err(|e| format!("a write fault in the region was refused: {e}"))?;
    let t = paging::translate(&Tables, root, a + 3 * PAGE_SIZE).ok_or("faulted page not mapped")?;
    check(
        t.flags.contains(Flags::USER | Flags::WRITABLE) && t.flags.contains(Flags::NO_EXECUTE),
        "faulted page not mapped user, writable, NX",
    )?;
    check(
        map.resident_bytes() == PAGE_SIZE,
        "one fault did not make one page resident",
    )?;
    fill_map(&mut map, root, a + 3 * PAGE_SIZE, 16, 0x5a)?;
    check(
        byte_at(&map, root, a + 3 * PAGE_SIZE + 15) == Some(0x5a),
        "write lost",
    )?;
    vm::protect(
        &mut map,
        root,
        a + 3 * PAGE_SIZE,
        PAGE_SIZE,
        false,
        vm::VM_PROT_NONE,
    )
    .map_err(|e| format!("protect none: {e}"))?;
    check(
        paging::translate(&Tables, root, a + 3 * PAGE_SIZE).is_none(),
        "a VM_PROT_NONE page is still mapped",
    )?;
    check(
        vm::handle_fault(&mut map, root, a + 3 * PAGE_SIZE, 0x4)
            == Err(vm::KERN_PROTECTION_FAILURE),
        "a load from a VM_PROT_NONE page was satisfied",
    )?;
    check(
        byte_at(&map, root, a + 3 * PAGE_SIZE).is_none(),
        "a kernel read of a VM_PROT_NONE page succeeded",
    )?;
    vm::protect(
        &mut map,
        root,
        a + 3 * PAGE_SIZE,
        PAGE_SIZE,
        false,
        vm::VM_PROT_READ,
    )
    .map_err(|e| format!("protect read: {e}"))?;
    let t =
        paging::translate(&Tables, root, a + 3 * PAGE_SIZE).ok_or("read-only page not mapped")?;
    check(
        !t.flags.contains(Flags::WRITABLE),
        "a read-only page is mapped writable",
    )?;
    check(
        byte_at(&map, root, a + 3 * PAGE_SIZE + 15) == Some(0x5a),
        "contents lost across protect",
    )?;
    check(
        vm::handle_fault(&mut map, root, a + 3 * PAGE_SIZE, 0x7)
            == Err(vm::KERN_PROTECTION_FAILURE),
        "a store to a read-only page was satisfied",
    )?;
    check(
        vm::handle_fault(&mut map, root, a + 64 * PAGE_SIZE, 0x4) == Err(vm::KERN_INVALID_ADDRESS),
        "a fault outside every region was satisfied",
    )?;
    for i in 0..8 {
        vm::handle_fault(&mut map, root, a + (10 + i) * PAGE_SIZE, 0x4)
            .map_err(|e| format!("read fault: {e}"))?;
    }
    check(
        FRAMES.lock().free_frames() < before - 9,
        "nine resident pages took fewer than nine frames",
    )?;
    vm::deallocate(&mut map, root, a, 64 * PAGE_SIZE).map_err(|e| format!("deallocate: {e}"))?;
    check(
        map.resident_bytes() == 0,
        "pages stay resident after vm_deallocate",
    )?;
    check(
        paging::translate(&Tables, root, a + 10 * PAGE_SIZE).is_none(),
        "a deallocated page is still mapped",
    )?;
    // A second region left resident goes with the space.
    let b = vm::allocate(&mut map, root, 0, 4 * PAGE_SIZE, true)
        .map_err(|e| format!("allocate: {e}"))?;
    fill_map(&mut map, root, b, 4 * PAGE_SIZE as usize, 1)?;
    vm::destroy_space(&mut map, root);
    check(
        FRAMES.lock().free_frames() == before,
        "frames not all back after vm_deallocate and the end of the space",
    )
}

/// `vm::inherit_into`: VM_INHERIT_COPY is a copy, VM_INHERIT_SHARE the same frames,
/// VM_INHERIT_NONE absent; every frame comes back when both spaces end.
fn vm_inherit_into() -> TestResult {
    let before = FRAMES.lock().free_frames();
    let proot = vm::new_space().ok_or("no frame for a PML4")?;
    let mut parent = vm::VmMap::new();
    let alloc2 = |m: &mut vm::VmMap| vm::allocate(m, proot, 0, 2 * PAGE_SIZE, true);
    let copy = alloc2(&mut parent).map_err(|e| format!("allocate: {e}"))?;
    let share = alloc2(&mut parent).map_err(|e| format!("allocate: {e}"))?;
    let none = alloc2(&mut parent).map_err(|e| format!("allocate: {e}"))?;
    let lazy = alloc2(&mut parent).map_err(|e| format!("allocate: {e}"))?;
    vm::inherit(&mut parent, share, 2 * PAGE_SIZE, vm::VM_INHERIT_SHARE)
        .map_err(|e| format!("inherit: {e}"))?;
    vm::inherit(&mut parent, none, 2 * PAGE_SIZE, vm::VM_INHERIT_NONE)
        .map_err(|e| format!("inherit: {e}"))?;
    vm::protect(
        &mut parent,
        proot,
        lazy,
        2 * PAGE_SIZE,
        false,
        vm::VM_PROT_READ,
    )
    .map_err(|e| format!("protect: {e}"))?;
    fill_map(&mut parent, proot, copy, 2 * PAGE_SIZE as usize, 0x11)?;
    fill_map(&mut parent, proot, share, PAGE_SIZE as usize, 0x22)?;
    fill_map(&mut parent, proot, none, PAGE_SIZE as usize, 0x33)?;

    let croot = vm::new_space().ok_or("no frame for a PML4")?;
    let mut child = vm::VmMap::new();
    vm::inherit_into(&mut parent, proot, &mut child, croot)
        .map_err(|e| format!("inherit_into: {e}"))?;

    // COPY: same bytes, other frames, writes do not cross.
    let r = child.region(copy).ok_or("copy region missing")?;
    check(
        r.start == copy && r.size == 2 * PAGE_SIZE && r.region.inherit == vm::VM_INHERIT_COPY,
        "copy region differs",
    )?;
    check(
        byte_at(&child, croot, copy + PAGE_SIZE + 7) == Some(0x11),
        "copied bytes differ",
    )?;
    check(
        frame_of(&child, copy) != frame_of(&parent, copy),
        "a copied page shares its frame",
    )?;
    check(
        paging::translate(&Tables, croot, copy).is_some(),
        "a copied page is not mapped in the child",
    )?;
    fill_map(&mut child, croot, copy, 1, 0x44)?;
    fill_map(&mut parent, proot, copy + PAGE_SIZE, 1, 0x55)?;
    check(
        byte_at(&parent, proot, copy) == Some(0x11),
        "the child's write reached the parent",
    )?;
    check(
        byte_at(&child, croot, copy + PAGE_SIZE) == Some(0x11),
        "the parent's write reached the child",
    )?;

    // SHARE: same frames (two owners), writes of each seen by the other, the untouched page too.
    let r = child.region(share).ok_or("share region missing")?;
    check(
        r.start == share && r.region.inherit == vm::VM_INHERIT_SHARE,
        "share region differs",
    )?;
    for page in [share, share + PAGE_SIZE] {
        let f = frame_of(&child, page).ok_or("shared page not resident in the child")?;
        check(
            frame_of(&parent, page) == Some(f),
            "a shared page has another frame",
        )?;
        check(
            mm::frame_owners(f) == 2,
            "a shared frame does not have two owners",
        )?;
    }
    check(
        byte_at(&child, croot, share) == Some(0x22),
        "shared bytes differ",
    )?;
    fill_map(&mut child, croot, share + PAGE_SIZE + 1, 1, 0x66)?;
    fill_map(&mut parent, proot, share + 2, 1, 0x77)?;
    check(
        byte_at(&parent, proot, share + PAGE_SIZE + 1) == Some(0x66),
        "the child's write to shared memory did not reach the parent",
    )?;
    check(
        byte_at(&child, croot, share + 2) == Some(0x77),
        "the parent's write to shared memory did not reach the child",
    )?;

    // NONE: absent.
    check(
        child.region(none).is_none_or(|r| r.start > none),
        "a VM_INHERIT_NONE region reached the child",
    )?;
    check(
        byte_at(&child, croot, none).is_none(),
        "the child reads a VM_INHERIT_NONE region",
    )?;

    // An untouched COPY region stays zero fill and keeps its protection.
    let r = child.region(lazy).ok_or("untouched region missing")?;
    check(
        r.start == lazy && r.region.prot == vm::VM_PROT_READ,
        "untouched region differs",
    )?;
    check(
        frame_of(&child, lazy).is_none(),
        "an untouched page became resident in the child",
    )?;
    check(
        byte_at(&child, croot, lazy) == Some(0),
        "an untouched page does not read zero",
    )?;

    // The parent lets the shared memory go: the child keeps it.
    let shared = frame_of(&child, share).ok_or("shared page gone")?;
    vm::deallocate(&mut parent, proot, share, 2 * PAGE_SIZE)
        .map_err(|e| format!("deallocate: {e}"))?;
    check(
        mm::frame_owners(shared) == 1,
        "a frame keeps two owners after one let it go",
    )?;
    check(
        byte_at(&child, croot, share + 2) == Some(0x77),
        "the child lost shared memory",
    )?;

    vm::destroy_space(&mut parent, proot);
    vm::destroy_space(&mut child, croot);
    check(
        FRAMES.lock().free_frames() == before,
        "frames not all back after both spaces ended",
    )
}

/// Memory exhaustion: a region larger than physical memory touched page by page until no
/// frame is left answers KERN_RESOURCE_SHORTAGE (for a kernel copy and for a page fault),
/// the kernel goes on, and every frame comes back when the space ends.
fn vm_exhaustion() -> TestResult {
    let before = FRAMES.lock().free_frames();
    let root = vm::new_space().ok_or("no frame for a PML4")?;
    let mut map = vm::VmMap::new();
    let size = (before + 1024) * PAGE_SIZE;
    let a = vm::allocate(&mut map, root, 0, size, true).map_err(|e| format!("allocate: {e}"))?;
    let mut touched = 0u64;
    let last = loop {
        match vm::handle_fault(&mut map, root, a + touched * PAGE_SIZE, 0x6) {
            Ok(()) => touched += 1,
            Err(e) => break e,
        }
        if touched > before + 1024 {
            break 0;
        }
    };
    kprintln!(
        "  {touched} pages touched of {} free frames, then {last}",
        before
    );
    check(
        last == vm::KERN_RESOURCE_SHORTAGE,
        "the fault that found no frame did not answer KERN_RESOURCE_SHORTAGE",
    )?;
    check(
        FRAMES.lock().free_frames() < 8,
        "frames left after exhaustion",
    )?;
    check(
        uaccess::write_map(&mut map, root, a + (touched + 1) * PAGE_SIZE, &[1; 16])
            == Err(vm::KERN_RESOURCE_SHORTAGE),
        "a kernel copy into an untouched page with no frame left did not answer KERN_RESOURCE_SHORTAGE",
    )?;
    check(
        vm::read(&map, root, a, size).err() == Some(vm::KERN_RESOURCE_SHORTAGE),
        "vm_read of more than memory did not answer KERN_RESOURCE_SHORTAGE",
    )?;
    // Pages already resident still work.
    fill_map(&mut map, root, a + 5 * PAGE_SIZE, 8, 0x3c)?;
    check(
        byte_at(&map, root, a + 5 * PAGE_SIZE + 7) == Some(0x3c),
        "a resident page lost its contents",
    )?;
    vm::destroy_space(&mut map, root);
    check(
        FRAMES.lock().free_frames() == before,
        "frames not all back after exhaustion",
    )
}

/// Copy-on-write out-of-line pages: `vm::share_out` gives the sender's frames one more owner
/// and makes them read-only, `vm::take_in` maps them in the receiver; the first write on
/// either side gets that side its own frame; a page shared by `VM_INHERIT_SHARE` is copied
/// instead; every frame comes back.
fn vm_copy_on_write() -> TestResult {
    let before = FRAMES.lock().free_frames();
    let sroot = vm::new_space().ok_or("no frame for a PML4")?;
    let rroot = vm::new_space().ok_or("no frame for a PML4")?;
    let (mut s, mut r) = (vm::VmMap::new(), vm::VmMap::new());
    let a = vm::allocate(&mut s, sroot, 0, 3 * PAGE_SIZE, true)
        .map_err(|e| format!("allocate: {e}"))?;
    fill_map(&mut s, sroot, a, 2 * PAGE_SIZE as usize, 0x41)?;
    let f0 = frame_of(&s, a).ok_or("page 0 not resident")?;
    let frames =
        vm::share_out(&mut s, sroot, a + 100, 3 * PAGE_SIZE - 200).ok_or("share_out refused")?;
    check(
        frames.len() == 3 && frames[0] == f0 && frames[2] == 0,
        "share_out gave other frames",
    )?;
    check(
        mm::frame_owners(f0) == 2,
        "a shared-out frame does not have two owners",
    )?;
    let t = paging::translate(&Tables, sroot, a).ok_or("sender page unmapped")?;
    check(
        !t.flags.contains(Flags::WRITABLE),
        "a copy-on-write page stays writable",
    )?;
    let b = vm::allocate(&mut r, rroot, 0, 3 * PAGE_SIZE, true)
        .map_err(|e| format!("allocate: {e}"))?;
    vm::take_in(&mut r, rroot, b, &frames);
    check(
        frame_of(&r, b) == Some(f0),
        "the receiver does not hold the sender's frame",
    )?;
    check(
        byte_at(&r, rroot, b + PAGE_SIZE + 9) == Some(0x41),
        "received bytes differ",
    )?;
    check(
        frame_of(&r, b + 2 * PAGE_SIZE).is_none(),
        "an untouched page arrived resident",
    )?;
    // The sender writes: it gets a copy; the receiver keeps the old bytes.
    vm::handle_fault(&mut s, sroot, a + 5, 0x7)
        .map_err(|e| format!("write fault on a copy-on-write page: {e}"))?;
    fill_map(&mut s, sroot, a, 1, 0x42)?;
    check(
        frame_of(&s, a) != Some(f0),
        "the sender wrote into the shared frame",
    )?;
    check(
        byte_at(&r, rroot, b) == Some(0x41),
        "the sender's write reached the receiver",
    )?;
    check(mm::frame_owners(f0) == 1, "the old frame keeps two owners")?;
    // The receiver writes the page it now holds alone: same frame, writable.
    fill_map(&mut r, rroot, b, 1, 0x43)?;
    check(frame_of(&r, b) == Some(f0), "a frame held alone was copied")?;
    check(
        byte_at(&s, sroot, a) == Some(0x42),
        "the receiver's write reached the sender",
    )?;
    // Page 1: the receiver writes first.
    fill_map(&mut r, rroot, b + PAGE_SIZE, 1, 0x44)?;
    check(
        byte_at(&s, sroot, a + PAGE_SIZE) == Some(0x41),
        "the receiver's write reached the sender (page 1)",
    )?;
    // A page shared by inheritance is copied, not made copy-on-write.
    let croot = vm::new_space().ok_or("no frame for a PML4")?;
    let mut c = vm::VmMap::new();
    let sh =
        vm::allocate(&mut s, sroot, 0, PAGE_SIZE, true).map_err(|e| format!("allocate: {e}"))?;
    vm::inherit(&mut s, sh, PAGE_SIZE, vm::VM_INHERIT_SHARE)
        .map_err(|e| format!("inherit: {e}"))?;
    vm::inherit(&mut s, a, 3 * PAGE_SIZE, vm::VM_INHERIT_NONE)
        .map_err(|e| format!("inherit: {e}"))?;
    vm::inherit_into(&mut s, sroot, &mut c, croot).map_err(|e| format!("inherit_into: {e}"))?;
    let fs = frame_of(&s, sh).ok_or("shared page not resident")?;
    let out =
        vm::share_out(&mut s, sroot, sh, PAGE_SIZE).ok_or("share_out of a shared page refused")?;
    check(
        out[0] != fs && mm::frame_owners(fs) == 2,
        "a VM_INHERIT_SHARE page went copy-on-write",
    )?;
    fill_map(&mut c, croot, sh, 1, 0x45)?;
    check(
        byte_at(&s, sroot, sh) == Some(0x45),
        "sharing broke after sending the page",
    )?;
    // The message's reference (a copy of its own) goes as a destroyed message's would.
    for &f in &out {
        mm::frame_release(f);
    }
    vm::destroy_space(&mut s, sroot);
    vm::destroy_space(&mut r, rroot);
    vm::destroy_space(&mut c, croot);
    check(
        FRAMES.lock().free_frames() == before,
        "frames not all back after copy-on-write",
    )
}

/// What a user test program is expected to do.
struct Expect {
    name: &'static str,
    why: &'static str,
    ok: fn(&Outcome) -> bool,
}

fn pf(o: &Outcome, bits: u64) -> Option<u64> {
    match *o {
        Outcome::Fault {
            vector: 14,
            error,
            cr2,
            ..
        } if error & bits == bits && error & 4 != 0 => Some(cr2),
        _ => None,
    }
}

const EXPECT: &[Expect] = &[
    Expect {
        name: "hello",
        why: "terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "traps",
        why: "terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "garbage",
        why: "terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "fault_null",
        why: "#PF writing address 0",
        ok: |o| pf(o, 2) == Some(0),
    },
    Expect {
        name: "fault_kernel",
        why: "#PF (protection) reading kernel text",
        ok: |o| pf(o, 1) == Some(0xffff_ffff_8020_0000),
    },
    Expect {
        name: "fault_wp",
        why: "#PF (protection, write) on its own text",
        ok: |o| pf(o, 3).is_some(),
    },
    Expect {
        name: "fault_nx",
        why: "#PF (instruction fetch) on its stack",
        ok: |o| pf(o, 0x11).is_some(),
    },
    Expect {
        name: "fault_div",
        why: "#DE",
        ok: |o| matches!(o, Outcome::Fault { vector: 0, .. }),
    },
    Expect {
        name: "fault_ud",
        why: "#UD",
        ok: |o| matches!(o, Outcome::Fault { vector: 6, .. }),
    },
    Expect {
        name: "fault_noncanon",
        why: "#GP jumping to a non-canonical address",
        ok: |o| matches!(o, Outcome::Fault { vector: 13, .. }),
    },
    Expect {
        name: "priv_hlt",
        why: "#GP on hlt",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0,
                    ..
                }
            )
        },
    },
    Expect {
        name: "priv_cli",
        why: "#GP on cli",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0,
                    ..
                }
            )
        },
    },
    Expect {
        name: "priv_io",
        why: "#GP on out to the debug-exit port",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0,
                    ..
                }
            )
        },
    },
    Expect {
        name: "priv_cr3",
        why: "#GP on mov to cr3",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0,
                    ..
                }
            )
        },
    },
    Expect {
        name: "priv_wrmsr",
        why: "#GP on wrmsr",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0,
                    ..
                }
            )
        },
    },
    // The SDM's error code is 0x402 (IDT index 0x80); QEMU's TCG reports 0x802 (16-byte stride).
    Expect {
        name: "priv_int80",
        why: "#GP on int $0x80 (IDT error code 0x402, QEMU TCG 0x802)",
        ok: |o| {
            matches!(
                o,
                Outcome::Fault {
                    vector: 13,
                    error: 0x402 | 0x802,
                    ..
                }
            )
        },
    },
    Expect {
        name: "stack_overflow",
        why: "#PF below its stack",
        ok: |o| {
            pf(o, 2).is_some_and(|a| a < task::USER_STACK_TOP - task::USER_STACK_PAGES * PAGE_SIZE)
        },
    },
    // Touches a 512 MiB .bss (zero fill on demand) until no frame is left: the fault that
    // finds none ends the task with a report, and every frame comes back (user_program).
    Expect {
        name: "vm_exhaust",
        why: "#PF (write, not present) when no frame is left",
        ok: |o| pf(o, 2).is_some_and(|a| a < task::USER_STACK_TOP),
    },
    // Fill the heap down to its reserve (heap::RESERVE): the task gets a Mach code, checks
    // that a call giving memory back still works and ends; the heap comes back (user_program).
    Expect {
        name: "heap_ports",
        why: "get KERN_RESOURCE_SHORTAGE from mach_port_allocate and terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "heap_queue",
        why: "get MACH_SEND_NO_BUFFER from a send and terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "heap_threads",
        why: "get KERN_RESOURCE_SHORTAGE from thread_create and terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "heap_regions",
        why: "get KERN_RESOURCE_SHORTAGE from vm_allocate and terminate itself",
        ok: |o| *o == Outcome::Terminated,
    },
    Expect {
        name: "spin",
        why: "end by the time limit",
        ok: |o| *o == Outcome::TimeLimit,
    },
];

fn user_program(p: &Program, e: &Expect) -> TestResult {
    let (heap_before, _) = heap::stats();
    let r = task::run(&p.name, p.image).map_err(|err| format!("load: {err:?}"))?;
    let (heap_after, heap_free) = heap::stats();
    kprintln!("  heap in use {heap_before} before, {heap_after} after ({heap_free} free)");
    kprintln!(
        "  outcome {:?}, {} traps ({} unimplemented), {} ticks, leaked frames {}",
        r.outcome,
        r.traps,
        r.invalid_traps,
        r.ticks,
        r.leaked_frames
    );
    check(
        r.leaked_frames == 0,
        "the task's frames were not all returned",
    )?;
    if p.name.starts_with("heap_") {
        // The task filled the heap down to its reserve: once it is gone the kernel is out
        // of the reserve again (what stays in use is printed above: kernel/README.md).
        check(
            heap::has_room(0),
            "the heap is still at its reserve after the task ended",
        )?;
    }
    if (e.ok)(&r.outcome) {
        Ok(())
    } else {
        Err(format!("expected to {}, got {:?}", e.why, r.outcome))
    }
}

fn run_one(name: &str, passed: &mut u32, failed: &mut u32, f: impl FnOnce() -> TestResult) {
    kprintln!("[test] begin {name}");
    match f() {
        Ok(()) => {
            *passed += 1;
            kprintln!("[test] ok {name}");
        }
        Err(why) => {
            *failed += 1;
            kprintln!("[test] FAIL {name}: {why}");
        }
    }
}

/// The kernel tests, in the order they run. A kernel test is declared by a line here and
/// nowhere else; a user test by a line in [`EXPECT`] (and its program in xtask's list).
/// [`run`] announces every declared test in the `[test] plan` line before running any, and
/// `cargo xtask test` fails a run whose results differ from that plan.
/// A task's life without user code: `task_create` with and without inherited memory,
/// `thread_create`, `task_suspend`/`task_resume`, then `task_terminate` of both; every frame
/// and every port comes back, the children's ports are dead.
fn task_lifecycle() -> TestResult {
    let mut k = crate::sched::lock();
    let frames_before = FRAMES.lock().free_frames();
    let (made_before, freed_before) = k.ipc().port_counts();
    let parent = task::create_child(&mut k, 0, false).map_err(|e| format!("task_create: {e}"))?;
    {
        let t = k.tasks.get_mut(&parent).ok_or("no parent record")?;
        let at = vm::allocate(&mut t.vm, t.root, 0, 3 * PAGE_SIZE, true)
            .map_err(|e| format!("allocate: {e}"))?;
        fill_map(&mut t.vm, t.root, at, 3 * PAGE_SIZE as usize, 0x5a)?;
    }
    let child = task::create_child(&mut k, parent, true)
        .map_err(|e| format!("task_create(inherit): {e}"))?;
    check(
        k.tasks[&child].vm.mapped_bytes() == 3 * PAGE_SIZE,
        "the child did not inherit the parent's region",
    )?;
    let t1 = task::new_thread(&mut k, child);
    let t2 = task::new_thread(&mut k, child);
    check(
        k.tasks[&child].threads == [t1, t2],
        "threads not listed in creation order",
    )?;
    k.suspend_task(child);
    check(
        k.tasks[&child].suspend_count == 1,
        "task_suspend did not count",
    )?;
    check(k.resume_task(child), "task_resume failed")?;
    check(!k.resume_task(child), "task_resume at 0 succeeded")?;
    let ports = [k.tasks[&child].port, k.tasks[&parent].port];
    let tport = k.threads[&t1].port.ok_or("thread without a port")?;
    k.terminate_task(child, Outcome::Terminated);
    k.terminate_task(parent, Outcome::Terminated);
    check(
        !k.threads.contains_key(&t1) && !k.threads.contains_key(&t2),
        "threads outlive their task",
    )?;
    for p in ports.iter().chain([&tport]) {
        check(!k.ipc().port_active(*p), "a dead task's port is alive")?;
    }
    k.tasks.remove(&child);
    k.tasks.remove(&parent);
    let (made, freed) = k.ipc().port_counts();
    check(
        made - made_before == freed - freed_before,
        "ports of the dead tasks were not freed",
    )?;
    let frames_after = FRAMES.lock().free_frames();
    check(
        frames_after == frames_before,
        &format!(
            "frames leaked: {} before, {frames_after} after",
            frames_before
        ),
    )
}

const KERNEL_TESTS: &[KernelTest] = &[
    ("boot_info", boot_info),
    ("frame_allocator", frames),
    ("paging_map_unmap", |_| paging_map_unmap()),
    ("kernel_write_protection", |_| kernel_write_protection()),
    ("heap", |_| heap_in_use()),
    ("timer_ticks", |_| timer_ticks()),
    ("sse_across_interrupts", |_| sse_across_interrupts()),
    ("kernel_breakpoint", |_| breakpoint()),
    ("vm_zero_fill", |_| vm_zero_fill()),
    ("vm_inherit_into", |_| vm_inherit_into()),
    ("task_lifecycle", |_| task_lifecycle()),
    ("vm_exhaustion", |_| vm_exhaustion()),
    ("vm_copy_on_write", |_| vm_copy_on_write()),
];

/// Runs every test and exits QEMU.
pub fn run(bi: &BootInfo, programs: &[Program]) -> ! {
    // User tests: one per expectation, then one per boot module without an expectation,
    // which fails (a module nobody judges is a test nobody runs).
    let unexpected: Vec<&Program> = programs
        .iter()
        .filter(|p| !EXPECT.iter().any(|e| e.name == p.name))
        .collect();
    let mut plan: Vec<String> = KERNEL_TESTS.iter().map(|(n, _)| String::from(*n)).collect();
    plan.extend(EXPECT.iter().map(|e| format!("user_{}", e.name)));
    plan.extend(unexpected.iter().map(|p| format!("user_{}", p.name)));
    kprintln!("[test] plan {}: {}", plan.len(), plan.join(" "));
    let (mut passed, mut failed) = (0, 0);
    let (p, f) = (&mut passed, &mut failed);
    for (name, test) in KERNEL_TESTS {
        run_one(name, p, f, || test(bi));
    }
    for e in EXPECT {
        let name = format!("user_{}", e.name);
        match programs.iter().find(|p| p.name == e.name) {
            Some(prog) => run_one(&name, p, f, || user_program(prog, e)),
            None => run_one(&name, p, f, || {
                Err(String::from("program missing from the boot modules"))
            }),
        }
    }
    for prog in unexpected {
        run_one(&format!("user_{}", prog.name), p, f, || {
            Err(format!(
                "boot module {} has no expectation in ktest::EXPECT (not run)",
                prog.name
            ))
        });
    }
    kprintln!("[test] guest tsc at end {}", cpu::rdtsc());
    kprintln!("[test] done: {passed} passed, {failed} failed");
    serial::qemu_exit(if failed == 0 { QEMU_PASS } else { QEMU_FAIL });
    cpu::halt_forever()
}
