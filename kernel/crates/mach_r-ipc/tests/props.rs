//! Property tests over random sequences of IPC operations on three spaces and a kernel
//! object: after every operation the state's invariants hold (`Ipc::check_invariants`:
//! every right counted, user references within bounds, reverse maps and sets consistent,
//! ports freed at most once); destroying every space then frees every port (each exactly
//! once), with and without receive rights carried in messages.

mod common;

use common::*;
use mach_r_ipc::consts::*;
use mach_r_ipc::{Ipc, RecvError, Right, Sent, SpaceId};
use proptest::prelude::*;

const DISPS: [u32; 6] = [
    MACH_MSG_TYPE_MOVE_RECEIVE,
    MACH_MSG_TYPE_MOVE_SEND,
    MACH_MSG_TYPE_MOVE_SEND_ONCE,
    MACH_MSG_TYPE_COPY_SEND,
    MACH_MSG_TYPE_MAKE_SEND,
    MACH_MSG_TYPE_MAKE_SEND_ONCE,
];

#[derive(Debug, Clone)]
enum Op {
    Allocate(u8, u32),
    AllocateName(u8, u32, u32),
    Destroy(u8, u16),
    Deallocate(u8, u16),
    ModRefs(u8, u16, u32, i32),
    Rename(u8, u16, u32),
    MoveMember(u8, u16, u16),
    Move(u8, u16, u8, u8, Option<u16>),
    Request(u8, u16, u8, u32, u16),
    Send(u8, u16, u8, u16, u8, Vec<(u8, u16)>),
    Receive(u8, u16, bool, bool),
    Qlimit(u8, u16, u32),
    KernelSend(u8),
    DestroySpace(u8),
}

fn op(carry_receive: bool) -> impl Strategy<Value = Op> {
    let disp = if carry_receive { 0u8..6 } else { 1u8..6 };
    let s = 0u8..3;
    let n = any::<u16>();
    prop_oneof![
        4 => (s.clone(), 0u32..6).prop_map(|(s, r)| Op::Allocate(s, r)),
        1 => (s.clone(), 0u32..5, 1u32..40).prop_map(|(s, r, n)| Op::AllocateName(s, r, n)),
        2 => (s.clone(), n).prop_map(|(s, n)| Op::Destroy(s, n)),
        2 => (s.clone(), n).prop_map(|(s, n)| Op::Deallocate(s, n)),
        2 => (s.clone(), n, 0u32..6, -3i32..4).prop_map(|(s, n, r, d)| Op::ModRefs(s, n, r, d)),
        1 => (s.clone(), n, 1u32..40).prop_map(|(s, n, m)| Op::Rename(s, n, m)),
        2 => (s.clone(), n, n).prop_map(|(s, a, b)| Op::MoveMember(s, a, b)),
        4 => (s.clone(), n, disp.clone(), s.clone(), proptest::option::of(n)).prop_map(|(s, n, d, t, m)| Op::Move(s, n, d, t, m)),
        2 => (s.clone(), n, 0u8..3, 0u32..3, n).prop_map(|(s, n, v, y, q)| Op::Request(s, n, v, y, q)),
        6 => (s.clone(), n, 1u8..6, n, 0u8..6, proptest::collection::vec((disp, n), 0..4))
            .prop_map(|(s, d, dd, r, rd, body)| Op::Send(s, d, dd, r, rd, body)),
        5 => (s.clone(), n, any::<bool>(), any::<bool>()).prop_map(|(s, n, l, b)| Op::Receive(s, n, l, b)),
        1 => (s.clone(), n, 0u32..3).prop_map(|(s, n, q)| Op::Qlimit(s, n, q)),
        1 => s.clone().prop_map(Op::KernelSend),
        1 => s.prop_map(Op::DestroySpace),
    ]
}

struct World {
    ipc: Ipc,
    spaces: [SpaceId; 3],
    kport: mach_r_ipc::PortId,
    mem: Mem,
}

impl World {
    fn new() -> World {
        let mut ipc = Ipc::with_name_limit(48);
        let spaces = [ipc.space_create(), ipc.space_create(), ipc.space_create()];
        let kport = ipc.kobject_port(0x77).unwrap();
        World {
            ipc,
            spaces,
            kport,
            mem: Mem::new(),
        }
    }

    /// Mostly an existing name of the space, sometimes a made-up one.
    fn name(&mut self, s: SpaceId, sel: u16) -> u32 {
        let names = self.ipc.names(s).unwrap().0;
        if names.is_empty() || sel.is_multiple_of(7) {
            (sel % 50) as u32
        } else {
            names[sel as usize % names.len()]
        }
    }

    fn apply(&mut self, op: &Op) {
        let spaces = self.spaces;
        let sp = |i: &u8| spaces[*i as usize];
        match op {
            Op::Allocate(s, r) => {
                let _ = self.ipc.allocate(sp(s), *r);
            }
            Op::AllocateName(s, r, n) => {
                let _ = self.ipc.allocate_name(sp(s), *r, *n);
            }
            Op::Destroy(s, n) => {
                let n = self.name(sp(s), *n);
                let _ = self.ipc.destroy(sp(s), n);
            }
            Op::Deallocate(s, n) => {
                let n = self.name(sp(s), *n);
                let _ = self.ipc.deallocate(sp(s), n);
            }
            Op::ModRefs(s, n, r, d) => {
                let n = self.name(sp(s), *n);
                let _ = self.ipc.mod_refs(sp(s), n, *r, *d);
            }
            Op::Rename(s, n, m) => {
                let n = self.name(sp(s), *n);
                let _ = self.ipc.rename(sp(s), n, *m);
            }
            Op::MoveMember(s, a, b) => {
                let a = self.name(sp(s), *a);
                let b = if b.is_multiple_of(4) {
                    0
                } else {
                    self.name(sp(s), *b)
                };
                let _ = self.ipc.move_member(sp(s), a, b);
            }
            Op::Move(s, n, d, t, at) => {
                let n = self.name(sp(s), *n);
                if let Ok((r, _)) = self.ipc.extract_right(sp(s), n, DISPS[*d as usize]) {
                    self.ipc.check_invariants([&r]).unwrap();
                    let placed = match at {
                        Some(m) => {
                            let m = self.name(sp(t), *m);
                            self.ipc.insert_right(sp(t), m, r).map(|_| ())
                        }
                        None => self.ipc.give_right(sp(t), r).map(|_| ()),
                    };
                    if let Err((_, r)) = placed {
                        self.ipc.destroy_right(r);
                    }
                }
            }
            Op::Request(s, n, v, sync, q) => {
                let n = self.name(sp(s), *n);
                let q = self.name(sp(s), *q);
                let variant = [
                    MACH_NOTIFY_DEAD_NAME,
                    MACH_NOTIFY_NO_SENDERS,
                    MACH_NOTIFY_PORT_DESTROYED,
                ][*v as usize];
                let notify = self
                    .ipc
                    .extract_right(sp(s), q, MACH_MSG_TYPE_MAKE_SEND_ONCE)
                    .map(|r| r.0)
                    .unwrap_or(Right::Null);
                match self
                    .ipc
                    .request_notification(sp(s), n, variant, *sync, notify)
                {
                    Ok(prev) => self.ipc.destroy_right(prev),
                    Err((_, r)) => self.ipc.destroy_right(r),
                }
            }
            Op::Send(s, d, dd, r, rd, body) => {
                let space = sp(s);
                let d = self.name(space, *d);
                let r = if *rd == 0 { 0 } else { self.name(space, *r) };
                let rdisp = if *rd == 0 { 0 } else { DISPS[*rd as usize] };
                let mut m = Msg::new(d, DISPS[*dd as usize], r, rdisp, 100);
                if !body.is_empty() {
                    m = m.complex();
                }
                for (disp, n) in body {
                    let n = self.name(space, *n);
                    m = m.ports(DISPS[*disp as usize], &[n]);
                }
                if let Ok(k) = self.ipc.copyin(space, &m.bytes, &mut self.mem) {
                    match self.ipc.send(k, false) {
                        Ok(Sent::Kernel(k)) => self.serve(k),
                        Ok(_) => {}
                        Err(full) => {
                            self.ipc.copyout_pseudo(space, full.0, &mut self.mem);
                        }
                    }
                }
            }
            Op::Receive(s, n, large, big) => {
                let space = sp(s);
                let n = self.name(space, *n);
                let size = if *big { 4096 } else { 32 };
                match self.ipc.receive(space, n, size, *large) {
                    Ok(k) => {
                        self.ipc.copyout(space, k, &mut self.mem);
                    }
                    Err(RecvError::TooLarge { size }) => assert!(size > 32),
                    Err(_) => {}
                }
            }
            Op::Qlimit(s, n, q) => {
                let n = self.name(sp(s), *n);
                let _ = self.ipc.set_qlimit(sp(s), n, *q);
            }
            Op::KernelSend(s) => {
                let _ = self.ipc.make_send(sp(s), self.kport);
            }
            Op::DestroySpace(s) => {
                self.ipc.space_destroy(sp(s)).unwrap();
                self.spaces[*s as usize] = self.ipc.space_create();
            }
        }
    }

    /// The kernel's part for a message to the kernel object: copy it out into the kernel
    /// space and drop every right it brought (a server that consumes its request).
    fn serve(&mut self, k: mach_r_ipc::KMsg) {
        let ks = self.ipc.kernel_space();
        self.ipc.copyout(ks, k, &mut self.mem);
        let keep = self.ipc.port_name(ks, self.kport).unwrap();
        for n in self.ipc.names(ks).unwrap().0 {
            if n != keep {
                self.ipc.destroy(ks, n).unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_operation(ops in proptest::collection::vec(op(true), 1..60)) {
        let mut w = World::new();
        for o in &ops {
            w.apply(o);
            if let Err(e) = w.ipc.check_invariants([]) {
                panic!("after {o:?}: {e}");
            }
        }
        for s in w.spaces {
            w.ipc.space_destroy(s).unwrap();
            w.ipc.check_invariants([]).unwrap();
        }
        // Circular messages are destroyed when sent, so no port can outlive every space.
        let ks = w.ipc.kernel_space();
        let k = w.ipc.port_name(ks, w.kport).unwrap();
        w.ipc.destroy(ks, k).unwrap();
        w.ipc.check_invariants([]).unwrap();
        let (created, freed) = w.ipc.port_counts();
        prop_assert_eq!(created, freed);
    }

    #[test]
    fn every_port_is_freed_once_spaces_are_gone(ops in proptest::collection::vec(op(false), 1..60)) {
        let mut w = World::new();
        for o in &ops {
            if matches!(o, Op::Request(_, _, 2, _, _)) {
                continue; // port-destroyed requests carry receive rights
            }
            w.apply(o);
            w.ipc.check_invariants([]).unwrap();
        }
        for s in w.spaces {
            w.ipc.space_destroy(s).unwrap();
        }
        let ks = w.ipc.kernel_space();
        let k = w.ipc.port_name(ks, w.kport).unwrap();
        w.ipc.destroy(ks, k).unwrap();
        w.ipc.check_invariants([]).unwrap();
        let (created, freed) = w.ipc.port_counts();
        prop_assert_eq!(created, freed);
    }
}
