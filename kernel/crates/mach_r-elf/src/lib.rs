//! Static ELF64 programs for Mach_R: validates an x86_64 executable and produces a load
//! plan (segments, permissions, entry point) that the kernel carries out.
//!
//! Only what a static program needs is accepted: `ET_EXEC`, little-endian x86_64,
//! `PT_LOAD` segments inside the user half below [`USER_LIMIT`], file ranges inside the
//! image, an entry point inside an executable segment. Dynamic linking, interpreters
//! (`PT_INTERP`) and position-independent executables are refused. This crate copies no
//! bytes and maps nothing.

#![no_std]
#![forbid(unsafe_code)]

/// Highest address (exclusive) a segment may reach.
pub const USER_LIMIT: u64 = 0x0000_7fff_ffff_f000;
/// Maximum number of `PT_LOAD` segments accepted.
pub const MAX_SEGMENTS: usize = 8;

/// Errors of [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the headers it announces.
    Truncated,
    /// Not an ELF file.
    BadMagic,
    /// Not ELF64 little-endian x86_64.
    WrongMachine,
    /// Not `ET_EXEC`.
    NotExecutable,
    /// Needs an interpreter.
    Dynamic,
    /// A segment is inconsistent or outside the user half (index of the program header).
    BadSegment(usize),
    /// Two segments share a page (index of the later one).
    Overlap(usize),
    /// More than [`MAX_SEGMENTS`] loadable segments.
    TooManySegments,
    /// No loadable segment.
    NoSegments,
    /// The entry point is not in an executable segment.
    BadEntry(u64),
}

/// One loadable segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Bytes in memory (the tail beyond `file_size` is zero).
    pub mem_size: u64,
    /// Offset of the bytes in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub file_size: u64,
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl Segment {
    /// First page address.
    pub fn page_start(&self) -> u64 {
        self.vaddr & !0xfff
    }
    /// One past the last page.
    pub fn page_end(&self) -> u64 {
        (self.vaddr + self.mem_size + 0xfff) & !0xfff
    }
}

/// What to load and where to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadPlan {
    /// Entry point.
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

impl LoadPlan {
    /// The loadable segments in file order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }
}

fn u16_at(d: &[u8], o: usize) -> Result<u16, ElfError> {
    Ok(u16::from_le_bytes(
        d.get(o..o + 2)
            .ok_or(ElfError::Truncated)?
            .try_into()
            .unwrap_or([0; 2]),
    ))
}
fn u32_at(d: &[u8], o: usize) -> Result<u32, ElfError> {
    Ok(u32::from_le_bytes(
        d.get(o..o + 4)
            .ok_or(ElfError::Truncated)?
            .try_into()
            .unwrap_or([0; 4]),
    ))
}
fn u64_at(d: &[u8], o: usize) -> Result<u64, ElfError> {
    Ok(u64::from_le_bytes(
        d.get(o..o + 8)
            .ok_or(ElfError::Truncated)?
            .try_into()
            .unwrap_or([0; 8]),
    ))
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

/// Validates `image` and returns its load plan.
pub fn parse(image: &[u8]) -> Result<LoadPlan, ElfError> {
    if image.len() < 64 {
        return Err(ElfError::Truncated);
    }
    if &image[0..4] != b"\x7fELF" {
        return Err(ElfError::BadMagic);
    }
    if image[4] != 2 || image[5] != 1 || u16_at(image, 18)? != 62 {
        return Err(ElfError::WrongMachine);
    }
    if u16_at(image, 16)? != 2 {
        return Err(ElfError::NotExecutable);
    }
    let entry = u64_at(image, 24)?;
    let phoff = usize::try_from(u64_at(image, 32)?).map_err(|_| ElfError::Truncated)?;
    let phentsize = usize::from(u16_at(image, 54)?);
    let phnum = usize::from(u16_at(image, 56)?);
    if phentsize < 56 {
        return Err(ElfError::Truncated);
    }
    let mut plan = LoadPlan {
        entry,
        segments: [Segment::default(); MAX_SEGMENTS],
        count: 0,
    };
    for i in 0..phnum {
        let ph = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(ElfError::Truncated)?)
            .ok_or(ElfError::Truncated)?;
        let p_type = u32_at(image, ph)?;
        match p_type {
            PT_INTERP | PT_DYNAMIC => return Err(ElfError::Dynamic),
            PT_LOAD => {}
            _ => continue,
        }
        let flags = u32_at(image, ph + 4)?;
        let seg = Segment {
            offset: u64_at(image, ph + 8)?,
            vaddr: u64_at(image, ph + 16)?,
            file_size: u64_at(image, ph + 32)?,
            mem_size: u64_at(image, ph + 40)?,
            execute: flags & 1 != 0,
            write: flags & 2 != 0,
            read: flags & 4 != 0,
        };
        if seg.mem_size == 0 {
            continue;
        }
        let file_end = seg.offset.checked_add(seg.file_size);
        let mem_end = seg.vaddr.checked_add(seg.mem_size);
        let ok = seg.file_size <= seg.mem_size
            && file_end.is_some_and(|e| e <= image.len() as u64)
            && mem_end.is_some_and(|e| e <= USER_LIMIT)
            && seg.vaddr >= 0x1000
            && seg.vaddr % 0x1000 == seg.offset % 0x1000;
        if !ok {
            return Err(ElfError::BadSegment(i));
        }
        if plan.count == MAX_SEGMENTS {
            return Err(ElfError::TooManySegments);
        }
        if plan
            .segments()
            .iter()
            .any(|s| seg.page_start() < s.page_end() && s.page_start() < seg.page_end())
        {
            return Err(ElfError::Overlap(i));
        }
        plan.segments[plan.count] = seg;
        plan.count += 1;
    }
    if plan.count == 0 {
        return Err(ElfError::NoSegments);
    }
    if !plan
        .segments()
        .iter()
        .any(|s| s.execute && entry >= s.vaddr && entry < s.vaddr + s.mem_size)
    {
        return Err(ElfError::BadEntry(entry));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// Builds an ELF64 image with the given (type, flags, offset, vaddr, filesz, memsz) headers.
    fn elf(
        entry: u64,
        etype: u16,
        phdrs: &[(u32, u32, u64, u64, u64, u64)],
        size: usize,
    ) -> Vec<u8> {
        let mut d = std::vec![0u8; size.max(64 + 56 * phdrs.len())];
        d[0..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[6] = 1;
        d[16..18].copy_from_slice(&etype.to_le_bytes());
        d[18..20].copy_from_slice(&62u16.to_le_bytes());
        d[24..32].copy_from_slice(&entry.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, &(t, f, off, va, fs, ms)) in phdrs.iter().enumerate() {
            let p = 64 + 56 * i;
            d[p..p + 4].copy_from_slice(&t.to_le_bytes());
            d[p + 4..p + 8].copy_from_slice(&f.to_le_bytes());
            d[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            d[p + 16..p + 24].copy_from_slice(&va.to_le_bytes());
            d[p + 32..p + 40].copy_from_slice(&fs.to_le_bytes());
            d[p + 40..p + 48].copy_from_slice(&ms.to_le_bytes());
        }
        d
    }

    #[test]
    fn accepts_a_typical_static_program() {
        let img = elf(
            0x401000,
            2,
            &[
                (1, 4, 0, 0x400000, 0x200, 0x200),
                (1, 5, 0x1000, 0x401000, 0x100, 0x100),
                (1, 6, 0x2000, 0x402000, 0x10, 0x3000),
                (0x6474e551, 6, 0, 0, 0, 0),
            ],
            0x2010,
        );
        let plan = parse(&img).unwrap();
        assert_eq!(plan.entry, 0x401000);
        assert_eq!(plan.segments().len(), 3);
        let data = plan.segments()[2];
        assert!(data.write && !data.execute && data.read);
        assert_eq!((data.page_start(), data.page_end()), (0x402000, 0x405000));
    }

    #[test]
    fn refuses_what_it_cannot_load() {
        let text = (1, 5, 0x1000, 0x401000, 0x100, 0x100);
        assert_eq!(parse(b"\x7fELF"), Err(ElfError::Truncated));
        assert_eq!(parse(&[0u8; 64]), Err(ElfError::BadMagic));
        assert_eq!(
            parse(&elf(0x401000, 3, &[text], 0x1100)),
            Err(ElfError::NotExecutable)
        );
        assert_eq!(
            parse(&elf(0x401000, 2, &[(3, 4, 0, 0, 0, 0), text], 0x1100)),
            Err(ElfError::Dynamic)
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 5, 0x1000, 0x401000, 0x200, 0x100)],
                0x1100
            )),
            Err(ElfError::BadSegment(0))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 5, 0x1000, 0x401000, 0x200, 0x200)],
                0x1100
            )),
            Err(ElfError::BadSegment(0))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 5, 0x1000, 0xffff_ffff_8000_0000, 0x100, 0x100)],
                0x1100
            )),
            Err(ElfError::BadSegment(0))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 5, 0x1000, USER_LIMIT - 0x1000, 0x100, 0x2000)],
                0x1100
            )),
            Err(ElfError::BadSegment(0))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 5, 0x1000, 0x401000, 0x100, u64::MAX)],
                0x1100
            )),
            Err(ElfError::BadSegment(0))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[text, (1, 6, 0x1000, 0x401800, 0x10, 0x10)],
                0x1100
            )),
            Err(ElfError::BadSegment(1))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[text, (1, 6, 0x1800, 0x401800, 0x10, 0x10)],
                0x1900
            )),
            Err(ElfError::Overlap(1))
        );
        assert_eq!(
            parse(&elf(0x402000, 2, &[text], 0x1100)),
            Err(ElfError::BadEntry(0x402000))
        );
        assert_eq!(
            parse(&elf(
                0x401000,
                2,
                &[(1, 6, 0x1000, 0x401000, 0x100, 0x100)],
                0x1100
            )),
            Err(ElfError::BadEntry(0x401000))
        );
        assert_eq!(
            parse(&elf(0x401000, 2, &[], 0x1100)),
            Err(ElfError::NoSegments)
        );
    }
}
