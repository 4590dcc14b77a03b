//! Boot information for Mach_R: one structure that every boot path (Limine, PVH, Multiboot v1
//! and v2) fills, and GNU Mach's bootstrap conventions ([`bootstrap`]: module strings, the
//! initial user stack).
//!
//! The kernel copies what the boot loader handed over into a [`BootInfo`] before it
//! allocates a single frame, so nothing points into loader memory afterwards except
//! the module contents, whose physical ranges are recorded and reserved.
//!
//! This crate reads boot structures through the [`PhysMemory`] trait and never
//! dereferences an address itself: it does no I/O, keeps no global state, allocates
//! nothing, and knows nothing of page tables. The kernel gives it a view of physical
//! memory; the host tests give it a byte vector.

#![no_std]
#![forbid(unsafe_code)]

pub mod archive;
pub mod bootstrap;
pub mod cmdline;
pub mod multiboot1;
pub mod multiboot2;
pub mod pvh;

/// Maximum number of memory-map regions kept.
pub const MAX_REGIONS: usize = 128;
/// Maximum number of boot modules kept.
pub const MAX_MODULES: usize = 16;
/// Maximum length of the kernel command line kept (longer ones are truncated).
pub const MAX_CMDLINE: usize = 256;
/// Maximum length of a module's string (its path or command line, such as GNU Mach's
/// `prog --host-priv-port=${host-port} ... $(task-create) $(task-resume)`).
pub const MAX_MODULE_NAME: usize = 256;

/// Read access to physical memory, as the boot structures are addressed physically.
pub trait PhysMemory {
    /// Copies `buf.len()` bytes starting at physical address `paddr` into `buf`.
    /// Returns `false` if any byte of the range is not readable.
    fn read(&self, paddr: u64, buf: &mut [u8]) -> bool;

    /// Reads a little-endian `u32`.
    fn read_u32(&self, paddr: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        self.read(paddr, &mut b).then(|| u32::from_le_bytes(b))
    }

    /// Reads a little-endian `u64`.
    fn read_u64(&self, paddr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.read(paddr, &mut b).then(|| u64::from_le_bytes(b))
    }

    /// Reads a NUL-terminated string of at most `out.len()` bytes into `out`;
    /// returns its length (a string without NUL within the limit is truncated).
    fn read_cstr(&self, paddr: u64, out: &mut [u8]) -> Option<usize> {
        for (i, slot) in out.iter_mut().enumerate() {
            let mut b = [0u8; 1];
            if !self.read(paddr.checked_add(i as u64)?, &mut b) {
                return None;
            }
            if b[0] == 0 {
                return Some(i);
            }
            *slot = b[0];
        }
        Some(out.len())
    }
}

/// Which boot protocol started the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootProtocol {
    /// The Limine boot protocol (64-bit entry, loader page tables with an HHDM).
    Limine,
    /// Xen/QEMU PVH (`qemu-system-x86_64 -kernel`): 32-bit entry, `hvm_start_info`.
    Pvh,
    /// Multiboot2 (GRUB): 32-bit entry, tag list.
    Multiboot2,
    /// Multiboot v1 (QEMU's `-kernel` loader, as it boots GNU Mach; GRUB's `multiboot`):
    /// 32-bit entry, information structure.
    Multiboot1,
}

impl BootProtocol {
    /// The name printed on the first serial line.
    pub fn name(self) -> &'static str {
        match self {
            BootProtocol::Limine => "limine",
            BootProtocol::Pvh => "pvh",
            BootProtocol::Multiboot2 => "multiboot2",
            BootProtocol::Multiboot1 => "multiboot",
        }
    }
}

/// What a physical memory region may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// Free RAM.
    Usable,
    /// Reserved by firmware or hardware.
    Reserved,
    /// ACPI tables (reclaimable once parsed).
    AcpiReclaimable,
    /// ACPI non-volatile storage.
    AcpiNvs,
    /// Defective RAM.
    BadMemory,
    /// Used by the boot loader (Limine); treated as reserved by Mach_R.
    BootloaderReclaimable,
    /// The kernel image and modules as placed by the loader.
    KernelAndModules,
    /// A framebuffer.
    Framebuffer,
}

/// One region of the physical memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
    /// Use of the region.
    pub kind: MemoryKind,
}

impl MemoryRegion {
    const EMPTY: MemoryRegion = MemoryRegion {
        base: 0,
        len: 0,
        kind: MemoryKind::Reserved,
    };

    /// One past the last byte (saturating).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.len)
    }
}

/// A boot module: a file the loader placed in physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    /// Physical address of the first byte.
    pub phys: u64,
    /// Size in bytes.
    pub len: u64,
    name: [u8; MAX_MODULE_NAME],
    name_len: usize,
    truncated: bool,
}

impl Module {
    const EMPTY: Module = Module {
        phys: 0,
        len: 0,
        name: [0; MAX_MODULE_NAME],
        name_len: 0,
        truncated: false,
    };

    /// Creates a module record; the name is truncated to [`MAX_MODULE_NAME`] bytes.
    pub fn new(phys: u64, len: u64, name: &[u8]) -> Module {
        let mut m = Module {
            phys,
            len,
            ..Module::EMPTY
        };
        let n = name.len().min(MAX_MODULE_NAME);
        m.name[..n].copy_from_slice(&name[..n]);
        m.name_len = n;
        m.truncated = name.len() > MAX_MODULE_NAME;
        m
    }

    /// The module's string (path or command line given by the loader).
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }

    /// Whether the loader's string was longer than [`MAX_MODULE_NAME`] and was cut.
    pub fn name_truncated(&self) -> bool {
        self.truncated
    }
}

/// Errors while building a [`BootInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    /// A structure could not be read from physical memory.
    Unreadable(u64),
    /// The magic number or version of a structure is wrong.
    BadMagic(u64),
    /// A length field is inconsistent.
    BadLength(u64),
    /// No memory map was provided.
    NoMemoryMap,
}

/// Everything the kernel keeps from the boot loader.
#[derive(Debug, Clone)]
pub struct BootInfo {
    /// How the kernel was started.
    pub protocol: BootProtocol,
    regions: [MemoryRegion; MAX_REGIONS],
    n_regions: usize,
    /// Regions dropped because the table was full.
    pub dropped_regions: usize,
    modules: [Module; MAX_MODULES],
    n_modules: usize,
    /// Modules dropped because the table was full.
    pub dropped_modules: usize,
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    /// Physical address of the ACPI RSDP, if the loader gave one.
    pub rsdp: Option<u64>,
    /// Physical address where the kernel image starts.
    pub kernel_phys_base: u64,
    /// Virtual address where the kernel image starts.
    pub kernel_virt_base: u64,
    /// Offset at which the loader's page tables map all physical memory.
    pub hhdm_offset: u64,
}

impl BootInfo {
    /// An empty record for `protocol`.
    pub fn new(protocol: BootProtocol) -> BootInfo {
        BootInfo {
            protocol,
            regions: [MemoryRegion::EMPTY; MAX_REGIONS],
            n_regions: 0,
            dropped_regions: 0,
            modules: [Module::EMPTY; MAX_MODULES],
            n_modules: 0,
            dropped_modules: 0,
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            rsdp: None,
            kernel_phys_base: 0,
            kernel_virt_base: 0,
            hhdm_offset: 0,
        }
    }

    /// Appends a memory region (empty regions are ignored).
    pub fn push_region(&mut self, region: MemoryRegion) {
        if region.len == 0 {
            return;
        }
        if self.n_regions == MAX_REGIONS {
            self.dropped_regions += 1;
            return;
        }
        self.regions[self.n_regions] = region;
        self.n_regions += 1;
    }

    /// Appends a module.
    pub fn push_module(&mut self, module: Module) {
        if self.n_modules == MAX_MODULES {
            self.dropped_modules += 1;
            return;
        }
        self.modules[self.n_modules] = module;
        self.n_modules += 1;
    }

    /// Sets the kernel command line (truncated to [`MAX_CMDLINE`]).
    pub fn set_cmdline(&mut self, cmdline: &[u8]) {
        let n = cmdline.len().min(MAX_CMDLINE);
        self.cmdline[..n].copy_from_slice(&cmdline[..n]);
        self.cmdline_len = n;
    }

    /// The memory map, in loader order.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.n_regions]
    }

    /// The boot modules, in loader order.
    pub fn modules(&self) -> &[Module] {
        &self.modules[..self.n_modules]
    }

    /// The kernel command line.
    pub fn cmdline(&self) -> &[u8] {
        &self.cmdline[..self.cmdline_len]
    }

    /// Total bytes of usable RAM in the map.
    pub fn usable_bytes(&self) -> u64 {
        self.regions()
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable)
            .map(|r| r.len)
            .sum()
    }

    /// One past the highest usable byte.
    pub fn usable_top(&self) -> u64 {
        self.regions()
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable)
            .map(|r| r.end())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod testmem {
    //! A fake physical memory for the tests.
    extern crate std;
    use std::vec::Vec;

    /// Physical memory starting at `base`.
    pub struct FakeMem {
        pub base: u64,
        pub bytes: Vec<u8>,
    }

    impl FakeMem {
        pub fn new(base: u64, size: usize) -> FakeMem {
            FakeMem {
                base,
                bytes: std::vec![0; size],
            }
        }
        pub fn put(&mut self, paddr: u64, data: &[u8]) {
            let off = (paddr - self.base) as usize;
            self.bytes[off..off + data.len()].copy_from_slice(data);
        }
    }

    impl super::PhysMemory for FakeMem {
        fn read(&self, paddr: u64, buf: &mut [u8]) -> bool {
            let Some(off) = paddr.checked_sub(self.base) else {
                return false;
            };
            let off = off as usize;
            let Some(end) = off.checked_add(buf.len()) else {
                return false;
            };
            if end > self.bytes.len() {
                return false;
            }
            buf.copy_from_slice(&self.bytes[off..end]);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_truncate_instead_of_overflowing() {
        let mut bi = BootInfo::new(BootProtocol::Pvh);
        for i in 0..(MAX_REGIONS as u64 + 3) {
            bi.push_region(MemoryRegion {
                base: i << 12,
                len: 4096,
                kind: MemoryKind::Usable,
            });
        }
        assert_eq!(bi.regions().len(), MAX_REGIONS);
        assert_eq!(bi.dropped_regions, 3);
        bi.push_region(MemoryRegion {
            base: 0,
            len: 0,
            kind: MemoryKind::Usable,
        });
        assert_eq!(bi.dropped_regions, 3);
        assert_eq!(bi.usable_bytes(), MAX_REGIONS as u64 * 4096);
        assert_eq!(bi.usable_top(), MAX_REGIONS as u64 * 4096);
        bi.set_cmdline(&[b'x'; 300]);
        assert_eq!(bi.cmdline().len(), MAX_CMDLINE);
        let m = Module::new(1, 2, &[b'n'; MAX_MODULE_NAME + 1]);
        assert_eq!(m.name().len(), MAX_MODULE_NAME);
        assert!(m.name_truncated());
        assert!(!Module::new(1, 2, &[b'n'; MAX_MODULE_NAME]).name_truncated());
    }

    #[test]
    fn read_cstr_stops_at_nul_and_limit() {
        let mut mem = testmem::FakeMem::new(0x1000, 64);
        mem.put(0x1000, b"abc\0def");
        let mut out = [0u8; 16];
        assert_eq!(mem.read_cstr(0x1000, &mut out), Some(3));
        assert_eq!(&out[..3], b"abc");
        let mut small = [0u8; 2];
        assert_eq!(mem.read_cstr(0x1000, &mut small), Some(2));
        assert_eq!(mem.read_cstr(0x2000, &mut out), None);
    }
}
