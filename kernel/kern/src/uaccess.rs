//! Copies between the kernel and a task's memory, checked page by page against the task's
//! page tables (present, user-accessible, writable for copy-out) and done through the
//! direct map, so a bad user pointer is an error return, never a kernel fault.

use crate::arch::phys;
use crate::mm::Tables;
use alloc::vec::Vec;
use mach_r_mm::paging::{translate, user_range_ok};
use mach_r_mm::PAGE_SIZE;

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
pub fn read_cstr(root: u64, va: u64, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = va;
    while out.len() < max {
        let in_page = (PAGE_SIZE - (cur & (PAGE_SIZE - 1))) as usize;
        let n = in_page.min(max - out.len());
        let mut chunk = [0u8; 256];
        let n = n.min(chunk.len());
        if !copy_in(root, cur, &mut chunk[..n]) {
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
