//! Copying a message in: the header's rights checked as one, the typed body walked, and
//! nothing applied until every right is known to be there.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::*;
use crate::right::copyin_entry;
use crate::space::Entry;

/// A body datum found by the walk of the body, before any right moves.
#[derive(Debug)]
enum Planned {
    Ports {
        desc: usize,
        at: usize,
        ool: bool,
        disp: u32,
        names: Vec<Name>,
        region: Option<(u64, u64, bool)>,
    },
    Ool {
        desc: usize,
        at: usize,
        addr: u64,
        len: u64,
        dealloc: bool,
        data: super::OolData,
        offset: usize,
    },
}

/// The header's rights in the order to apply them (one or two steps).
struct HeaderPlan {
    steps: [(Name, u32, bool); 2],
    len: usize,
    /// Which step is the destination.
    dest_at: usize,
}

impl HeaderPlan {
    fn steps(&self) -> &[(Name, u32, bool)] {
        &self.steps[..self.len]
    }
}

/// Where a body failed: the item index, the element of a port array, the code.
struct BodyError {
    item: usize,
    elem: usize,
    code: KernReturn,
}

/// What GNU Mach does with a message whose **body** fails to copy in (`MACH_SEND_INVALID_
/// RIGHT`, `_TYPE`, `_MEMORY`, `_MSG_TOO_SMALL` past the header): the manual says these
/// codes "imply that some or all of the message was destroyed" — the header rights and the
/// body items before the bad one are copied in and then destroyed, the rest is untouched.
/// Header errors change nothing. This constant is the one switch: `false` would leave the
/// sender's space exactly as before on every error.
pub const BODY_ERROR_DESTROYS_PREFIX: bool = true;

/// Which `msgt_size` a port right must have: 64 inline (a `mach_port_name_inlined_t`
/// slot), 32 out of line (an array of `mach_port_name_t`); anything else is
/// `MACH_SEND_INVALID_TYPE`.
fn port_size_ok(inline: bool, bits: u32) -> bool {
    bits == if inline {
        INLINE_PORT_BITS
    } else {
        OOL_PORT_BITS
    }
}

impl Ipc {
    /// Copies a message in from `space`: `bytes` are the `send_size` bytes the sender gave
    /// (`msgh_size` is taken from their length). Checks the header (`MACH_SEND_MSG_TOO_SMALL`,
    /// `MACH_SEND_INVALID_HEADER`, `_DEST`, `_REPLY`) and, when `MACH_MSGH_BITS_COMPLEX` is
    /// set, walks the typed body, copying in port rights (`MACH_SEND_INVALID_RIGHT`,
    /// `_TYPE`, `_MSG_TOO_SMALL`) and reading out-of-line data through `ool`
    /// (`MACH_SEND_INVALID_MEMORY`). A header error changes nothing; a body error destroys
    /// what was copied in before it (see [`BODY_ERROR_DESTROYS_PREFIX`]).
    pub fn copyin(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        ool: &mut impl OolReader,
    ) -> Result<KMsg, KernReturn> {
        self.copyin_owned(space, bytes.to_vec(), ool)
    }

    /// [`Ipc::copyin`] of bytes the caller already holds in a vector: the message keeps
    /// them (no second copy).
    pub fn copyin_owned(
        &mut self,
        space: SpaceId,
        bytes: Vec<u8>,
        ool: &mut impl OolReader,
    ) -> Result<KMsg, KernReturn> {
        if !self.spaces.contains_key(&space) {
            return Err(MACH_SEND_INVALID_DEST);
        }
        let size = bytes.len();
        if size < HEADER_SIZE || !size.is_multiple_of(MSG_ALIGNMENT) || size > u32::MAX as usize {
            return Err(MACH_SEND_MSG_TOO_SMALL);
        }
        let bits = rd32(&bytes, 0);
        let dest_name = rd32(&bytes, 8);
        let reply_name = rd32(&bytes, 16);
        let dest_disp = bits & MACH_MSGH_BITS_REMOTE_MASK;
        let reply_disp = (bits & MACH_MSGH_BITS_LOCAL_MASK) >> 8;
        if !msg_type_port_any_send(dest_disp)
            || if reply_disp == 0 {
                reply_name != MACH_PORT_NULL
            } else {
                !msg_type_port_any_send(reply_disp)
            }
        {
            return Err(MACH_SEND_INVALID_HEADER);
        }
        if !name_valid(dest_name) {
            return Err(MACH_SEND_INVALID_DEST);
        }
        self.check_entry(space, dest_name);
        if name_valid(reply_name) {
            self.check_entry(space, reply_name);
        }
        // Simulate the header on copies of the entries: (name, disposition, dead_ok) in the
        // order they are applied.
        let plan_h = self.plan_header(space, dest_name, dest_disp, reply_name, reply_disp)?;
        let (plan, failure) = if bits & MACH_MSGH_BITS_COMPLEX != 0 {
            // The body sees the entries as the header leaves them.
            let mut overlay: BTreeMap<Name, Option<Entry>> = BTreeMap::new();
            for &(name, disp, dead_ok) in plan_h.steps() {
                let e = overlay
                    .entry(name)
                    .or_insert_with(|| self.entry(space, name));
                copyin_entry(e, disp, dead_ok).expect("header plan was checked");
            }
            self.plan_body(space, &bytes, ool, &mut overlay)
        } else {
            (Vec::new(), None)
        };
        if failure.is_some() && !BODY_ERROR_DESTROYS_PREFIX {
            return Err(failure.map(|f| f.code).unwrap_or(0));
        }
        // Apply: nothing below can fail for the prefix the plan accepted.
        let mut dest = Right::Null;
        let mut reply = Right::Null;
        for (i, &(name, disp, dead_ok)) in plan_h.steps().iter().enumerate() {
            let r = self
                .copyin_right(space, name, disp, dead_ok)
                .expect("header plan was checked");
            if i == plan_h.dest_at {
                dest = r;
            } else {
                reply = r;
            }
        }
        if reply_name == MACH_PORT_DEAD {
            reply = Right::Dead;
        }
        let mut kbytes = bytes;
        wr64(&mut kbytes, 8, 0);
        wr64(&mut kbytes, 16, 0);
        wr32(&mut kbytes, 4, size as u32);
        let mut kmsg = KMsg {
            other_bits: bits & !(MACH_MSGH_BITS_PORTS_MASK | MACH_MSGH_BITS_CIRCULAR),
            dest,
            reply,
            reply_type: if reply_disp == 0 {
                0
            } else {
                received_type(reply_disp)
            },
            bytes: kbytes,
            items: Vec::new(),
            stamp: 0,
        };
        let stop = failure.as_ref().map(|f| (f.item, f.elem));
        for (i, p) in plan.into_iter().enumerate() {
            let limit = match stop {
                Some((item, _)) if i > item => break,
                Some((item, elem)) if i == item => Some(elem),
                _ => None,
            };
            match p {
                Planned::Ports {
                    desc,
                    at,
                    ool: is_ool,
                    disp,
                    names,
                    region,
                } => {
                    let n = limit.unwrap_or(names.len());
                    let mut rights = Vec::with_capacity(n);
                    for &name in &names[..n] {
                        rights.push(if name_valid(name) {
                            self.copyin_right(space, name, disp, true)
                                .expect("body plan was checked")
                        } else if name == MACH_PORT_DEAD {
                            Right::Dead
                        } else {
                            Right::Null
                        });
                    }
                    let word = rd32(&kmsg.bytes, desc);
                    // Received out-of-line regions always say `deallocate` (observed).
                    let dealloc_bit = if is_ool { MSGT_DEALLOCATE } else { 0 };
                    wr32(
                        &mut kmsg.bytes,
                        desc,
                        (word & !0xff) | received_type(disp) | dealloc_bit,
                    );
                    if is_ool {
                        wr64(&mut kmsg.bytes, at, 0);
                        if let Some((addr, len, true)) = region {
                            if limit.is_none() {
                                ool.deallocate(addr, len);
                            }
                        }
                    } else {
                        kmsg.bytes[at..at + 8 * names.len()].fill(0);
                    }
                    kmsg.items.push(Item::Ports {
                        at,
                        ool: is_ool,
                        rights,
                    });
                }
                Planned::Ool {
                    desc,
                    at,
                    addr,
                    len,
                    dealloc,
                    data,
                    offset,
                } => {
                    if limit.is_some() {
                        break;
                    }
                    wr64(&mut kmsg.bytes, at, 0);
                    let word = rd32(&kmsg.bytes, desc);
                    wr32(&mut kmsg.bytes, desc, word | MSGT_DEALLOCATE);
                    if dealloc && len > 0 {
                        ool.deallocate(addr, len);
                    }
                    kmsg.items.push(Item::Ool { at, data, offset });
                }
            }
        }
        if let Some(f) = failure {
            self.trash.push(Trash::Msg(kmsg));
            self.flush();
            return Err(f.code);
        }
        self.flush();
        Ok(kmsg)
    }

    /// Checks the header's rights as one (GNU Mach processes the header atomically) and
    /// returns them in the order to apply: non-consuming uses of a shared name first.
    fn plan_header(
        &self,
        space: SpaceId,
        dest_name: Name,
        dest_disp: u32,
        reply_name: Name,
        reply_disp: u32,
    ) -> Result<HeaderPlan, KernReturn> {
        let mut d = self.entry(space, dest_name);
        copyin_entry(&mut d, dest_disp, false).map_err(|_| MACH_SEND_INVALID_DEST)?;
        let dest = (dest_name, dest_disp, false);
        if !name_valid(reply_name) {
            return Ok(HeaderPlan {
                steps: [dest, dest],
                len: 1,
                dest_at: 0,
            });
        }
        let mut r = self.entry(space, reply_name);
        copyin_entry(&mut r, reply_disp, true).map_err(|_| MACH_SEND_INVALID_REPLY)?;
        let reply = (reply_name, reply_disp, true);
        if reply_name != dest_name {
            return Ok(HeaderPlan {
                steps: [dest, reply],
                len: 2,
                dest_at: 0,
            });
        }
        let consumes = |disp: u32| {
            matches!(
                disp,
                MACH_MSG_TYPE_MOVE_SEND | MACH_MSG_TYPE_MOVE_SEND_ONCE | MACH_MSG_TYPE_MOVE_RECEIVE
            )
        };
        let plan = if consumes(dest_disp) && !consumes(reply_disp) {
            HeaderPlan {
                steps: [reply, dest],
                len: 2,
                dest_at: 1,
            }
        } else {
            HeaderPlan {
                steps: [dest, reply],
                len: 2,
                dest_at: 0,
            }
        };
        let mut e = self.entry(space, dest_name);
        for &(_, disp, dead_ok) in plan.steps() {
            // Each right alone is there, together they are not: GNU Mach blames the
            // destination (probe 7: MOVE_SEND twice on one user reference; probe 8:
            // MOVE_SEND_ONCE twice on one send-once right).
            copyin_entry(&mut e, disp, dead_ok).map_err(|_| MACH_SEND_INVALID_DEST)?;
        }
        Ok(plan)
    }

    /// Walks a complex body, simulating every right on `overlay`, reading out-of-line
    /// data; stops at the first error.
    fn plan_body(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        ool: &mut impl OolReader,
        overlay: &mut BTreeMap<Name, Option<Entry>>,
    ) -> (Vec<Planned>, Option<BodyError>) {
        let size = bytes.len() as u64;
        let mut plan = Vec::new();
        let mut o = HEADER_SIZE as u64;
        while o < size {
            let item = plan.len();
            let fail = |code| {
                Some(BodyError {
                    item,
                    elem: 0,
                    code,
                })
            };
            if o + DESCRIPTOR_SIZE as u64 > size {
                return (plan, fail(MACH_SEND_MSG_TOO_SMALL));
            }
            let word = rd32(bytes, o as usize);
            let number = rd32(bytes, o as usize + 4);
            let name = word & 0xff;
            let elem_bits = (word >> 8) & 0xffff;
            let inline = word & (1 << 29) != 0;
            let dealloc = word & (1 << 31) != 0;
            let data_at = o + DESCRIPTOR_SIZE as u64;
            let is_port = msg_type_port_any(name);
            if is_port && !port_size_ok(inline, elem_bits) {
                return (plan, fail(MACH_SEND_INVALID_TYPE));
            }
            let len = (elem_bits as u64 * number as u64).div_ceil(8);
            let next = if inline {
                data_at + align8(len)
            } else {
                data_at + 8
            };
            if next > size {
                return (plan, fail(MACH_SEND_MSG_TOO_SMALL));
            }
            let addr = if inline {
                0
            } else {
                rd64(bytes, data_at as usize)
            };
            if is_port {
                let (names, region) = if inline {
                    let names = (0..number as usize)
                        .map(|i| rd32(bytes, data_at as usize + 8 * i))
                        .collect();
                    (names, None)
                } else if len == 0 {
                    (Vec::new(), None)
                } else {
                    match ool.read(addr, len) {
                        Some(data) => (
                            data.chunks_exact(4)
                                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                                .collect(),
                            Some((addr, len, dealloc)),
                        ),
                        None => return (plan, fail(MACH_SEND_INVALID_MEMORY)),
                    }
                };
                for (elem, &n) in names.iter().enumerate() {
                    if !name_valid(n) {
                        continue;
                    }
                    self.check_entry(space, n);
                    let e = overlay.entry(n).or_insert_with(|| self.entry(space, n));
                    if copyin_entry(e, name, true).is_err() {
                        plan.push(Planned::Ports {
                            desc: o as usize,
                            at: data_at as usize,
                            ool: !inline,
                            disp: name,
                            names,
                            region,
                        });
                        return (
                            plan,
                            Some(BodyError {
                                item,
                                elem,
                                code: MACH_SEND_INVALID_RIGHT,
                            }),
                        );
                    }
                }
                plan.push(Planned::Ports {
                    desc: o as usize,
                    at: data_at as usize,
                    ool: !inline,
                    disp: name,
                    names,
                    region,
                });
            } else if !inline {
                let (data, offset) = if len == 0 {
                    (super::OolData::Bytes(Vec::new()), 0)
                } else {
                    match ool.read_pages(addr, len) {
                        Some(d) => d,
                        None => return (plan, fail(MACH_SEND_INVALID_MEMORY)),
                    }
                };
                plan.push(Planned::Ool {
                    desc: o as usize,
                    at: data_at as usize,
                    addr,
                    len,
                    dealloc,
                    data,
                    offset,
                });
            }
            o = next;
        }
        (plan, None)
    }
}
