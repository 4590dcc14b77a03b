//! Module archives: a boot module may be a POSIX ustar archive holding several programs.
//!
//! PVH (QEMU `-initrd`) passes exactly one module, so the test programs travel in one
//! archive. Only regular files (`typeflag` `0` or NUL) are listed; the name is the
//! ustar `prefix/name` joined, truncated to 100 bytes of `name` when there is no prefix.

/// One file of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The file name (without a leading `./`).
    pub name: &'a [u8],
    /// The contents.
    pub data: &'a [u8],
}

/// Errors in an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveError {
    /// A header's checksum does not match.
    BadChecksum(usize),
    /// A size field is not octal or runs past the end.
    BadSize(usize),
}

/// Whether `data` starts like a ustar archive.
pub fn is_ustar(data: &[u8]) -> bool {
    data.len() >= 512 && &data[257..262] == b"ustar"
}

/// Iterates over the regular files of a ustar archive.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Iterates over the regular files of `data`.
pub fn entries(data: &[u8]) -> Entries<'_> {
    Entries { data, pos: 0 }
}

fn octal(field: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut seen = false;
    for &c in field {
        match c {
            b'0'..=b'7' => {
                v = v.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
                seen = true;
            }
            b' ' | 0 if seen => break,
            b' ' => {}
            0 => break,
            _ => return None,
        }
    }
    Some(v)
}

fn trim_nul(field: &[u8]) -> &[u8] {
    let n = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    &field[..n]
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, ArchiveError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let at = self.pos;
            let hdr = self.data.get(at..at + 512)?;
            if hdr.iter().all(|&b| b == 0) {
                return None;
            }
            let sum: u64 = hdr
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(b)
                    }
                })
                .sum();
            if octal(&hdr[148..156]) != Some(sum) {
                self.pos = self.data.len();
                return Some(Err(ArchiveError::BadChecksum(at)));
            }
            let Some(size) = octal(&hdr[124..136]) else {
                self.pos = self.data.len();
                return Some(Err(ArchiveError::BadSize(at)));
            };
            let start = at + 512;
            let end = match usize::try_from(size)
                .ok()
                .and_then(|s| start.checked_add(s))
            {
                Some(e) if e <= self.data.len() => e,
                _ => {
                    self.pos = self.data.len();
                    return Some(Err(ArchiveError::BadSize(at)));
                }
            };
            self.pos = start + (end - start).div_ceil(512) * 512;
            let typeflag = hdr[156];
            if typeflag != b'0' && typeflag != 0 {
                continue;
            }
            let mut name = trim_nul(&hdr[0..100]);
            if let Some(rest) = name.strip_prefix(b"./") {
                name = rest;
            }
            return Some(Ok(Entry {
                name,
                data: &self.data[start..end],
            }));
        }
    }
}

/// Writes a ustar header for a regular file into `hdr` (used by the build tool and the tests).
pub fn write_header(hdr: &mut [u8; 512], name: &[u8], size: u64) {
    hdr.fill(0);
    let n = name.len().min(99);
    hdr[..n].copy_from_slice(&name[..n]);
    let put_octal = |field: &mut [u8], v: u64| {
        let w = field.len() - 1;
        for (i, slot) in field[..w].iter_mut().enumerate() {
            *slot = b'0' + ((v >> (3 * (w - 1 - i))) & 7) as u8;
        }
        field[w] = 0;
    };
    put_octal(&mut hdr[100..108], 0o644);
    put_octal(&mut hdr[108..116], 0);
    put_octal(&mut hdr[116..124], 0);
    put_octal(&mut hdr[124..136], size);
    put_octal(&mut hdr[136..148], 0);
    hdr[156] = b'0';
    hdr[257..263].copy_from_slice(b"ustar\0");
    hdr[263..265].copy_from_slice(b"00");
    hdr[148..156].fill(b' ');
    let sum: u64 = hdr.iter().map(|&b| u64::from(b)).sum();
    put_octal(&mut hdr[148..155], sum);
    hdr[155] = b' ';
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn build(files: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            let mut h = [0u8; 512];
            write_header(&mut h, name, data.len() as u64);
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            while out.len() % 512 != 0 {
                out.push(0);
            }
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    #[test]
    fn round_trips_files() {
        let big = [7u8; 1000];
        let a = build(&[(b"hello", b"abc"), (b"./big", &big), (b"empty", b"")]);
        assert!(is_ustar(&a));
        let got: Vec<_> = entries(&a).map(|e| e.unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            Entry {
                name: b"hello",
                data: b"abc"
            }
        );
        assert_eq!(got[1].name, b"big");
        assert_eq!(got[1].data, &big[..]);
        assert_eq!(got[2].data.len(), 0);
    }

    #[test]
    fn rejects_corruption() {
        let mut a = build(&[(b"hello", b"abc")]);
        a[0] = b'j';
        assert_eq!(entries(&a).next(), Some(Err(ArchiveError::BadChecksum(0))));
        let mut b = build(&[(b"hello", b"abc")]);
        b.truncate(512 + 1); // the contents run past the end
        let mut h = [0u8; 512];
        write_header(&mut h, b"hello", 3);
        assert_eq!(entries(&b).next(), Some(Err(ArchiveError::BadSize(0))));
        assert!(!is_ustar(b"not an archive"));
    }
}
