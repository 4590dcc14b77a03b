//! PVH boot: turns Xen's `hvm_start_info` (as QEMU's `-kernel` loader builds it) into a [`BootInfo`].
//!
//! Layout (xen/include/public/arch-x86/hvm/start_info.h): magic `0x336ec578`, version,
//! flags, nr_modules, modlist_paddr, cmdline_paddr, rsdp_paddr, and from version 1
//! memmap_paddr and memmap_entries. Module entries are 32 bytes (paddr, size,
//! cmdline_paddr, reserved); memory-map entries are 24 bytes (addr, size, type) with
//! the E820 type numbers.

use crate::{BootInfo, BootInfoError, BootProtocol, MemoryKind, MemoryRegion, Module, PhysMemory};

/// `hvm_start_info.magic`.
pub const MAGIC: u32 = 0x336e_c578;

/// Maps an E820 type to a [`MemoryKind`].
pub fn e820_kind(ty: u32) -> MemoryKind {
    match ty {
        1 => MemoryKind::Usable,
        3 => MemoryKind::AcpiReclaimable,
        4 => MemoryKind::AcpiNvs,
        5 => MemoryKind::BadMemory,
        _ => MemoryKind::Reserved,
    }
}

/// Parses the start info at physical address `start_info`.
pub fn parse(mem: &impl PhysMemory, start_info: u64) -> Result<BootInfo, BootInfoError> {
    let rd32 = |off: u64| {
        mem.read_u32(start_info + off)
            .ok_or(BootInfoError::Unreadable(start_info + off))
    };
    let rd64 = |off: u64| {
        mem.read_u64(start_info + off)
            .ok_or(BootInfoError::Unreadable(start_info + off))
    };
    if rd32(0)? != MAGIC {
        return Err(BootInfoError::BadMagic(start_info));
    }
    let version = rd32(4)?;
    let nr_modules = rd32(12)?;
    let modlist = rd64(16)?;
    let cmdline = rd64(24)?;
    let rsdp = rd64(32)?;
    let mut bi = BootInfo::new(BootProtocol::Pvh);
    if version < 1 {
        return Err(BootInfoError::NoMemoryMap);
    }
    let memmap = rd64(40)?;
    let memmap_entries = rd32(48)?;
    if memmap == 0 || memmap_entries == 0 {
        return Err(BootInfoError::NoMemoryMap);
    }
    if memmap_entries > 4096 || nr_modules > 4096 {
        return Err(BootInfoError::BadLength(start_info));
    }
    for i in 0..u64::from(memmap_entries) {
        let e = memmap + i * 24;
        let base = mem.read_u64(e).ok_or(BootInfoError::Unreadable(e))?;
        let len = mem.read_u64(e + 8).ok_or(BootInfoError::Unreadable(e))?;
        let ty = mem.read_u32(e + 16).ok_or(BootInfoError::Unreadable(e))?;
        bi.push_region(MemoryRegion {
            base,
            len,
            kind: e820_kind(ty),
        });
    }
    for i in 0..u64::from(nr_modules) {
        let e = modlist + i * 32;
        let paddr = mem.read_u64(e).ok_or(BootInfoError::Unreadable(e))?;
        let size = mem.read_u64(e + 8).ok_or(BootInfoError::Unreadable(e))?;
        let name_paddr = mem.read_u64(e + 16).ok_or(BootInfoError::Unreadable(e))?;
        let mut name = [0u8; crate::MAX_MODULE_NAME + 1];
        let n = if name_paddr != 0 {
            mem.read_cstr(name_paddr, &mut name).unwrap_or(0)
        } else {
            0
        };
        bi.push_module(Module::new(paddr, size, &name[..n]));
    }
    if cmdline != 0 {
        let mut buf = [0u8; crate::MAX_CMDLINE];
        let n = mem
            .read_cstr(cmdline, &mut buf)
            .ok_or(BootInfoError::Unreadable(cmdline))?;
        bi.set_cmdline(&buf[..n]);
    }
    bi.rsdp = (rsdp != 0).then_some(rsdp);
    Ok(bi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testmem::FakeMem;

    fn start_info(mem: &mut FakeMem, version: u32, modules: u32) {
        let mut si = [0u8; 56];
        si[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        si[4..8].copy_from_slice(&version.to_le_bytes());
        si[12..16].copy_from_slice(&modules.to_le_bytes());
        si[16..24].copy_from_slice(&0x2000u64.to_le_bytes());
        si[24..32].copy_from_slice(&0x3000u64.to_le_bytes());
        si[32..40].copy_from_slice(&0xf5a0u64.to_le_bytes());
        si[40..48].copy_from_slice(&0x4000u64.to_le_bytes());
        si[48..52].copy_from_slice(&3u32.to_le_bytes());
        mem.put(0x1000, &si);
        let mut ml = [0u8; 32];
        ml[0..8].copy_from_slice(&0x7f0_0000u64.to_le_bytes());
        ml[8..16].copy_from_slice(&12345u64.to_le_bytes());
        ml[16..24].copy_from_slice(&0x3100u64.to_le_bytes());
        mem.put(0x2000, &ml);
        mem.put(0x3000, b"test verbose\0");
        mem.put(0x3100, b"user.tar\0");
        let map: [(u64, u64, u32); 3] = [
            (0, 0x9fc00, 1),
            (0xf0000, 0x10000, 2),
            (0x100000, 0x7ee0000, 1),
        ];
        for (i, (a, s, t)) in map.iter().enumerate() {
            let mut e = [0u8; 24];
            e[0..8].copy_from_slice(&a.to_le_bytes());
            e[8..16].copy_from_slice(&s.to_le_bytes());
            e[16..20].copy_from_slice(&t.to_le_bytes());
            mem.put(0x4000 + 24 * i as u64, &e);
        }
    }

    #[test]
    fn parses_qemu_like_start_info() {
        let mut mem = FakeMem::new(0, 0x8000);
        start_info(&mut mem, 1, 1);
        let bi = parse(&mem, 0x1000).unwrap();
        assert_eq!(bi.protocol, BootProtocol::Pvh);
        assert_eq!(bi.cmdline(), b"test verbose");
        assert_eq!(bi.rsdp, Some(0xf5a0));
        assert_eq!(bi.regions().len(), 3);
        assert_eq!(bi.regions()[1].kind, MemoryKind::Reserved);
        assert_eq!(bi.usable_bytes(), 0x9fc00 + 0x7ee0000);
        assert_eq!(bi.modules().len(), 1);
        assert_eq!(bi.modules()[0].phys, 0x7f0_0000);
        assert_eq!(bi.modules()[0].len, 12345);
        assert_eq!(bi.modules()[0].name(), b"user.tar");
    }

    #[test]
    fn rejects_bad_magic_and_version_0() {
        let mut mem = FakeMem::new(0, 0x8000);
        start_info(&mut mem, 0, 0);
        assert_eq!(parse(&mem, 0x1000).unwrap_err(), BootInfoError::NoMemoryMap);
        assert_eq!(
            parse(&mem, 0x1004).unwrap_err(),
            BootInfoError::BadMagic(0x1004)
        );
        assert_eq!(
            parse(&mem, 0x9000).unwrap_err(),
            BootInfoError::Unreadable(0x9000)
        );
    }
}
