//! The kernel heap, the global allocator: blocks of up to 4 KiB come from per-size free
//! lists (powers of two from 16 bytes, refilled 16 KiB at a time), larger ones from a
//! first-fit free list (`linked_list_allocator`) over the mapped heap window; all behind
//! one [`IrqLock`].
//!
//! IPC allocates and frees small blocks on every message (message bytes, map nodes); a
//! free-list pop or push is a few instructions where the first-fit list walks its holes.
//! Size-class memory comes in 16 KiB chunks aligned to 16 KiB; a chunk whose blocks are
//! all free goes back to the first-fit list when its class holds another chunk's worth of
//! free blocks (the free lists are doubly linked, so its blocks leave in constant time
//! each). So memory a task made the kernel take comes back for any use when the task ends.
//!
//! The heap is fixed, so a user could fill it: [`RESERVE`] bytes are kept for the kernel's
//! own work. Every operation a user can repeat to grow kernel state asks [`has_room`] first
//! and answers a Mach code when the heap is down to the reserve (`KERN_RESOURCE_SHORTAGE`
//! for kernel calls, `MACH_SEND_NO_BUFFER` for a message); wake-ups, replies and the
//! destruction of a task never ask, and fit in the reserve.

use crate::sync::IrqLock;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;

/// Smallest size class: 16 bytes (`1 << MIN_SHIFT`).
const MIN_SHIFT: u32 = 4;
/// Number of size classes: 16, 32, ..., 4096 bytes.
const CLASSES: usize = 9;
/// Bytes taken from the first-fit list to refill a size class (a chunk, aligned to itself).
const REFILL: usize = 16 * 1024;
/// Chunks the heap window can hold (an 8 MiB heap and one for alignment, with room).
const MAX_CHUNKS: usize = 1024;
/// `Chunk::class` of a chunk that belongs to no size class.
const NO_CLASS: u8 = u8::MAX;

/// What a 16 KiB piece of the heap window holds, when a size class owns it.
#[derive(Clone, Copy)]
struct Chunk {
    class: u8,
    /// Its blocks on the class's free list.
    free: u16,
}

struct State {
    heap: Heap,
    /// Head of each size class's free list, or 0: a free block's first word links to the
    /// next block, its second to the previous one.
    free: [usize; CLASSES],
    /// Free bytes of each size class.
    class_cached: [usize; CLASSES],
    /// The heap window's start rounded down to a chunk.
    base: usize,
    chunks: [Chunk; MAX_CHUNKS],
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
    class_cached: [0; CLASSES],
    base: 0,
    chunks: [Chunk {
        class: NO_CLASS,
        free: 0,
    }; MAX_CHUNKS],
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
    fn chunk_of(&self, b: usize) -> usize {
        (b - self.base) / REFILL
    }

    /// Puts block `b` of class `c` at the head of the class's free list.
    fn push(&mut self, c: usize, b: usize) {
        let head = self.free[c];
        // SAFETY: `b` is a free block of class `c` (>= 16 bytes, 8-aligned) that nothing
        // else uses; `head` is 0 or a free block of the same list.
        unsafe {
            (b as *mut usize).write(head);
            (b as *mut usize).add(1).write(0);
            if head != 0 {
                (head as *mut usize).add(1).write(b);
            }
        }
        self.free[c] = b;
    }

    /// Takes block `b` of class `c` off the class's free list.
    fn unlink(&mut self, c: usize, b: usize) {
        // SAFETY: `b` is on the free list of class `c`, so its two words link to free blocks
        // of the same list (or are 0).
        unsafe {
            let next = (b as *const usize).read();
            let prev = (b as *const usize).add(1).read();
            if prev != 0 {
                (prev as *mut usize).write(next);
            } else {
                self.free[c] = next;
            }
            if next != 0 {
                (next as *mut usize).add(1).write(prev);
            }
        }
    }

    /// Carves a fresh chunk into blocks of class `c`; false when the heap is exhausted.
    fn refill(&mut self, c: usize) -> bool {
        let size = class_size(c);
        let Ok(layout) = Layout::from_size_align(REFILL, REFILL) else {
            return false;
        };
        let Ok(p) = self.heap.allocate_first_fit(layout) else {
            return false;
        };
        let base = p.as_ptr() as usize;
        let i = self.chunk_of(base);
        self.chunks[i] = Chunk {
            class: c as u8,
            free: (REFILL / size) as u16,
        };
        for k in (0..REFILL / size).rev() {
            self.push(c, base + k * size);
        }
        self.cached += REFILL;
        self.class_cached[c] += REFILL;
        true
    }

    /// Gives chunk `i` (of class `c`, all of its blocks free) back to the first-fit list.
    fn release(&mut self, c: usize, i: usize) {
        let size = class_size(c);
        let base = self.base + i * REFILL;
        for k in 0..REFILL / size {
            self.unlink(c, base + k * size);
        }
        self.chunks[i] = Chunk {
            class: NO_CLASS,
            free: 0,
        };
        self.cached -= REFILL;
        self.class_cached[c] -= REFILL;
        if let (Some(p), Ok(layout)) = (
            NonNull::new(base as *mut u8),
            Layout::from_size_align(REFILL, REFILL),
        ) {
            // SAFETY: the chunk came from `allocate_first_fit` with this layout in `refill`
            // and none of its blocks is in use or on a free list any more.
            unsafe { self.heap.deallocate(p, layout) }
        }
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
                s.unlink(c, b);
                let i = s.chunk_of(b);
                s.chunks[i].free -= 1;
                s.cached -= class_size(c);
                s.class_cached[c] -= class_size(c);
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
                // `ptr` came from `alloc` with this layout (GlobalAlloc contract), so it is a
                // block of class `c` the caller no longer uses.
                let b = ptr as usize;
                s.push(c, b);
                s.cached += class_size(c);
                s.class_cached[c] += class_size(c);
                s.used -= class_size(c);
                let i = s.chunk_of(b);
                debug_assert_eq!(usize::from(s.chunks[i].class), c);
                s.chunks[i].free += 1;
                // A wholly free chunk goes back unless it is the class's only spare one.
                if usize::from(s.chunks[i].free) == REFILL / class_size(c)
                    && s.class_cached[c] >= 2 * REFILL
                {
                    s.release(c, i);
                }
            }
            None => {
                s.used -= layout.size();
                // SAFETY: `ptr` came from `alloc` with the same layout (GlobalAlloc contract).
                unsafe { s.heap.deallocate(p, layout) }
            }
        }
    }
}

/// Heap bytes only the kernel's own work may take (an eighth of the 8 MiB heap): replies,
/// wake-ups, a dying task's clean-up.
pub const RESERVE: usize = 1 << 20;

/// Whether a user operation may take `bytes` more and leave [`RESERVE`] free.
/// Only the first-fit list counts: blocks waiting in a size class serve that class alone.
pub fn has_room(bytes: usize) -> bool {
    HEAP.0.lock().heap.free() >= RESERVE.saturating_add(bytes)
}

/// Whether a request to a kernel object (`bytes` long) may be copied in: requests may dig
/// into the first half of the reserve, so that calls which give memory back
/// (`mach_port_destroy`, `vm_deallocate`, `task_terminate`) still work when a call that
/// grows kernel state answers `KERN_RESOURCE_SHORTAGE`.
pub fn has_room_for_request(bytes: usize) -> bool {
    HEAP.0.lock().heap.free() >= (RESERVE / 2).saturating_add(bytes)
}

/// Hands the mapped window `[base, base + size)` to the allocator.
pub fn init(base: u64, size: u64) {
    let mut s = HEAP.0.lock();
    s.base = base as usize & !(REFILL - 1);
    assert!(
        (base + size) as usize - s.base <= MAX_CHUNKS * REFILL,
        "heap window larger than the chunk table"
    );
    // SAFETY: `mm::init` mapped the window writable, it is used by nothing else, and `init`
    // runs once.
    unsafe { s.heap.init(base as *mut u8, size as usize) }
}

/// (used, free) bytes of the heap: handed out to callers, and available (including blocks
/// waiting in the size classes).
pub fn stats() -> (usize, usize) {
    let s = HEAP.0.lock();
    (s.used, s.heap.free() + s.cached)
}
