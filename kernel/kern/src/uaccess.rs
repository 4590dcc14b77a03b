//! Copies between the kernel and a task's memory, done through the direct map, so a bad
//! user pointer is an error return, never a kernel fault.
//!
//! The `_map` functions go through the task's address map ([`VmMap`]): each page must lie
//! in a region whose protection allows the access; a page not touched yet reads as zeros
//! and is made resident (zero fill on demand) when written. These are what a task's memory
//! is read and written with. The others check the hardware page tables only (present,
//! user-accessible, writable for copy-out), for memory the kernel itself just mapped and
//! for backtraces, which must not fault pages in.

use crate::arch::phys;
use crate::mm::Tables;
use crate::vm::{self, VmMap};
use alloc::vec::Vec;
use mach_r_mm::paging::{translate, user_range_ok, USER_TOP};
use mach_r_mm::PAGE_SIZE;

/// The pieces `(address, offset into the data, length)` of `[va, va + len)` cut at pages,
/// or `None` if the range wraps or leaves the user half.
fn chunks(va: u64, len: usize) -> Option<impl Iterator<Item = (u64, usize, usize)>> {
    if len > 0 && va.checked_add(len as u64)? > USER_TOP {
        return None;
    }
    let mut done = 0;
    Some(core::iter::from_fn(move || {
        (done < len).then(|| {
            let cur = va + done as u64;
            let n = ((PAGE_SIZE - (cur & (PAGE_SIZE - 1))) as usize).min(len - done);
            let piece = (cur, done, n);
            done += n;
            piece
        })
    }))
}

/// Copies `buf.len()` bytes from user address `va` of the task with map `map`.
pub fn copy_in_map(map: &VmMap, _root: u64, va: u64, buf: &mut [u8]) -> bool {
    let Some(pieces) = chunks(va, buf.len()) else {
        return false;
    };
    for (cur, off, n) in pieces {
        let dst = &mut buf[off..off + n];
        match vm::lookup(map, cur, vm::VM_PROT_READ) {
            Ok(Some(f)) => {
                if !phys::read(f + (cur & (PAGE_SIZE - 1)), dst) {
                    return false;
                }
            }
            Ok(None) => dst.fill(0),
            Err(_) => return false,
        }
    }
    true
}

/// Copies `data` to user address `va` of the task with map `map` and page tables `root`;
/// the `vm_*` error code if a page is outside the map, not writable, or no frame is left.
/// Nothing is written unless every page may be.
pub fn write_map(map: &mut VmMap, root: u64, va: u64, data: &[u8]) -> Result<(), u32> {
    let Some(pieces) = chunks(va, data.len()) else {
        return Err(vm::KERN_INVALID_ADDRESS);
    };
    let last = va + (data.len() as u64).saturating_sub(1);
    if va / PAGE_SIZE != last / PAGE_SIZE {
        // Several pages: all are checked before any is written. (Within one page `resolve`
        // refuses exactly what this check would, before anything is written.)
        for (cur, _, _) in chunks(va, data.len()).into_iter().flatten() {
            vm::lookup(map, cur, vm::VM_PROT_WRITE)?;
        }
    }
    for (cur, off, n) in pieces {
        let f = vm::resolve(map, root, cur, vm::VM_PROT_WRITE)?;
        if !phys::write(f + (cur & (PAGE_SIZE - 1)), &data[off..off + n]) {
            return Err(vm::KERN_INVALID_ADDRESS);
        }
    }
    Ok(())
}

/// [`write_map`] as a yes/no.
pub fn copy_out_map(map: &mut VmMap, root: u64, va: u64, data: &[u8]) -> bool {
    write_map(map, root, va, data).is_ok()
}

/// [`read_cstr`] through the task's map.
pub fn read_cstr_map(map: &VmMap, root: u64, va: u64, max: usize) -> Option<Vec<u8>> {
    read_cstr_with(va, max, |cur, chunk| copy_in_map(map, root, cur, chunk))
}

fn for_each_chunk(
    root: u64,
    va: u64,
    len: usize,
    mut f: impl FnMut(u64, usize, usize) -> bool,
) -> bool {
    let mut done = 0;
    while done < len {
        let cur = va + done as u64;
        let n = ((PAGE_SIZE - (cur & (PAGE_SIZE - 1))) as usize).min(len - done);
        let Some(t) = translate(&Tables, root, cur) else {
            return false;
        };
        if !f(t.phys, done, n) {
            return false;
        }
        done += n;
    }
    true
}

/// Copies `buf.len()` bytes from user address `va` of the space `root`.
pub fn copy_in(root: u64, va: u64, buf: &mut [u8]) -> bool {
    if !user_range_ok(&Tables, root, va, buf.len() as u64, false) {
        return false;
    }
    for_each_chunk(root, va, buf.len(), |pa, off, n| {
        phys::read(pa, &mut buf[off..off + n])
    })
}

/// Copies `data` to user address `va` of the space `root`.
pub fn copy_out(root: u64, va: u64, data: &[u8]) -> bool {
    if !user_range_ok(&Tables, root, va, data.len() as u64, true) {
        return false;
    }
    for_each_chunk(root, va, data.len(), |pa, off, n| {
        phys::write(pa, &data[off..off + n])
    })
}

/// Reads a NUL-terminated string of at most `max` bytes; `None` if it is unreadable or longer.
#[allow(dead_code)] // kept for callers without a map
pub fn read_cstr(root: u64, va: u64, max: usize) -> Option<Vec<u8>> {
    read_cstr_with(va, max, |cur, chunk| copy_in(root, cur, chunk))
}

fn read_cstr_with(
    va: u64,
    max: usize,
    mut copy: impl FnMut(u64, &mut [u8]) -> bool,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = va;
    while out.len() < max {
        let in_page = (PAGE_SIZE - (cur & (PAGE_SIZE - 1))) as usize;
        let n = in_page.min(max - out.len());
        let mut chunk = [0u8; 256];
        let n = n.min(chunk.len());
        if !copy(cur, &mut chunk[..n]) {
            return None;
        }
        if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..z]);
            return Some(out);
        }
        out.extend_from_slice(&chunk[..n]);
        cur = cur.checked_add(n as u64)?;
    }
    None
}
