//! Moving one right between a space and a carried [`Right`]: copyin (name + disposition ->
//! right) and copyout (right -> name), with their effects on the port's counts.

use crate::consts::*;
use crate::space::{Entry, Obj};
use crate::{Ipc, Receiver, Right, SpaceId};

/// What copying a right in with some disposition does, decided from the entry alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    Receive,
    CopySend,
    /// `last`: the entry's send right itself left (its last user reference moved).
    MoveSend {
        last: bool,
    },
    MakeSend,
    MakeSendOnce,
    MoveSendOnce,
    /// A dead name was given in place of a send or send-once right.
    Dead,
}

/// Applies `disp` to the entry value (`None` = no such name), without touching any port:
/// `Err(())` when the entry does not hold the right the disposition needs. `dead_ok` lets
/// a dead name stand for a send or send-once right (message bodies and reply ports).
pub(crate) fn copyin_entry(e: &mut Option<Entry>, disp: u32, dead_ok: bool) -> Result<Effect, ()> {
    let cur = e.as_mut().ok_or(())?;
    if cur.has(MACH_PORT_TYPE_DEAD_NAME) {
        return match disp {
            MACH_MSG_TYPE_COPY_SEND if dead_ok => Ok(Effect::Dead),
            MACH_MSG_TYPE_MOVE_SEND | MACH_MSG_TYPE_MOVE_SEND_ONCE if dead_ok => {
                cur.urefs -= 1;
                if cur.urefs == 0 {
                    *e = None;
                }
                Ok(Effect::Dead)
            }
            _ => Err(()),
        };
    }
    match disp {
        MACH_MSG_TYPE_MOVE_RECEIVE => {
            if !cur.has(MACH_PORT_TYPE_RECEIVE) {
                return Err(());
            }
            cur.ty &= !MACH_PORT_TYPE_RECEIVE;
            if cur.ty == 0 {
                *e = None;
            }
            Ok(Effect::Receive)
        }
        MACH_MSG_TYPE_COPY_SEND => {
            if !cur.has(MACH_PORT_TYPE_SEND) {
                return Err(());
            }
            Ok(Effect::CopySend)
        }
        MACH_MSG_TYPE_MOVE_SEND => {
            if !cur.has(MACH_PORT_TYPE_SEND) {
                return Err(());
            }
            cur.urefs -= 1;
            if cur.urefs > 0 {
                return Ok(Effect::MoveSend { last: false });
            }
            cur.ty &= !MACH_PORT_TYPE_SEND;
            cur.urefs = 1;
            if cur.ty == 0 {
                *e = None;
            }
            Ok(Effect::MoveSend { last: true })
        }
        MACH_MSG_TYPE_MAKE_SEND | MACH_MSG_TYPE_MAKE_SEND_ONCE => {
            if !cur.has(MACH_PORT_TYPE_RECEIVE) {
                return Err(());
            }
            Ok(if disp == MACH_MSG_TYPE_MAKE_SEND {
                Effect::MakeSend
            } else {
                Effect::MakeSendOnce
            })
        }
        MACH_MSG_TYPE_MOVE_SEND_ONCE => {
            if !cur.has(MACH_PORT_TYPE_SEND_ONCE) {
                return Err(());
            }
            *e = None;
            Ok(Effect::MoveSendOnce)
        }
        _ => Err(()),
    }
}

impl Ipc {
    /// Copies a right in from `space`'s `name` with disposition `disp` (the name was
    /// checked with `check_entry`). Nothing changes on `Err`.
    pub(crate) fn copyin_right(
        &mut self,
        space: SpaceId,
        name: Name,
        disp: u32,
        dead_ok: bool,
    ) -> Result<Right, ()> {
        let before = self.entry(space, name);
        let mut after = before;
        let effect = copyin_entry(&mut after, disp, dead_ok)?;
        let before = before.expect("copyin_entry succeeded on an entry");
        if after != Some(before) {
            if after.is_none() {
                self.name_deleted(space, name, &before);
            }
            self.space_mut(space).set(name, after);
        }
        let p = match before.obj {
            Obj::Port(p) => p,
            _ => return Ok(Right::Dead),
        };
        Ok(match effect {
            Effect::Dead => Right::Dead,
            Effect::Receive => {
                self.leave_set(p);
                let port = self.port_mut(p);
                port.receiver = Receiver::Transit;
                port.mscount = 0;
                port.seqno = 0;
                self.wakeups.push(crate::Wakeup::Abort {
                    on: crate::Waitable::Port(p),
                    code: MACH_RCV_PORT_DIED,
                });
                Right::Receive(p)
            }
            Effect::CopySend | Effect::MoveSend { last: false } => {
                self.port_mut(p).srights += 1;
                Right::Send(p)
            }
            Effect::MoveSend { last: true } => Right::Send(p),
            Effect::MakeSend => {
                let port = self.port_mut(p);
                port.srights += 1;
                port.mscount = port.mscount.wrapping_add(1);
                Right::Send(p)
            }
            Effect::MakeSendOnce => {
                self.port_mut(p).sorights += 1;
                Right::SendOnce(p)
            }
            Effect::MoveSendOnce => Right::SendOnce(p),
        })
    }

    /// Gives a carried right to `space`, returning its name there: a send right joins the
    /// space's send/receive name for the port (one more user reference, pegged at
    /// `MACH_PORT_SEND_UREFS_MAX`), a receive right joins the send name, a send-once right gets a
    /// new name; a send or send-once right to a dead port is destroyed and named
    /// `MACH_PORT_DEAD`. `Err` (with the right) when no name is left.
    pub(crate) fn copyout_right(
        &mut self,
        space: SpaceId,
        r: Right,
    ) -> Result<Name, (Right, KernReturn)> {
        let p = match r {
            Right::Null => return Ok(MACH_PORT_NULL),
            Right::Dead => return Ok(MACH_PORT_DEAD),
            Right::Send(p) | Right::SendOnce(p) | Right::Receive(p) => p,
        };
        let Some(sp) = self.spaces.get_mut(&space) else {
            return Err((r, KERN_INVALID_TASK));
        };
        let Some(port) = self.ports.get_mut(&p).filter(|port| port.active) else {
            self.release(r);
            return Ok(MACH_PORT_DEAD);
        };
        // The common case in place: a send right joining the name that already holds one
        // (one more user reference, pegged at the limit; the new right itself goes).
        let existing = match r {
            Right::SendOnce(_) => None,
            _ => sp.by_port.get(&p).copied(),
        };
        if let (Right::Send(_), Some(name)) = (&r, existing) {
            let e = sp
                .entries
                .get_mut(&name)
                .expect("reverse map names an entry");
            if e.has(MACH_PORT_TYPE_SEND) {
                if e.urefs < MACH_PORT_SEND_UREFS_MAX {
                    e.urefs += 1;
                }
                port.srights -= 1;
                return Ok(name);
            }
        }
        if let Some(name) = existing {
            let mut e = self.entry(space, name).expect("reverse map names an entry");
            if let Right::Send(_) = r {
                e.ty |= MACH_PORT_TYPE_SEND;
                e.urefs = 1;
            } else {
                e.ty |= MACH_PORT_TYPE_RECEIVE;
                self.port_mut(p).receiver = Receiver::Space(space, name);
            }
            self.space_mut(space).set(name, Some(e));
            return Ok(name);
        }
        let name = match self.alloc_name(space) {
            Ok(n) => n,
            Err(kr) => return Err((r, kr)),
        };
        let ty = match r {
            Right::Send(_) => MACH_PORT_TYPE_SEND,
            Right::SendOnce(_) => MACH_PORT_TYPE_SEND_ONCE,
            _ => {
                self.port_mut(p).receiver = Receiver::Space(space, name);
                MACH_PORT_TYPE_RECEIVE
            }
        };
        self.space_mut(space).insert(
            name,
            Entry {
                obj: Obj::Port(p),
                ty,
                urefs: 1,
                dnrequest: false,
            },
        );
        Ok(name)
    }
}
