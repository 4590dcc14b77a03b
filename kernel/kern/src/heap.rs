//! The kernel heap: a first-fit free list (`linked_list_allocator`) over the mapped heap
//! window, behind an [`IrqLock`], as the global allocator.

use crate::sync::IrqLock;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;

struct KernelHeap(IrqLock<Heap>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqLock::new(Heap::empty()));

// SAFETY: allocation is delegated to `Heap`, which hands out disjoint blocks of the window
// given to `init`; the lock serialises all access.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .lock()
            .allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with the same layout (GlobalAlloc contract).
            unsafe { self.0.lock().deallocate(p, layout) }
        }
    }
}

/// Hands the mapped window `[base, base + size)` to the allocator.
pub fn init(base: u64, size: u64) {
    // SAFETY: `mm::init` mapped the window writable, it is used by nothing else, and `init`
    // runs once.
    unsafe { HEAP.0.lock().init(base as *mut u8, size as usize) }
}

/// (used, free) bytes of the heap.
pub fn stats() -> (usize, usize) {
    let h = HEAP.0.lock();
    (h.used(), h.free())
}
