//! Test helpers: a fake address space for out-of-line regions and a message builder.
#![allow(dead_code)]

use std::collections::BTreeMap;

use mach_r_ipc::consts::*;
use mach_r_ipc::{OolReader, OolWriter};

/// A toy address space: regions by start address.
#[derive(Default, Debug)]
pub struct Mem {
    pub regions: BTreeMap<u64, Vec<u8>>,
    pub next: u64,
    pub deallocated: Vec<(u64, u64)>,
    /// `allocate` fails when set.
    pub full: bool,
}

impl Mem {
    pub fn new() -> Mem {
        Mem {
            next: 0x10_0000,
            ..Mem::default()
        }
    }

    pub fn put(&mut self, data: &[u8]) -> u64 {
        let a = self.next;
        self.next += (data.len() as u64).div_ceil(4096).max(1) * 4096;
        self.regions.insert(a, data.to_vec());
        a
    }

    pub fn get(&self, addr: u64) -> &[u8] {
        &self.regions[&addr]
    }
}

impl OolReader for Mem {
    fn read(&mut self, addr: u64, len: u64) -> Option<Vec<u8>> {
        let (&start, data) = self.regions.range(..=addr).next_back()?;
        let off = (addr - start) as usize;
        let end = off.checked_add(len as usize)?;
        data.get(off..end).map(|s| s.to_vec())
    }

    fn deallocate(&mut self, addr: u64, len: u64) {
        self.deallocated.push((addr, len));
    }
}

impl OolWriter for Mem {
    fn allocate(&mut self, len: u64) -> Option<u64> {
        if self.full {
            return None;
        }
        Some(self.put(&vec![0; len as usize]))
    }

    fn fill(&mut self, addr: u64, data: &[u8]) {
        self.regions.get_mut(&addr).expect("allocated")[..data.len()].copy_from_slice(data);
    }
}

/// Builds a message in GNU Mach's x86_64 layout.
pub struct Msg {
    pub bytes: Vec<u8>,
}

pub fn descriptor(name: u32, bits: u32, number: u32, inline: bool, dealloc: bool) -> [u8; 8] {
    let w = name | (bits << 8) | ((inline as u32) << 29) | ((dealloc as u32) << 31);
    let mut d = [0; 8];
    d[..4].copy_from_slice(&w.to_le_bytes());
    d[4..].copy_from_slice(&number.to_le_bytes());
    d
}

impl Msg {
    pub fn new(remote: u32, remote_disp: u32, local: u32, local_disp: u32, id: i32) -> Msg {
        let mut b = vec![0u8; 32];
        b[0..4].copy_from_slice(&msgh_bits(remote_disp, local_disp).to_le_bytes());
        b[8..12].copy_from_slice(&remote.to_le_bytes());
        b[16..20].copy_from_slice(&local.to_le_bytes());
        b[28..32].copy_from_slice(&id.to_le_bytes());
        Msg { bytes: b }
    }

    pub fn complex(mut self) -> Msg {
        let bits =
            u32::from_le_bytes(self.bytes[0..4].try_into().unwrap()) | MACH_MSGH_BITS_COMPLEX;
        self.bytes[0..4].copy_from_slice(&bits.to_le_bytes());
        self
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(8) {
            self.bytes.push(0);
        }
    }

    pub fn int32(mut self, v: u32) -> Msg {
        self.bytes
            .extend_from_slice(&descriptor(MACH_MSG_TYPE_INTEGER_32, 32, 1, true, false));
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self.pad();
        self
    }

    pub fn ports(mut self, disp: u32, names: &[u32]) -> Msg {
        self.bytes
            .extend_from_slice(&descriptor(disp, 64, names.len() as u32, true, false));
        for &n in names {
            self.bytes.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self
    }

    pub fn ool(mut self, addr: u64, len: u32, dealloc: bool) -> Msg {
        self.bytes
            .extend_from_slice(&descriptor(9, 8, len, false, dealloc));
        self.bytes.extend_from_slice(&addr.to_le_bytes());
        self
    }

    pub fn ool_ports(mut self, disp: u32, addr: u64, count: u32) -> Msg {
        self.bytes
            .extend_from_slice(&descriptor(disp, 32, count, false, false));
        self.bytes.extend_from_slice(&addr.to_le_bytes());
        self
    }

    pub fn raw(mut self, data: &[u8]) -> Msg {
        self.bytes.extend_from_slice(data);
        self
    }
}

pub fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn rd64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A received message's (bits, remote, local, seqno, id).
pub fn header(b: &[u8]) -> (u32, u32, u32, u32, i32) {
    (
        rd32(b, 0),
        rd64(b, 8) as u32,
        rd64(b, 16) as u32,
        rd32(b, 24),
        rd32(b, 28) as i32,
    )
}
