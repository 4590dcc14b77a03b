//! Kernel memory: the global frame allocator, the kernel's own page tables and the heap.
//!
//! Virtual layout (PML4 slots in brackets):
//! `0xffff800000000000` [256..] direct map of physical memory, 2 MiB pages, NX;
//! `0xffffc00000000000` [384] kernel heap, 4 KiB pages, NX;
//! `0xffffd00000000000` [416] scratch mappings (tests);
//! `0xffffffff80200000` [511] kernel image: text RX, rodata R+NX, data/bss RW+NX.
//! The lower half (slots 0..256) belongs to the current task.

use crate::arch::{cpu, phys};
use crate::sync::IrqLock;
use core::sync::atomic::{AtomicU64, Ordering};
use mach_r_boot::{BootInfo, MemoryKind};
use mach_r_mm::frame::FrameAllocator;
use mach_r_mm::paging::{self, Flags, PageSize, TableMemory};
use mach_r_mm::{align_up, LARGE_PAGE_SIZE, PAGE_SIZE};

/// Base of the kernel's direct map.
pub const HHDM_BASE: u64 = 0xffff_8000_0000_0000;
/// Base of the kernel heap.
pub const HEAP_BASE: u64 = 0xffff_c000_0000_0000;
/// Size of the kernel heap.
pub const HEAP_SIZE: u64 = 8 * 1024 * 1024;
/// Base of the scratch window used by the paging tests.
pub const SCRATCH_BASE: u64 = 0xffff_d000_0000_0000;
/// Size of the scratch window.
pub const SCRATCH_SIZE: u64 = 2 * 1024 * 1024;

/// The frame allocator type: 16384 words cover the first 4 GiB.
pub type Frames = FrameAllocator<16384>;

/// All free physical frames.
pub static FRAMES: IrqLock<Frames> = IrqLock::new(Frames::new());
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);
static HHDM_TOP: AtomicU64 = AtomicU64::new(0);

/// Page tables in physical memory, reached through the direct map; new tables come from [`FRAMES`].
#[derive(Debug, Clone, Copy)]
pub struct Tables;

impl TableMemory for Tables {
    fn read(&self, table: u64, index: usize) -> u64 {
        phys::read_u64(table + 8 * index as u64)
    }
    fn write(&mut self, table: u64, index: usize, entry: u64) {
        phys::write_u64(table + 8 * index as u64, entry)
    }
    fn alloc_table(&mut self) -> Option<u64> {
        alloc_zeroed_frame()
    }
    fn free_table(&mut self, table: u64) {
        free_frame(table);
    }
}

/// Allocates a zeroed frame.
pub fn alloc_zeroed_frame() -> Option<u64> {
    let f = FRAMES.lock().alloc()?;
    phys::zero_frame(f);
    Some(f)
}

/// Allocates a frame without clearing it (the caller overwrites all of it).
pub fn alloc_frame() -> Option<u64> {
    FRAMES.lock().alloc()
}

/// Free frames now (`vm_statistics`' free_count).
pub fn free_frames() -> u64 {
    FRAMES.lock().free_frames()
}

/// Returns a frame; a double free is a kernel bug.
pub fn free_frame(f: u64) {
    if let Err(e) = FRAMES.lock().free(f) {
        panic!("free_frame: {e:?}");
    }
}

/// Extra references to frames mapped in more than one place (`VM_INHERIT_SHARE`): a frame
/// absent from the table has exactly one owner.
static SHARED: IrqLock<alloc::collections::BTreeMap<u64, u32>> =
    IrqLock::new(alloc::collections::BTreeMap::new());

/// Adds an owner to frame `f` (a second map holding it).
pub fn frame_ref(f: u64) {
    *SHARED.lock().entry(f).or_insert(0) += 1;
}

/// Drops one owner of frame `f`; the last one returns it to the free list.
pub fn frame_release(f: u64) {
    {
        let mut s = SHARED.lock();
        if let Some(n) = s.get_mut(&f) {
            *n -= 1;
            if *n == 0 {
                s.remove(&f);
            }
            return;
        }
    }
    free_frame(f);
}

/// How many owners frame `f` has (1 unless shared).
pub fn frame_owners(f: u64) -> u32 {
    SHARED.lock().get(&f).map_or(1, |n| n + 1)
}

/// Physical address of the kernel's PML4.
pub fn kernel_root() -> u64 {
    KERNEL_ROOT.load(Ordering::Relaxed)
}

/// One past the highest physical address the direct map covers.
pub fn hhdm_top() -> u64 {
    HHDM_TOP.load(Ordering::Relaxed)
}

/// Fills the frame allocator from the memory map and reserves what is in use.
fn init_frames(boot: &BootInfo, image_size: u64) {
    let mut f = FRAMES.lock();
    for r in boot
        .regions()
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable)
    {
        f.add_region(r.base, r.len);
    }
    f.reserve(0, 0x10_0000);
    f.reserve(boot.kernel_phys_base, image_size);
    for m in boot.modules() {
        f.reserve(m.phys, m.len);
    }
}

/// Builds the kernel's page tables, switches to them and starts the heap.
pub fn init(boot: &BootInfo) {
    let (kstart, text_end, rodata_end, kend) = crate::arch::image_layout();
    init_frames(boot, kend - kstart);
    let (ext_a, ext_b) = (cpu::cpuid(0x8000_0001).3, cpu::cpuid(1).3);
    assert!(ext_a & (1 << 20) != 0, "the CPU has no NX bit");
    // SAFETY: NXE only adds the meaning of bit 63 in page tables; the loader's tables do not set it.
    unsafe { cpu::wrmsr(0xc000_0080, cpu::rdmsr(0xc000_0080) | (1 << 11)) };

    let mut t = Tables;
    let root = t.alloc_table().expect("no frame for the kernel PML4");
    let top = boot
        .regions()
        .iter()
        .filter(|r| !matches!(r.kind, MemoryKind::Reserved | MemoryKind::BadMemory))
        .map(|r| r.end())
        .max()
        .unwrap_or(0)
        .clamp(0x1_0000_0000, 512 << 30);
    let top = align_up(top, LARGE_PAGE_SIZE).unwrap_or(top);
    let mut pa = 0;
    while pa < top {
        let mut flags = Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
        if (0xfe00_0000..0x1_0000_0000).contains(&pa) {
            flags = flags | Flags::NO_CACHE; // local APIC, IOAPIC, HPET, firmware
        }
        paging::map(&mut t, root, HHDM_BASE + pa, pa, PageSize::Size2M, flags).expect("direct map");
        pa += LARGE_PAGE_SIZE;
    }
    let mut va = kstart;
    while va < kend {
        let flags = if va < text_end {
            Flags::GLOBAL
        } else if va < rodata_end {
            Flags::GLOBAL | Flags::NO_EXECUTE
        } else {
            Flags::GLOBAL | Flags::NO_EXECUTE | Flags::WRITABLE
        };
        paging::map(
            &mut t,
            root,
            va,
            boot.kernel_phys_base + (va - kstart),
            PageSize::Size4K,
            flags,
        )
        .expect("kernel image map");
        va += PAGE_SIZE;
    }
    let mut va = HEAP_BASE;
    while va < HEAP_BASE + HEAP_SIZE {
        let f = alloc_zeroed_frame().expect("no frame for the heap");
        paging::map(
            &mut t,
            root,
            va,
            f,
            PageSize::Size4K,
            Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL,
        )
        .expect("heap map");
        va += PAGE_SIZE;
    }
    // The scratch window's PDPT exists before any task copies the kernel half.
    let scratch_pdpt = t.alloc_table().expect("no frame for the scratch PDPT");
    t.write(
        root,
        paging::indices(SCRATCH_BASE)[0],
        scratch_pdpt | Flags::PRESENT.0 | Flags::WRITABLE.0,
    );

    KERNEL_ROOT.store(root, Ordering::Relaxed);
    HHDM_TOP.store(top, Ordering::Relaxed);
    // SAFETY: the new tables map the kernel image (code, stacks in .bss, data) at the same
    // virtual addresses as before, and the direct map at HHDM_BASE; CR0.WP makes read-only
    // kernel pages read-only for the kernel too; PGE enables the global bit.
    unsafe {
        cpu::write_cr3(root);
        cpu::write_cr0(cpu::read_cr0() | (1 << 16));
        cpu::write_cr4(cpu::read_cr4() | (1 << 7));
    }
    phys::set_window(HHDM_BASE, top);
    let _ = ext_b;
    crate::heap::init(HEAP_BASE, HEAP_SIZE);
}

/// Switches to the page tables rooted at `root` (a task's, or the kernel's).
pub fn switch_to(root: u64) {
    // SAFETY: every root Mach_R loads is the kernel PML4 or a task PML4 whose upper half is a
    // copy of the kernel's, so the kernel stays mapped.
    unsafe { cpu::write_cr3(root) };
}
