//! x86_64 4-level page tables (PML4, PDPT, PD, PT) edited through [`TableMemory`].
//!
//! Leaf entries carry the permissions; intermediate entries are created present and
//! writable, and user-accessible when a user page is mapped below them, so the leaf
//! alone decides. [`translate`] reports the *effective* permissions (writable and user
//! only if every level allows it, no-execute if any level forbids execution), which is
//! what the CPU enforces and what the kernel checks before it touches user memory.

use crate::{LARGE_PAGE_SIZE, PAGE_SIZE};

/// Page-table entry bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u64);

impl Flags {
    /// Present.
    pub const PRESENT: Flags = Flags(1);
    /// Writable.
    pub const WRITABLE: Flags = Flags(1 << 1);
    /// Accessible from ring 3.
    pub const USER: Flags = Flags(1 << 2);
    /// Write-through caching.
    pub const WRITE_THROUGH: Flags = Flags(1 << 3);
    /// Caching disabled.
    pub const NO_CACHE: Flags = Flags(1 << 4);
    /// Large page (in a PD entry: 2 MiB).
    pub const HUGE: Flags = Flags(1 << 7);
    /// Global (not flushed on CR3 loads).
    pub const GLOBAL: Flags = Flags(1 << 8);
    /// No-execute (needs EFER.NXE).
    pub const NO_EXECUTE: Flags = Flags(1 << 63);
    /// No bits.
    pub const EMPTY: Flags = Flags(0);

    /// Whether all bits of `other` are set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// Mask of the physical address in an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const FLAG_MASK: u64 = !ADDR_MASK;

/// Access to page tables in physical memory.
pub trait TableMemory {
    /// Reads entry `index` (0..512) of the table at physical address `table`.
    fn read(&self, table: u64, index: usize) -> u64;
    /// Writes entry `index` of the table at `table`.
    fn write(&mut self, table: u64, index: usize, entry: u64);
    /// Allocates a zeroed table; returns its physical address.
    fn alloc_table(&mut self) -> Option<u64>;
    /// Returns a table obtained from [`alloc_table`](Self::alloc_table).
    fn free_table(&mut self, table: u64);
}

/// Size of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB, a PT entry.
    Size4K,
    /// 2 MiB, a PD entry with the large-page bit.
    Size2M,
}

impl PageSize {
    /// Bytes.
    pub fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => PAGE_SIZE,
            PageSize::Size2M => LARGE_PAGE_SIZE,
        }
    }
}

/// Errors of [`map`] and [`unmap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame for a new table.
    NoMemory,
    /// Something is mapped there already.
    AlreadyMapped(u64),
    /// An address is not aligned to the page size.
    Unaligned(u64),
    /// The virtual address is not canonical.
    NonCanonical(u64),
    /// Nothing is mapped there.
    NotMapped(u64),
    /// A large page covers the address (unmap or map of a small page inside it).
    LargePage(u64),
}

/// The result of [`translate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the byte.
    pub phys: u64,
    /// Effective permissions of the walk (see the module documentation).
    pub flags: Flags,
    /// Size of the leaf.
    pub size: PageSize,
}

/// Whether `va` is canonical for 48-bit addresses.
pub fn is_canonical(va: u64) -> bool {
    let top = va >> 47;
    top == 0 || top == 0x1_ffff
}

/// The four table indices of `va` (PML4 first).
pub fn indices(va: u64) -> [usize; 4] {
    [
        ((va >> 39) & 511) as usize,
        ((va >> 30) & 511) as usize,
        ((va >> 21) & 511) as usize,
        ((va >> 12) & 511) as usize,
    ]
}

fn next_table(
    mem: &mut impl TableMemory,
    table: u64,
    index: usize,
    user: bool,
    va: u64,
) -> Result<u64, MapError> {
    let e = mem.read(table, index);
    let inter = Flags::PRESENT.0 | Flags::WRITABLE.0 | if user { Flags::USER.0 } else { 0 };
    if e & Flags::PRESENT.0 != 0 {
        if e & Flags::HUGE.0 != 0 {
            return Err(MapError::LargePage(va));
        }
        if e & inter != inter {
            mem.write(table, index, e | inter);
        }
        return Ok(e & ADDR_MASK);
    }
    let t = mem.alloc_table().ok_or(MapError::NoMemory)?;
    mem.write(table, index, t | inter);
    Ok(t)
}

/// Maps the page at `va` to the frame at `pa` with `flags` (PRESENT is added).
pub fn map(
    mem: &mut impl TableMemory,
    root: u64,
    va: u64,
    pa: u64,
    size: PageSize,
    flags: Flags,
) -> Result<(), MapError> {
    if !is_canonical(va) {
        return Err(MapError::NonCanonical(va));
    }
    if !va.is_multiple_of(size.bytes()) {
        return Err(MapError::Unaligned(va));
    }
    if !pa.is_multiple_of(size.bytes()) || pa & !ADDR_MASK != 0 {
        return Err(MapError::Unaligned(pa));
    }
    let user = flags.contains(Flags::USER);
    let [i4, i3, i2, i1] = indices(va);
    let pdpt = next_table(mem, root, i4, user, va)?;
    let pd = next_table(mem, pdpt, i3, user, va)?;
    let (table, index, extra) = match size {
        PageSize::Size2M => (pd, i2, Flags::HUGE.0),
        PageSize::Size4K => (next_table(mem, pd, i2, user, va)?, i1, 0),
    };
    if mem.read(table, index) & Flags::PRESENT.0 != 0 {
        return Err(MapError::AlreadyMapped(va));
    }
    mem.write(
        table,
        index,
        pa | (flags.0 & FLAG_MASK) | Flags::PRESENT.0 | extra,
    );
    Ok(())
}

/// Walks to the leaf of `va`: returns (table, index, entry, size) for a present leaf.
fn walk(mem: &impl TableMemory, root: u64, va: u64) -> Option<(u64, usize, u64, PageSize, Flags)> {
    if !is_canonical(va) {
        return None;
    }
    let [i4, i3, i2, i1] = indices(va);
    let mut eff = Flags::WRITABLE.0 | Flags::USER.0;
    let mut nx = 0;
    let mut table = root;
    for (level, index) in [i4, i3, i2, i1].into_iter().enumerate() {
        let e = mem.read(table, index);
        if e & Flags::PRESENT.0 == 0 {
            return None;
        }
        eff &= e;
        nx |= e & Flags::NO_EXECUTE.0;
        let leaf_size = match level {
            2 if e & Flags::HUGE.0 != 0 => Some(PageSize::Size2M),
            3 => Some(PageSize::Size4K),
            _ if e & Flags::HUGE.0 != 0 => return None, // 1 GiB pages are not used by Mach_R
            _ => None,
        };
        if let Some(size) = leaf_size {
            let flags = Flags(
                (e & FLAG_MASK & !(Flags::WRITABLE.0 | Flags::USER.0 | Flags::NO_EXECUTE.0))
                    | eff
                    | nx,
            );
            return Some((table, index, e, size, flags));
        }
        table = e & ADDR_MASK;
    }
    None
}

/// Translates `va`; `None` if it is not mapped.
pub fn translate(mem: &impl TableMemory, root: u64, va: u64) -> Option<Translation> {
    let (_, _, e, size, flags) = walk(mem, root, va)?;
    let base = e & ADDR_MASK & !(size.bytes() - 1);
    Some(Translation {
        phys: base + (va & (size.bytes() - 1)),
        flags,
        size,
    })
}

/// Removes the 4 KiB mapping of `va`; returns the frame it mapped. Tables are kept.
pub fn unmap(mem: &mut impl TableMemory, root: u64, va: u64) -> Result<u64, MapError> {
    if !va.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Unaligned(va));
    }
    let (table, index, e, size, _) = walk(mem, root, va).ok_or(MapError::NotMapped(va))?;
    if size != PageSize::Size4K {
        return Err(MapError::LargePage(va));
    }
    mem.write(table, index, 0);
    Ok(e & ADDR_MASK)
}

/// Whether every byte of `[va, va + len)` is mapped user-accessible (and writable if `write`).
pub fn user_range_ok(mem: &impl TableMemory, root: u64, va: u64, len: u64, write: bool) -> bool {
    if len == 0 {
        return true;
    }
    let Some(last) = va.checked_add(len - 1) else {
        return false;
    };
    if last >= USER_TOP {
        return false;
    }
    let mut page = va & !(PAGE_SIZE - 1);
    while page <= last {
        match translate(mem, root, page) {
            Some(t)
                if t.flags.contains(Flags::USER)
                    && (!write || t.flags.contains(Flags::WRITABLE)) => {}
            _ => return false,
        }
        page += PAGE_SIZE;
    }
    true
}

/// One past the highest user address Mach_R maps: the last page of the lower half stays
/// unmapped so that the address after a `syscall` instruction is always canonical.
pub const USER_TOP: u64 = 0x0000_7fff_ffff_f000;

/// Tears down the lower half (PML4 entries 0..256): hands every leaf frame to `free_frame`,
/// returns the intermediate tables to `mem` and clears the PML4 entries. Returns the number
/// of leaf frames freed.
pub fn free_lower_half(
    mem: &mut impl TableMemory,
    root: u64,
    free_frame: &mut impl FnMut(u64),
) -> u64 {
    let mut freed = 0;
    for i4 in 0..256 {
        let e4 = mem.read(root, i4);
        if e4 & Flags::PRESENT.0 == 0 {
            continue;
        }
        let pdpt = e4 & ADDR_MASK;
        for i3 in 0..512 {
            let e3 = mem.read(pdpt, i3);
            if e3 & Flags::PRESENT.0 == 0 || e3 & Flags::HUGE.0 != 0 {
                continue;
            }
            let pd = e3 & ADDR_MASK;
            for i2 in 0..512 {
                let e2 = mem.read(pd, i2);
                if e2 & Flags::PRESENT.0 == 0 || e2 & Flags::HUGE.0 != 0 {
                    continue;
                }
                let pt = e2 & ADDR_MASK;
                for i1 in 0..512 {
                    let e1 = mem.read(pt, i1);
                    if e1 & Flags::PRESENT.0 != 0 {
                        free_frame(e1 & ADDR_MASK);
                        freed += 1;
                    }
                }
                mem.free_table(pt);
            }
            mem.free_table(pd);
        }
        mem.free_table(pdpt);
        mem.write(root, i4, 0);
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::collections::BTreeMap;

    /// Tables as boxed arrays keyed by fake physical addresses.
    struct Tables {
        tables: BTreeMap<u64, Box<[u64; 512]>>,
        next: u64,
        freed: u64,
    }

    impl Tables {
        fn new() -> (Tables, u64) {
            let mut t = Tables {
                tables: BTreeMap::new(),
                next: 0x100_0000,
                freed: 0,
            };
            let root = t.alloc_table().unwrap();
            (t, root)
        }
    }

    impl TableMemory for Tables {
        fn read(&self, table: u64, index: usize) -> u64 {
            self.tables[&table][index]
        }
        fn write(&mut self, table: u64, index: usize, entry: u64) {
            self.tables.get_mut(&table).unwrap()[index] = entry;
        }
        fn alloc_table(&mut self) -> Option<u64> {
            if self.tables.len() > 64 {
                return None;
            }
            let a = self.next;
            self.next += PAGE_SIZE;
            self.tables.insert(a, Box::new([0; 512]));
            Some(a)
        }
        fn free_table(&mut self, table: u64) {
            self.tables.remove(&table).unwrap();
            self.freed += 1;
        }
    }

    const KTEXT: u64 = 0xffff_ffff_8020_0000;

    #[test]
    fn map_translate_unmap() {
        let (mut m, root) = Tables::new();
        map(
            &mut m,
            root,
            KTEXT,
            0x20_0000,
            PageSize::Size4K,
            Flags::GLOBAL,
        )
        .unwrap();
        let t = translate(&m, root, KTEXT + 0x123).unwrap();
        assert_eq!(t.phys, 0x20_0123);
        assert!(!t.flags.contains(Flags::WRITABLE) && !t.flags.contains(Flags::USER));
        assert!(!t.flags.contains(Flags::NO_EXECUTE));
        assert_eq!(
            map(
                &mut m,
                root,
                KTEXT,
                0x30_0000,
                PageSize::Size4K,
                Flags::EMPTY
            ),
            Err(MapError::AlreadyMapped(KTEXT))
        );
        assert_eq!(unmap(&mut m, root, KTEXT), Ok(0x20_0000));
        assert_eq!(translate(&m, root, KTEXT), None);
        assert_eq!(unmap(&mut m, root, KTEXT), Err(MapError::NotMapped(KTEXT)));
    }

    #[test]
    fn large_pages_and_errors() {
        let (mut m, root) = Tables::new();
        let hhdm = 0xffff_8000_0000_0000;
        map(
            &mut m,
            root,
            hhdm,
            0,
            PageSize::Size2M,
            Flags::WRITABLE | Flags::NO_EXECUTE,
        )
        .unwrap();
        let t = translate(&m, root, hhdm + 0x1f_ffff).unwrap();
        assert_eq!((t.phys, t.size), (0x1f_ffff, PageSize::Size2M));
        assert!(t.flags.contains(Flags::NO_EXECUTE | Flags::WRITABLE));
        assert_eq!(
            map(
                &mut m,
                root,
                hhdm + 0x1000,
                0,
                PageSize::Size4K,
                Flags::EMPTY
            ),
            Err(MapError::LargePage(hhdm + 0x1000))
        );
        assert_eq!(unmap(&mut m, root, hhdm), Err(MapError::LargePage(hhdm)));
        assert_eq!(
            map(
                &mut m,
                root,
                0x0000_8000_0000_0000,
                0,
                PageSize::Size4K,
                Flags::EMPTY
            ),
            Err(MapError::NonCanonical(0x0000_8000_0000_0000))
        );
        assert_eq!(
            map(&mut m, root, 0x1001, 0, PageSize::Size4K, Flags::EMPTY),
            Err(MapError::Unaligned(0x1001))
        );
        assert_eq!(
            map(
                &mut m,
                root,
                0x20_0000,
                0x1000,
                PageSize::Size2M,
                Flags::EMPTY
            ),
            Err(MapError::Unaligned(0x1000))
        );
    }

    #[test]
    fn user_permissions_are_effective_over_all_levels() {
        let (mut m, root) = Tables::new();
        // A kernel page first creates kernel-only intermediate tables...
        map(
            &mut m,
            root,
            0x40_0000,
            0x5000,
            PageSize::Size4K,
            Flags::WRITABLE,
        )
        .unwrap();
        assert!(!user_range_ok(&m, root, 0x40_0000, 1, false));
        // ...then a user page beside it opens the intermediates, but the leaf still decides.
        map(
            &mut m,
            root,
            0x40_1000,
            0x6000,
            PageSize::Size4K,
            Flags::USER,
        )
        .unwrap();
        assert!(user_range_ok(&m, root, 0x40_1000, 4096, false));
        assert!(!user_range_ok(&m, root, 0x40_1000, 4096, true));
        assert!(!user_range_ok(&m, root, 0x40_0000, 1, false));
        assert!(!user_range_ok(&m, root, 0x40_1fff, 2, false));
        assert!(!user_range_ok(&m, root, u64::MAX, 2, false));
        assert!(!user_range_ok(&m, root, USER_TOP, 1, false));
        assert!(user_range_ok(&m, root, 0xdead, 0, true));
    }

    #[test]
    fn lower_half_teardown_frees_everything_below_and_nothing_above() {
        let (mut m, root) = Tables::new();
        map(
            &mut m,
            root,
            KTEXT,
            0x20_0000,
            PageSize::Size4K,
            Flags::EMPTY,
        )
        .unwrap();
        let kernel_tables = m.tables.len();
        for i in 0..10u64 {
            map(
                &mut m,
                root,
                0x40_0000 + i * PAGE_SIZE,
                0x1000 * i,
                PageSize::Size4K,
                Flags::USER,
            )
            .unwrap();
        }
        map(
            &mut m,
            root,
            0x7fff_fff0_0000,
            0x9000,
            PageSize::Size4K,
            Flags::USER,
        )
        .unwrap();
        let mut frames = std::vec::Vec::new();
        let n = free_lower_half(&mut m, root, &mut |f| frames.push(f));
        assert_eq!(n, 11);
        assert_eq!(frames.len(), 11);
        assert_eq!(m.tables.len(), kernel_tables);
        assert!(translate(&m, root, KTEXT).is_some());
        assert!(translate(&m, root, 0x40_0000).is_none());
    }

    #[test]
    fn out_of_memory_is_reported() {
        let (mut m, root) = Tables::new();
        let mut err = None;
        for i in 0..100u64 {
            if let Err(e) = map(&mut m, root, i << 30, 0, PageSize::Size4K, Flags::EMPTY) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(MapError::NoMemory));
    }
}
