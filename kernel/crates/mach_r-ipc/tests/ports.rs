//! The calls of mach_port.defs on one space. Name values are the ones GNU Mach handed out
//! in `conformance/suite/OBSERVED.md`; return codes are those of the GNU Mach manual.

mod common;

use mach_r_ipc::consts::*;
use mach_r_ipc::{Ipc, Right, SpaceId};

/// A bootstrap task as GNU Mach starts it: 1 = host privileged port, 2 = device master.
fn bootstrap() -> (Ipc, SpaceId) {
    let mut ipc = Ipc::new();
    let t = ipc.space_create();
    let host_priv = ipc.kobject_port(1).unwrap();
    let device = ipc.kobject_port(2).unwrap();
    assert_eq!(ipc.make_send(t, host_priv), Ok(1));
    assert_eq!(ipc.make_send(t, device), Ok(2));
    (ipc, t)
}

#[test]
fn bootstrap_names_and_self_urefs() {
    let (mut ipc, t) = bootstrap();
    let task = ipc.kobject_port(3).unwrap();
    let host = ipc.kobject_port(4).unwrap();
    assert_eq!(ipc.make_send(t, task), Ok(3));
    assert_eq!(ipc.make_send(t, host), Ok(4));
    assert_eq!(ipc.reply_port(t), 5);
    assert_eq!(ipc.make_send(t, task), Ok(3));
    assert_eq!(ipc.make_send(t, task), Ok(3));
    assert_eq!(ipc.get_refs(t, 3, MACH_PORT_RIGHT_SEND), Ok(3));
    assert_eq!(ipc.get_refs(t, 4, MACH_PORT_RIGHT_SEND), Ok(1));
    assert_eq!(ipc.reply_port(t), 6);
    assert_eq!(ipc.reply_port(t), 7);
    let (names, types) = ipc.names(t).unwrap();
    assert_eq!(names, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        types,
        vec![0x10000, 0x10000, 0x10000, 0x10000, 0x20000, 0x20000, 0x20000]
    );
    ipc.check_invariants([]).unwrap();
}

#[test]
fn freed_names_are_reused_last_freed_first() {
    let (mut ipc, t) = bootstrap();
    for n in 3..=16 {
        assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(n));
    }
    ipc.destroy(t, 11).unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(11));
    ipc.mod_refs(t, 13, MACH_PORT_RIGHT_RECEIVE, -1).unwrap();
    ipc.destroy(t, 12).unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(12));
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(13));
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(17));
    ipc.destroy(t, 14).unwrap();
    ipc.destroy(t, 15).unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(15));
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE), Ok(14));
    let d = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    assert_eq!(ipc.port_type(t, d), Ok(MACH_PORT_TYPE_DEAD_NAME));
    ipc.deallocate(t, d).unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_PORT_SET), Ok(d));
    ipc.check_invariants([]).unwrap();
}

#[test]
fn insert_right_and_the_free_list() {
    let (mut ipc, t) = bootstrap();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (r, ty) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    assert_eq!(ty, MACH_MSG_TYPE_PORT_SEND);
    ipc.insert_right(t, n, r).unwrap();
    assert_eq!(
        ipc.port_type(t, n),
        Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
    );
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(1));
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let (kr, r) = ipc.insert_right(t, 777, r).unwrap_err();
    assert_eq!(kr, KERN_RIGHT_EXISTS);
    ipc.destroy_right(r);
    assert_eq!(ipc.port_type(t, 777), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME), Ok(777));
    ipc.deallocate(t, 777).unwrap();
    let (so, ty) = ipc
        .extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    assert_eq!(ty, MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(ipc.give_right(t, so), Ok(777));
    // A send right given to a space holding the port's send right merges into it.
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    assert_eq!(ipc.give_right(t, r), Ok(n));
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(2));
    ipc.check_invariants([]).unwrap();
}

#[test]
fn insert_right_errors() {
    let (mut ipc, t) = bootstrap();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let (kr, r) = ipc.insert_right(t, MACH_PORT_NULL, r).unwrap_err();
    assert_eq!(kr, KERN_INVALID_VALUE);
    // The space already names the port: RIGHT_EXISTS comes before NAME_EXISTS.
    let (kr, r) = ipc.insert_right(t, 1, r).unwrap_err();
    assert_eq!(kr, KERN_RIGHT_EXISTS);
    let m = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (so, _) = ipc
        .extract_right(t, m, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    let (kr, so) = ipc.insert_right(t, 1, so).unwrap_err();
    assert_eq!(kr, KERN_NAME_EXISTS);
    ipc.destroy_right(so);
    assert_eq!(
        ipc.insert_right(t, 100, Right::Dead).unwrap_err().0,
        KERN_INVALID_CAPABILITY
    );
    ipc.insert_right(t, n, r).unwrap();
    // A send|receive name stops at 65534 send references (ports.txt: "at the limit").
    ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, 65533).unwrap();
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let (kr, r) = ipc.insert_right(t, n, r).unwrap_err();
    assert_eq!(kr, KERN_UREFS_OVERFLOW);
    ipc.destroy_right(r);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn receive_status_and_qlimit() {
    let (mut ipc, t) = bootstrap();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let s = ipc.get_receive_status(t, n).unwrap();
    assert_eq!(
        (
            s.pset,
            s.seqno,
            s.mscount,
            s.qlimit,
            s.msgcount,
            s.sorights,
            s.srights,
            s.pdrequest,
            s.nsrequest
        ),
        (0, 0, 0, 5, 0, 0, false, false, false)
    );
    for q in [0, 1, 16] {
        assert_eq!(ipc.set_qlimit(t, n, q), Ok(()));
    }
    assert_eq!(ipc.set_qlimit(t, n, 17), Err(KERN_INVALID_VALUE));
    assert_eq!(ipc.set_qlimit(t, n, 1000), Err(KERN_INVALID_VALUE));
    assert_eq!(ipc.get_receive_status(t, n).unwrap().qlimit, 16);
    assert_eq!(ipc.set_qlimit(t, 1, 3), Err(KERN_INVALID_RIGHT));
    assert_eq!(ipc.set_qlimit(t, 999, 3), Err(KERN_INVALID_NAME));
    ipc.set_mscount(t, n, 7).unwrap();
    ipc.set_seqno(t, n, 9).unwrap();
    let (so, _) = ipc
        .extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    let (s1, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let s = ipc.get_receive_status(t, n).unwrap();
    assert_eq!((s.seqno, s.mscount, s.sorights, s.srights), (9, 8, 1, true));
    ipc.check_invariants([&so, &s1]).unwrap();
    ipc.destroy_right(s1);
    ipc.destroy_right(so);
    // The destroyed send-once right sent a send-once notification to the port.
    assert_eq!(ipc.get_receive_status(t, n).unwrap().msgcount, 1);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn refs_and_mod_refs() {
    let (mut ipc, t) = bootstrap();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_RECEIVE), Ok(1));
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(0));
    assert_eq!(ipc.get_refs(t, n, 5), Err(KERN_INVALID_VALUE));
    assert_eq!(ipc.get_refs(t, 99, 0), Err(KERN_INVALID_NAME));
    assert_eq!(
        ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, 1),
        Err(KERN_INVALID_RIGHT)
    );
    assert_eq!(
        ipc.mod_refs(t, n, MACH_PORT_RIGHT_RECEIVE, 1),
        Err(KERN_INVALID_VALUE)
    );
    assert_eq!(
        ipc.mod_refs(t, n, MACH_PORT_RIGHT_RECEIVE, -2),
        Err(KERN_INVALID_VALUE)
    );
    assert_eq!(ipc.mod_refs(t, n, MACH_PORT_RIGHT_RECEIVE, 0), Ok(()));
    // As conformance/suite/expected/ports.txt: a send|receive name with 6 send references.
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    ipc.insert_right(t, n, r).unwrap();
    ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, 5).unwrap();
    assert_eq!(
        ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, -100),
        Err(KERN_INVALID_VALUE)
    );
    assert_eq!(
        ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, 0x7fff_ffff),
        Err(KERN_UREFS_OVERFLOW)
    );
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(6));
    let mut added = 0;
    while ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, 1).is_ok() {
        added += 1;
    }
    assert_eq!(added, 65528);
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(65534));
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_COPY_SEND).unwrap();
    let (kr, r) = ipc.insert_right(t, n, r).unwrap_err();
    assert_eq!(kr, KERN_UREFS_OVERFLOW);
    ipc.destroy_right(r);
    ipc.mod_refs(t, n, MACH_PORT_RIGHT_SEND, -65534).unwrap();
    assert_eq!(ipc.port_type(t, n), Ok(MACH_PORT_TYPE_RECEIVE));
    // Deallocating the last reference of name 1 (send only) removes the name.
    ipc.deallocate(t, 1).unwrap();
    assert_eq!(ipc.port_type(t, 1), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.deallocate(t, n), Err(KERN_INVALID_RIGHT));
    let d = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    ipc.mod_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME, 4).unwrap();
    assert_eq!(ipc.get_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME), Ok(5));
    assert_eq!(
        ipc.mod_refs(t, d, MACH_PORT_RIGHT_SEND, -1),
        Err(KERN_INVALID_RIGHT)
    );
    // A dead name reaches 65535 (probe/expected.txt, line "12 dn").
    ipc.mod_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME, 65530)
        .unwrap();
    assert_eq!(ipc.get_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME), Ok(65535));
    assert_eq!(
        ipc.mod_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME, 1),
        Err(KERN_UREFS_OVERFLOW)
    );
    ipc.mod_refs(t, d, MACH_PORT_RIGHT_DEAD_NAME, -65535)
        .unwrap();
    assert_eq!(ipc.port_type(t, d), Err(KERN_INVALID_NAME));
    ipc.check_invariants([]).unwrap();
}

#[test]
fn allocate_name_rename_and_sets() {
    let (mut ipc, t) = bootstrap();
    assert_eq!(ipc.allocate(t, 7), Err(KERN_INVALID_VALUE));
    assert_eq!(
        ipc.allocate_name(t, MACH_PORT_RIGHT_RECEIVE, 0),
        Err(KERN_INVALID_VALUE)
    );
    assert_eq!(
        ipc.allocate_name(t, MACH_PORT_RIGHT_RECEIVE, !0),
        Err(KERN_INVALID_VALUE)
    );
    assert_eq!(
        ipc.allocate_name(t, MACH_PORT_RIGHT_RECEIVE, 2),
        Err(KERN_NAME_EXISTS)
    );
    ipc.allocate_name(t, MACH_PORT_RIGHT_RECEIVE, 500).unwrap();
    ipc.allocate_name(t, MACH_PORT_RIGHT_PORT_SET, 600).unwrap();
    assert_eq!(ipc.rename(t, 500, 0), Err(KERN_INVALID_VALUE));
    assert_eq!(ipc.rename(t, 501, 502), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.rename(t, 500, 600), Err(KERN_NAME_EXISTS));
    ipc.rename(t, 500, 501).unwrap();
    assert_eq!(ipc.move_member(t, 501, 0), Err(KERN_NOT_IN_SET));
    assert_eq!(ipc.move_member(t, 501, 1), Err(KERN_INVALID_RIGHT));
    assert_eq!(ipc.move_member(t, 501, 9), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.move_member(t, 600, 501), Err(KERN_INVALID_RIGHT));
    ipc.move_member(t, 501, 600).unwrap();
    let other = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    ipc.move_member(t, other, 600).unwrap();
    assert_eq!(ipc.get_set_status(t, 600), Ok(vec![other, 501]));
    assert_eq!(ipc.get_set_status(t, 501), Err(KERN_INVALID_RIGHT));
    assert_eq!(ipc.get_receive_status(t, 501).unwrap().pset, 600);
    ipc.rename(t, 600, 601).unwrap();
    assert_eq!(ipc.get_receive_status(t, 501).unwrap().pset, 601);
    ipc.move_member(t, 501, 0).unwrap();
    assert_eq!(ipc.get_set_status(t, 601), Ok(vec![other]));
    ipc.destroy(t, 601).unwrap();
    assert_eq!(ipc.get_receive_status(t, other).unwrap().pset, 0);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn space_destroy_turns_send_rights_into_dead_names() {
    let mut ipc = Ipc::new();
    let a = ipc.space_create();
    let b = ipc.space_create();
    let n = ipc.allocate(a, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (r, _) = ipc.extract_right(a, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let m = ipc.give_right(b, r).unwrap();
    ipc.mod_refs(b, m, MACH_PORT_RIGHT_SEND, 2).unwrap();
    ipc.space_destroy(a).unwrap();
    assert_eq!(ipc.port_type(b, m), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(b, m, MACH_PORT_RIGHT_DEAD_NAME), Ok(3));
    assert_eq!(ipc.port_counts(), (1, 1));
    ipc.deallocate(b, m).unwrap();
    ipc.mod_refs(b, m, MACH_PORT_RIGHT_DEAD_NAME, -2).unwrap();
    assert_eq!(ipc.names(b).unwrap().0, Vec::<u32>::new());
    ipc.check_invariants([]).unwrap();
}

/// probe/expected.txt, lines 20-24: what GNU Mach did with names around failed calls.
#[test]
fn names_around_failed_calls_as_probed() {
    let (mut ipc, t) = bootstrap();
    // 20: MOVE_RECEIVE of a send|receive name under a new name: KERN_RIGHT_EXISTS; the
    // request (and so the right) is destroyed: the old name becomes a dead name.
    let a = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc.extract_right(t, a, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    ipc.insert_right(t, a, s).unwrap();
    let (r, _) = ipc.extract_right(t, a, MACH_MSG_TYPE_MOVE_RECEIVE).unwrap();
    let (kr, r) = ipc.insert_right(t, 600, r).unwrap_err();
    assert_eq!(kr, KERN_RIGHT_EXISTS);
    ipc.destroy_right(r);
    assert_eq!(ipc.port_type(t, a), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(t, a, MACH_PORT_RIGHT_DEAD_NAME), Ok(1));
    assert_eq!(ipc.port_type(t, 600), Err(KERN_INVALID_NAME));
    // 21: a receive-only name moves to the new name; 600 (freed by 20) is the next name.
    let b = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    assert_eq!(b, 600);
    let (r, _) = ipc.extract_right(t, b, MACH_MSG_TYPE_MOVE_RECEIVE).unwrap();
    ipc.insert_right(t, 601, r).unwrap();
    assert_eq!(ipc.port_type(t, 601), Ok(MACH_PORT_TYPE_RECEIVE));
    assert_eq!(ipc.port_type(t, 600), Err(KERN_INVALID_NAME));
    // 22: rename from an unknown name frees the new name at the head of the free list;
    // NAME_EXISTS comes before the unknown old name.
    let fresh = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    assert_eq!(fresh, 600);
    assert_eq!(ipc.rename(t, 5000, 700), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME), Ok(700));
    assert_eq!(ipc.rename(t, 5000, 700), Err(KERN_NAME_EXISTS));
    // 23: allocate_name of a name on the free list takes it off the list.
    let f1 = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    let f2 = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    ipc.deallocate(t, f1).unwrap();
    ipc.deallocate(t, f2).unwrap();
    ipc.allocate_name(t, MACH_PORT_RIGHT_DEAD_NAME, f1).unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME), Ok(f2));
    let next = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    assert_eq!(next, f2 + 1);
    // 24: an explicit high name does not move the fresh names.
    ipc.allocate_name(t, MACH_PORT_RIGHT_DEAD_NAME, 2000)
        .unwrap();
    assert_eq!(ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME), Ok(next + 1));
    ipc.check_invariants([]).unwrap();
}

/// probe/expected.txt, lines 25-27: dead names given where rights are wanted.
#[test]
fn dead_names_as_probed() {
    let (mut ipc, t) = bootstrap();
    let mut mem = common::Mem::new();
    // 25: a dead name cannot be inserted (the MIG request carried MACH_PORT_DEAD; a
    // MOVE_SEND of it already took its reference); extracting one gives MACH_PORT_DEAD.
    let dd = ipc.allocate(t, MACH_PORT_RIGHT_DEAD_NAME).unwrap();
    let (r, ty) = ipc.extract_right(t, dd, MACH_MSG_TYPE_COPY_SEND).unwrap();
    assert_eq!((&r, ty), (&Right::Dead, MACH_MSG_TYPE_PORT_SEND));
    let (kr, r) = ipc.insert_right(t, 800, r).unwrap_err();
    assert_eq!((kr, &r), (KERN_INVALID_CAPABILITY, &Right::Dead));
    assert_eq!(ipc.port_type(t, 800), Err(KERN_INVALID_NAME));
    let (r, _) = ipc.extract_right(t, dd, MACH_MSG_TYPE_MOVE_SEND).unwrap();
    assert_eq!(r, Right::Dead);
    assert_eq!(ipc.port_type(t, dd), Err(KERN_INVALID_NAME));
    // 26: a send right (3 references) and a send-once right of a port that dies.
    let z = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc.extract_right(t, z, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    ipc.insert_right(t, z, s).unwrap();
    ipc.mod_refs(t, z, MACH_PORT_RIGHT_SEND, 2).unwrap();
    let (so, _) = ipc
        .extract_right(t, z, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    let zs = ipc.give_right(t, so).unwrap();
    ipc.mod_refs(t, z, MACH_PORT_RIGHT_RECEIVE, -1).unwrap();
    assert_eq!(ipc.port_type(t, z), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(t, z, MACH_PORT_RIGHT_DEAD_NAME), Ok(3));
    assert_eq!(ipc.get_refs(t, zs, MACH_PORT_RIGHT_DEAD_NAME), Ok(1));
    let nq = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (n, _) = ipc
        .extract_right(t, nq, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    assert_eq!(
        ipc.request_notification(t, z, MACH_NOTIFY_DEAD_NAME, 1, n),
        Ok(Right::Null)
    );
    assert_eq!(ipc.get_refs(t, z, MACH_PORT_RIGHT_DEAD_NAME), Ok(4));
    let k = ipc.receive(t, nq, 64, false).unwrap();
    assert_eq!(k.id(), MACH_NOTIFY_DEAD_NAME);
    ipc.destroy_kmsg(k);
    ipc.deallocate(t, z).unwrap();
    assert_eq!(ipc.get_refs(t, z, MACH_PORT_RIGHT_DEAD_NAME), Ok(3));
    ipc.deallocate(t, zs).unwrap();
    assert_eq!(ipc.port_type(t, zs), Err(KERN_INVALID_NAME));
    // 27: a message to a send-once right whose port died: MACH_SEND_INVALID_DEST, the dead
    // name stays.
    let w = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (so, _) = ipc
        .extract_right(t, w, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    let ws = ipc.give_right(t, so).unwrap();
    ipc.destroy(t, w).unwrap();
    let m = common::Msg::new(ws, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 27);
    assert_eq!(
        ipc.copyin(t, &m.bytes, &mut mem).map(|_| ()),
        Err(MACH_SEND_INVALID_DEST)
    );
    assert_eq!(ipc.port_type(t, ws), Ok(MACH_PORT_TYPE_DEAD_NAME));
    ipc.check_invariants([]).unwrap();
}
