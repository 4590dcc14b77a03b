//! Messages: copyin checks, dispositions, queues, receive, copyout. The header bits and
//! names of the message to self are the ones GNU Mach gave (`conformance/suite/OBSERVED.md`);
//! the rest follows the GNU Mach manual's description of `mach_msg`.

mod common;

use common::*;
use mach_r_ipc::consts::*;
use mach_r_ipc::{Ipc, RecvError, Right, Sent, SpaceId, Waitable, Wakeup};

fn task() -> (Ipc, SpaceId, Mem) {
    let mut ipc = Ipc::new();
    let t = ipc.space_create();
    // names 1 and 2 as in a bootstrap task
    let a = ipc.kobject_port(1).unwrap();
    let b = ipc.kobject_port(2).unwrap();
    ipc.make_send(t, a).unwrap();
    ipc.make_send(t, b).unwrap();
    (ipc, t, Mem::new())
}

fn send(ipc: &mut Ipc, t: SpaceId, m: &Msg, mem: &mut Mem) -> Result<Sent, u32> {
    let k = ipc.copyin(t, &m.bytes, mem)?;
    Ok(ipc.send(k, false).expect("queue has room"))
}

fn recv(ipc: &mut Ipc, t: SpaceId, name: u32, mem: &mut Mem) -> Vec<u8> {
    let k = ipc.receive(t, name, 4096, false).expect("a message");
    let c = ipc.copyout(t, k, mem);
    assert_eq!(c.code, MACH_MSG_SUCCESS);
    c.bytes
}

#[test]
fn message_to_self_swaps_the_header() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let m = Msg::new(
        n,
        MACH_MSG_TYPE_MAKE_SEND,
        n,
        MACH_MSG_TYPE_MAKE_SEND_ONCE,
        1234,
    )
    .int32(7);
    for seqno in 0..3 {
        assert!(matches!(
            send(&mut ipc, t, &m, &mut mem),
            Ok(Sent::Queued(_))
        ));
        let b = recv(&mut ipc, t, n, &mut mem);
        let (bits, remote, local, s, id) = header(&b);
        assert_eq!(bits, 0x1112);
        assert_eq!(local, n);
        assert_eq!(s, seqno);
        assert_eq!(id, 1234);
        assert_eq!(ipc.port_type(t, remote), Ok(MACH_PORT_TYPE_SEND_ONCE));
        assert_eq!(rd32(&b, 4), 48);
        assert_eq!(rd32(&b, 40), 7);
        ipc.check_invariants([]).unwrap();
    }
    let (names, _) = ipc.names(t).unwrap();
    assert_eq!(names, vec![1, 2, 3, 4, 5, 6]);
    // The destination's send right was consumed at receive: no send rights remain.
    assert!(!ipc.get_receive_status(t, n).unwrap().srights);
    assert_eq!(ipc.get_receive_status(t, n).unwrap().mscount, 3);
}

#[test]
fn header_errors_change_nothing() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let cases: Vec<(Vec<u8>, u32)> = vec![
        (vec![0; 24], MACH_SEND_MSG_TOO_SMALL),
        (
            Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1)
                .raw(&[0; 4])
                .bytes,
            MACH_SEND_MSG_TOO_SMALL,
        ),
        (
            Msg::new(n, MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0, 1).bytes,
            MACH_SEND_INVALID_HEADER,
        ),
        (Msg::new(n, 0, 0, 0, 1).bytes, MACH_SEND_INVALID_HEADER),
        (
            Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, n, 0, 1).bytes,
            MACH_SEND_INVALID_HEADER,
        ),
        (
            Msg::new(0, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
        (
            Msg::new(!0, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
        (
            Msg::new(99, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
        (
            Msg::new(n, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
        (
            Msg::new(1, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
        (
            Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 99, MACH_MSG_TYPE_COPY_SEND, 1).bytes,
            MACH_SEND_INVALID_REPLY,
        ),
        (
            Msg::new(
                n,
                MACH_MSG_TYPE_MAKE_SEND,
                1,
                MACH_MSG_TYPE_MOVE_SEND_ONCE,
                1,
            )
            .bytes,
            MACH_SEND_INVALID_REPLY,
        ),
        // One user reference for two MOVE_SENDs: GNU Mach blames the destination
        // (probe/probe.c, line 7 of probe/expected.txt).
        (
            Msg::new(1, MACH_MSG_TYPE_MOVE_SEND, 1, MACH_MSG_TYPE_MOVE_SEND, 1).bytes,
            MACH_SEND_INVALID_DEST,
        ),
    ];
    for (bytes, code) in cases {
        let before = ipc.names(t).unwrap();
        assert_eq!(
            ipc.copyin(t, &bytes, &mut mem).map(|_| ()),
            Err(code),
            "{bytes:x?}"
        );
        assert_eq!(ipc.names(t).unwrap(), before);
        assert_eq!(ipc.get_refs(t, 1, MACH_PORT_RIGHT_SEND), Ok(1));
        ipc.check_invariants([]).unwrap();
    }
}

#[test]
fn header_is_atomic_for_one_name() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    ipc.insert_right(t, n, r).unwrap();
    // MOVE_SEND destination and COPY_SEND reply on one name with one user reference.
    let m = Msg::new(n, MACH_MSG_TYPE_MOVE_SEND, n, MACH_MSG_TYPE_COPY_SEND, 5);
    let k = ipc.copyin(t, &m.bytes, &mut mem).unwrap();
    assert_eq!(ipc.port_type(t, n), Ok(MACH_PORT_TYPE_RECEIVE));
    ipc.send(k, false).unwrap();
    let b = recv(&mut ipc, t, n, &mut mem);
    let (bits, remote, local, _, _) = header(&b);
    assert_eq!((bits, remote, local), (0x1111, n, n));
    assert_eq!(ipc.get_refs(t, n, MACH_PORT_RIGHT_SEND), Ok(1));
    ipc.check_invariants([]).unwrap();
}

#[test]
fn body_rights_with_every_disposition() {
    let (mut ipc, t, mut mem) = task();
    let b_space = ipc.space_create();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (r, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    let dest = ipc.give_right(b_space, r).unwrap();
    // The receiver space b gets the message; rights come from b.
    let p1 = ipc.allocate(b_space, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let p2 = ipc.allocate(b_space, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let p3 = ipc.allocate(b_space, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (so, _) = ipc
        .extract_right(b_space, p2, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap();
    let so_name = ipc.give_right(b_space, so).unwrap();
    let (s, _) = ipc
        .extract_right(b_space, p2, MACH_MSG_TYPE_MAKE_SEND)
        .unwrap();
    ipc.insert_right(b_space, p2, s).unwrap();
    ipc.mod_refs(b_space, p2, MACH_PORT_RIGHT_SEND, 1).unwrap();
    let m = Msg::new(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9)
        .complex()
        .ports(MACH_MSG_TYPE_MAKE_SEND, &[p1, 0, !0])
        .ports(MACH_MSG_TYPE_MAKE_SEND_ONCE, &[p1])
        .ports(MACH_MSG_TYPE_COPY_SEND, &[p2])
        .ports(MACH_MSG_TYPE_MOVE_SEND, &[p2])
        .ports(MACH_MSG_TYPE_MOVE_SEND_ONCE, &[so_name])
        .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[p3]);
    send(&mut ipc, b_space, &m, &mut mem).unwrap();
    assert_eq!(ipc.port_type(b_space, p3), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.port_type(b_space, so_name), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.get_refs(b_space, p2, MACH_PORT_RIGHT_SEND), Ok(1));
    ipc.check_invariants([]).unwrap();
    let b = recv(&mut ipc, t, n, &mut mem);
    assert_eq!(header(&b).0, MACH_MSGH_BITS_COMPLEX | 0x1100);
    let mut at = 32;
    let mut got = Vec::new();
    while at < b.len() {
        let w = rd32(&b, at);
        let count = rd32(&b, at + 4) as usize;
        for i in 0..count {
            got.push((w & 0xff, rd64(&b, at + 8 + 8 * i) as u32));
        }
        at += 8 + 8 * count;
    }
    let ty = |ipc: &mut Ipc, name| ipc.port_type(t, name).unwrap();
    assert_eq!(got[0].0, MACH_MSG_TYPE_PORT_SEND);
    assert_eq!((got[1], got[2]), ((17, 0), (17, !0)));
    let p1_in_t = got[0].1;
    assert_eq!(ty(&mut ipc, p1_in_t), MACH_PORT_TYPE_SEND);
    assert_eq!(got[3].0, MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(ty(&mut ipc, got[3].1), MACH_PORT_TYPE_SEND_ONCE);
    // COPY_SEND and MOVE_SEND of p2 arrive under one name with two user references.
    assert_eq!(got[4].1, got[5].1);
    assert_eq!(ipc.get_refs(t, got[4].1, MACH_PORT_RIGHT_SEND), Ok(2));
    assert_eq!(got[6].0, MACH_MSG_TYPE_PORT_SEND_ONCE);
    assert_eq!(got[7].0, MACH_MSG_TYPE_PORT_RECEIVE);
    assert_eq!(ty(&mut ipc, got[7].1), MACH_PORT_TYPE_RECEIVE);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn body_error_destroys_the_rights_before_it() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let p = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let q = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let m = Msg::new(
        n,
        MACH_MSG_TYPE_MAKE_SEND,
        n,
        MACH_MSG_TYPE_MAKE_SEND_ONCE,
        1,
    )
    .complex()
    .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[p])
    .ports(MACH_MSG_TYPE_COPY_SEND, &[q])
    .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[q]);
    assert_eq!(
        ipc.copyin(t, &m.bytes, &mut mem).map(|_| ()),
        Err(MACH_SEND_INVALID_RIGHT)
    );
    // p's receive right went into the message and was destroyed with it; q is untouched;
    // the reply's send-once right was destroyed: a send-once notification reached n.
    assert_eq!(ipc.port_type(t, p), Err(KERN_INVALID_NAME));
    assert_eq!(ipc.port_type(t, q), Ok(MACH_PORT_TYPE_RECEIVE));
    let b = recv(&mut ipc, t, n, &mut mem);
    assert_eq!(header(&b).4, MACH_NOTIFY_SEND_ONCE);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn body_type_and_size_errors() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let base = || Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1).complex();
    let bad_size = base()
        .raw(&descriptor(MACH_MSG_TYPE_COPY_SEND, 32, 1, true, false))
        .raw(&[0; 8]);
    let overrun = base()
        .raw(&descriptor(MACH_MSG_TYPE_INTEGER_32, 32, 3, true, false))
        .raw(&[0; 8]);
    let no_room = base().int32(1).raw(&[0; 0]);
    let mut no_room = no_room;
    no_room.bytes.truncate(40);
    let unreadable = base().ool(0xdead_0000, 16, false);
    for (m, code) in [
        (bad_size, MACH_SEND_INVALID_TYPE),
        (overrun, MACH_SEND_MSG_TOO_SMALL),
        (no_room, MACH_SEND_MSG_TOO_SMALL),
        (unreadable, MACH_SEND_INVALID_MEMORY),
    ] {
        assert_eq!(ipc.copyin(t, &m.bytes, &mut mem).map(|_| ()), Err(code));
        ipc.check_invariants([]).unwrap();
    }
    // Without the complex bit the body is data, whatever its descriptors say.
    let m = Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1).ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[n]);
    send(&mut ipc, t, &m, &mut mem).unwrap();
    let b = recv(&mut ipc, t, n, &mut mem);
    assert_eq!(rd64(&b, 40), n as u64);
    assert_eq!(ipc.port_type(t, n), Ok(MACH_PORT_TYPE_RECEIVE));
}

#[test]
fn out_of_line_data_and_ports() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let p = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let data: Vec<u8> = (0..100).collect();
    let a = mem.put(&data);
    let mut names = Vec::new();
    names.extend_from_slice(&p.to_le_bytes());
    names.extend_from_slice(&0u32.to_le_bytes());
    let pa = mem.put(&names);
    let m = Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 3)
        .complex()
        .ool(a, 100, true)
        .ool(0, 0, false)
        .ool_ports(MACH_MSG_TYPE_MAKE_SEND, pa, 2);
    send(&mut ipc, t, &m, &mut mem).unwrap();
    assert_eq!(mem.deallocated, vec![(a, 100)]);
    let b = recv(&mut ipc, t, n, &mut mem);
    let got = rd64(&b, 40);
    assert_ne!(got, a);
    assert_eq!(mem.get(got), &data[..]);
    assert_eq!(rd64(&b, 56), 0);
    let arr = mem.get(rd64(&b, 72)).to_vec();
    assert_eq!(rd32(&b, 64) & 0xff, MACH_MSG_TYPE_PORT_SEND);
    assert_eq!((rd32(&arr, 0), rd32(&arr, 4)), (p, 0));
    assert_eq!(
        ipc.port_type(t, p),
        Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
    );
    ipc.check_invariants([]).unwrap();
}

#[test]
fn queue_limit_and_send_once() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    ipc.set_qlimit(t, n, 2).unwrap();
    let m = Msg::new(n, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1);
    send(&mut ipc, t, &m, &mut mem).unwrap();
    send(&mut ipc, t, &m, &mut mem).unwrap();
    let k = ipc.copyin(t, &m.bytes, &mut mem).unwrap();
    let full = ipc.send(k, false).unwrap_err();
    // A send-once destination ignores the limit; so does a kernel ("always") send.
    let so = Msg::new(n, MACH_MSG_TYPE_MAKE_SEND_ONCE, 0, 0, 2);
    send(&mut ipc, t, &so, &mut mem).unwrap();
    // The sender gives up (timeout): its message comes back by pseudo-receive.
    let c = ipc.copyout_pseudo(t, full.0, &mut mem);
    assert_eq!(c.code, MACH_MSG_SUCCESS);
    let (bits, remote, local, _, _) = header(&c.bytes);
    assert_eq!((bits & 0xff, local), (MACH_MSG_TYPE_PORT_SEND, 0));
    assert_eq!(remote, n);
    assert_eq!(
        ipc.port_type(t, n),
        Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
    );
    ipc.take_wakeups();
    let k = ipc.receive(t, n, 100, false).unwrap();
    assert_eq!(
        ipc.take_wakeups(),
        vec![Wakeup::Room(k.dest_port().unwrap())]
    );
    ipc.destroy_kmsg(k);
    assert_eq!(ipc.get_receive_status(t, n).unwrap().msgcount, 2);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn too_large_with_and_without_rcv_large() {
    let (mut ipc, t, mut mem) = task();
    let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let m = Msg::new(
        n,
        MACH_MSG_TYPE_MAKE_SEND,
        n,
        MACH_MSG_TYPE_MAKE_SEND_ONCE,
        77,
    )
    .int32(1);
    send(&mut ipc, t, &m, &mut mem).unwrap();
    assert_eq!(
        ipc.receive(t, n, 40, true).unwrap_err(),
        RecvError::TooLarge { size: 48 }
    );
    assert_eq!(ipc.get_receive_status(t, n).unwrap().msgcount, 1);
    let e = ipc.receive(t, n, 40, false).unwrap_err();
    assert_eq!(e.code(), Some(MACH_RCV_TOO_LARGE));
    let RecvError::TooLargeDestroyed { header: h } = e else {
        panic!()
    };
    let (bits, remote, local, seqno, id) = header(&h);
    assert_eq!((bits, remote, local, seqno, id), (0x1112, 0, n, 0, 77));
    // The destroyed reply (send-once) notified n.
    let b = recv(&mut ipc, t, n, &mut mem);
    assert_eq!(header(&b).4, MACH_NOTIFY_SEND_ONCE);
    ipc.check_invariants([]).unwrap();
}

/// The scenario of conformance/suite/expected/portset.txt, with its names.
#[test]
fn port_sets_deliver_as_gnu_mach_did() {
    let (mut ipc, t, mut mem) = task();
    for n in 3..=5 {
        ipc.allocate_name(t, MACH_PORT_RIGHT_DEAD_NAME, n).unwrap();
    }
    let set = ipc.allocate(t, MACH_PORT_RIGHT_PORT_SET).unwrap();
    assert_eq!(set, 6);
    let m: Vec<u32> = (0..4)
        .map(|_| ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap())
        .collect();
    assert_eq!(m, vec![7, 8, 9, 10]);
    for &p in &m {
        ipc.move_member(t, p, set).unwrap();
    }
    assert!(matches!(
        ipc.receive(t, set, 64, false),
        Err(RecvError::Wait(Waitable::Set(_)))
    ));
    let to = |ipc: &mut Ipc, mem: &mut Mem, port: u32, id: i32| {
        let msg = Msg::new(port, MACH_MSG_TYPE_MAKE_SEND, 0, 0, id).int32(0);
        send(ipc, t, &msg, mem).unwrap();
    };
    let got = |ipc: &mut Ipc, mem: &mut Mem, from: u32| {
        let b = recv(ipc, t, from, mem);
        let (_, _, local, seqno, id) = header(&b);
        (id, local, seqno)
    };
    for (id, port) in [(100, 9), (101, 7), (102, 10), (103, 7), (104, 8), (105, 9)] {
        to(&mut ipc, &mut mem, port, id);
    }
    let interleaved: Vec<_> = (0..6).map(|_| got(&mut ipc, &mut mem, set)).collect();
    assert_eq!(
        interleaved,
        vec![
            (100, 9, 0),
            (101, 7, 0),
            (102, 10, 0),
            (103, 7, 1),
            (104, 8, 0),
            (105, 9, 1)
        ]
    );
    to(&mut ipc, &mut mem, 10, 300);
    assert_eq!(ipc.receive(t, 10, 64, false).unwrap_err(), RecvError::InSet);
    let late = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    assert_eq!(late, 11);
    to(&mut ipc, &mut mem, 11, 400);
    to(&mut ipc, &mut mem, 11, 401);
    to(&mut ipc, &mut mem, 7, 402);
    ipc.move_member(t, 11, set).unwrap();
    let after: Vec<_> = (0..4).map(|_| got(&mut ipc, &mut mem, set)).collect();
    assert_eq!(
        after,
        vec![(300, 10, 1), (402, 7, 2), (400, 11, 0), (401, 11, 1)]
    );
    to(&mut ipc, &mut mem, 9, 500);
    to(&mut ipc, &mut mem, 7, 501);
    ipc.move_member(t, 9, 0).unwrap();
    assert_eq!(got(&mut ipc, &mut mem, set), (501, 7, 3));
    assert!(ipc.receive(t, set, 64, false).is_err());
    assert_eq!(got(&mut ipc, &mut mem, 9), (500, 9, 2));
    to(&mut ipc, &mut mem, 8, 600);
    ipc.destroy(t, 8).unwrap();
    assert!(ipc.receive(t, set, 64, false).is_err());
    assert_eq!(ipc.get_set_status(t, set), Ok(vec![7, 10, 11]));
    ipc.destroy(t, set).unwrap();
    assert_eq!(
        ipc.receive(t, set, 64, false).unwrap_err(),
        RecvError::InvalidName
    );
    assert_eq!(
        ipc.receive(t, 99, 64, false).unwrap_err(),
        RecvError::InvalidName
    );
    ipc.check_invariants([]).unwrap();
}

/// A receive right sent into its own queue, and two ports sent into each other, die
/// (hostile.txt; probe/expected.txt lines "19").
#[test]
fn circular_messages_are_destroyed() {
    let (mut ipc, t, mut mem) = task();
    let p = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc.extract_right(t, p, MACH_MSG_TYPE_MAKE_SEND).unwrap();
    ipc.insert_right(t, p, s).unwrap();
    let m = Msg::new(p, MACH_MSG_TYPE_COPY_SEND, 0, 0, 44)
        .complex()
        .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[p]);
    assert!(matches!(send(&mut ipc, t, &m, &mut mem), Ok(Sent::Dropped)));
    assert_eq!(ipc.port_type(t, p), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(t, p, MACH_PORT_RIGHT_DEAD_NAME), Ok(1));
    let mut xy = Vec::new();
    for _ in 0..2 {
        let n = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
        let (s, _) = ipc.extract_right(t, n, MACH_MSG_TYPE_MAKE_SEND).unwrap();
        ipc.insert_right(t, n, s).unwrap();
        xy.push(n);
    }
    let (x, y) = (xy[0], xy[1]);
    let m = Msg::new(y, MACH_MSG_TYPE_COPY_SEND, 0, 0, 19)
        .complex()
        .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[x]);
    assert!(matches!(
        send(&mut ipc, t, &m, &mut mem),
        Ok(Sent::Queued(_))
    ));
    let m = Msg::new(x, MACH_MSG_TYPE_COPY_SEND, 0, 0, 20)
        .complex()
        .ports(MACH_MSG_TYPE_MOVE_RECEIVE, &[y]);
    assert!(matches!(send(&mut ipc, t, &m, &mut mem), Ok(Sent::Dropped)));
    assert_eq!(ipc.port_type(t, x), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.port_type(t, y), Ok(MACH_PORT_TYPE_DEAD_NAME));
    let (created, freed) = ipc.port_counts();
    assert_eq!(created - freed, 2); // the two kernel objects of `task`
    ipc.check_invariants([]).unwrap();
}

#[test]
fn kernel_objects_are_served_at_once() {
    let (mut ipc, t, mut mem) = task();
    let reply = ipc.reply_port(t);
    let m = Msg::new(
        1,
        MACH_MSG_TYPE_COPY_SEND,
        reply,
        MACH_MSG_TYPE_MAKE_SEND_ONCE,
        3200,
    );
    let Ok(Sent::Kernel(k)) = send(&mut ipc, t, &m, &mut mem) else {
        panic!()
    };
    let ks = ipc.kernel_space();
    let req = ipc.copyout(ks, k, &mut mem);
    let (bits, remote, local, _, id) = header(&req.bytes);
    assert_eq!((bits, id), (0x1112, 3200));
    assert_eq!(ipc.name_port(ks, local).map(|p| ipc.kobject(p)), Some(1));
    // The server's reply goes back through copyin from the kernel space.
    let r = Msg::new(remote, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 3300).int32(0);
    let k = ipc.copyin(ks, &r.bytes, &mut mem).unwrap();
    assert!(matches!(ipc.send(k, true), Ok(Sent::Queued(_))));
    let b = recv(&mut ipc, t, reply, &mut mem);
    assert_eq!(header(&b), (0x1200, 0, reply, 0, 3300));
    ipc.check_invariants([]).unwrap();
    let _ = Right::Null;
}

/// A request to a kernel object whose routine never ran is destroyed: the send right a
/// `MAKE_SEND` notify port made goes away again (conformance/suite/expected/ports.txt,
/// "notify by make-send": srights 0, mscount 1).
#[test]
fn a_refused_kernel_request_leaves_no_rights() {
    let (mut ipc, t, mut mem) = task();
    let notify = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let so = ipc.allocate(t, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let reply = ipc.reply_port(t);
    let ool = mem.put(&so.to_le_bytes());
    let m = Msg::new(
        1,
        MACH_MSG_TYPE_COPY_SEND,
        reply,
        MACH_MSG_TYPE_MAKE_SEND_ONCE,
        3213,
    )
    .complex()
    .ports(MACH_MSG_TYPE_MAKE_SEND, &[notify])
    .ool_ports(MACH_MSG_TYPE_MAKE_SEND_ONCE, ool, 1);
    let Ok(Sent::Kernel(k)) = send(&mut ipc, t, &m, &mut mem) else {
        panic!()
    };
    let ks = ipc.kernel_space();
    let req = ipc.copyout(ks, k, &mut mem);
    assert!(ipc.get_receive_status(t, notify).unwrap().srights);
    ipc.destroy_received_body(ks, &req.bytes, &mut mem);
    let st = ipc.get_receive_status(t, notify).unwrap();
    assert_eq!((st.srights, st.mscount), (false, 1));
    // The send-once right in the out-of-line array died: a send-once notification.
    let b = recv(&mut ipc, t, so, &mut mem);
    assert_eq!(header(&b).4, MACH_NOTIFY_SEND_ONCE);
    // Only the kernel object's receive right and the reply right remain in the kernel space.
    let (names, _) = ipc.names(ks).unwrap();
    assert_eq!(names.len(), 3);
    ipc.check_invariants([]).unwrap();
}
