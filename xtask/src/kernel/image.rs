//! The kernel image's Multiboot (v1) header: checked against the ELF program headers on
//! every build, and cleared in the PVH copy.
//!
//! QEMU's `-kernel` loader tries Multiboot before PVH. With the v1 header it copies the file
//! from `header offset - (header_addr - load_addr)` for `load_end_addr - load_addr` bytes to
//! `load_addr`, zero-fills up to `bss_end_addr` and enters at `entry_addr`; that is right only
//! if the loadable segments sit in the file exactly as in physical memory. The PVH boots get a
//! copy whose v1 magic is zeroed, so QEMU falls through to the PVH note.

use std::path::Path;

/// Magic of the Multiboot (v1) header.
const MB1_MAGIC: u32 = 0x1BAD_B002;
/// QEMU (and the specification) look for the header in the first 8 KiB.
const MB1_SEARCH: usize = 8192;

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// The v1 header's fields, from `magic` to `entry_addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mb1Header {
    /// File offset of the header.
    pub offset: usize,
    /// `flags`.
    pub flags: u32,
    /// `header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr`.
    pub addrs: [u32; 5],
}

/// Finds the v1 header (4-aligned, checksum valid) in the first 8 KiB of `image`.
pub fn find_mb1(image: &[u8]) -> Option<Mb1Header> {
    (0..MB1_SEARCH.min(image.len())).step_by(4).find_map(|off| {
        let magic = u32_at(image, off)?;
        let flags = u32_at(image, off + 4)?;
        let sum = u32_at(image, off + 8)?;
        if magic != MB1_MAGIC || magic.wrapping_add(flags).wrapping_add(sum) != 0 {
            return None;
        }
        let mut addrs = [0u32; 5];
        for (i, a) in addrs.iter_mut().enumerate() {
            *a = u32_at(image, off + 12 + 4 * i)?;
        }
        Some(Mb1Header {
            offset: off,
            flags,
            addrs,
        })
    })
}

/// `(offset, paddr, filesz, memsz)` of each PT_LOAD segment of an ELF64 image.
fn load_segments(image: &[u8]) -> Result<Vec<(u64, u64, u64, u64)>, String> {
    if image.get(0..4) != Some(b"\x7fELF") || image.get(4) != Some(&2) {
        return Err("the kernel is not an ELF64 file".into());
    }
    let bad = || "truncated ELF program headers".to_string();
    let phoff = u64_at(image, 0x20).ok_or_else(bad)? as usize;
    let phentsize = usize::from(u16::from_le_bytes([image[0x36], image[0x37]]));
    let phnum = usize::from(u16::from_le_bytes([image[0x38], image[0x39]]));
    let mut out = Vec::new();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(image, ph).ok_or_else(bad)? != 1 {
            continue;
        }
        out.push((
            u64_at(image, ph + 8).ok_or_else(bad)?,
            u64_at(image, ph + 24).ok_or_else(bad)?,
            u64_at(image, ph + 32).ok_or_else(bad)?,
            u64_at(image, ph + 40).ok_or_else(bad)?,
        ));
    }
    Ok(out)
}

/// Checks that the v1 header describes the image's PT_LOAD segments: the header lies in the
/// copied range, every segment's file offset advances as its physical address does, the
/// copied range ends where the file contents of the last segment end and `bss_end_addr` is
/// the end of its memory.
pub fn check_mb1(image: &[u8]) -> Result<Mb1Header, String> {
    let h = find_mb1(image).ok_or("no Multiboot (v1) header in the first 8 KiB")?;
    if h.flags & (1 << 16) == 0 {
        return Err("Multiboot (v1) header without the address fields (flag bit 16)".into());
    }
    let [header_addr, load_addr, load_end, bss_end, _entry] = h.addrs.map(u64::from);
    let segs = load_segments(image)?;
    let (first_off, first_pa, ..) = *segs.first().ok_or("no PT_LOAD segment")?;
    if first_pa != load_addr {
        return Err(format!(
            "load_addr {load_addr:#x} is not the first segment's {first_pa:#x}"
        ));
    }
    if header_addr - load_addr != h.offset as u64 - first_off {
        return Err("header_addr does not match the header's place in the file".into());
    }
    for &(off, pa, ..) in &segs {
        if off - first_off != pa - first_pa {
            return Err(format!(
                "segment at file offset {off:#x} / physical {pa:#x} is not linear with the first"
            ));
        }
    }
    let &(_, last_pa, last_file, last_mem) = segs.last().expect("checked non-empty");
    if load_end != last_pa + last_file || bss_end != last_pa + last_mem {
        return Err(format!(
            "load_end_addr {load_end:#x} / bss_end_addr {bss_end:#x} differ from the last segment ({:#x} / {:#x})",
            last_pa + last_file,
            last_pa + last_mem
        ));
    }
    if (first_off + (load_end - load_addr)) as usize > image.len() {
        return Err("the copied range runs past the end of the file".into());
    }
    Ok(h)
}

/// Checks `kernel`'s v1 header and writes the PVH copy (v1 magic zeroed) to `pvh`.
pub fn write_pvh_copy(kernel: &Path, pvh: &Path) -> Result<(), String> {
    let mut image = std::fs::read(kernel).map_err(|e| format!("{}: {e}", kernel.display()))?;
    let h = check_mb1(&image).map_err(|e| format!("{}: {e}", kernel.display()))?;
    image[h.offset..h.offset + 4].fill(0);
    if find_mb1(&image).is_some() {
        return Err(format!(
            "{}: a second Multiboot (v1) header",
            kernel.display()
        ));
    }
    std::fs::write(pvh, image).map_err(|e| format!("{}: {e}", pvh.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 with two PT_LOAD segments at file 0x1000 / 0x3000, physical 0x200000 /
    /// 0x202000, and a v1 header at file offset 0x1010.
    fn image(load_end: u32, second_off: u64) -> Vec<u8> {
        let mut d = vec![0u8; 0x4000];
        d[0..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        d[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        d[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        for (i, (off, pa, file, mem)) in [
            (0x1000u64, 0x20_0000u64, 0x1000u64, 0x1000u64),
            (second_off, 0x20_2000, 0x800, 0x5000),
        ]
        .into_iter()
        .enumerate()
        {
            let ph = 64 + 56 * i;
            d[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
            d[ph + 8..ph + 16].copy_from_slice(&off.to_le_bytes());
            d[ph + 24..ph + 32].copy_from_slice(&pa.to_le_bytes());
            d[ph + 32..ph + 40].copy_from_slice(&file.to_le_bytes());
            d[ph + 40..ph + 48].copy_from_slice(&mem.to_le_bytes());
        }
        let flags = 0x0001_0003u32;
        let fields = [
            MB1_MAGIC,
            flags,
            0u32.wrapping_sub(MB1_MAGIC.wrapping_add(flags)),
            0x20_0010,
            0x20_0000,
            load_end,
            0x20_7000,
            0x20_0040,
        ];
        for (i, f) in fields.iter().enumerate() {
            d[0x1010 + 4 * i..0x1014 + 4 * i].copy_from_slice(&f.to_le_bytes());
        }
        d
    }

    #[test]
    fn a_linear_image_passes_and_mistakes_are_named() {
        let h = check_mb1(&image(0x20_2800, 0x3000)).unwrap();
        assert_eq!(h.offset, 0x1010);
        let e = check_mb1(&image(0x20_2800, 0x2800)).unwrap_err();
        assert!(e.contains("not linear"), "{e}");
        let e = check_mb1(&image(0x20_3000, 0x3000)).unwrap_err();
        assert!(e.contains("load_end_addr"), "{e}");
        let mut none = image(0x20_2800, 0x3000);
        none[0x1010..0x1014].fill(0);
        assert!(find_mb1(&none).is_none());
        assert!(check_mb1(&none).unwrap_err().contains("no Multiboot"));
    }
}
