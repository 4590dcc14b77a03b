//! A task's address map: the regions it has (program segments, stack, `vm_allocate`d
//! memory, out-of-line data the kernel mapped for it), each backed by zeroed frames mapped
//! when the region is made.
//!
//! This is the part of Mach's virtual memory that IPC needs (out-of-line data in the
//! kernel's replies lands in fresh regions of the receiver; programs free them with
//! `vm_deallocate`) plus `vm_allocate` / `vm_deallocate`. Protection changes, inheritance,
//! copy-on-write and paging on demand are not implemented yet.

use crate::mm::{self, Tables};
use alloc::collections::BTreeMap;
use mach_r_mm::paging::{self, Flags, PageSize, USER_TOP};
use mach_r_mm::PAGE_SIZE;

/// `KERN_INVALID_ADDRESS`.
pub const KERN_INVALID_ADDRESS: u32 = 1;
/// `KERN_NO_SPACE`.
pub const KERN_NO_SPACE: u32 = 3;
/// `KERN_RESOURCE_SHORTAGE`.
pub const KERN_RESOURCE_SHORTAGE: u32 = 6;

/// Lowest address `vm_allocate(anywhere)` hands out.
const ANYWHERE_BASE: u64 = 0x1000_0000;

/// One region `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// One past the last byte.
    pub end: u64,
    /// Writable (all regions are readable; none is executable but program text).
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// The regions of one task, by start address.
#[derive(Debug, Default)]
pub struct VmMap {
    regions: BTreeMap<u64, Region>,
}

fn round_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

fn round_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(|x| x & !(PAGE_SIZE - 1))
}

impl VmMap {
    /// An empty map.
    pub fn new() -> VmMap {
        VmMap::default()
    }

    /// Records a region whose pages the caller mapped (program segments, the stack).
    pub fn record(&mut self, start: u64, end: u64, write: bool, execute: bool) {
        self.regions.insert(
            start,
            Region {
                end,
                write,
                execute,
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

    /// The lowest free range of `size` bytes at or above [`ANYWHERE_BASE`].
    fn find_space(&self, size: u64) -> Option<u64> {
        let mut at = ANYWHERE_BASE;
        for (&s, r) in self.regions.range(ANYWHERE_BASE..) {
            if s >= at && s - at >= size {
                return Some(at);
            }
            at = at.max(r.end);
        }
        if let Some((_, r)) = self.regions.range(..ANYWHERE_BASE).next_back() {
            at = at.max(r.end);
        }
        (at.checked_add(size)? <= USER_TOP).then_some(at)
    }

    /// Removes `[start, end)` from the map, splitting regions; returns whether it met any.
    fn remove(&mut self, start: u64, end: u64) {
        let starts: alloc::vec::Vec<u64> = self
            .regions
            .range(..end)
            .filter(|(_, r)| r.end > start)
            .map(|(&s, _)| s)
            .collect();
        for s in starts {
            let r = self.regions.remove(&s).expect("listed region");
            if s < start {
                self.regions.insert(s, Region { end: start, ..r });
            }
            if r.end > end {
                self.regions.insert(end, r);
            }
        }
    }
}

fn map_zeroed(root: u64, start: u64, end: u64, write: bool) -> Result<(), u32> {
    let mut va = start;
    while va < end {
        let Some(f) = mm::alloc_zeroed_frame() else {
            unmap_range(root, start, va);
            return Err(KERN_RESOURCE_SHORTAGE);
        };
        let mut flags = Flags::USER | Flags::NO_EXECUTE;
        if write {
            flags = flags | Flags::WRITABLE;
        }
        if paging::map(&mut Tables, root, va, f, PageSize::Size4K, flags).is_err() {
            mm::free_frame(f);
            unmap_range(root, start, va);
            return Err(KERN_RESOURCE_SHORTAGE);
        }
        va += PAGE_SIZE;
    }
    Ok(())
}

fn unmap_range(root: u64, start: u64, end: u64) {
    let mut va = start;
    while va < end {
        if let Ok(f) = paging::unmap(&mut Tables, root, va) {
            mm::free_frame(f);
        }
        crate::arch::cpu::invlpg(va);
        va += PAGE_SIZE;
    }
}

/// `vm_allocate`: zero-filled, read/write memory; at `addr` (rounded down to a page) or,
/// when `anywhere`, wherever it fits. Returns the address.
pub fn allocate(
    map: &mut VmMap,
    root: u64,
    addr: u64,
    size: u64,
    anywhere: bool,
) -> Result<u64, u32> {
    if size == 0 {
        return Ok(addr);
    }
    let Some(len) = round_up(size) else {
        return Err(KERN_NO_SPACE);
    };
    let start = if anywhere {
        map.find_space(len).ok_or(KERN_NO_SPACE)?
    } else {
        let s = round_down(addr);
        match s.checked_add(len) {
            Some(e) if e <= USER_TOP && s != 0 => {}
            _ => return Err(KERN_INVALID_ADDRESS),
        }
        if map.overlaps(s, s + len) {
            return Err(KERN_NO_SPACE);
        }
        s
    };
    map_zeroed(root, start, start + len, true)?;
    map.record(start, start + len, true, false);
    Ok(start)
}

/// `vm_deallocate`: unmaps whatever of `[addr, addr + size)` is mapped (a hole is no error,
/// as in Mach).
pub fn deallocate(map: &mut VmMap, root: u64, addr: u64, size: u64) -> Result<(), u32> {
    if size == 0 {
        return Ok(());
    }
    let start = round_down(addr);
    let Some(end) = addr.checked_add(size).and_then(round_up) else {
        return Err(KERN_INVALID_ADDRESS);
    };
    if end > USER_TOP {
        return Err(KERN_INVALID_ADDRESS);
    }
    map.remove(start, end);
    unmap_range(root, start, end);
    Ok(())
}
