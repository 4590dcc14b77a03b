//! Copying a message out into the receiver's space (and the pseudo-receive of a message
//! that could not be sent).

use alloc::vec::Vec;

use super::*;

impl Ipc {
    /// A too-large message without `MACH_RCV_LARGE`: **the one place of that policy**.
    /// As the GNU Mach manual describes it: the message is destroyed, the caller gets its
    /// header with the destination named and the reply port `MACH_PORT_NULL`.
    pub(super) fn too_large(&mut self, space: SpaceId, mut kmsg: KMsg) -> [u8; HEADER_SIZE] {
        let (local, dest_type) = self.copyout_dest(space, &mut kmsg);
        let mut h = [0u8; HEADER_SIZE];
        h.copy_from_slice(&kmsg.bytes[..HEADER_SIZE]);
        wr32(
            &mut h,
            0,
            kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type),
        );
        wr64(&mut h, 8, 0);
        wr64(&mut h, 16, local as u64);
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
        h
    }

    /// Consumes the destination right; returns the receiver's name for the port
    /// (`MACH_PORT_NULL` if `space` does not hold its receive right, `MACH_PORT_DEAD` if it
    /// died) and the local type.
    fn copyout_dest(&mut self, space: SpaceId, kmsg: &mut KMsg) -> (Name, u32) {
        let dest = core::mem::replace(&mut kmsg.dest, Right::Null);
        let ty = dest.received_type();
        let p = dest.port().expect("destination");
        let local = match self.ports.get(&p) {
            Some(port) if port.active => match port.receiver {
                Receiver::Space(s, n) if s == space => n,
                _ => MACH_PORT_NULL,
            },
            _ => MACH_PORT_DEAD,
        };
        match dest {
            Right::Send(p) => self.release_send(p),
            Right::SendOnce(p) => {
                self.port_mut(p).sorights -= 1;
                self.maybe_free(p);
            }
            other => self.release(other),
        }
        (local, ty)
    }

    /// Copies a received message out into `space`: the reply right becomes
    /// `msgh_remote_port`, the destination's receive name `msgh_local_port` (bits swapped
    /// accordingly), every carried right a name, every out-of-line region new memory
    /// through `ool`.
    pub fn copyout(&mut self, space: SpaceId, mut kmsg: KMsg, ool: &mut impl OolWriter) -> Copyout {
        let (local, dest_type) = self.copyout_dest(space, &mut kmsg);
        let reply = core::mem::replace(&mut kmsg.reply, Right::Null);
        let reply_name = match self.copyout_right(space, reply) {
            Ok(n) => n,
            Err((r, _)) => {
                self.release(r);
                let header = self.header_only(kmsg, local, dest_type);
                return Copyout {
                    bytes: header,
                    code: MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_SPACE,
                };
            }
        };
        let bits = kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type);
        self.finish_copyout(space, kmsg, ool, bits, reply_name as u64, local as u64)
    }

    /// The pseudo-receive of a message that could not be sent (`MACH_SEND_TIMED_OUT`):
    /// every right goes back into the sender's `space`, the header unswapped
    /// (`msgh_remote_port` names the destination right, `msgh_local_port` the reply right).
    pub fn copyout_pseudo(
        &mut self,
        space: SpaceId,
        mut kmsg: KMsg,
        ool: &mut impl OolWriter,
    ) -> Copyout {
        let dest = core::mem::replace(&mut kmsg.dest, Right::Null);
        let dest_type = dest.received_type();
        let reply = core::mem::replace(&mut kmsg.reply, Right::Null);
        let mut code = MACH_MSG_SUCCESS;
        let mut name_of = |ipc: &mut Ipc, r: Right| match ipc.copyout_right(space, r) {
            Ok(n) => n,
            Err((r, _)) => {
                ipc.release(r);
                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                MACH_PORT_NULL
            }
        };
        let d = name_of(self, dest);
        let r = name_of(self, reply);
        let bits = kmsg.other_bits | msgh_bits(dest_type, kmsg.reply_type);
        let mut c = self.finish_copyout(space, kmsg, ool, bits, d as u64, r as u64);
        if c.code == MACH_MSG_SUCCESS {
            c.code = code;
        }
        c
    }

    fn header_only(&mut self, kmsg: KMsg, local: Name, dest_type: u32) -> Vec<u8> {
        let mut h = kmsg.bytes[..HEADER_SIZE].to_vec();
        wr32(
            &mut h,
            0,
            kmsg.other_bits | msgh_bits(kmsg.reply_type, dest_type),
        );
        wr64(&mut h, 8, 0);
        wr64(&mut h, 16, local as u64);
        self.trash.push(Trash::Msg(kmsg));
        self.flush();
        h
    }

    fn finish_copyout(
        &mut self,
        space: SpaceId,
        kmsg: KMsg,
        ool: &mut impl OolWriter,
        bits: u32,
        remote: u64,
        local: u64,
    ) -> Copyout {
        let KMsg {
            mut bytes, items, ..
        } = kmsg;
        wr32(&mut bytes, 0, bits);
        wr64(&mut bytes, 8, remote);
        wr64(&mut bytes, 16, local);
        let mut code = MACH_MSG_SUCCESS;
        for item in items {
            match item {
                Item::Ports {
                    at,
                    ool: false,
                    rights,
                } => {
                    for (i, r) in rights.into_iter().enumerate() {
                        let n = match self.copyout_right(space, r) {
                            Ok(n) => n,
                            Err((r, _)) => {
                                self.release(r);
                                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                                MACH_PORT_NULL
                            }
                        };
                        wr64(&mut bytes, at + 8 * i, n as u64);
                    }
                }
                Item::Ports {
                    at,
                    ool: true,
                    rights,
                } => {
                    if rights.is_empty() {
                        wr64(&mut bytes, at, 0);
                        continue;
                    }
                    let len = 4 * rights.len() as u64;
                    let Some(addr) = ool.allocate(len) else {
                        for r in rights {
                            self.release(r);
                        }
                        code = MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE;
                        wr64(&mut bytes, at, 0);
                        continue;
                    };
                    let mut names = Vec::with_capacity(len as usize);
                    for r in rights {
                        let n = match self.copyout_right(space, r) {
                            Ok(n) => n,
                            Err((r, _)) => {
                                self.release(r);
                                code = MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE;
                                MACH_PORT_NULL
                            }
                        };
                        names.extend_from_slice(&n.to_le_bytes());
                    }
                    ool.fill(addr, &names);
                    wr64(&mut bytes, at, addr);
                }
                Item::Ool { at, data, offset } => {
                    let addr = if data.is_empty() {
                        0
                    } else if let Some(a) = ool.allocate(data.len() as u64) {
                        match data {
                            super::OolData::Bytes(d) => ool.fill(a, &d),
                            super::OolData::Pages(p) => ool.fill_pages(a, p),
                        }
                        a + offset as u64
                    } else {
                        code = MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE;
                        0
                    };
                    wr64(&mut bytes, at, addr);
                }
            }
        }
        self.flush();
        Copyout { bytes, code }
    }
}

impl Ipc {
    /// `mach_msg_destroy` for the body of a message `space` received: every right its
    /// port descriptors name is released as the receiver would release it (a send or
    /// send-once right loses its reference, a send-once right so destroyed sends a
    /// send-once notification, a receive right is destroyed). Out-of-line port arrays are
    /// read through `ool`. The header's rights are left alone.
    ///
    /// The kernel calls it on a request copied out into the kernel space whose routine
    /// never ran (the generated server answered `MIG_BAD_ARGUMENTS` or `MIG_BAD_ID`): GNU
    /// Mach destroys such a request, so a `MAKE_SEND` right it carried leaves no send right
    /// behind (ports.txt: "notify by make-send").
    pub fn destroy_received_body(
        &mut self,
        space: SpaceId,
        bytes: &[u8],
        ool: &mut impl OolReader,
    ) {
        if bytes.len() < HEADER_SIZE || rd32(bytes, 0) & MACH_MSGH_BITS_COMPLEX == 0 {
            return;
        }
        let size = bytes.len();
        let mut o = HEADER_SIZE;
        while o + DESCRIPTOR_SIZE <= size {
            let word = rd32(bytes, o);
            let number = rd32(bytes, o + 4) as usize;
            let name = word & 0xff;
            let elem_bits = ((word >> 8) & 0xffff) as u64;
            let inline = word & MSGT_INLINE != 0;
            let data = o + DESCRIPTOR_SIZE;
            let len = (elem_bits * number as u64).div_ceil(8);
            let next = if inline {
                data as u64 + align8(len)
            } else {
                data as u64 + 8
            };
            if next > size as u64 {
                return;
            }
            if msg_type_port_any(name) {
                let names: Vec<Name> = if inline {
                    (0..number).map(|i| rd32(bytes, data + 8 * i)).collect()
                } else {
                    let addr = u64::from_le_bytes(bytes[data..data + 8].try_into().expect("8"));
                    match (len > 0).then(|| ool.read(addr, len)).flatten() {
                        Some(d) => d
                            .chunks_exact(4)
                            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                            .collect(),
                        None => Vec::new(),
                    }
                };
                for n in names.into_iter().filter(|&n| name_valid(n)) {
                    let _ = if name == MACH_MSG_TYPE_PORT_RECEIVE {
                        self.mod_refs(space, n, MACH_PORT_RIGHT_RECEIVE, -1)
                    } else {
                        self.deallocate(space, n)
                    };
                }
            }
            o = next as usize;
        }
    }
}
