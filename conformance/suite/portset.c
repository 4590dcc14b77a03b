/* portset.c: a port set with several members: receive order across members, seqnos per port,
 * membership changes while messages wait, a member's death, receiving on a member directly. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("portset");

static struct msg_builder b;
static struct msg_buffer r;

static void send_to(mach_port_t port, int id)
{
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), port, MACH_PORT_NULL, id);
	uint32_t v = (uint32_t)id * 3;
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &v);
	out("send id %d to %u: %s\n", id, port, kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
}

static void drain(const char *what, mach_port_t from, int max)
{
	for (int i = 0; i < max; i++) {
		mach_msg_return_t kr = receive(&r, from, MACH_RCV_TIMEOUT, 0);
		if (kr != MACH_MSG_SUCCESS) {
			out("%s: receive from %u: %s\n", what, from, kr_name(kr));
			return;
		}
		out("%s: id %d local %u seqno %u size %u\n", what, r.head.msgh_id,
		    r.head.msgh_local_port, r.head.msgh_seqno, r.head.msgh_size);
	}
}

void suite_main(void)
{
	mach_port_t set = MACH_PORT_NULL, m[4];
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set);
	out("set %u\n", set);
	for (int i = 0; i < 4; i++) {
		mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &m[i]);
		out("member %d: %u move_member %s\n", i, m[i],
		    kr_name(mach_port_move_member(task_self, m[i], set)));
	}
	drain("empty set", set, 1);

	/* Interleaved sends to members 2, 0, 3, 0, 1, 2. */
	static const int order[] = { 2, 0, 3, 0, 1, 2 };
	for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++)
		send_to(m[order[i]], 100 + (int)i);
	drain("interleaved", set, 8);

	/* Two rounds on one member: seqnos continue per port. */
	send_to(m[1], 200);
	send_to(m[1], 201);
	drain("member 1 again", set, 3);

	/* Receiving from a member of a set directly. */
	send_to(m[3], 300);
	mach_msg_return_t kr = receive(&r, m[3], MACH_RCV_TIMEOUT, 0);
	out("receive on member 3 directly: %s id %d seqno %u\n", kr_name(kr),
	    kr == MACH_MSG_SUCCESS ? r.head.msgh_id : 0, r.head.msgh_seqno);

	/* Messages queued before the port joins the set are received through the set. */
	mach_port_t late = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &late);
	send_to(late, 400);
	send_to(late, 401);
	send_to(m[0], 402);
	out("late %u joins: %s\n", late, kr_name(mach_port_move_member(task_self, late, set)));
	drain("after join", set, 4);

	/* Messages on a member that leaves stay with the member. */
	send_to(m[2], 500);
	send_to(m[0], 501);
	out("member 2 leaves: %s\n", kr_name(mach_port_move_member(task_self, m[2],
	                                                           MACH_PORT_NULL)));
	drain("after leave (set)", set, 3);
	drain("after leave (member 2)", m[2], 2);

	/* A member destroyed with a message waiting; set membership listed. */
	send_to(m[1], 600);
	out("destroy member 1: %s\n", kr_name(mach_port_destroy(task_self, m[1])));
	drain("after member death", set, 2);
	mach_port_array_t members;
	mach_msg_type_number_t n = 0;
	kr = mach_port_get_set_status(task_self, set, &members, &n);
	out("get_set_status: %s count %u:", kr_name(kr), n);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < n; i++)
		out(" %u", members[i]);
	out("\n");

	/* Set changes while the message is moved between sets. */
	mach_port_t set2 = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set2);
	send_to(m[3], 700);
	out("member 3 -> set2 %u: %s\n", set2,
	    kr_name(mach_port_move_member(task_self, m[3], set2)));
	drain("old set", set, 1);
	drain("set2", set2, 2);

	/* Status of a member after all this. */
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, m[0], &st);
	out("member 0 status: pset %u seqno %u msgcount %u\n", st.mps_pset, st.mps_seqno,
	    st.mps_msgcount);
	/* Destroying the set with messages on its members. */
	send_to(m[0], 800);
	out("destroy set: %s\n", kr_name(mach_port_destroy(task_self, set)));
	mach_port_get_receive_status(task_self, m[0], &st);
	out("member 0 after its set died: pset %u seqno %u msgcount %u\n", st.mps_pset,
	    st.mps_seqno, st.mps_msgcount);
	drain("member 0 alone", m[0], 2);
	drain("dead set", set, 1);
}
