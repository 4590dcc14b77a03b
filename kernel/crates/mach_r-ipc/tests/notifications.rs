//! Notifications. Their layouts are those GNU MIG's server for gnumach-dev's `notify.defs`
//! checks (observed by running the reference `x86_64-gnu-migcom` on it: `msgh_size` 48 with
//! a 32-bit PORT_NAME / INTEGER_32 datum, 48 and complex with a 64-bit PORT_RECEIVE,
//! 32 for send-once); the events that fire them follow the GNU Mach manual.

mod common;

use common::*;
use mach_r_ipc::consts::*;
use mach_r_ipc::{Ipc, Right, SpaceId, Waitable, Wakeup};

/// (ipc, server space, client space, notify port name in the client, memory)
fn setup() -> (Ipc, SpaceId, SpaceId, u32, Mem) {
    let mut ipc = Ipc::new();
    let server = ipc.space_create();
    let client = ipc.space_create();
    let q = ipc.allocate(client, MACH_PORT_RIGHT_RECEIVE).unwrap();
    (ipc, server, client, q, Mem::new())
}

fn notify_right(ipc: &mut Ipc, space: SpaceId, q: u32) -> Right {
    ipc.extract_right(space, q, MACH_MSG_TYPE_MAKE_SEND_ONCE)
        .unwrap()
        .0
}

fn next(ipc: &mut Ipc, space: SpaceId, q: u32, mem: &mut Mem) -> Vec<u8> {
    let k = ipc.receive(space, q, 1024, false).expect("a notification");
    let c = ipc.copyout(space, k, mem);
    assert_eq!(c.code, 0);
    c.bytes
}

fn check_name_body(b: &[u8], id: i32, name: u32) {
    assert_eq!(b.len(), 48);
    assert_eq!(header(b).0, 0x1200);
    assert_eq!(header(b).4, id);
    assert_eq!(rd32(b, 4), 48);
    assert_eq!(
        &b[32..40],
        &descriptor(MACH_MSG_TYPE_PORT_NAME, 32, 1, true, false)
    );
    assert_eq!(rd32(b, 40), name);
}

#[test]
fn dead_name_when_the_port_dies() {
    let (mut ipc, server, client, q, mut mem) = setup();
    let n = ipc.allocate(server, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc
        .extract_right(server, n, MACH_MSG_TYPE_MAKE_SEND)
        .unwrap();
    let m = ipc.give_right(client, s).unwrap();
    let so = notify_right(&mut ipc, client, q);
    let prev = ipc
        .request_notification(client, m, MACH_NOTIFY_DEAD_NAME, 0, so)
        .unwrap();
    assert_eq!(prev, Right::Null);
    assert_eq!(
        ipc.port_type(client, m),
        Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST)
    );
    ipc.check_invariants([]).unwrap();
    ipc.take_wakeups();
    ipc.destroy(server, n).unwrap();
    let w = ipc.take_wakeups();
    assert!(w.iter().any(|w| matches!(
        w,
        Wakeup::Abort {
            on: Waitable::Port(_),
            code: MACH_RCV_PORT_DIED
        }
    )));
    assert!(w.iter().any(|w| matches!(w, Wakeup::Message { .. })));
    let b = next(&mut ipc, client, q, &mut mem);
    check_name_body(&b, MACH_NOTIFY_DEAD_NAME, m);
    // The send right (1 uref) became a dead name with one more reference.
    assert_eq!(ipc.port_type(client, m), Ok(MACH_PORT_TYPE_DEAD_NAME));
    assert_eq!(ipc.get_refs(client, m, MACH_PORT_RIGHT_DEAD_NAME), Ok(2));
    ipc.check_invariants([]).unwrap();
    // On a dead name: immediate with sync != 0, KERN_INVALID_ARGUMENT otherwise.
    let so = notify_right(&mut ipc, client, q);
    let (kr, so) = ipc
        .request_notification(client, m, MACH_NOTIFY_DEAD_NAME, 0, so)
        .unwrap_err();
    assert_eq!(kr, KERN_INVALID_ARGUMENT);
    assert_eq!(
        ipc.request_notification(client, m, MACH_NOTIFY_DEAD_NAME, 1, so),
        Ok(Right::Null)
    );
    assert_eq!(ipc.get_refs(client, m, MACH_PORT_RIGHT_DEAD_NAME), Ok(3));
    check_name_body(
        &next(&mut ipc, client, q, &mut mem),
        MACH_NOTIFY_DEAD_NAME,
        m,
    );
    ipc.check_invariants([]).unwrap();
}

#[test]
fn port_deleted_when_the_name_goes_and_previous_is_returned() {
    let (mut ipc, server, client, q, mut mem) = setup();
    let n = ipc.allocate(server, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc
        .extract_right(server, n, MACH_MSG_TYPE_MAKE_SEND)
        .unwrap();
    let m = ipc.give_right(client, s).unwrap();
    let so = notify_right(&mut ipc, client, q);
    assert_eq!(
        ipc.request_notification(client, m, MACH_NOTIFY_DEAD_NAME, 0, so),
        Ok(Right::Null)
    );
    let so2 = notify_right(&mut ipc, client, q);
    let prev = ipc
        .request_notification(client, m, MACH_NOTIFY_DEAD_NAME, 0, so2)
        .unwrap();
    assert!(matches!(prev, Right::SendOnce(_)));
    ipc.check_invariants([&prev]).unwrap();
    ipc.destroy_right(prev);
    // The destroyed previous right sent a send-once notification.
    let b = next(&mut ipc, client, q, &mut mem);
    assert_eq!((b.len(), header(&b).4), (32, MACH_NOTIFY_SEND_ONCE));
    ipc.deallocate(client, m).unwrap();
    check_name_body(
        &next(&mut ipc, client, q, &mut mem),
        MACH_NOTIFY_PORT_DELETED,
        m,
    );
    assert!(!ipc.get_receive_status(server, n).unwrap().srights);
    ipc.check_invariants([]).unwrap();
}

#[test]
fn no_senders_when_the_last_send_right_goes() {
    let (mut ipc, server, _client, _, mut mem) = setup();
    let n = ipc.allocate(server, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let q = ipc.allocate(server, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let other = ipc.space_create();
    for _ in 0..2 {
        let (s, _) = ipc
            .extract_right(server, n, MACH_MSG_TYPE_MAKE_SEND)
            .unwrap();
        ipc.give_right(other, s).unwrap();
    }
    let so = notify_right(&mut ipc, server, q);
    assert_eq!(
        ipc.request_notification(server, n, MACH_NOTIFY_NO_SENDERS, 0, so),
        Ok(Right::Null)
    );
    assert!(ipc.get_receive_status(server, n).unwrap().nsrequest);
    assert!(ipc.receive(server, q, 64, false).is_err());
    ipc.space_destroy(other).unwrap();
    let b = next(&mut ipc, server, q, &mut mem);
    assert_eq!(
        (b.len(), header(&b).4, rd32(&b, 4)),
        (48, MACH_NOTIFY_NO_SENDERS, 48)
    );
    assert_eq!(
        &b[32..40],
        &descriptor(MACH_MSG_TYPE_INTEGER_32, 32, 1, true, false)
    );
    assert_eq!(rd32(&b, 40), 2);
    assert!(!ipc.get_receive_status(server, n).unwrap().nsrequest);
    // Immediate when there are no senders and mscount >= sync; registered otherwise.
    let so = notify_right(&mut ipc, server, q);
    assert_eq!(
        ipc.request_notification(server, n, MACH_NOTIFY_NO_SENDERS, 3, so),
        Ok(Right::Null)
    );
    assert!(ipc.get_receive_status(server, n).unwrap().nsrequest);
    let so = notify_right(&mut ipc, server, q);
    let prev = ipc
        .request_notification(server, n, MACH_NOTIFY_NO_SENDERS, 2, so)
        .unwrap();
    assert!(matches!(prev, Right::SendOnce(_)));
    ipc.destroy_right(prev);
    assert!(!ipc.get_receive_status(server, n).unwrap().nsrequest);
    let b = next(&mut ipc, server, q, &mut mem);
    assert_eq!((header(&b).4, rd32(&b, 40)), (MACH_NOTIFY_NO_SENDERS, 2));
    let b = next(&mut ipc, server, q, &mut mem);
    assert_eq!(header(&b).4, MACH_NOTIFY_SEND_ONCE);
    assert_eq!(
        ipc.request_notification(server, 999, MACH_NOTIFY_NO_SENDERS, 0, Right::Null),
        Err((KERN_INVALID_NAME, Right::Null))
    );
    assert_eq!(
        ipc.request_notification(server, n, 0o107, 0, Right::Null),
        Err((KERN_INVALID_VALUE, Right::Null))
    );
    ipc.check_invariants([]).unwrap();
}

#[test]
fn port_destroyed_carries_the_receive_right() {
    let (mut ipc, server, client, q, mut mem) = setup();
    let n = ipc.allocate(server, MACH_PORT_RIGHT_RECEIVE).unwrap();
    let (s, _) = ipc
        .extract_right(server, n, MACH_MSG_TYPE_MAKE_SEND)
        .unwrap();
    let m = ipc.give_right(client, s).unwrap();
    let so = notify_right(&mut ipc, client, q);
    let (kr, so) = ipc
        .request_notification(server, n, MACH_NOTIFY_PORT_DESTROYED, 1, so)
        .unwrap_err();
    assert_eq!(kr, KERN_INVALID_VALUE);
    let (kr, so) = ipc
        .request_notification(client, m, MACH_NOTIFY_PORT_DESTROYED, 0, so)
        .unwrap_err();
    assert_eq!(kr, KERN_INVALID_RIGHT);
    assert_eq!(
        ipc.request_notification(server, n, MACH_NOTIFY_PORT_DESTROYED, 0, so),
        Ok(Right::Null)
    );
    assert!(ipc.get_receive_status(server, n).unwrap().pdrequest);
    ipc.space_destroy(server).unwrap();
    let b = next(&mut ipc, client, q, &mut mem);
    assert_eq!(
        (b.len(), header(&b).0, header(&b).4),
        (
            48,
            MACH_MSGH_BITS_COMPLEX | 0x1200,
            MACH_NOTIFY_PORT_DESTROYED
        )
    );
    assert_eq!(
        &b[32..40],
        &descriptor(MACH_MSG_TYPE_PORT_RECEIVE, 64, 1, true, false)
    );
    // The receive right joined the client's send right for the port: one name, both rights.
    assert_eq!(rd64(&b, 40) as u32, m);
    assert_eq!(
        ipc.port_type(client, m),
        Ok(MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
    );
    let st = ipc.get_receive_status(client, m).unwrap();
    assert_eq!(
        (st.pdrequest, st.srights, st.mscount, st.seqno),
        (false, true, 0, 0)
    );
    ipc.check_invariants([]).unwrap();
}
