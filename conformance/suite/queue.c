/* queue.c: a queue filling to its limit: the default limit, MACH_SEND_TIMED_OUT with timeout
 * 0 at the limit, the count in the receive status, order and seqnos when drained, raising and
 * lowering the limit while messages wait, qlimit 0. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("queue");

static struct msg_builder b;
static struct msg_buffer r;
static mach_port_t p;

static void status(const char *what)
{
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, p, &st);
	out("%s: qlimit %u msgcount %u seqno %u\n", what, st.mps_qlimit, st.mps_msgcount,
	    st.mps_seqno);
}

static void fill(const char *what, int first, int count)
{
	for (int i = 0; i < count; i++) {
		mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), p, MACH_PORT_NULL, first + i);
		out("%s: send id %d: %s\n", what, first + i,
		    kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	}
	status(what);
}

static void drain(const char *what, int max)
{
	for (int i = 0; i < max; i++) {
		mach_msg_return_t kr = receive(&r, p, MACH_RCV_TIMEOUT, 0);
		if (kr != MACH_MSG_SUCCESS) {
			out("%s: %s\n", what, kr_name(kr));
			break;
		}
		out("%s: id %d seqno %u\n", what, r.head.msgh_id, r.head.msgh_seqno);
	}
	status(what);
}

void suite_main(void)
{
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	status("new port");
	fill("default limit", 10, 7);
	drain("drain", 8);
	out("set_qlimit 2: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 2)));
	fill("limit 2", 20, 3);
	out("set_qlimit 4 with 2 waiting: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 4)));
	fill("raised to 4", 30, 3);
	out("set_qlimit 1 with 4 waiting: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 1)));
	fill("lowered to 1", 40, 1);
	drain("drain", 2);
	fill("lowered to 1, 2 still waiting", 50, 1);
	drain("drain", 5);
	out("set_qlimit 0: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 0)));
	fill("limit 0", 60, 2);
	drain("drain", 2);
	out("set_qlimit 16: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 16)));
	fill("limit 16", 70, 17);
	drain("drain", 17);
	/* Messages carrying a reply right and send-once destinations are not blocked. */
	out("set_qlimit 1: %s\n", kr_name(mach_port_set_qlimit(task_self, p, 1)));
	fill("limit 1", 80, 1);
	for (int i = 0; i < 3; i++) {
		mach_port_t so = 0;
		mach_msg_type_name_t t;
		mach_port_extract_right(task_self, p, MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t);
		mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), so, MACH_PORT_NULL,
		        90 + i);
		out("send-once destination, id %d: %s\n", 90 + i,
		    kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	}
	status("after send-once sends");
	drain("drain", 6);
}
