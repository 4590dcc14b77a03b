//! The calls of `mach_port.defs` on a space, with GNU Mach's return codes (the README
//! lists them per call). Rights that travel in the call's messages (`insert_right`'s
//! right, `request_notification`'s notify and previous rights, `extract_right`'s result)
//! are carried [`Right`]s; the kernel's server converts them to and from names.

use alloc::vec::Vec;

use crate::consts::*;
use crate::space::{Entry, Obj};
use crate::{Ipc, Receiver, Right, SpaceId, Wakeup};

/// `mach_port_status_t`, as `mach_port_get_receive_status` returns it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStatus {
    /// `mps_pset`: the name of the containing port set, or 0.
    pub pset: Name,
    /// `mps_seqno`.
    pub seqno: u32,
    /// `mps_mscount`.
    pub mscount: u32,
    /// `mps_qlimit`.
    pub qlimit: u32,
    /// `mps_msgcount`.
    pub msgcount: u32,
    /// `mps_sorights`.
    pub sorights: u32,
    /// `mps_srights` (boolean).
    pub srights: bool,
    /// `mps_pdrequest` (boolean).
    pub pdrequest: bool,
    /// `mps_nsrequest` (boolean).
    pub nsrequest: bool,
}

fn dead_entry() -> Entry {
    Entry {
        obj: Obj::None,
        ty: MACH_PORT_TYPE_DEAD_NAME,
        urefs: 1,
        dnrequest: false,
    }
}

impl Ipc {
    fn lookup(&mut self, space: SpaceId, name: Name) -> Result<Entry, KernReturn> {
        if !self.spaces.contains_key(&space) {
            return Err(KERN_INVALID_TASK);
        }
        self.check_entry(space, name);
        self.entry(space, name).ok_or(KERN_INVALID_NAME)
    }

    fn lookup_receive(&mut self, space: SpaceId, name: Name) -> Result<crate::PortId, KernReturn> {
        let e = self.lookup(space, name)?;
        match e.obj {
            Obj::Port(p) if e.has(MACH_PORT_TYPE_RECEIVE) => Ok(p),
            _ => Err(KERN_INVALID_RIGHT),
        }
    }

    fn type_bits(e: &Entry) -> u32 {
        e.ty | if e.dnrequest {
            MACH_PORT_TYPE_DNREQUEST
        } else {
            0
        }
    }

    /// `mach_port_names`: every name of the space in ascending order, with its type.
    pub fn names(&mut self, space: SpaceId) -> Result<(Vec<Name>, Vec<u32>), KernReturn> {
        let names: Vec<Name> = self
            .spaces
            .get(&space)
            .ok_or(KERN_INVALID_TASK)?
            .entries
            .keys()
            .collect();
        let mut types = Vec::with_capacity(names.len());
        for &n in &names {
            self.check_entry(space, n);
            types.push(Self::type_bits(&self.entry(space, n).expect("listed")));
        }
        self.flush();
        Ok((names, types))
    }

    /// `mach_port_type`.
    pub fn port_type(&mut self, space: SpaceId, name: Name) -> Result<u32, KernReturn> {
        let e = self.lookup(space, name);
        self.flush();
        Ok(Self::type_bits(&e?))
    }

    /// `mach_port_rename`.
    pub fn rename(&mut self, space: SpaceId, old: Name, new: Name) -> Result<(), KernReturn> {
        if !name_valid(new) {
            return Err(KERN_INVALID_VALUE);
        }
        if !self.spaces.contains_key(&space) {
            return Err(KERN_INVALID_TASK);
        }
        // GNU Mach takes the new name first (so NAME_EXISTS wins over an unknown old name)
        // and frees it again when the old name is unknown: it heads the free list (probe 22).
        if self.entry(space, new).is_some() {
            return Err(KERN_NAME_EXISTS);
        }
        let e = match self.lookup(space, old) {
            Ok(e) => e,
            Err(kr) => {
                self.space_mut(space).free_unused_name(new);
                return Err(kr);
            }
        };
        let s = self.space_mut(space);
        s.set(old, None);
        s.take_name(new);
        s.insert(new, e);
        match e.obj {
            Obj::Port(p) => {
                let port = self.port_mut(p);
                if e.has(MACH_PORT_TYPE_RECEIVE) {
                    port.receiver = Receiver::Space(space, new);
                }
                for d in port.dnrequests.iter_mut() {
                    if d.space == space && d.name == old {
                        d.name = new;
                    }
                }
            }
            Obj::Pset(s) => self.psets.get_mut(&s).expect("set").name = new,
            Obj::None => {}
        }
        self.flush();
        Ok(())
    }

    /// `mach_port_allocate`: a receive right (new port), an empty port set or a dead name
    /// (one user reference) under a new name.
    pub fn allocate(&mut self, space: SpaceId, right: u32) -> Result<Name, KernReturn> {
        if !self.spaces.contains_key(&space) {
            return Err(KERN_INVALID_TASK);
        }
        if !matches!(
            right,
            MACH_PORT_RIGHT_RECEIVE | MACH_PORT_RIGHT_PORT_SET | MACH_PORT_RIGHT_DEAD_NAME
        ) {
            return Err(KERN_INVALID_VALUE);
        }
        let name = self.alloc_name(space)?;
        self.create(space, right, name);
        Ok(name)
    }

    /// `mach_port_allocate_name`.
    pub fn allocate_name(
        &mut self,
        space: SpaceId,
        right: u32,
        name: Name,
    ) -> Result<(), KernReturn> {
        if !self.spaces.contains_key(&space) {
            return Err(KERN_INVALID_TASK);
        }
        if !name_valid(name)
            || !matches!(
                right,
                MACH_PORT_RIGHT_RECEIVE | MACH_PORT_RIGHT_PORT_SET | MACH_PORT_RIGHT_DEAD_NAME
            )
        {
            return Err(KERN_INVALID_VALUE);
        }
        if self.entry(space, name).is_some() {
            return Err(KERN_NAME_EXISTS);
        }
        if self.spaces[&space].entries.len() >= self.name_limit {
            return Err(KERN_NO_SPACE);
        }
        self.space_mut(space).take_name(name);
        self.create(space, right, name);
        Ok(())
    }

    fn create(&mut self, space: SpaceId, right: u32, name: Name) {
        let e = match right {
            MACH_PORT_RIGHT_RECEIVE => {
                let p = self.new_port(Receiver::Space(space, name));
                Entry {
                    obj: Obj::Port(p),
                    ty: MACH_PORT_TYPE_RECEIVE,
                    urefs: 1,
                    dnrequest: false,
                }
            }
            MACH_PORT_RIGHT_PORT_SET => {
                let s = self.new_pset(space, name);
                Entry {
                    obj: Obj::Pset(s),
                    ty: MACH_PORT_TYPE_PORT_SET,
                    urefs: 1,
                    dnrequest: false,
                }
            }
            _ => dead_entry(),
        };
        self.space_mut(space).insert(name, e);
    }

    /// `mach_port_destroy`: every right the name denotes goes.
    pub fn destroy(&mut self, space: SpaceId, name: Name) -> Result<(), KernReturn> {
        self.lookup(space, name)?;
        self.destroy_name(space, name);
        self.flush();
        Ok(())
    }

    /// `mach_port_deallocate`: one user reference less on a send right, send-once right
    /// or dead name.
    pub fn deallocate(&mut self, space: SpaceId, name: Name) -> Result<(), KernReturn> {
        let e = self.lookup(space, name)?;
        if e.has(MACH_PORT_TYPE_SEND) {
            self.drop_send_uref(space, name, e, 1);
        } else if e.has(MACH_PORT_TYPE_SEND_ONCE) {
            self.drop_name(space, name, &e);
            self.release(Right::SendOnce(e.port().expect("port")));
        } else if e.has(MACH_PORT_TYPE_DEAD_NAME) {
            self.set_urefs(space, name, e, e.urefs - 1);
        } else {
            return Err(KERN_INVALID_RIGHT);
        }
        self.flush();
        Ok(())
    }

    /// Removes the name (its dead-name request becomes a port-deleted notification).
    fn drop_name(&mut self, space: SpaceId, name: Name, e: &Entry) {
        self.name_deleted(space, name, e);
        self.space_mut(space).set(name, None);
    }

    fn set_urefs(&mut self, space: SpaceId, name: Name, mut e: Entry, urefs: u32) {
        if urefs == 0 {
            self.drop_name(space, name, &e);
        } else {
            e.urefs = urefs;
            self.space_mut(space).set(name, Some(e));
        }
    }

    /// Takes `n` (<= urefs) user references off a send right; the last one releases it.
    fn drop_send_uref(&mut self, space: SpaceId, name: Name, mut e: Entry, n: u32) {
        let p = e.port().expect("send right names a port");
        if e.urefs > n {
            e.urefs -= n;
            self.space_mut(space).set(name, Some(e));
            return;
        }
        e.ty &= !MACH_PORT_TYPE_SEND;
        e.urefs = 1;
        if e.ty == 0 {
            self.drop_name(space, name, &e);
        } else {
            self.space_mut(space).set(name, Some(e));
        }
        self.release(Right::Send(p));
    }

    /// `mach_port_get_refs`.
    pub fn get_refs(&mut self, space: SpaceId, name: Name, right: u32) -> Result<u32, KernReturn> {
        if right >= MACH_PORT_RIGHT_NUMBER {
            return Err(KERN_INVALID_VALUE);
        }
        let e = self.lookup(space, name);
        self.flush();
        let e = e?;
        let bit = 1 << (right + 16);
        Ok(if !e.has(bit) {
            0
        } else if matches!(right, MACH_PORT_RIGHT_SEND | MACH_PORT_RIGHT_DEAD_NAME) {
            e.urefs
        } else {
            1
        })
    }

    /// `mach_port_mod_refs`.
    pub fn mod_refs(
        &mut self,
        space: SpaceId,
        name: Name,
        right: u32,
        delta: i32,
    ) -> Result<(), KernReturn> {
        if right >= MACH_PORT_RIGHT_NUMBER {
            return Err(KERN_INVALID_VALUE);
        }
        let e = self.lookup(space, name)?;
        let bit = 1 << (right + 16);
        if !e.has(bit) {
            return Err(KERN_INVALID_RIGHT);
        }
        let r = match right {
            MACH_PORT_RIGHT_SEND | MACH_PORT_RIGHT_DEAD_NAME => {
                let urefs = e.urefs as i64 + delta as i64;
                if urefs < 0 {
                    return Err(KERN_INVALID_VALUE);
                }
                let max = if right == MACH_PORT_RIGHT_SEND {
                    MACH_PORT_SEND_UREFS_MAX
                } else {
                    MACH_PORT_UREFS_MAX
                };
                if urefs > max as i64 {
                    return Err(KERN_UREFS_OVERFLOW);
                }
                let urefs = urefs as u32;
                if right == MACH_PORT_RIGHT_DEAD_NAME {
                    self.set_urefs(space, name, e, urefs);
                } else if urefs == 0 {
                    self.drop_send_uref(space, name, e, e.urefs);
                } else {
                    let mut e = e;
                    e.urefs = urefs;
                    self.space_mut(space).set(name, Some(e));
                }
                Ok(())
            }
            _ => match delta {
                0 => Ok(()),
                -1 => {
                    self.drop_single(space, name, e, right);
                    Ok(())
                }
                _ => Err(KERN_INVALID_VALUE),
            },
        };
        self.flush();
        r
    }

    /// Destroys the one receive, send-once or port-set right of `name`.
    fn drop_single(&mut self, space: SpaceId, name: Name, mut e: Entry, right: u32) {
        match (right, e.obj) {
            (MACH_PORT_RIGHT_PORT_SET, Obj::Pset(s)) => {
                self.drop_name(space, name, &e);
                self.destroy_pset(s);
            }
            (MACH_PORT_RIGHT_SEND_ONCE, Obj::Port(p)) => {
                self.drop_name(space, name, &e);
                self.release(Right::SendOnce(p));
            }
            (_, Obj::Port(p)) => {
                e.ty &= !MACH_PORT_TYPE_RECEIVE;
                if e.ty == 0 {
                    self.drop_name(space, name, &e);
                } else {
                    self.space_mut(space).set(name, Some(e));
                }
                self.release(Right::Receive(p));
            }
            _ => {}
        }
    }

    /// `mach_port_get_receive_status`.
    pub fn get_receive_status(
        &mut self,
        space: SpaceId,
        name: Name,
    ) -> Result<PortStatus, KernReturn> {
        let p = self.lookup_receive(space, name)?;
        let port = &self.ports[&p];
        Ok(PortStatus {
            pset: port.pset.map_or(0, |s| self.psets[&s].name),
            seqno: port.seqno,
            mscount: port.mscount,
            qlimit: port.qlimit,
            msgcount: port.queue.len() as u32,
            sorights: port.sorights,
            srights: port.srights > 0,
            pdrequest: port.pdrequest.is_some(),
            nsrequest: port.nsrequest.is_some(),
        })
    }

    /// `mach_port_set_qlimit` (0 ..= `MACH_PORT_QLIMIT_MAX`).
    pub fn set_qlimit(
        &mut self,
        space: SpaceId,
        name: Name,
        qlimit: u32,
    ) -> Result<(), KernReturn> {
        let p = self.lookup_receive(space, name)?;
        if qlimit > MACH_PORT_QLIMIT_MAX {
            return Err(KERN_INVALID_VALUE);
        }
        let port = self.port_mut(p);
        let grew = qlimit > port.qlimit;
        port.qlimit = qlimit;
        if grew {
            self.wakeups.push(Wakeup::Room(p));
        }
        Ok(())
    }

    /// `mach_port_set_mscount`.
    pub fn set_mscount(
        &mut self,
        space: SpaceId,
        name: Name,
        mscount: u32,
    ) -> Result<(), KernReturn> {
        let p = self.lookup_receive(space, name)?;
        self.port_mut(p).mscount = mscount;
        Ok(())
    }

    /// `mach_port_set_seqno`.
    pub fn set_seqno(&mut self, space: SpaceId, name: Name, seqno: u32) -> Result<(), KernReturn> {
        let p = self.lookup_receive(space, name)?;
        self.port_mut(p).seqno = seqno;
        Ok(())
    }

    /// `mach_port_move_member`: into the set `after`, or out of any set with
    /// `MACH_PORT_NULL`.
    pub fn move_member(
        &mut self,
        space: SpaceId,
        member: Name,
        after: Name,
    ) -> Result<(), KernReturn> {
        let p = self.lookup_receive(space, member)?;
        let target = if after == MACH_PORT_NULL {
            None
        } else {
            match self.lookup(space, after)?.obj {
                Obj::Pset(s) => Some(s),
                _ => return Err(KERN_INVALID_RIGHT),
            }
        };
        let current = self.ports[&p].pset;
        if target.is_none() && current.is_none() {
            return Err(KERN_NOT_IN_SET);
        }
        if current == target {
            return Ok(());
        }
        self.leave_set(p);
        if let Some(s) = target {
            self.psets.get_mut(&s).expect("set").members.insert(p);
            // The set delivers in the order its members' messages became ready there: the
            // joining port's messages go after those already waiting (observed).
            let mut stamp = self.stamp;
            let port = self.ports.get_mut(&p).expect("port");
            for m in port.queue.iter_mut() {
                stamp += 1;
                m.stamp = stamp;
            }
            self.stamp = stamp;
            port.pset = Some(s);
            let queued = !port.queue.is_empty();
            self.wakeups.push(Wakeup::Abort {
                on: crate::Waitable::Port(p),
                code: MACH_RCV_PORT_CHANGED,
            });
            if queued {
                self.wakeups.push(Wakeup::Message {
                    port: p,
                    set: Some(s),
                });
            }
        }
        Ok(())
    }

    /// `mach_port_get_set_status`: the names of the set's members, ascending.
    pub fn get_set_status(&mut self, space: SpaceId, name: Name) -> Result<Vec<Name>, KernReturn> {
        let s = match self.lookup(space, name)?.obj {
            Obj::Pset(s) => s,
            _ => return Err(KERN_INVALID_RIGHT),
        };
        let mut names: Vec<Name> = self.psets[&s]
            .members
            .iter()
            .filter_map(|p| self.spaces[&space].by_port.get(p).copied())
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    /// `mach_port_request_notification`: registers `notify` (a send-once right, or
    /// [`Right::Null`] to cancel) for `variant` (`MACH_NOTIFY_PORT_DESTROYED`,
    /// `_NO_SENDERS`, `_DEAD_NAME`) and returns the previously registered right. On error
    /// the notify right comes back with the code; GNU Mach destroys it with the request,
    /// which sends a send-once notification (OBSERVED.md), so the kernel's server passes it
    /// to [`Ipc::destroy_right`].
    pub fn request_notification(
        &mut self,
        space: SpaceId,
        name: Name,
        variant: i32,
        sync: u32,
        notify: Right,
    ) -> Result<Right, (KernReturn, Right)> {
        let n = match notify {
            Right::SendOnce(n) => Some(n),
            Right::Null => None,
            // A dead notify right (MOVE_SEND_ONCE of a dead name) is refused (observed).
            other => return Err((KERN_INVALID_CAPABILITY, other)),
        };
        let r = match variant {
            MACH_NOTIFY_PORT_DESTROYED => {
                if sync != 0 {
                    return Err((KERN_INVALID_VALUE, notify));
                }
                match self.lookup_receive(space, name) {
                    Ok(p) => {
                        let prev = core::mem::replace(&mut self.port_mut(p).pdrequest, n);
                        Ok(prev.map_or(Right::Null, Right::SendOnce))
                    }
                    Err(kr) => return Err((kr, notify)),
                }
            }
            MACH_NOTIFY_NO_SENDERS => match self.lookup_receive(space, name) {
                Ok(p) => {
                    let port = self.port_mut(p);
                    let prev = port.nsrequest.take();
                    if let Some(n) = n {
                        if port.srights == 0 && port.mscount >= sync {
                            let mscount = port.mscount;
                            self.notify_no_senders(n, mscount);
                        } else {
                            port.nsrequest = Some(n);
                        }
                    }
                    Ok(prev.map_or(Right::Null, Right::SendOnce))
                }
                Err(kr) => return Err((kr, notify)),
            },
            MACH_NOTIFY_DEAD_NAME => return self.dnrequest(space, name, sync, notify, n),
            _ => return Err((KERN_INVALID_VALUE, notify)),
        };
        self.flush();
        r
    }

    fn dnrequest(
        &mut self,
        space: SpaceId,
        name: Name,
        sync: u32,
        notify: Right,
        n: Option<crate::PortId>,
    ) -> Result<Right, (KernReturn, Right)> {
        let mut e = match self.lookup(space, name) {
            Ok(e) => e,
            Err(kr) => return Err((kr, notify)),
        };
        if e.has(MACH_PORT_TYPE_DEAD_NAME) {
            let (Some(n), true) = (n, sync != 0) else {
                return Err((KERN_INVALID_ARGUMENT, notify));
            };
            if e.urefs >= MACH_PORT_UREFS_MAX {
                return Err((KERN_UREFS_OVERFLOW, notify));
            }
            e.urefs += 1;
            self.space_mut(space).set(name, Some(e));
            self.notify_dead_name(n, name);
            self.flush();
            return Ok(Right::Null);
        }
        let Obj::Port(p) = e.obj else {
            return Err((KERN_INVALID_RIGHT, notify));
        };
        let prev = self.cancel_dnrequest(space, name, p);
        e.dnrequest = n.is_some();
        if let Some(n) = n {
            self.port_mut(p).dnrequests.push(crate::DnRequest {
                space,
                name,
                notify: n,
            });
        }
        self.space_mut(space).set(name, Some(e));
        self.flush();
        Ok(prev.map_or(Right::Null, Right::SendOnce))
    }

    /// `mach_port_insert_right`: gives the carried right to `space` under `name`. On error
    /// the right comes back with the code; GNU Mach then destroys it with the request (a
    /// receive right inserted under a second name dies: probe 20), so the kernel's server
    /// passes it to [`Ipc::destroy_right`].
    pub fn insert_right(
        &mut self,
        space: SpaceId,
        name: Name,
        right: Right,
    ) -> Result<(), (KernReturn, Right)> {
        if !self.spaces.contains_key(&space) {
            return Err((KERN_INVALID_TASK, right));
        }
        if !name_valid(name) {
            return Err((KERN_INVALID_VALUE, right));
        }
        let p = match right {
            Right::Null | Right::Dead => return Err((KERN_INVALID_CAPABILITY, right)),
            Right::Send(p) | Right::SendOnce(p) | Right::Receive(p) => p,
        };
        self.check_entry(space, name);
        let existing = self.entry(space, name);
        if !self.port_active(p) {
            if existing.is_some() {
                return Err((KERN_NAME_EXISTS, right));
            }
            self.space_mut(space).take_name(name);
            self.space_mut(space).insert(name, dead_entry());
            self.release(right);
            self.flush();
            return Ok(());
        }
        let other = match right {
            Right::SendOnce(_) => None,
            _ => self.spaces[&space].by_port.get(&p).copied(),
        };
        match (other, existing) {
            (Some(o), _) if o != name => {
                if existing.is_none() {
                    // GNU Mach made the entry before finding the other name: the name is
                    // freed again, at the head of the free list (OBSERVED.md).
                    self.space_mut(space).free_unused_name(name);
                }
                Err((KERN_RIGHT_EXISTS, right))
            }
            (Some(_), Some(mut e)) => {
                if let Right::Send(_) = right {
                    if e.has(MACH_PORT_TYPE_SEND) {
                        if e.urefs >= MACH_PORT_SEND_UREFS_MAX {
                            return Err((KERN_UREFS_OVERFLOW, right));
                        }
                        e.urefs += 1;
                        self.port_mut(p).srights -= 1;
                    } else {
                        e.ty |= MACH_PORT_TYPE_SEND;
                        e.urefs = 1;
                    }
                } else {
                    e.ty |= MACH_PORT_TYPE_RECEIVE;
                    self.port_mut(p).receiver = Receiver::Space(space, name);
                }
                self.space_mut(space).set(name, Some(e));
                Ok(())
            }
            (_, Some(_)) => Err((KERN_NAME_EXISTS, right)),
            (_, None) => {
                if self.spaces[&space].entries.len() >= self.name_limit {
                    return Err((KERN_NO_SPACE, right));
                }
                let ty = match right {
                    Right::Send(_) => MACH_PORT_TYPE_SEND,
                    Right::SendOnce(_) => MACH_PORT_TYPE_SEND_ONCE,
                    _ => {
                        self.port_mut(p).receiver = Receiver::Space(space, name);
                        MACH_PORT_TYPE_RECEIVE
                    }
                };
                let s = self.space_mut(space);
                s.take_name(name);
                s.insert(
                    name,
                    Entry {
                        obj: Obj::Port(p),
                        ty,
                        urefs: 1,
                        dnrequest: false,
                    },
                );
                Ok(())
            }
        }
    }

    /// `mach_port_extract_right`: takes a right out of `space` as a message would carry it
    /// (`desired` is a `msgt_name` disposition); returns it with its received type.
    pub fn extract_right(
        &mut self,
        space: SpaceId,
        name: Name,
        desired: u32,
    ) -> Result<(Right, u32), KernReturn> {
        if !msg_type_port_any(desired) {
            return Err(KERN_INVALID_VALUE);
        }
        self.lookup(space, name)?;
        let r = self
            .copyin_right(space, name, desired, true)
            .map_err(|_| KERN_INVALID_RIGHT);
        self.flush();
        let r = r?;
        let ty = match desired {
            MACH_MSG_TYPE_MOVE_RECEIVE => MACH_MSG_TYPE_PORT_RECEIVE,
            MACH_MSG_TYPE_MOVE_SEND_ONCE | MACH_MSG_TYPE_MAKE_SEND_ONCE => {
                MACH_MSG_TYPE_PORT_SEND_ONCE
            }
            _ => MACH_MSG_TYPE_PORT_SEND,
        };
        Ok((r, ty))
    }

    /// Gives a carried right to `space` under a name of the space's choosing (as a
    /// received message would): the kernel's server uses it for rights it returns.
    pub fn give_right(
        &mut self,
        space: SpaceId,
        right: Right,
    ) -> Result<Name, (KernReturn, Right)> {
        let r = self.copyout_right(space, right).map_err(|(r, kr)| (kr, r));
        self.flush();
        r
    }
}
