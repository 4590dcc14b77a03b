/* probe.c: what GNU Mach does with rights when a message body fails, and other open
 * questions of the IPC crate. */
#include "suite.h"
#include "mach.h"
#include "mach_port.h"
#include <mach/notify.h>

SUITE_PROGRAM("probe");

static struct msg_builder b;
static struct msg_buffer r;

static mach_port_t new_port(int with_send)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	if (with_send)
		mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	return p;
}

static void drain(const char *what, mach_port_t p)
{
	for (int i = 0; i < 4; i++) {
		mach_msg_return_t kr = receive(&r, p, MACH_RCV_TIMEOUT, 0);
		if (kr != MACH_MSG_SUCCESS) {
			out("%s: drain %u: %s\n", what, p, kr_name(kr));
			return;
		}
		out("%s: got id %d bits %x remote %u local %u\n", what, r.head.msgh_id,
		    r.head.msgh_bits, r.head.msgh_remote_port, r.head.msgh_local_port);
	}
}

void suite_main(void)
{
	mach_port_t d = new_port(1), a = new_port(1), q = new_port(0), rr = new_port(0);
	mach_port_t forged = 5000;
	out("d %u a %u q %u rr %u\n", d, a, q, rr);

	/* 1: body MOVE_SEND of a (1 uref) then a forged name */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), d, MACH_PORT_NULL, 1);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_SEND, 1, &a);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &forged);
	out("1 move-send then forged: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("1 a", a);
	drain("1 d", d);

	/* 2: header MOVE_SEND dest (a, 1 uref), body forged */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0), a, MACH_PORT_NULL, 2);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &forged);
	out("2 move-send dest, forged body: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("2 a", a);
	drain("2 a", a);

	/* 3: reply MAKE_SEND_ONCE of q, body forged: a send-once notification on q? */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), d, q, 3);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &forged);
	out("3 make-send-once reply, forged body: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	drain("3 q", q);

	/* 4: body MOVE_RECEIVE of rr then forged */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), d, MACH_PORT_NULL, 4);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &rr);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &forged);
	out("4 move-receive then forged: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("4 rr", rr);

	/* 5: MOVE_SEND of a twice in one body with 1 uref */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), d, MACH_PORT_NULL, 5);
	mach_port_t two[2] = { a, a };
	mb_ports(&b, MACH_MSG_TYPE_MOVE_SEND, 2, two);
	out("5 move-send twice, 1 uref: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("5 a", a);
	drain("5 d", d);

	/* 6: dest COPY_SEND + reply MOVE_SEND on one name with 1 uref */
	mach_port_t c = new_port(1);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MOVE_SEND), c, c, 6);
	out("6 copy-send dest + move-send reply, 1 uref: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("6 c", c);
	drain("6 c", c);
	/* 7: dest MOVE_SEND + reply MOVE_SEND one name 1 uref */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND), c, c, 7);
	out("7 move-send both, 1 uref: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("7 c", c);
	/* 8: dest MOVE_SEND_ONCE + reply MOVE_SEND_ONCE same so name */
	mach_port_t so; mach_msg_type_name_t t;
	mach_port_extract_right(task_self, c, MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE), so, so, 8);
	out("8 move-send-once both: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("8 so", so);
	/* 9: high unused header bits */
	mb_init(&b, 0x00ff0000 | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 9);
	out("9 unused bits 0x00ff0000: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	drain("9 c", c);
	mb_init(&b, 0x40000000 | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 10);
	out("10 circular bit: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	drain("10 c", c);
	/* 11: a received send right at 65534 urefs */
	mach_port_t e = new_port(1);
	out("11 mod_refs +65533: %s\n", kr_name(mach_port_mod_refs(task_self, e, MACH_PORT_RIGHT_SEND, 65533)));
	show_rights("11 e", e);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND), e, e, 11);
	out("11 send with make-send reply: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("11 receive: %s\n", kr_name(receive(&r, e, MACH_RCV_TIMEOUT, 0)));
	out("11 remote %u bits %x\n", r.head.msgh_remote_port, r.head.msgh_bits);
	show_rights("11 e", e);
	mach_port_t e2 = mach_task_self_trap();
	out("11 task self %u\n", e2);
	/* 12: dead-name urefs max */
	mach_port_t dn = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dn);
	out("12 dead +65533: %s\n", kr_name(mach_port_mod_refs(task_self, dn, MACH_PORT_RIGHT_DEAD_NAME, 65533)));
	out("12 dead +1: %s\n", kr_name(mach_port_mod_refs(task_self, dn, MACH_PORT_RIGHT_DEAD_NAME, 1)));
	show_rights("12 dn", dn);
	out("12 dead +1 at 65535: %s\n", kr_name(mach_port_mod_refs(task_self, dn, MACH_PORT_RIGHT_DEAD_NAME, 1)));
	/* 12b: a send-only name (its receive right in transit in a message on c) */
	mach_port_t so2 = new_port(1);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 120);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &so2);
	out("12b park receive: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("12b", so2);
	out("12b send +65533: %s\n", kr_name(mach_port_mod_refs(task_self, so2, MACH_PORT_RIGHT_SEND, 65533)));
	out("12b send +1: %s\n", kr_name(mach_port_mod_refs(task_self, so2, MACH_PORT_RIGHT_SEND, 1)));
	show_rights("12b", so2);
	out("12b receive back: %s\n", kr_name(receive(&r, c, MACH_RCV_TIMEOUT, 0)));
	show_rights("12b after", so2);
	/* 13: OOL data without dealloc: received deallocate bit */
	static char page[4096] __attribute__((aligned(4096))) = "hello";
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 13);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 16, page, 0);
	out("13 ool: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("13 receive: %s\n", kr_name(receive(&r, c, MACH_RCV_TIMEOUT, 0)));
	dump_message("13", &r.head);
	/* 14: short-form OOL */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 14);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 16, page, 0);
	((mach_msg_type_t *)(b.u.bytes + 32))->msgt_longform = 0;
	out("14 ool short form: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("14 receive: %s\n", kr_name(receive(&r, c, MACH_RCV_TIMEOUT, 0)));
	dump_message("14", &r.head);
	/* 15: insert a send right to a port that died (extract then destroy) */
	mach_port_t f = new_port(0), fs; mach_msg_type_name_t ft;
	mach_port_extract_right(task_self, f, MACH_MSG_TYPE_MAKE_SEND, &fs, &ft);
	out("15 extracted %u type %u\n", fs, ft);
	/* 16: request dead-name with a dead notify (MOVE_SEND_ONCE of a dead name) */
	mach_port_t g = new_port(1), prev = 77;
	mach_port_t dn2 = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dn2);
	kern_return_t k = mach_port_request_notification(task_self, g, MACH_NOTIFY_NO_SENDERS, 0, dn2, MACH_MSG_TYPE_MOVE_SEND_ONCE, &prev);
	out("16 no-senders with dead notify: %s prev %u\n", kr_name(k), prev);
	show_rights("16 dn2", dn2);
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, g, &st);
	out("16 nsrequest %u\n", st.mps_nsrequest);
	/* 17: MOVE_RECEIVE of a port in a set: membership after receipt */
	mach_port_t set = MACH_PORT_NULL, h = new_port(0);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set);
	mach_port_move_member(task_self, h, set);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 17);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &h);
	out("17 move-receive of a member: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("17 receive: %s\n", kr_name(receive(&r, c, MACH_RCV_TIMEOUT, 0)));
	mach_port_t h2 = *(mach_port_t *)(r.bytes + 40);
	mach_port_get_receive_status(task_self, h2, &st);
	out("17 name %u pset %u\n", h2, st.mps_pset);
	/* 18: receive right in transit keeps mscount/seqno? */
	mach_port_t m = new_port(1);
	mach_port_set_seqno(task_self, m, 5);
	mach_port_set_mscount(task_self, m, 9);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), c, MACH_PORT_NULL, 18);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &m);
	out("18 move-receive: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("18 receive: %s\n", kr_name(receive(&r, c, MACH_RCV_TIMEOUT, 0)));
	mach_port_t m2 = *(mach_port_t *)(r.bytes + 40);
	mach_port_get_receive_status(task_self, m2, &st);
	out("18 name %u seqno %u mscount %u srights %u\n", m2, st.mps_seqno, st.mps_mscount, st.mps_srights);
	/* 19: circular: receive right of x sent to y, then receive right of y sent to x */
	mach_port_t x = new_port(1), y = new_port(1);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), y, MACH_PORT_NULL, 19);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &x);
	out("19 x into y: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), x, MACH_PORT_NULL, 20);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &y);
	out("19 y into x: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("19 x", x);
	show_rights("19 y", y);
	/* 20: insert_right MOVE_RECEIVE of a send|receive name under a new name */
	mach_port_t ia = new_port(1);
	out("20 a %u: %s\n", ia, kr_name(mach_port_insert_right(task_self, 600, ia, MACH_MSG_TYPE_MOVE_RECEIVE)));
	show_rights("20 a", ia);
	show_rights("20 600", 600);
	mach_port_status_t st2;
	out("20 status a: %s\n", kr_name(mach_port_get_receive_status(task_self, ia, &st2)));
	out("20 status 600: %s srights %u\n", kr_name(mach_port_get_receive_status(task_self, 600, &st2)), st2.mps_srights);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), ia, MACH_PORT_NULL, 20);
	out("20 send to a: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("20 receive on 600: %s\n", kr_name(receive(&r, 600, MACH_RCV_TIMEOUT, 0)));
	out("20 receive on a: %s local %u\n", kr_name(receive(&r, ia, MACH_RCV_TIMEOUT, 0)), r.head.msgh_local_port);
	/* 21: insert_right MOVE_RECEIVE of a receive-only name under a new name */
	mach_port_t ib = new_port(0);
	out("21 b %u: %s\n", ib, kr_name(mach_port_insert_right(task_self, 601, ib, MACH_MSG_TYPE_MOVE_RECEIVE)));
	show_rights("21 b", ib);
	show_rights("21 601", 601);
	/* 22: rename from an unknown name to a fresh one: where does the fresh name go? */
	out("22 rename 5000 -> 700: %s\n", kr_name(mach_port_rename(task_self, 5000, 700)));
	mach_port_t n22 = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &n22);
	out("22 next allocation: %u\n", n22);
	out("22 rename 5000 -> %u (existing): %s\n", n22, kr_name(mach_port_rename(task_self, 5000, n22)));
	/* 23: allocate_name of a name on the free list, then the next allocations */
	mach_port_t f1 = MACH_PORT_NULL, f2 = MACH_PORT_NULL, f3 = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &f1);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &f2);
	mach_port_deallocate(task_self, f1);
	mach_port_deallocate(task_self, f2);
	out("23 freed %u then %u; allocate_name %u: %s\n", f1, f2, f1, kr_name(mach_port_allocate_name(task_self, MACH_PORT_RIGHT_DEAD_NAME, f1)));
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &f3);
	out("23 next: %u\n", f3);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &f3);
	out("23 next: %u\n", f3);
	/* 24: fresh names after an explicit high name */
	mach_port_allocate_name(task_self, MACH_PORT_RIGHT_DEAD_NAME, 2000);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &f3);
	out("24 after 2000: %u\n", f3);
	/* 25: dead names through insert_right / extract_right / request_notification */
	mach_port_t dd = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dd);
	out("25 insert_right copy-send of a dead name: %s\n", kr_name(mach_port_insert_right(task_self, 800, dd, MACH_MSG_TYPE_COPY_SEND)));
	show_rights("25 800", 800);
	show_rights("25 dd", dd);
	out("25 insert_right move-send of a dead name: %s\n", kr_name(mach_port_insert_right(task_self, 801, dd, MACH_MSG_TYPE_MOVE_SEND)));
	show_rights("25 801", 801);
	show_rights("25 dd", dd);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dd);
	mach_port_t got = 1; mach_msg_type_name_t gt = 1;
	kern_return_t k2 = mach_port_extract_right(task_self, dd, MACH_MSG_TYPE_COPY_SEND, &got, &gt);
	out("25 extract copy-send of a dead name: %s name %x type %u\n", kr_name(k2), got, gt);
	k2 = mach_port_extract_right(task_self, dd, MACH_MSG_TYPE_MOVE_SEND, &got, &gt);
	out("25 extract move-send of a dead name: %s name %x type %u\n", kr_name(k2), got, gt);
	show_rights("25 dd", dd);
	/* 26: a send right whose port died: refs, names type, deallocate, dead-name request sync 1 */
	mach_port_t z = new_port(0), zs; mach_msg_type_name_t zt;
	mach_port_t zset = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &zset);
	/* park z's receive right in zset? no: send-only needs the receive elsewhere; use a message */
	mach_port_insert_right(task_self, z, z, MACH_MSG_TYPE_MAKE_SEND);
	mach_port_mod_refs(task_self, z, MACH_PORT_RIGHT_SEND, 2);
	mach_port_extract_right(task_self, z, MACH_MSG_TYPE_MAKE_SEND_ONCE, &zs, &zt);
	mach_port_mod_refs(task_self, z, MACH_PORT_RIGHT_RECEIVE, -1);
	show_rights("26 z", z);
	show_rights("26 so", zs);
	mach_port_t prev2 = 77, nq = new_port(0);
	k2 = mach_port_request_notification(task_self, z, MACH_NOTIFY_DEAD_NAME, 1, nq, MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev2);
	out("26 dead-name request sync 1 on the dead name: %s prev %u\n", kr_name(k2), prev2);
	show_rights("26 z", z);
	drain("26 nq", nq);
	out("26 deallocate z: %s\n", kr_name(mach_port_deallocate(task_self, z)));
	show_rights("26 z", z);
	out("26 deallocate so: %s\n", kr_name(mach_port_deallocate(task_self, zs)));
	show_rights("26 so", zs);
	/* 27: send to a send-once right whose port died */
	mach_port_t w = new_port(0), ws; mach_msg_type_name_t wt;
	mach_port_extract_right(task_self, w, MACH_MSG_TYPE_MAKE_SEND_ONCE, &ws, &wt);
	mach_port_destroy(task_self, w);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), ws, MACH_PORT_NULL, 27);
	out("27 send to a dead send-once right: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	show_rights("27 ws", ws);
}
