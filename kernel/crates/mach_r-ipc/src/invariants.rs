//! A checker of the state's invariants (for tests, and for a kernel's debug builds).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::consts::*;
use crate::space::Obj;
use crate::{Ipc, PortId, Receiver, Right};

#[derive(Default)]
struct Count {
    send: u32,
    send_once: u32,
    receive: u32,
}

impl Ipc {
    /// Checks every invariant of the state, counting `outside` (rights the caller holds
    /// outside the crate) as carried rights: each port's `srights` / `sorights` equal the
    /// send / send-once rights found in spaces, queued messages, notification requests and
    /// `outside`; a live port has exactly one receive right where its receiver says; a dead
    /// port has none, an empty queue and some right still naming it; user references are
    /// within 1 ..= `MACH_PORT_UREFS_MAX`; the reverse maps, port sets and dead-name
    /// requests agree with the entries; every port created was freed at most once.
    pub fn check_invariants<'a>(
        &self,
        outside: impl IntoIterator<Item = &'a Right>,
    ) -> Result<(), String> {
        let mut counts: BTreeMap<PortId, Count> = BTreeMap::new();
        let carried = |r: &Right, counts: &mut BTreeMap<PortId, Count>| -> Result<(), String> {
            let p = match r.port() {
                Some(p) => p,
                None => return Ok(()),
            };
            if !self.ports.contains_key(&p) {
                return Err(format!("carried right {r:?} names a freed port"));
            }
            let c = counts.entry(p).or_default();
            match r {
                Right::Send(_) => c.send += 1,
                Right::SendOnce(_) => c.send_once += 1,
                _ => c.receive += 1,
            }
            Ok(())
        };
        for r in outside {
            carried(r, &mut counts)?;
        }
        let mut carried_receive = 0usize;
        for (id, port) in self.ports.iter() {
            for m in &port.queue {
                for r in m.rights() {
                    carried(r, &mut counts)?;
                    if let Right::Receive(r) = r {
                        carried_receive += 1;
                        if self.ports.get(r).and_then(|p| p.carrier) != Some(*id) {
                            return Err(format!("{r:?} queued on {id:?} has another carrier"));
                        }
                    }
                }
            }
            for n in port
                .nsrequest
                .iter()
                .chain(port.pdrequest.iter())
                .chain(port.dnrequests.iter().map(|d| &d.notify))
            {
                if !self.ports.contains_key(n) {
                    return Err(format!("request of {id:?} names freed port {n:?}"));
                }
                counts.entry(*n).or_default().send_once += 1;
            }
        }
        for (sid, space) in self.spaces.iter() {
            let mut reverse = 0;
            for (name, e) in space.entries.iter() {
                if !name_valid(name) {
                    return Err(format!("{sid:?} has reserved name {name:#x}"));
                }
                let max = if e.has(MACH_PORT_TYPE_SEND) {
                    MACH_PORT_SEND_UREFS_MAX
                } else {
                    MACH_PORT_UREFS_MAX
                };
                if e.urefs == 0 || e.urefs > max {
                    return Err(format!("{sid:?} name {name}: urefs {}", e.urefs));
                }
                match e.obj {
                    Obj::Port(p) => {
                        let port = self
                            .ports
                            .get(&p)
                            .ok_or_else(|| format!("{sid:?} name {name} names a freed port"))?;
                        let so = e.has(MACH_PORT_TYPE_SEND_ONCE);
                        if e.ty
                            & !(MACH_PORT_TYPE_SEND
                                | MACH_PORT_TYPE_RECEIVE
                                | MACH_PORT_TYPE_SEND_ONCE)
                            != 0
                            || e.ty == 0
                            || (so && e.ty != MACH_PORT_TYPE_SEND_ONCE)
                        {
                            return Err(format!("{sid:?} name {name}: bad type {:#x}", e.ty));
                        }
                        if !e.has(MACH_PORT_TYPE_SEND) && e.urefs != 1 {
                            return Err(format!(
                                "{sid:?} name {name}: urefs {} without send",
                                e.urefs
                            ));
                        }
                        let c = counts.entry(p).or_default();
                        if e.has(MACH_PORT_TYPE_SEND) {
                            c.send += 1;
                        }
                        if so {
                            c.send_once += 1;
                        }
                        if e.has(MACH_PORT_TYPE_RECEIVE) {
                            c.receive += 1;
                            if port.receiver != Receiver::Space(*sid, name) {
                                return Err(format!(
                                    "{p:?}: receiver {:?}, entry {sid:?} {name}",
                                    port.receiver
                                ));
                            }
                        }
                        if !so {
                            reverse += 1;
                            if space.by_port.get(&p) != Some(&name) {
                                return Err(format!("{sid:?}: reverse map of {p:?} is not {name}"));
                            }
                        }
                        let registered = port
                            .dnrequests
                            .iter()
                            .any(|d| d.space == *sid && d.name == name);
                        if port.active && registered != e.dnrequest {
                            return Err(format!(
                                "{sid:?} name {name}: dnrequest flag {} registered {registered}",
                                e.dnrequest
                            ));
                        }
                    }
                    Obj::Pset(s) => {
                        let set = self
                            .psets
                            .get(&s)
                            .ok_or_else(|| format!("{sid:?} name {name}: freed set"))?;
                        if e.ty != MACH_PORT_TYPE_PORT_SET || set.space != *sid || set.name != name
                        {
                            return Err(format!("{sid:?} name {name}: bad set entry"));
                        }
                    }
                    Obj::None => {
                        if e.ty != MACH_PORT_TYPE_DEAD_NAME || e.dnrequest {
                            return Err(format!("{sid:?} name {name}: bad dead name"));
                        }
                    }
                }
            }
            if reverse != space.by_port.len() {
                return Err(format!(
                    "{sid:?}: reverse map has {} names, entries {reverse}",
                    space.by_port.len()
                ));
            }
        }
        for (id, port) in self.ports.iter() {
            let c = counts.remove(id).unwrap_or_default();
            if c.send != port.srights || c.send_once != port.sorights {
                return Err(format!(
                    "{id:?}: srights {} sorights {}, found {} send and {} send-once rights",
                    port.srights, port.sorights, c.send, c.send_once
                ));
            }
            if port.active {
                if c.receive != 1 {
                    return Err(format!("{id:?}: {} receive rights", c.receive));
                }
                if let Some(s) = port.pset {
                    let set = self
                        .psets
                        .get(&s)
                        .ok_or_else(|| format!("{id:?} in freed set"))?;
                    if !set.members.contains(id)
                        || !matches!(port.receiver, Receiver::Space(sp, _) if sp == set.space)
                    {
                        return Err(format!("{id:?}: bad set membership"));
                    }
                }
            } else if c.receive != 0
                || !port.queue.is_empty()
                || port.srights + port.sorights == 0
                || port.pset.is_some()
            {
                return Err(format!(
                    "{id:?}: dead port still holds a receive right, messages or no rights"
                ));
            }
            if port.queue.len() > usize::MAX / 2 {
                return Err(format!("{id:?}: queue"));
            }
        }
        for (s, set) in self.psets.iter() {
            for p in &set.members {
                if self.ports.get(p).and_then(|port| port.pset) != Some(*s) {
                    return Err(format!("{s:?}: member {p:?} does not point back"));
                }
            }
        }
        let with_carrier = self.ports.values().filter(|p| p.carrier.is_some()).count();
        if with_carrier != carried_receive {
            return Err(format!(
                "{with_carrier} ports have a carrier, {carried_receive} receive rights are queued"
            ));
        }
        if let Some((p, _)) = counts.into_iter().next() {
            return Err(format!("rights to unknown port {p:?}"));
        }
        if self.ports_created - self.ports_freed != self.ports.len() as u64 {
            return Err(format!(
                "created {} freed {} live {}",
                self.ports_created,
                self.ports_freed,
                self.ports.len()
            ));
        }
        if !self.trash.is_empty() {
            return Err(format!("{} items left to destroy", self.trash.len()));
        }
        Ok(())
    }
}
