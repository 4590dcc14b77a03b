//! The kernel heap, the global allocator: blocks of up to 4 KiB come from per-size free
//! lists (powers of two from 16 bytes, refilled 16 KiB at a time), larger ones from a
//! first-fit free list (`linked_list_allocator`) over the mapped heap window; all behind
//! one [`IrqLock`].
//!
//! IPC allocates and frees small blocks on every message (message bytes, map nodes); a
//! free-list pop or push is a few instructions where the first-fit list walks its holes.
//! Memory of a size class is never given back to the first-fit list.

use crate::sync::IrqLock;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;

/// Smallest size class: 16 bytes (`1 << MIN_SHIFT`).
const MIN_SHIFT: u32 = 4;
/// Number of size classes: 16, 32, ..., 4096 bytes.
const CLASSES: usize = 9;
/// Bytes taken from the first-fit list to refill a size class.
const REFILL: usize = 16 * 1024;

struct State {
    heap: Heap,
    /// Head of each size class's free list (a block's first word links to the next), or 0.
    free: [usize; CLASSES],
    /// Bytes handed out to callers (size-class sizes for small blocks).
    used: usize,
    /// Bytes waiting in the size classes' free lists.
    cached: usize,
}

struct KernelHeap(IrqLock<State>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqLock::new(State {
    heap: Heap::empty(),
    free: [0; CLASSES],
    used: 0,
    cached: 0,
}));

/// The size class of a layout, if it has one.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    if size > 1 << (MIN_SHIFT as usize + CLASSES - 1) {
        return None;
    }
    let shift = usize::BITS - (size - 1).leading_zeros();
    Some((shift - MIN_SHIFT) as usize)
}

fn class_size(c: usize) -> usize {
    1 << (MIN_SHIFT as usize + c)
}

impl State {
    /// Carves a fresh chunk into blocks of class `c`; false when the heap is exhausted.
    fn refill(&mut self, c: usize) -> bool {
        let size = class_size(c);
        let chunk = REFILL.max(size);
        let Ok(layout) = Layout::from_size_align(chunk, size) else {
            return false;
        };
        let Ok(p) = self.heap.allocate_first_fit(layout) else {
            return false;
        };
        let base = p.as_ptr() as usize;
        for i in (0..chunk / size).rev() {
            let b = base + i * size;
            // SAFETY: `b` is inside the chunk just allocated, aligned to `size` >= 8, and the
            // chunk is owned by this size class alone.
            unsafe { (b as *mut usize).write(self.free[c]) };
            self.free[c] = b;
        }
        self.cached += chunk;
        true
    }
}

// SAFETY: small blocks are disjoint pieces of chunks the first-fit `Heap` handed out and are
// on at most one free list or with one caller at a time; large blocks are delegated to
// `Heap`; the lock serialises all access.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut s = self.0.lock();
        match class_of(layout) {
            Some(c) => {
                if s.free[c] == 0 && !s.refill(c) {
                    return core::ptr::null_mut();
                }
                let b = s.free[c];
                // SAFETY: `b` heads the free list: a block of this class whose first word
                // holds the next free block.
                s.free[c] = unsafe { (b as *const usize).read() };
                s.cached -= class_size(c);
                s.used += class_size(c);
                b as *mut u8
            }
            None => match s.heap.allocate_first_fit(layout) {
                Ok(p) => {
                    s.used += layout.size();
                    p.as_ptr()
                }
                Err(()) => core::ptr::null_mut(),
            },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(p) = NonNull::new(ptr) else {
            return;
        };
        let mut s = self.0.lock();
        match class_of(layout) {
            Some(c) => {
                let next = s.free[c];
                // SAFETY: `ptr` came from `alloc` with this layout (GlobalAlloc contract), so
                // it is a block of class `c` the caller no longer uses.
                unsafe { (ptr as *mut usize).write(next) };
                s.free[c] = ptr as usize;
                s.cached += class_size(c);
                s.used -= class_size(c);
            }
            None => {
                s.used -= layout.size();
                // SAFETY: `ptr` came from `alloc` with the same layout (GlobalAlloc contract).
                unsafe { s.heap.deallocate(p, layout) }
            }
        }
    }
}

/// Hands the mapped window `[base, base + size)` to the allocator.
pub fn init(base: u64, size: u64) {
    // SAFETY: `mm::init` mapped the window writable, it is used by nothing else, and `init`
    // runs once.
    unsafe { HEAP.0.lock().heap.init(base as *mut u8, size as usize) }
}

/// (used, free) bytes of the heap: handed out to callers, and available (including blocks
/// waiting in the size classes).
pub fn stats() -> (usize, usize) {
    let s = HEAP.0.lock();
    (s.used, s.heap.free() + s.cached)
}
