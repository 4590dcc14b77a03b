/* timeouts.c: MACH_SEND_TIMEOUT and MACH_RCV_TIMEOUT with zero and non-zero timeouts, and
 * the codes of receives that cannot complete. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("timeouts");

static struct msg_builder b;
static struct msg_buffer r;

static mach_msg_return_t send_one(mach_port_t port, int id, mach_msg_option_t option,
                                  mach_msg_timeout_t timeout)
{
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), port, MACH_PORT_NULL, id);
	return mb_send(&b, option, timeout);
}

void suite_main(void)
{
	mach_port_t p = MACH_PORT_NULL, set = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set);

	out("receive, empty port, timeout 0: %s\n", kr_name(receive(&r, p, MACH_RCV_TIMEOUT, 0)));
	out("receive, empty port, timeout 10 ms: %s\n",
	    kr_name(receive(&r, p, MACH_RCV_TIMEOUT, 10)));
	out("receive, empty port, timeout 1 ms: %s\n", kr_name(receive(&r, p, MACH_RCV_TIMEOUT, 1)));
	out("receive, empty set, timeout 0: %s\n", kr_name(receive(&r, set, MACH_RCV_TIMEOUT, 0)));
	out("receive, empty set, timeout 20 ms: %s\n",
	    kr_name(receive(&r, set, MACH_RCV_TIMEOUT, 20)));
	out("receive, timeout 0 without MACH_RCV_TIMEOUT on a message: %s\n",
	    kr_name((send_one(p, 1, 0, 0), receive(&r, p, 0, 0))));
	out("receive from null: %s\n", kr_name(receive(&r, MACH_PORT_NULL, MACH_RCV_TIMEOUT, 0)));
	out("receive from 5000: %s\n", kr_name(receive(&r, 5000, MACH_RCV_TIMEOUT, 0)));
	mach_port_t snd = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &snd);
	mach_port_insert_right(task_self, snd, snd, MACH_MSG_TYPE_MAKE_SEND);
	mach_port_t only_send = 0;
	mach_msg_type_name_t t;
	mach_port_extract_right(task_self, snd, MACH_MSG_TYPE_MAKE_SEND_ONCE, &only_send, &t);
	out("receive from a send-once name: %s\n",
	    kr_name(receive(&r, only_send, MACH_RCV_TIMEOUT, 0)));
	mach_port_t dead = 0;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dead);
	out("receive from a dead name: %s\n", kr_name(receive(&r, dead, MACH_RCV_TIMEOUT, 0)));

	/* A message waiting: timeout 0 receives it. */
	out("send: %s\n", kr_name(send_one(p, 2, MACH_SEND_TIMEOUT, 0)));
	mach_msg_return_t got = receive(&r, p, MACH_RCV_TIMEOUT, 0);
	out("receive with timeout 0, message waiting: %s id %d\n", kr_name(got), r.head.msgh_id);

	/* Send timeouts on a full queue (qlimit 1). */
	mach_port_set_qlimit(task_self, p, 1);
	out("send to qlimit 1, empty: %s\n", kr_name(send_one(p, 3, MACH_SEND_TIMEOUT, 0)));
	out("send to full, timeout 0: %s\n", kr_name(send_one(p, 4, MACH_SEND_TIMEOUT, 0)));
	out("send to full, timeout 10 ms: %s\n", kr_name(send_one(p, 5, MACH_SEND_TIMEOUT, 10)));
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, p, &st);
	out("queue after timed-out sends: msgcount %u seqno %u\n", st.mps_msgcount, st.mps_seqno);

	/* Combined send+receive: the send times out, nothing is received. */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), p, MACH_PORT_NULL, 6);
	mach_msg_return_t kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_SEND_TIMEOUT |
	                                               MACH_RCV_TIMEOUT,
	                                b.u.head.msgh_size, sizeof b.u.bytes, p, 0, MACH_PORT_NULL);
	out("send+receive, send to full queue, timeout 0: %s\n", kr_name(kr));
	/* Combined send+receive where the receive times out. */
	mach_port_t q = MACH_PORT_NULL, other = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &other);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), q, MACH_PORT_NULL, 7);
	kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
	              b.u.head.msgh_size, sizeof b.u.bytes, other, 5, MACH_PORT_NULL);
	out("send+receive, receive on another port, timeout 5 ms: %s\n", kr_name(kr));
	mach_port_get_receive_status(task_self, q, &st);
	out("the send half arrived: msgcount %u\n", st.mps_msgcount);

	/* The send-once exception: a send-once right may exceed the queue limit. */
	mach_port_t so = 0;
	mach_port_extract_right(task_self, p, MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), so, MACH_PORT_NULL, 8);
	out("send-once to full queue, timeout 0: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	mach_port_get_receive_status(task_self, p, &st);
	out("queue: msgcount %u\n", st.mps_msgcount);
	for (int i = 0; i < 3; i++) {
		kr = receive(&r, p, MACH_RCV_TIMEOUT, 0);
		out("drain: %s id %d seqno %u\n", kr_name(kr), kr ? 0 : r.head.msgh_id,
		    kr ? 0 : r.head.msgh_seqno);
	}
}
