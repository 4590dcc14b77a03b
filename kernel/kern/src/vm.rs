//! A task's address map: its regions (program segments, stack, `vm_allocate`d memory,
//! out-of-line data the kernel mapped for it), each with Mach's protection, maximum
//! protection and inheritance, and its resident pages.
//!
//! The map is the authority on a task's memory; the page tables are a cache of it:
//! - a region is an address range with attributes; it owns no frame by itself;
//! - a resident page is an entry `page -> frame` of [`VmMap`]; each entry holds one
//!   reference to its frame (`mm::frame_ref`/`mm::frame_release`: a frame is freed when the
//!   last map holding it lets it go); only `VM_INHERIT_SHARE` makes a frame have two owners;
//! - a page is mapped in the hardware tables only if it is resident and its region's
//!   protection is not `VM_PROT_NONE`, with the flags of that protection;
//! - `vm_allocate` records a region and maps nothing: the first access to a page (a user
//!   page fault, [`handle_fault`], or a kernel copy through [`resolve`]) that the region's
//!   protection allows gets a zeroed frame; an access it does not allow ends the task (user)
//!   or is an error code (kernel copies). The kernel never takes a fault on user memory.
//!
//! Implemented: `vm_allocate`, `vm_deallocate`, `vm_protect`, `vm_inherit`, `vm_region`,
//! `vm_read`, `vm_write`, `vm_copy` (plain copies), zero fill on demand, the regions
//! out-of-line data lands in, and [`inherit_into`] (`task_create`'s inheritance: plain
//! copies for `VM_INHERIT_COPY`, shared frames for `VM_INHERIT_SHARE`), and copy-on-write
//! pages for out-of-line data (`share_out`/`take_in`).

use crate::arch::phys;
use crate::mm::{self, Tables};
use crate::uaccess;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use mach_r_mm::paging::{self, Flags, PageSize, TableMemory, USER_TOP};
use mach_r_mm::PAGE_SIZE;

/// `KERN_INVALID_ADDRESS`.
pub const KERN_INVALID_ADDRESS: u32 = 1;
/// `KERN_PROTECTION_FAILURE`.
pub const KERN_PROTECTION_FAILURE: u32 = 2;
/// `KERN_NO_SPACE`.
pub const KERN_NO_SPACE: u32 = 3;
/// `KERN_INVALID_ARGUMENT`.
pub const KERN_INVALID_ARGUMENT: u32 = 4;
/// `KERN_RESOURCE_SHORTAGE`.
pub const KERN_RESOURCE_SHORTAGE: u32 = 6;

/// `VM_PROT_NONE`.
pub const VM_PROT_NONE: u32 = 0;
/// `VM_PROT_READ`.
pub const VM_PROT_READ: u32 = 1;
/// `VM_PROT_WRITE`.
pub const VM_PROT_WRITE: u32 = 2;
/// `VM_PROT_EXECUTE`.
pub const VM_PROT_EXECUTE: u32 = 4;
/// `VM_PROT_ALL`.
pub const VM_PROT_ALL: u32 = 7;
/// `VM_PROT_DEFAULT` (read and write).
pub const VM_PROT_DEFAULT: u32 = 3;
/// `VM_INHERIT_SHARE`.
pub const VM_INHERIT_SHARE: u32 = 0;
/// `VM_INHERIT_COPY`, the default inheritance.
pub const VM_INHERIT_COPY: u32 = 1;
/// Largest inheritance value (`VM_INHERIT_NONE`).
pub const VM_INHERIT_NONE: u32 = 2;

/// Bit of a resident page's entry: the page is copy-on-write (its frame may be held by other
/// maps or messages and is never written while so: it is mapped read-only, and the first
/// write gets the page a frame of its own, or the frame itself once no one else holds it).
const COW: u64 = 1;

/// The frame of a page entry.
fn frame(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

/// The protection a page entry is mapped with: a copy-on-write page is never writable.
fn mapped_prot(v: u64, prot: u32) -> u32 {
    if v & COW != 0 {
        prot & !VM_PROT_WRITE
    } else {
        prot
    }
}

/// One past the last address of the lower half.
const LOWER_HALF_END: u64 = 1 << 47;

/// Lowest address `vm_allocate(anywhere)` hands out.
const ANYWHERE_BASE: u64 = 0x1000_0000;

/// One region `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// One past the last byte.
    pub end: u64,
    /// `vm_prot_t`.
    pub prot: u32,
    /// Maximum protection.
    pub max_prot: u32,
    /// `vm_inherit_t`.
    pub inherit: u32,
}

/// What `vm_region` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionInfo {
    /// Start of the region.
    pub start: u64,
    /// Its size.
    pub size: u64,
    /// Its attributes.
    pub region: Region,
}

/// The regions of one task, by start address, and its resident pages.
#[derive(Debug, Default)]
pub struct VmMap {
    regions: BTreeMap<u64, Region>,
    /// Resident pages: page address -> frame, with [`COW`] set for a copy-on-write page;
    /// each entry owns one reference to its frame.
    pages: BTreeMap<u64, u64>,
}

fn round_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

fn round_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(|x| x & !(PAGE_SIZE - 1))
}

fn pte_flags(prot: u32) -> Flags {
    let mut f = Flags::USER;
    if prot & VM_PROT_WRITE != 0 {
        f = f | Flags::WRITABLE;
    }
    if prot & VM_PROT_EXECUTE == 0 {
        f = f | Flags::NO_EXECUTE;
    }
    f
}

impl VmMap {
    /// An empty map.
    pub fn new() -> VmMap {
        VmMap::default()
    }

    /// Records a region whose pages the caller mapped (program segments, the stack).
    pub fn record(&mut self, start: u64, end: u64, prot: u32) {
        self.regions.insert(
            start,
            Region {
                end,
                prot,
                max_prot: VM_PROT_ALL,
                inherit: VM_INHERIT_COPY,
            },
        );
    }

    /// Whether `[start, end)` meets any region.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.regions
            .range(..end)
            .next_back()
            .is_some_and(|(_, r)| r.end > start)
    }

    /// Whether `[start, end)` is entirely inside regions (no hole).
    fn covered(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.regions.range(..=at).next_back() {
                Some((_, r)) if r.end > at => at = r.end,
                _ => return false,
            }
        }
        true
    }

    /// The lowest free range of `size` bytes at or above [`ANYWHERE_BASE`].
    fn find_space(&self, size: u64) -> Option<u64> {
        let mut at = ANYWHERE_BASE;
        if let Some((_, r)) = self.regions.range(..ANYWHERE_BASE).next_back() {
            at = at.max(r.end);
        }
        for (&s, r) in self.regions.range(ANYWHERE_BASE..) {
            if s >= at && s - at >= size {
                return Some(at);
            }
            at = at.max(r.end);
        }
        (at.checked_add(size)? <= USER_TOP).then_some(at)
    }

    /// Splits regions so that `at` is a region boundary.
    fn split_at(&mut self, at: u64) {
        if let Some((&s, &r)) = self.regions.range(..at).next_back() {
            if s < at && r.end > at {
                self.regions.insert(s, Region { end: at, ..r });
                self.regions.insert(at, r);
            }
        }
    }

    /// Removes `[start, end)` from the map, splitting regions.
    fn remove(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let starts: Vec<u64> = self.regions.range(start..end).map(|(&s, _)| s).collect();
        for s in starts {
            self.regions.remove(&s);
        }
    }

    /// Bytes in all regions (the task's virtual size).
    pub fn mapped_bytes(&self) -> u64 {
        self.regions.iter().map(|(s, r)| r.end - s).sum()
    }

    /// Bytes of resident pages.
    pub fn resident_bytes(&self) -> u64 {
        self.pages.len() as u64 * PAGE_SIZE
    }

    /// The resident pages (page address, frame), in address order.
    pub fn pages(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.pages.iter().map(|(&v, &f)| (v, frame(f)))
    }

    /// Takes the pages the caller mapped in `root` for its regions (program segments and
    /// stack, mapped by the loader) into the map, which owns their frames from now on.
    pub fn adopt(&mut self, root: u64) {
        for (&s, r) in &self.regions {
            let mut va = s;
            while va < r.end {
                if let Some(t) = paging::translate(&Tables, root, va) {
                    self.pages.insert(va, t.phys & paging::ADDR_MASK);
                }
                va += PAGE_SIZE;
            }
        }
    }

    /// The region holding `addr`.
    fn containing(&self, addr: u64) -> Option<&Region> {
        self.regions
            .range(..=addr)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.end > addr)
    }

    /// The region holding `addr`, or the first one above it (`vm_region`).
    pub fn region(&self, addr: u64) -> Option<RegionInfo> {
        let hit = self
            .regions
            .range(..=addr)
            .next_back()
            .filter(|(_, r)| r.end > addr)
            .or_else(|| self.regions.range(addr..).next());
        hit.map(|(&start, &region)| RegionInfo {
            start,
            size: region.end - start,
            region,
        })
    }
}

/// Makes the hardware mapping of page `va` in `root` say what the map says: `frame` with the
/// flags of `prot`, or nothing for `VM_PROT_NONE`.
fn hw_set(root: u64, va: u64, frame: u64, prot: u32) -> Result<(), u32> {
    if paging::translate(&Tables, root, va).is_some() {
        let _ = paging::unmap(&mut Tables, root, va);
        crate::arch::cpu::invlpg(va);
    }
    if prot & VM_PROT_ALL == VM_PROT_NONE {
        return Ok(());
    }
    paging::map(
        &mut Tables,
        root,
        va,
        frame,
        PageSize::Size4K,
        pte_flags(prot),
    )
    .map_err(|_| KERN_RESOURCE_SHORTAGE)
}

/// Drops the resident pages of `[start, end)`: their hardware mappings go and each frame
/// loses the reference this map held (the last one frees it).
fn release_pages(map: &mut VmMap, root: u64, start: u64, end: u64) {
    let vas: Vec<u64> = map.pages.range(start..end).map(|(&v, _)| v).collect();
    for va in vas {
        if let Some(f) = map.pages.remove(&va) {
            if paging::unmap(&mut Tables, root, va).is_ok() {
                crate::arch::cpu::invlpg(va);
            }
            mm::frame_release(frame(f));
        }
    }
}

/// Maps the resident pages of `[start, end)` again with the flags of `prot`.
fn reprotect(map: &VmMap, root: u64, start: u64, end: u64, prot: u32) {
    for (&va, &f) in map.pages.range(start..end) {
        // The page tables of a page that was mapped exist, so this cannot run out of frames.
        let _ = hw_set(root, va, frame(f), mapped_prot(f, prot));
    }
}

/// The frame of page `va` for a kernel read needing `need`: `Some(frame)`, or `None` for a
/// page not touched yet (it reads as zeros); an error if no region allows the access.
pub fn lookup(map: &VmMap, va: u64, need: u32) -> Result<Option<u64>, u32> {
    let r = map.containing(va).ok_or(KERN_INVALID_ADDRESS)?;
    if r.prot & need != need {
        return Err(KERN_PROTECTION_FAILURE);
    }
    Ok(map.pages.get(&round_down(va)).map(|&v| frame(v)))
}

/// Makes page `va` resident and mapped for an access needing `need` (zero fill on demand):
/// returns its frame. `KERN_INVALID_ADDRESS` outside every region,
/// `KERN_PROTECTION_FAILURE` if the region's protection refuses the access,
/// `KERN_RESOURCE_SHORTAGE` without a free frame.
pub fn resolve(map: &mut VmMap, root: u64, va: u64, need: u32) -> Result<u64, u32> {
    if va >= USER_TOP {
        return Err(KERN_INVALID_ADDRESS);
    }
    let prot = {
        let r = map.containing(va).ok_or(KERN_INVALID_ADDRESS)?;
        if r.prot & need != need {
            return Err(KERN_PROTECTION_FAILURE);
        }
        r.prot
    };
    let page = round_down(va);
    if let Some(&v) = map.pages.get(&page) {
        if v & COW != 0 && need & VM_PROT_WRITE != 0 {
            return break_cow(map, root, page, prot);
        }
        let (f, prot) = (frame(v), mapped_prot(v, prot));
        let mapped = paging::translate(&Tables, root, page).is_some_and(|t| {
            t.flags
                .contains(Flags(pte_flags(prot).0 & !Flags::NO_EXECUTE.0))
                && t.phys & paging::ADDR_MASK == f
        });
        if !mapped {
            hw_set(root, page, f, prot)?;
        }
        return Ok(f);
    }
    // A resident page costs the map's heap too (heap::RESERVE).
    if !crate::heap::has_room(0) {
        return Err(KERN_RESOURCE_SHORTAGE);
    }
    let f = mm::alloc_zeroed_frame().ok_or(KERN_RESOURCE_SHORTAGE)?;
    if let Err(e) = hw_set(root, page, f, prot) {
        mm::free_frame(f);
        return Err(e);
    }
    map.pages.insert(page, f);
    Ok(f)
}

/// Gives copy-on-write page `page` a frame this map may write: the same frame once no one
/// else holds it, else a copy. Maps it with `prot`.
fn break_cow(map: &mut VmMap, root: u64, page: u64, prot: u32) -> Result<u64, u32> {
    let old = frame(map.pages.get(&page).copied().ok_or(KERN_INVALID_ADDRESS)?);
    let f = if mm::frame_owners(old) == 1 {
        old
    } else {
        let n = mm::alloc_frame().ok_or(KERN_RESOURCE_SHORTAGE)?;
        phys::copy_frame(n, old);
        mm::frame_release(old);
        n
    };
    map.pages.insert(page, f);
    hw_set(root, page, f, prot)?;
    Ok(f)
}

/// Out-of-line data leaving the map (a message's region): the frames of the pages holding
/// `[addr, addr + len)`, each with one more owner, the page made copy-on-write here (0 for a
/// page not touched yet, which arrives as zero fill). A page shared with another map
/// (`VM_INHERIT_SHARE`) is copied instead, so that sharing stays exact. `None` if a page is
/// outside every region or not readable, or no frame is left for a copy.
pub fn share_out(map: &mut VmMap, root: u64, addr: u64, len: u64) -> Option<Vec<u64>> {
    let (start, end) = page_range(addr, len).ok()?;
    let mut frames = Vec::new();
    frames
        .try_reserve_exact(((end - start) / PAGE_SIZE) as usize)
        .ok()?;
    let fail = |frames: &Vec<u64>| {
        for &f in frames {
            if f != 0 {
                mm::frame_release(f);
            }
        }
    };
    let mut va = start;
    while va < end {
        let Some(prot) = map
            .containing(va)
            .filter(|r| r.prot & VM_PROT_READ != 0)
            .map(|r| r.prot)
        else {
            fail(&frames);
            return None;
        };
        match map.pages.get(&va).copied() {
            None => frames.push(0),
            Some(v) => {
                let f = frame(v);
                if v & COW == 0 && mm::frame_owners(f) > 1 {
                    let Some(n) = mm::alloc_frame() else {
                        fail(&frames);
                        return None;
                    };
                    phys::copy_frame(n, f);
                    frames.push(n);
                } else {
                    if v & COW == 0 {
                        map.pages.insert(va, f | COW);
                        let _ = hw_set(root, va, f, prot & !VM_PROT_WRITE);
                    }
                    mm::frame_ref(f);
                    frames.push(f);
                }
            }
        }
        va += PAGE_SIZE;
    }
    Some(frames)
}

/// Out-of-line data arriving: the frames [`share_out`] gave (their references move to this
/// map) become the copy-on-write pages of the region at `addr` the caller just allocated.
pub fn take_in(map: &mut VmMap, root: u64, addr: u64, frames: &[u64]) {
    let prot = map.containing(addr).map_or(VM_PROT_DEFAULT, |r| r.prot);
    for (i, &f) in frames.iter().enumerate() {
        if f == 0 {
            continue;
        }
        let va = addr + i as u64 * PAGE_SIZE;
        map.pages.insert(va, f | COW);
        let _ = hw_set(root, va, f, prot & !VM_PROT_WRITE);
    }
}

/// A user page fault at `addr` with the CPU's error code: `Ok` when the map satisfied it
/// (the instruction is restarted), else why not (the task ends with a report).
pub fn handle_fault(map: &mut VmMap, root: u64, addr: u64, error: u64) -> Result<(), u32> {
    let need = if error & 0x10 != 0 {
        VM_PROT_EXECUTE
    } else if error & 2 != 0 {
        VM_PROT_WRITE
    } else {
        VM_PROT_READ
    };
    resolve(map, root, addr, need).map(|_| ())
}

/// A new address space: a PML4 whose upper half is the kernel's, nothing below.
pub fn new_space() -> Option<u64> {
    let root = mm::alloc_zeroed_frame()?;
    let kroot = mm::kernel_root();
    for i in 256..512 {
        let e = Tables.read(kroot, i);
        Tables.write(root, i, e);
    }
    Some(root)
}

/// Frees an address space: every resident page of `map` (each frame loses this map's
/// reference), any other frame mapped below the kernel half, the page tables and `root`.
/// `root` must not be loaded.
pub fn destroy_space(map: &mut VmMap, root: u64) {
    let pages = core::mem::take(&mut map.pages);
    for (va, f) in pages {
        let _ = paging::unmap(&mut Tables, root, va);
        mm::frame_release(frame(f));
    }
    map.regions.clear();
    paging::free_lower_half(&mut Tables, root, &mut mm::free_frame);
    mm::free_frame(root);
}

/// Builds the memory of a new task from its parent's (`task_create` with `inherit_memory`):
/// each region of `parent` comes to `child` by its inheritance: `VM_INHERIT_NONE` is absent
/// in the child; `VM_INHERIT_COPY` is a copy (every resident page copied to a new frame, the
/// others stay zero fill); `VM_INHERIT_SHARE` is the same memory in both (every page is
/// made resident in the parent and its frame gets a second owner, so later writes of either
/// task reach the other). The child's regions keep protection, maximum and inheritance.
/// `child` must be empty and `croot` a fresh space ([`new_space`]); on an error
/// (`KERN_RESOURCE_SHORTAGE`) the child holds part of the parent's memory and the caller
/// frees it with [`destroy_space`].
pub fn inherit_into(
    parent: &mut VmMap,
    proot: u64,
    child: &mut VmMap,
    croot: u64,
) -> Result<(), u32> {
    let regions: Vec<(u64, Region)> = parent.regions.iter().map(|(&s, &r)| (s, r)).collect();
    for (start, r) in regions {
        match r.inherit {
            VM_INHERIT_NONE => continue,
            VM_INHERIT_SHARE => {
                child.regions.insert(start, r);
                let mut va = start;
                while va < r.end {
                    let f = resident_frame(parent, proot, va, r.prot)?;
                    mm::frame_ref(f);
                    child.pages.insert(va, f);
                    hw_set(croot, va, f, r.prot)?;
                    va += PAGE_SIZE;
                }
            }
            _ => {
                child.regions.insert(start, r);
                let src: Vec<(u64, u64)> = parent
                    .pages
                    .range(start..r.end)
                    .map(|(&v, &f)| (v, f))
                    .collect();
                for (va, f) in src {
                    let n = mm::alloc_frame().ok_or(KERN_RESOURCE_SHORTAGE)?;
                    phys::copy_frame(n, frame(f));
                    child.pages.insert(va, n);
                    hw_set(croot, va, n, r.prot)?;
                }
            }
        }
    }
    Ok(())
}

/// The frame of page `va` of `map`, made resident (zeroed) if it was not.
fn resident_frame(map: &mut VmMap, root: u64, va: u64, prot: u32) -> Result<u64, u32> {
    if let Some(&v) = map.pages.get(&va) {
        // A copy-on-write page gets a frame of its own first: sharing must be exact.
        return if v & COW != 0 {
            break_cow(map, root, va, prot)
        } else {
            Ok(v)
        };
    }
    let f = mm::alloc_zeroed_frame().ok_or(KERN_RESOURCE_SHORTAGE)?;
    if let Err(e) = hw_set(root, va, f, prot) {
        mm::free_frame(f);
        return Err(e);
    }
    map.pages.insert(va, f);
    Ok(f)
}

/// `vm_allocate`: zero-filled, read/write memory; at `addr` (rounded down to a page) or,
/// when `anywhere`, wherever it fits. Returns the address. Nothing is mapped: pages get
/// their frames when first touched.
pub fn allocate(
    map: &mut VmMap,
    _root: u64,
    addr: u64,
    size: u64,
    anywhere: bool,
) -> Result<u64, u32> {
    if size == 0 {
        return Ok(addr);
    }
    // A size that overflows when rounded to pages: KERN_INVALID_ARGUMENT (observed for
    // `anywhere`, suite `vm`).
    let Some(len) = round_up(size) else {
        return Err(KERN_INVALID_ARGUMENT);
    };
    let start = if anywhere {
        map.find_space(len).ok_or(KERN_NO_SPACE)?
    } else {
        let s = round_down(addr);
        // Observed (suite `vm-hostile`, `vm`): address 0 may be allocated; a range ending
        // past the lower half is KERN_INVALID_ADDRESS, one ending inside it but past what
        // tasks may map is KERN_NO_SPACE (GNU Mach's stack holds the top 128 KiB there;
        // Mach_R keeps the last page unmapped, see USER_TOP).
        match s.checked_add(len) {
            Some(e) if e <= USER_TOP => {}
            Some(e) if e <= LOWER_HALF_END => return Err(KERN_NO_SPACE),
            _ => return Err(KERN_INVALID_ADDRESS),
        }
        if map.overlaps(s, s + len) {
            return Err(KERN_NO_SPACE);
        }
        s
    };
    map.record(start, start + len, VM_PROT_DEFAULT);
    Ok(start)
}

/// The page range of `[addr, addr + size)`, or `KERN_INVALID_ADDRESS`.
fn page_range(addr: u64, size: u64) -> Result<(u64, u64), u32> {
    let start = round_down(addr);
    match addr.checked_add(size).and_then(round_up) {
        Some(end) if end <= USER_TOP => Ok((start, end)),
        _ => Err(KERN_INVALID_ADDRESS),
    }
}

/// `vm_deallocate`: unmaps whatever of `[addr, addr + size)` is mapped (a hole is no error,
/// as in Mach).
pub fn deallocate(map: &mut VmMap, root: u64, addr: u64, size: u64) -> Result<(), u32> {
    if size == 0 {
        return Ok(());
    }
    // GNU Mach answers KERN_SUCCESS for ranges that wrap or reach the kernel's half (observed,
    // suite `vm`): nothing of the task is there.
    let Ok((start, end)) = page_range(addr, size) else {
        return Ok(());
    };
    map.remove(start, end);
    release_pages(map, root, start, end);
    Ok(())
}

/// `vm_protect`: sets the protection (or, with `set_max`, the maximum protection, which
/// also lowers the current one) of every region in the range; the range must be mapped.
pub fn protect(
    map: &mut VmMap,
    root: u64,
    addr: u64,
    size: u64,
    set_max: bool,
    prot: u32,
) -> Result<(), u32> {
    if prot & !VM_PROT_ALL != 0 {
        return Err(KERN_INVALID_ARGUMENT);
    }
    if size == 0 {
        return Ok(());
    }
    // A range that wraps, reaches the kernel's half or holds no region: KERN_SUCCESS, as GNU
    // Mach answers (observed, suite `vm`).
    let Ok((start, end)) = page_range(addr, size) else {
        return Ok(());
    };
    if !map.overlaps(start, end) {
        return Ok(());
    }
    if !map.covered(start, end) {
        return Err(KERN_INVALID_ADDRESS);
    }
    if !set_max
        && map
            .regions
            .range(..end)
            .filter(|(_, r)| r.end > start)
            .any(|(_, r)| prot & !r.max_prot != 0)
    {
        return Err(KERN_PROTECTION_FAILURE);
    }
    map.split_at(start);
    map.split_at(end);
    let starts: Vec<u64> = map.regions.range(start..end).map(|(&s, _)| s).collect();
    for s in starts {
        let Some(r) = map.regions.get_mut(&s) else {
            continue;
        };
        if set_max {
            r.max_prot = prot;
            r.prot &= prot;
        } else {
            r.prot = prot;
        }
        let (e, p) = (r.end, r.prot);
        reprotect(map, root, s, e, p);
    }
    Ok(())
}

/// `vm_inherit`: sets the inheritance of every region in the range (which must be mapped).
pub fn inherit(map: &mut VmMap, addr: u64, size: u64, inheritance: u32) -> Result<(), u32> {
    if inheritance > VM_INHERIT_NONE {
        return Err(KERN_INVALID_ARGUMENT);
    }
    if size == 0 {
        return Ok(());
    }
    let Ok((start, end)) = page_range(addr, size) else {
        return Ok(());
    };
    if !map.overlaps(start, end) {
        return Ok(());
    }
    if !map.covered(start, end) {
        return Err(KERN_INVALID_ADDRESS);
    }
    map.split_at(start);
    map.split_at(end);
    for (_, r) in map.regions.range_mut(start..end) {
        r.inherit = inheritance;
    }
    Ok(())
}

/// Checks that `[start, end)` lies in regions that all allow `need`: `KERN_INVALID_ADDRESS`
/// for a hole (or a range outside the user half), `KERN_PROTECTION_FAILURE` otherwise.
fn check_access(map: &VmMap, start: u64, end: u64, need: u32) -> Result<(), u32> {
    if end > USER_TOP || start > end || !map.covered(start, end) {
        return Err(KERN_INVALID_ADDRESS);
    }
    if map
        .regions
        .range(..end)
        .filter(|(_, r)| r.end > start)
        .any(|(_, r)| r.prot & need != need)
    {
        return Err(KERN_PROTECTION_FAILURE);
    }
    Ok(())
}

/// `vm_read`: a copy of `[addr, addr + size)` (any alignment, as GNU Mach); the range must be
/// mapped and readable.
pub fn read(map: &VmMap, root: u64, addr: u64, size: u64) -> Result<Vec<u8>, u32> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let end = addr.checked_add(size).ok_or(KERN_INVALID_ADDRESS)?;
    let (start, pend) = page_range(addr, size)?;
    check_access(map, start, pend, VM_PROT_READ)?;
    let len = usize::try_from(end - addr).map_err(|_| KERN_RESOURCE_SHORTAGE)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| KERN_RESOURCE_SHORTAGE)?;
    buf.resize(len, 0);
    if !uaccess::copy_in_map(map, root, addr, &mut buf) {
        return Err(KERN_INVALID_ADDRESS);
    }
    Ok(buf)
}

/// `vm_read` as GNU Mach answers it: the whole pages holding `[addr, addr + size)` and the
/// offset of `addr` in the first one (empty for size 0).
pub fn read_pages(map: &VmMap, root: u64, addr: u64, size: u64) -> Result<(Vec<u8>, u64), u32> {
    if size == 0 {
        return Ok((Vec::new(), 0));
    }
    addr.checked_add(size).ok_or(KERN_INVALID_ADDRESS)?;
    let (start, end) = page_range(addr, size)?;
    Ok((read(map, root, start, end - start)?, addr - start))
}

/// `vm_write`: `data` over `[addr, addr + len)`; address and size page-aligned
/// (`KERN_INVALID_ARGUMENT` otherwise, as GNU Mach), the range mapped and writable.
pub fn write(map: &mut VmMap, root: u64, addr: u64, data: &[u8]) -> Result<(), u32> {
    let len = data.len() as u64;
    if !addr.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) {
        return Err(KERN_INVALID_ARGUMENT);
    }
    let end = addr.checked_add(len).ok_or(KERN_INVALID_ADDRESS)?;
    check_access(map, addr, end, VM_PROT_WRITE)?;
    uaccess::write_map(map, root, addr, data)
}

/// `vm_copy`: `[src, src + size)` to `dst`; all page-aligned, the source readable, the
/// destination writable.
pub fn copy(map: &mut VmMap, root: u64, src: u64, size: u64, dst: u64) -> Result<(), u32> {
    // A range that wraps is KERN_INVALID_ADDRESS before any alignment check (observed,
    // suite `vm-hostile`: size ~0).
    let send = src.checked_add(size).ok_or(KERN_INVALID_ADDRESS)?;
    let dend = dst.checked_add(size).ok_or(KERN_INVALID_ADDRESS)?;
    if !src.is_multiple_of(PAGE_SIZE)
        || !size.is_multiple_of(PAGE_SIZE)
        || !dst.is_multiple_of(PAGE_SIZE)
    {
        return Err(KERN_INVALID_ARGUMENT);
    }
    if size == 0 {
        return Ok(());
    }
    check_access(map, src, send, VM_PROT_READ)?;
    check_access(map, dst, dend, VM_PROT_WRITE)?;
    let data = read(map, root, src, size)?;
    uaccess::write_map(map, root, dst, &data)
}
