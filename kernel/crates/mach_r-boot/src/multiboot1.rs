//! Multiboot (v1): turns the information structure that QEMU's `-kernel` loader (and GRUB's
//! `multiboot` command) hands over into a [`BootInfo`].
//!
//! The structure starts with `flags: u32`; each field is valid only when its flag bit is set.
//! Fields used: bit 0 `mem_lower`/`mem_upper` (KiB below 1 MiB / above 1 MiB, the fallback
//! memory map), bit 2 `cmdline`, bit 3 `mods_count`/`mods_addr` (16-byte entries
//! `mod_start, mod_end, string, reserved`), bit 6 `mmap_length`/`mmap_addr` (entries
//! `size: u32, base: u64, length: u64, type: u32`, each followed by the next at `+ 4 + size`).
//! All addresses are physical and 32-bit.

use crate::{BootInfo, BootInfoError, BootProtocol, MemoryKind, MemoryRegion, Module, PhysMemory};

/// Value of `%eax` at a Multiboot (v1) entry.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;
/// Magic of the Multiboot (v1) header in the kernel image.
pub const HEADER_MAGIC: u32 = 0x1BAD_B002;

const FLAG_MEM: u32 = 1 << 0;
const FLAG_CMDLINE: u32 = 1 << 2;
const FLAG_MODS: u32 = 1 << 3;
const FLAG_MMAP: u32 = 1 << 6;

/// Maps a Multiboot memory type (the BIOS E820 type) to a [`MemoryKind`].
pub fn mb1_kind(ty: u32) -> MemoryKind {
    match ty {
        1 => MemoryKind::Usable,
        3 => MemoryKind::AcpiReclaimable,
        4 => MemoryKind::AcpiNvs,
        5 => MemoryKind::BadMemory,
        _ => MemoryKind::Reserved,
    }
}

/// Parses the information structure at physical address `mbi` (the `%ebx` value).
pub fn parse(mem: &impl PhysMemory, mbi: u64) -> Result<BootInfo, BootInfoError> {
    let rd32 = |a: u64| mem.read_u32(a).ok_or(BootInfoError::Unreadable(a));
    let rd64 = |a: u64| mem.read_u64(a).ok_or(BootInfoError::Unreadable(a));
    let flags = rd32(mbi)?;
    let mut bi = BootInfo::new(BootProtocol::Multiboot1);
    if flags & FLAG_CMDLINE != 0 {
        let at = u64::from(rd32(mbi + 16)?);
        let mut buf = [0u8; crate::MAX_CMDLINE];
        let n = mem
            .read_cstr(at, &mut buf)
            .ok_or(BootInfoError::Unreadable(at))?;
        bi.set_cmdline(&buf[..n]);
    }
    if flags & FLAG_MODS != 0 {
        let count = u64::from(rd32(mbi + 20)?);
        let table = u64::from(rd32(mbi + 24)?);
        if count > 4096 {
            return Err(BootInfoError::BadLength(mbi + 20));
        }
        for i in 0..count {
            let e = table + 16 * i;
            let start = u64::from(rd32(e)?);
            let end = u64::from(rd32(e + 4)?);
            if end < start {
                return Err(BootInfoError::BadLength(e));
            }
            let string = u64::from(rd32(e + 8)?);
            let mut name = [0u8; crate::MAX_MODULE_NAME + 1];
            let n = if string == 0 {
                0
            } else {
                mem.read_cstr(string, &mut name)
                    .ok_or(BootInfoError::Unreadable(string))?
            };
            bi.push_module(Module::new(start, end - start, &name[..n]));
        }
    }
    if flags & FLAG_MMAP != 0 {
        let len = u64::from(rd32(mbi + 44)?);
        let base = u64::from(rd32(mbi + 48)?);
        let mut e = base;
        while e + 24 <= base + len {
            let size = u64::from(rd32(e)?);
            if size < 20 {
                return Err(BootInfoError::BadLength(e));
            }
            let region = MemoryRegion {
                base: rd64(e + 4)?,
                len: rd64(e + 12)?,
                kind: mb1_kind(rd32(e + 20)?),
            };
            bi.push_region(region);
            e += 4 + size;
        }
    } else if flags & FLAG_MEM != 0 {
        let lower = u64::from(rd32(mbi + 4)?) << 10;
        let upper = u64::from(rd32(mbi + 8)?) << 10;
        bi.push_region(MemoryRegion {
            base: 0,
            len: lower,
            kind: MemoryKind::Usable,
        });
        bi.push_region(MemoryRegion {
            base: 0x10_0000,
            len: upper,
            kind: MemoryKind::Usable,
        });
    }
    if bi.regions().is_empty() {
        return Err(BootInfoError::NoMemoryMap);
    }
    Ok(bi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testmem::FakeMem;
    extern crate std;
    use std::vec::Vec;

    const MBI: u64 = 0x9000;
    const STRINGS: u64 = 0x9400;
    const MODS: u64 = 0x9800;
    const MMAP: u64 = 0x9c00;

    /// The layout QEMU 7.2's multiboot loader builds: flags MEM|BOOT_DEVICE|CMDLINE|MODS|MMAP
    /// (the option ROM fills the map from E820), module strings as given to `-initrd`.
    fn qemu_like(flags: u32, strings: &[&[u8]], cmdline: &[u8]) -> FakeMem {
        let mut mem = FakeMem::new(0x8000, 0x4000);
        let mut info = [0u8; 88];
        info[0..4].copy_from_slice(&flags.to_le_bytes());
        info[4..8].copy_from_slice(&639u32.to_le_bytes());
        info[8..12].copy_from_slice(&129_920u32.to_le_bytes());
        info[16..20].copy_from_slice(&(STRINGS as u32).to_le_bytes());
        info[20..24].copy_from_slice(&(strings.len() as u32).to_le_bytes());
        info[24..28].copy_from_slice(&(MODS as u32).to_le_bytes());
        let map: [(u64, u64, u32); 3] = [
            (0, 0x9fc00, 1),
            (0x10_0000, 0x7ee_0000, 1),
            (0xfffc_0000, 0x4_0000, 2),
        ];
        info[44..48].copy_from_slice(&(24 * map.len() as u32).to_le_bytes());
        info[48..52].copy_from_slice(&(MMAP as u32).to_le_bytes());
        mem.put(MBI, &info);
        let mut s = Vec::new();
        s.extend_from_slice(cmdline);
        s.push(0);
        let mut mods = Vec::new();
        for (i, name) in strings.iter().enumerate() {
            let at = STRINGS as u32 + s.len() as u32;
            s.extend_from_slice(name);
            s.push(0);
            let start = 0x40_0000 + 0x10_0000 * i as u32;
            for v in [start, start + 0x1234, at, 0] {
                mods.extend_from_slice(&v.to_le_bytes());
            }
        }
        mem.put(STRINGS, &s);
        mem.put(MODS, &mods);
        let mut m = Vec::new();
        for (base, len, ty) in map {
            m.extend_from_slice(&20u32.to_le_bytes());
            m.extend_from_slice(&base.to_le_bytes());
            m.extend_from_slice(&len.to_le_bytes());
            m.extend_from_slice(&ty.to_le_bytes());
        }
        mem.put(MMAP, &m);
        mem
    }

    #[test]
    fn parses_modules_with_their_strings_and_the_map() {
        let line: &[u8] =
            b"hello --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create) $(task-resume)";
        let mem = qemu_like(0x4f, &[line, b"traps"], b"mach_r console=com0");
        let bi = parse(&mem, MBI).unwrap();
        assert_eq!(bi.protocol, BootProtocol::Multiboot1);
        assert_eq!(bi.cmdline(), b"mach_r console=com0");
        assert_eq!(bi.modules().len(), 2);
        assert_eq!(bi.modules()[0].phys, 0x40_0000);
        assert_eq!(bi.modules()[0].len, 0x1234);
        assert_eq!(bi.modules()[0].name(), line);
        assert!(!bi.modules()[0].name_truncated());
        assert_eq!(bi.modules()[1].name(), b"traps");
        assert_eq!(bi.regions().len(), 3);
        assert_eq!(bi.regions()[1].base, 0x10_0000);
        assert_eq!(bi.regions()[2].kind, MemoryKind::Reserved);
        assert_eq!(bi.usable_top(), 0x7fe_0000);
    }

    #[test]
    fn flags_decide_which_fields_count() {
        // No MMAP flag: the mem_lower/mem_upper fallback; no CMDLINE/MODS flags: none read.
        let mem = qemu_like(0x1, &[b"x"], b"ignored");
        let bi = parse(&mem, MBI).unwrap();
        assert_eq!(bi.cmdline(), b"");
        assert!(bi.modules().is_empty());
        assert_eq!(bi.regions().len(), 2);
        assert_eq!(bi.regions()[0].len, 639 << 10);
        assert_eq!(bi.regions()[1].end(), 0x10_0000 + (129_920 << 10));
        let none = qemu_like(0x4, &[], b"x");
        assert_eq!(parse(&none, MBI).unwrap_err(), BootInfoError::NoMemoryMap);
        assert_eq!(
            parse(&mem, 0x100).unwrap_err(),
            BootInfoError::Unreadable(0x100)
        );
    }

    #[test]
    fn bad_tables_are_errors() {
        let mut mem = qemu_like(0x4f, &[b"a"], b"");
        mem.put(MODS + 4, &0u32.to_le_bytes()); // end before start
        assert_eq!(
            parse(&mem, MBI).unwrap_err(),
            BootInfoError::BadLength(MODS)
        );
        let mut mem = qemu_like(0x4f, &[b"a"], b"");
        mem.put(MMAP, &4u32.to_le_bytes()); // entry smaller than its fields
        assert_eq!(
            parse(&mem, MBI).unwrap_err(),
            BootInfoError::BadLength(MMAP)
        );
    }
}
