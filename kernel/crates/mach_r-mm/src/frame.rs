//! The physical frame allocator: one bit per 4 KiB frame, set when the frame is free.
//!
//! The bitmap is a fixed array (`WORDS` words of 64 frames), so the kernel keeps the
//! allocator in `.bss` and needs no memory to set it up. Frames beyond the bitmap are
//! counted in [`FrameAllocator::ignored_bytes`] and never handed out. A fresh allocator
//! owns no frames: the kernel adds the usable regions of the boot memory map and then
//! reserves what is in use (the kernel image, the modules, the first megabyte).

use crate::{align_down, align_up, PAGE_SIZE};

/// Errors of [`FrameAllocator::free`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// The address is not 4 KiB aligned.
    Unaligned(u64),
    /// The frame is outside the managed range.
    OutOfRange(u64),
    /// The frame is already free.
    DoubleFree(u64),
}

/// A bitmap frame allocator for the first `WORDS * 64 * 4 KiB` bytes of physical memory.
#[derive(Debug, Clone)]
pub struct FrameAllocator<const WORDS: usize> {
    free_bits: [u64; WORDS],
    free: u64,
    managed: u64,
    ignored: u64,
    hint: usize,
}

impl<const WORDS: usize> Default for FrameAllocator<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WORDS: usize> FrameAllocator<WORDS> {
    /// Number of frames the bitmap covers.
    pub const FRAMES: u64 = WORDS as u64 * 64;
    /// One past the highest physical address the allocator can manage.
    pub const LIMIT: u64 = Self::FRAMES * PAGE_SIZE;

    /// An allocator that owns no frames.
    pub const fn new() -> Self {
        FrameAllocator {
            free_bits: [0; WORDS],
            free: 0,
            managed: 0,
            ignored: 0,
            hint: 0,
        }
    }

    fn set(&mut self, frame: u64, free: bool) -> bool {
        let (w, b) = ((frame / 64) as usize, frame % 64);
        let was = self.free_bits[w] & (1 << b) != 0;
        if free {
            self.free_bits[w] |= 1 << b;
        } else {
            self.free_bits[w] &= !(1 << b);
        }
        was
    }

    /// Adds the whole frames inside `[base, base + len)` as free memory.
    pub fn add_region(&mut self, base: u64, len: u64) {
        let Some(start) = align_up(base, PAGE_SIZE) else {
            return;
        };
        let end = align_down(base.saturating_add(len), PAGE_SIZE);
        if end <= start {
            return;
        }
        let kept_end = end.min(Self::LIMIT);
        if end > kept_end {
            self.ignored += end - kept_end.max(start);
        }
        let mut a = start;
        while a < kept_end {
            if !self.set(a / PAGE_SIZE, true) {
                self.free += 1;
                self.managed += 1;
            }
            a += PAGE_SIZE;
        }
    }

    /// Marks every frame touching `[base, base + len)` as in use. Returns how many were free.
    pub fn reserve(&mut self, base: u64, len: u64) -> u64 {
        let start = align_down(base, PAGE_SIZE);
        let end = align_up(base.saturating_add(len), PAGE_SIZE)
            .unwrap_or(u64::MAX)
            .min(Self::LIMIT);
        let mut taken = 0;
        let mut a = start;
        while a < end {
            if self.set(a / PAGE_SIZE, false) {
                self.free -= 1;
                self.managed -= 1;
                taken += 1;
            }
            a += PAGE_SIZE;
        }
        taken
    }

    /// Allocates one frame, lowest address first from a moving hint. Returns its address.
    pub fn alloc(&mut self) -> Option<u64> {
        for i in 0..WORDS {
            let w = (self.hint + i) % WORDS;
            let bits = self.free_bits[w];
            if bits != 0 {
                let b = u64::from(bits.trailing_zeros());
                let frame = w as u64 * 64 + b;
                self.set(frame, false);
                self.free -= 1;
                self.hint = w;
                return Some(frame * PAGE_SIZE);
            }
        }
        None
    }

    /// Allocates `count` physically contiguous frames whose first address is a multiple
    /// of `align` bytes (a power of two, at least 4 KiB).
    pub fn alloc_contiguous(&mut self, count: u64, align: u64) -> Option<u64> {
        if count == 0 || !align.is_power_of_two() || align < PAGE_SIZE {
            return None;
        }
        let step = align / PAGE_SIZE;
        let mut first = 0;
        while first + count <= Self::FRAMES {
            match (first..first + count).find(|&f| !self.is_free_frame(f)) {
                None => {
                    for f in first..first + count {
                        self.set(f, false);
                    }
                    self.free -= count;
                    return Some(first * PAGE_SIZE);
                }
                Some(busy) => first = (busy / step + 1) * step,
            }
        }
        None
    }

    fn is_free_frame(&self, frame: u64) -> bool {
        self.free_bits[(frame / 64) as usize] & (1 << (frame % 64)) != 0
    }

    /// Whether the frame at `addr` is currently free.
    pub fn is_free(&self, addr: u64) -> bool {
        addr < Self::LIMIT && self.is_free_frame(addr / PAGE_SIZE)
    }

    /// Returns a frame obtained from [`alloc`](Self::alloc) or [`alloc_contiguous`](Self::alloc_contiguous).
    pub fn free(&mut self, addr: u64) -> Result<(), FreeError> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(FreeError::Unaligned(addr));
        }
        if addr >= Self::LIMIT {
            return Err(FreeError::OutOfRange(addr));
        }
        if self.set(addr / PAGE_SIZE, true) {
            return Err(FreeError::DoubleFree(addr));
        }
        self.free += 1;
        Ok(())
    }

    /// Free frames.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames added and not reserved (free or handed out).
    pub fn managed_frames(&self) -> u64 {
        self.managed
    }

    /// Bytes of usable memory above [`LIMIT`](Self::LIMIT), which the allocator ignores.
    pub fn ignored_bytes(&self) -> u64 {
        self.ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::collections::BTreeSet;

    type Small = FrameAllocator<4>; // 256 frames, 1 MiB

    #[test]
    fn regions_are_trimmed_to_whole_frames() {
        let mut a = Small::new();
        a.add_region(0x800, 0x3000); // frames 1 and 2 are whole; 0 and 3 partial
        assert_eq!(a.free_frames(), 2);
        assert!(!a.is_free(0) && a.is_free(0x1000) && a.is_free(0x2000) && !a.is_free(0x3000));
        a.add_region(0x1000, 0x1000); // adding twice does not count twice
        assert_eq!(a.free_frames(), 2);
    }

    #[test]
    fn alloc_free_round_trip_without_duplicates() {
        let mut a = Small::new();
        a.add_region(0, Small::LIMIT);
        assert_eq!(a.reserve(0, 0x10000), 16);
        let before = a.free_frames();
        let mut seen = BTreeSet::new();
        while let Some(f) = a.alloc() {
            assert!(f >= 0x10000 && f % PAGE_SIZE == 0);
            assert!(seen.insert(f), "frame {f:#x} handed out twice");
        }
        assert_eq!(seen.len() as u64, before);
        assert_eq!(a.free_frames(), 0);
        for f in &seen {
            a.free(*f).unwrap();
        }
        assert_eq!(a.free_frames(), before);
        assert_eq!(a.free(0x10000), Err(FreeError::DoubleFree(0x10000)));
        assert_eq!(a.free(0x10001), Err(FreeError::Unaligned(0x10001)));
        assert_eq!(
            a.free(Small::LIMIT),
            Err(FreeError::OutOfRange(Small::LIMIT))
        );
    }

    #[test]
    fn memory_above_the_bitmap_is_ignored() {
        let mut a = Small::new();
        a.add_region(Small::LIMIT - 0x2000, 0x5000);
        assert_eq!(a.free_frames(), 2);
        assert_eq!(a.ignored_bytes(), 0x3000);
    }

    #[test]
    fn contiguous_allocation_respects_alignment_and_holes() {
        let mut a = Small::new();
        a.add_region(0, Small::LIMIT);
        a.reserve(0x1000, 1); // a hole at frame 1
        let f = a.alloc_contiguous(4, PAGE_SIZE).unwrap();
        assert_eq!(f, 0x2000);
        let g = a.alloc_contiguous(2, 0x10000).unwrap();
        assert_eq!(g, 0x10000);
        assert!(!a.is_free(0x10000) && !a.is_free(0x11000) && a.is_free(0x12000));
        assert_eq!(a.alloc_contiguous(1000, PAGE_SIZE), None);
        assert_eq!(a.alloc_contiguous(1, 3000), None);
    }
}
