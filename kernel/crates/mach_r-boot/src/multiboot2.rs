//! Multiboot2: turns the boot information tag list GRUB hands over into a [`BootInfo`].
//!
//! The structure starts with `total_size: u32, reserved: u32`, followed by tags
//! `type: u32, size: u32, ...` each padded to 8 bytes, ending with a type-0 tag.
//! Tags used: 1 command line, 3 module, 6 memory map, 14 ACPI 1.0 RSDP, 15 ACPI 2.0 RSDP.

use crate::{BootInfo, BootInfoError, BootProtocol, MemoryKind, MemoryRegion, Module, PhysMemory};

/// Value of `%eax` at a Multiboot2 entry.
pub const BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

/// Maps a Multiboot2 memory type to a [`MemoryKind`].
pub fn mb2_kind(ty: u32) -> MemoryKind {
    match ty {
        1 => MemoryKind::Usable,
        3 => MemoryKind::AcpiReclaimable,
        4 => MemoryKind::AcpiNvs,
        5 => MemoryKind::BadMemory,
        _ => MemoryKind::Reserved,
    }
}

/// Parses the boot information at physical address `mbi` (the `%ebx` value).
pub fn parse(mem: &impl PhysMemory, mbi: u64) -> Result<BootInfo, BootInfoError> {
    let rd32 = |a: u64| mem.read_u32(a).ok_or(BootInfoError::Unreadable(a));
    let rd64 = |a: u64| mem.read_u64(a).ok_or(BootInfoError::Unreadable(a));
    let total = u64::from(rd32(mbi)?);
    if !(16..=(1 << 20)).contains(&total) {
        return Err(BootInfoError::BadLength(mbi));
    }
    let end = mbi + total;
    let mut bi = BootInfo::new(BootProtocol::Multiboot2);
    let mut have_map = false;
    let mut tag = mbi + 8;
    while tag + 8 <= end {
        let ty = rd32(tag)?;
        let size = u64::from(rd32(tag + 4)?);
        if ty == 0 {
            break;
        }
        if size < 8 || tag + size > end {
            return Err(BootInfoError::BadLength(tag));
        }
        match ty {
            1 => {
                let mut buf = [0u8; crate::MAX_CMDLINE];
                let max = ((size - 8) as usize).min(buf.len());
                let n = mem
                    .read_cstr(tag + 8, &mut buf[..max])
                    .ok_or(BootInfoError::Unreadable(tag))?;
                bi.set_cmdline(&buf[..n]);
            }
            3 => {
                if size < 16 {
                    return Err(BootInfoError::BadLength(tag));
                }
                let start = u64::from(rd32(tag + 8)?);
                let mod_end = u64::from(rd32(tag + 12)?);
                if mod_end < start {
                    return Err(BootInfoError::BadLength(tag));
                }
                let mut name = [0u8; crate::MAX_MODULE_NAME + 1];
                let max = ((size - 16) as usize).min(name.len());
                let n = mem.read_cstr(tag + 16, &mut name[..max]).unwrap_or(0);
                bi.push_module(Module::new(start, mod_end - start, &name[..n]));
            }
            6 => {
                let entry_size = u64::from(rd32(tag + 8)?);
                if entry_size < 24 {
                    return Err(BootInfoError::BadLength(tag));
                }
                let mut e = tag + 16;
                while e + entry_size <= tag + size {
                    let base = rd64(e)?;
                    let len = rd64(e + 8)?;
                    let kind = mb2_kind(rd32(e + 16)?);
                    bi.push_region(MemoryRegion { base, len, kind });
                    e += entry_size;
                }
                have_map = true;
            }
            // The tag holds a copy of the RSDP, not its address: remember where the copy is
            // unless a 2.0 RSDP was already seen.
            14 | 15 if bi.rsdp.is_none() || ty == 15 => bi.rsdp = Some(tag + 8),
            _ => {}
        }
        tag += (size + 7) & !7;
    }
    if !have_map {
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

    fn tag(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(8 + body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
    }

    fn mbi(with_map: bool) -> Vec<u8> {
        let mut t = std::vec![0u8; 8];
        tag(&mut t, 1, b"test\0");
        tag(&mut t, 2, b"GRUB 2.06\0");
        let mut m = Vec::new();
        m.extend_from_slice(&0x7f0_0000u32.to_le_bytes());
        m.extend_from_slice(&0x7f0_1000u32.to_le_bytes());
        m.extend_from_slice(b"/boot/user.tar\0");
        tag(&mut t, 3, &m);
        if with_map {
            let mut mm = Vec::new();
            mm.extend_from_slice(&24u32.to_le_bytes());
            mm.extend_from_slice(&0u32.to_le_bytes());
            for (a, s, ty) in [
                (0u64, 0x9fc00u64, 1u32),
                (0x100000, 0x7ee0000, 1),
                (0xfffc0000, 0x40000, 2),
            ] {
                mm.extend_from_slice(&a.to_le_bytes());
                mm.extend_from_slice(&s.to_le_bytes());
                mm.extend_from_slice(&ty.to_le_bytes());
                mm.extend_from_slice(&0u32.to_le_bytes());
            }
            tag(&mut t, 6, &mm);
        }
        tag(&mut t, 14, &[b'R'; 20]);
        tag(&mut t, 0, &[]);
        let len = t.len() as u32;
        t[0..4].copy_from_slice(&len.to_le_bytes());
        t
    }

    #[test]
    fn parses_grub_like_tags() {
        let mut mem = FakeMem::new(0x10000, 0x1000);
        let t = mbi(true);
        mem.put(0x10000, &t);
        let bi = parse(&mem, 0x10000).unwrap();
        assert_eq!(bi.protocol, BootProtocol::Multiboot2);
        assert_eq!(bi.cmdline(), b"test");
        assert_eq!(bi.modules().len(), 1);
        assert_eq!(bi.modules()[0].len, 0x1000);
        assert_eq!(bi.modules()[0].name(), b"/boot/user.tar");
        assert_eq!(bi.regions().len(), 3);
        assert_eq!(bi.regions()[2].kind, MemoryKind::Reserved);
        assert!(bi.rsdp.is_some());
    }

    #[test]
    fn requires_a_memory_map_and_sane_lengths() {
        let mut mem = FakeMem::new(0x10000, 0x1000);
        mem.put(0x10000, &mbi(false));
        assert_eq!(
            parse(&mem, 0x10000).unwrap_err(),
            BootInfoError::NoMemoryMap
        );
        let mut bad = mbi(true);
        bad[12..16].copy_from_slice(&0x5000u32.to_le_bytes()); // first tag larger than the whole
        mem.put(0x10000, &bad);
        assert_eq!(
            parse(&mem, 0x10000).unwrap_err(),
            BootInfoError::BadLength(0x10008)
        );
        mem.put(0x10000, &4u32.to_le_bytes());
        assert_eq!(
            parse(&mem, 0x10000).unwrap_err(),
            BootInfoError::BadLength(0x10000)
        );
    }
}
