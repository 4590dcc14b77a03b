/* ports.c: the calls of mach_port.defs, with their failures.
 *
 * Every call's return code and the resulting rights (type, user references of each right)
 * are printed; names are printed as numbers (GNU Mach hands them out deterministically, see
 * OBSERVED.md). */
#include "suite.h"

#include <mach/notify.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("ports");

#define SHOW(what, kr) out("%s: %s\n", (what), kr_name(kr))

/* The type and each right's urefs under a name. */
static void state(const char *what, mach_port_t name)
{
	static const char *const rights[] = { "send", "receive", "send-once", "port-set",
		                              "dead-name" };
	mach_port_type_t type = 0;
	kern_return_t kr = mach_port_type(task_self, name, &type);
	if (kr != KERN_SUCCESS) {
		out("%s: name %u type %s\n", what, name, kr_name(kr));
		return;
	}
	char text[200];
	size_t len = 0;
	text[0] = '\0';
	for (unsigned r = 0; r < 5; r++) {
		mach_port_urefs_t refs = 0;
		kr = mach_port_get_refs(task_self, name, r, &refs);
		if (kr == KERN_SUCCESS)
			snformat(text + len, sizeof text - len, " %s=%u", rights[r], refs);
		else
			snformat(text + len, sizeof text - len, " %s=%s", rights[r], kr_name(kr));
		len = strlen(text);
	}
	out("%s: name %u type %s urefs%s\n", what, name, type_name(type), text);
}

static mach_port_t allocate(mach_port_right_t right)
{
	mach_port_t name = MACH_PORT_NULL;
	kern_return_t kr = mach_port_allocate(task_self, right, &name);
	out("allocate right %u: %s name %u\n", right, kr_name(kr), name);
	return name;
}

static void status(const char *what, mach_port_t name)
{
	mach_port_status_t st;
	memset(&st, 0, sizeof st);
	kern_return_t kr = mach_port_get_receive_status(task_self, name, &st);
	out("%s: get_receive_status %u %s pset %u seqno %u mscount %u qlimit %u msgcount %u "
	    "sorights %u srights %d pdrequest %d nsrequest %d\n",
	    what, name, kr_name(kr), st.mps_pset, st.mps_seqno, st.mps_mscount, st.mps_qlimit,
	    st.mps_msgcount, st.mps_sorights, st.mps_srights, st.mps_pdrequest, st.mps_nsrequest);
}

static void names_list(const char *what)
{
	mach_port_array_t names;
	mach_port_type_array_t types;
	mach_msg_type_number_t n = 0, tn = 0;
	kern_return_t kr = mach_port_names(task_self, &names, &n, &types, &tn);
	out("%s: mach_port_names %s count %u types %u\n", what, kr_name(kr), n, tn);
	if (kr != KERN_SUCCESS)
		return;
	for (unsigned i = 0; i < n; i++)
		out("%s:   %u %s\n", what, names[i], type_name(types[i]));
	vm_deallocate(task_self, (vm_address_t)names, n * sizeof *names);
	vm_deallocate(task_self, (vm_address_t)types, tn * sizeof *types);
}

static void basics(void)
{
	names_list("start");
	mach_port_t rcv = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_t set = allocate(MACH_PORT_RIGHT_PORT_SET);
	mach_port_t dead = allocate(MACH_PORT_RIGHT_DEAD_NAME);
	allocate(MACH_PORT_RIGHT_SEND);
	allocate(MACH_PORT_RIGHT_SEND_ONCE);
	allocate(MACH_PORT_RIGHT_NUMBER);
	allocate(1000);
	state("new receive", rcv);
	state("new port set", set);
	state("new dead name", dead);
	names_list("after allocate");

	mach_port_type_t type = 0;
	SHOW("type of null", mach_port_type(task_self, MACH_PORT_NULL, &type));
	SHOW("type of dead", mach_port_type(task_self, MACH_PORT_DEAD, &type));
	SHOW("type of 5000", mach_port_type(task_self, 5000, &type));
	SHOW("type on a non-task port", mach_port_type(rcv, rcv, &type));
	SHOW("type on the host port", mach_port_type(mach_host_self_trap(), rcv, &type));

	/* allocate_name */
	SHOW("allocate_name receive 300", mach_port_allocate_name(task_self,
	                                                          MACH_PORT_RIGHT_RECEIVE, 300));
	state("name 300", 300);
	SHOW("allocate_name receive 300 again",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_RECEIVE, 300));
	SHOW("allocate_name port set 301",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_PORT_SET, 301));
	SHOW("allocate_name dead name 302",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_DEAD_NAME, 302));
	SHOW("allocate_name send 303",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_SEND, 303));
	SHOW("allocate_name receive null",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_NULL));
	SHOW("allocate_name receive dead",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_DEAD));
	SHOW("allocate_name receive on existing name",
	     mach_port_allocate_name(task_self, MACH_PORT_RIGHT_RECEIVE, rcv));
	state("name 301", 301);
	state("name 302", 302);

	/* rename */
	SHOW("rename 300 -> 400", mach_port_rename(task_self, 300, 400));
	state("name 300 after rename", 300);
	state("name 400 after rename", 400);
	SHOW("rename 400 -> existing", mach_port_rename(task_self, 400, rcv));
	SHOW("rename 5000 -> 401", mach_port_rename(task_self, 5000, 401));
	SHOW("rename 400 -> null", mach_port_rename(task_self, 400, MACH_PORT_NULL));
	SHOW("rename 400 -> dead", mach_port_rename(task_self, 400, MACH_PORT_DEAD));
	SHOW("rename 400 -> 400", mach_port_rename(task_self, 400, 400));

	/* destroy and deallocate */
	SHOW("destroy 400", mach_port_destroy(task_self, 400));
	state("name 400 after destroy", 400);
	SHOW("destroy 400 again", mach_port_destroy(task_self, 400));
	SHOW("destroy null", mach_port_destroy(task_self, MACH_PORT_NULL));
	SHOW("deallocate receive-only name", mach_port_deallocate(task_self, rcv));
	SHOW("deallocate port set", mach_port_deallocate(task_self, 301));
	SHOW("deallocate dead name 302", mach_port_deallocate(task_self, 302));
	state("name 302 after deallocate", 302);
	SHOW("deallocate null", mach_port_deallocate(task_self, MACH_PORT_NULL));
	SHOW("deallocate 5000", mach_port_deallocate(task_self, 5000));
	SHOW("destroy port set 301", mach_port_destroy(task_self, 301));
	state("name 301 after destroy", 301);
	names_list("after destroy");
}

static void refs(void)
{
	mach_port_t rcv = allocate(MACH_PORT_RIGHT_RECEIVE);
	kern_return_t kr;

	SHOW("insert_right make-send", mach_port_insert_right(task_self, rcv, rcv,
	                                                      MACH_MSG_TYPE_MAKE_SEND));
	state("after make-send", rcv);
	SHOW("insert_right make-send again", mach_port_insert_right(task_self, rcv, rcv,
	                                                            MACH_MSG_TYPE_MAKE_SEND));
	state("after second make-send", rcv);
	SHOW("insert_right copy-send", mach_port_insert_right(task_self, rcv, rcv,
	                                                      MACH_MSG_TYPE_COPY_SEND));
	state("after copy-send", rcv);
	SHOW("mod_refs send +5", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, 5));
	state("after +5", rcv);
	SHOW("mod_refs send -2", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, -2));
	state("after -2", rcv);
	SHOW("mod_refs send -100", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, -100));
	state("after -100", rcv);
	SHOW("mod_refs send +0", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, 0));
	/* Overflow: find the limit by big steps. */
	kr = mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, 0x7fffffff);
	out("mod_refs send +0x7fffffff: %s\n", kr_name(kr));
	state("after +0x7fffffff", rcv);
	mach_port_urefs_t n = 0;
	mach_port_get_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, &n);
	unsigned added = 0;
	for (int step = 1 << 16; step >= 1; step >>= 1)
		while ((kr = mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, step)) ==
		       KERN_SUCCESS)
			added += (unsigned)step;
	out("mod_refs send by steps: added %u, then %s\n", added, kr_name(kr));
	state("at the limit", rcv);
	SHOW("mod_refs send +1 at the limit", mach_port_mod_refs(task_self, rcv,
	                                                         MACH_PORT_RIGHT_SEND, 1));
	SHOW("insert_right copy-send at the limit",
	     mach_port_insert_right(task_self, rcv, rcv, MACH_MSG_TYPE_COPY_SEND));
	SHOW("insert_right make-send at the limit",
	     mach_port_insert_right(task_self, rcv, rcv, MACH_MSG_TYPE_MAKE_SEND));
	mach_port_get_refs(task_self, rcv, MACH_PORT_RIGHT_SEND, &n);
	SHOW("mod_refs send to zero", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND,
	                                                 -(mach_port_delta_t)n));
	state("after dropping all sends", rcv);

	SHOW("mod_refs receive +1", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_RECEIVE, 1));
	SHOW("mod_refs receive -2", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_RECEIVE, -2));
	SHOW("mod_refs send-once -1 on a receive",
	     mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_SEND_ONCE, -1));
	SHOW("mod_refs port-set -1 on a receive",
	     mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_PORT_SET, -1));
	SHOW("mod_refs right 5", mach_port_mod_refs(task_self, rcv, MACH_PORT_RIGHT_NUMBER, 0));
	SHOW("mod_refs on 5000", mach_port_mod_refs(task_self, 5000, MACH_PORT_RIGHT_SEND, 1));
	mach_port_urefs_t r = 77;
	kr = mach_port_get_refs(task_self, rcv, MACH_PORT_RIGHT_NUMBER, &r);
	out("get_refs right 5: %s\n", kr_name(kr));
	kr = mach_port_get_refs(task_self, 5000, MACH_PORT_RIGHT_SEND, &r);
	out("get_refs on 5000: %s\n", kr_name(kr));

	mach_port_t dead = allocate(MACH_PORT_RIGHT_DEAD_NAME);
	SHOW("mod_refs dead-name +3", mach_port_mod_refs(task_self, dead,
	                                                 MACH_PORT_RIGHT_DEAD_NAME, 3));
	state("dead name +3", dead);
	SHOW("mod_refs send +1 on a dead name",
	     mach_port_mod_refs(task_self, dead, MACH_PORT_RIGHT_SEND, 1));
	SHOW("mod_refs send -1 on a dead name",
	     mach_port_mod_refs(task_self, dead, MACH_PORT_RIGHT_SEND, -1));
	state("dead name after send -1", dead);
	SHOW("deallocate dead name", mach_port_deallocate(task_self, dead));
	state("dead name after deallocate", dead);
	SHOW("mod_refs dead-name -3", mach_port_mod_refs(task_self, dead,
	                                                 MACH_PORT_RIGHT_DEAD_NAME, -3));
	state("dead name after -3", dead);

	mach_port_t set = allocate(MACH_PORT_RIGHT_PORT_SET);
	SHOW("mod_refs port-set +1", mach_port_mod_refs(task_self, set, MACH_PORT_RIGHT_PORT_SET,
	                                                1));
	SHOW("mod_refs port-set -1", mach_port_mod_refs(task_self, set, MACH_PORT_RIGHT_PORT_SET,
	                                                -1));
	state("port set after -1", set);

	/* Send right under a receive right: deallocate drops one send uref. */
	mach_port_t p = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_COPY_SEND);
	SHOW("deallocate send of send|receive", mach_port_deallocate(task_self, p));
	state("after deallocate", p);
	SHOW("deallocate send of send|receive again", mach_port_deallocate(task_self, p));
	state("after second deallocate", p);
	SHOW("destroy the receive right", mach_port_destroy(task_self, p));
	state("after destroy", p);
}

static void insert_extract(void)
{
	mach_port_t a = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_t b = allocate(MACH_PORT_RIGHT_RECEIVE);

	SHOW("insert_right make-send under another name (500)",
	     mach_port_insert_right(task_self, 500, a, MACH_MSG_TYPE_MAKE_SEND));
	state("name 500", 500);
	SHOW("insert_right make-send under b's name",
	     mach_port_insert_right(task_self, b, a, MACH_MSG_TYPE_MAKE_SEND));
	SHOW("insert_right move-receive", mach_port_insert_right(task_self, 501, a,
	                                                         MACH_MSG_TYPE_MOVE_RECEIVE));
	SHOW("insert_right make-send-once", mach_port_insert_right(task_self, 502, a,
	                                                           MACH_MSG_TYPE_MAKE_SEND_ONCE));
	state("name 502", 502);
	SHOW("insert_right make-send under null",
	     mach_port_insert_right(task_self, MACH_PORT_NULL, a, MACH_MSG_TYPE_MAKE_SEND));
	SHOW("insert_right make-send under dead",
	     mach_port_insert_right(task_self, MACH_PORT_DEAD, a, MACH_MSG_TYPE_MAKE_SEND));

	mach_port_t got = 0;
	mach_msg_type_name_t t = 0;
	kern_return_t kr;
#define EXTRACT(what, name, disp)                                                        \
	do {                                                                             \
		got = 0;                                                                 \
		t = 0;                                                                   \
		kr = mach_port_extract_right(task_self, (name), (disp), &got, &t);       \
		out("extract_right %s: %s type %s name %u\n", (what), kr_name(kr),        \
		    msgt_name(t), got);                                                  \
	} while (0)
	EXTRACT("make-send of a", a, MACH_MSG_TYPE_MAKE_SEND);
	state("a after extract make-send", a);
	state("name extracted", got);
	EXTRACT("copy-send of a", a, MACH_MSG_TYPE_COPY_SEND);
	state("a after extract copy-send", a);
	EXTRACT("move-send of a", a, MACH_MSG_TYPE_MOVE_SEND);
	state("a after extract move-send", a);
	EXTRACT("make-send-once of a", a, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	state("name extracted", got);
	mach_port_t so = got;
	EXTRACT("move-send-once", so, MACH_MSG_TYPE_MOVE_SEND_ONCE);
	state("old send-once name", so);
	state("name extracted", got);
	EXTRACT("copy-send of a receive-only b", b, MACH_MSG_TYPE_COPY_SEND);
	EXTRACT("move-receive of b", b, MACH_MSG_TYPE_MOVE_RECEIVE);
	state("b after extract move-receive", b);
	state("name extracted", got);
	EXTRACT("of 5000", 5000, MACH_MSG_TYPE_MAKE_SEND);
	EXTRACT("with disposition 0", a, 0);
	EXTRACT("with disposition PORT_NAME", a, MACH_MSG_TYPE_PORT_NAME);
	names_list("after insert/extract");
}

static void receive_side(void)
{
	mach_port_t p = allocate(MACH_PORT_RIGHT_RECEIVE);
	status("new", p);
	SHOW("set_mscount 7", mach_port_set_mscount(task_self, p, 7));
	status("after set_mscount 7", p);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	status("after make-send", p);
	SHOW("set_qlimit 3", mach_port_set_qlimit(task_self, p, 3));
	SHOW("set_qlimit 17", mach_port_set_qlimit(task_self, p, 17));
	status("after set_qlimit", p);
	SHOW("set_qlimit on a send-only name", mach_port_set_qlimit(task_self, 500, 3));
	SHOW("set_mscount on a send-only name", mach_port_set_mscount(task_self, 500, 3));
	SHOW("set_qlimit on 5000", mach_port_set_qlimit(task_self, 5000, 3));
	status("send-only name", 500);
	status("unknown name", 5000);
	mach_port_t set = allocate(MACH_PORT_RIGHT_PORT_SET);
	status("port set", set);

	/* Port sets: move_member and get_set_status. */
	mach_port_t q = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_t set2 = allocate(MACH_PORT_RIGHT_PORT_SET);
	SHOW("move_member p -> set", mach_port_move_member(task_self, p, set));
	SHOW("move_member q -> set", mach_port_move_member(task_self, q, set));
	status("member p", p);
	mach_port_array_t members;
	mach_msg_type_number_t n = 0;
	kern_return_t kr = mach_port_get_set_status(task_self, set, &members, &n);
	out("get_set_status: %s count %u", kr_name(kr), n);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < n; i++)
		out(" %u", members[i]);
	out("\n");
	if (kr == KERN_SUCCESS)
		vm_deallocate(task_self, (vm_address_t)members, n * sizeof *members);
	SHOW("move_member p -> set2", mach_port_move_member(task_self, p, set2));
	status("member p moved", p);
	kr = mach_port_get_set_status(task_self, set2, &members, &n);
	out("get_set_status set2: %s count %u\n", kr_name(kr), n);
	SHOW("move_member p -> null", mach_port_move_member(task_self, p, MACH_PORT_NULL));
	status("p out of sets", p);
	SHOW("move_member p -> null again", mach_port_move_member(task_self, p, MACH_PORT_NULL));
	SHOW("move_member p -> receive q", mach_port_move_member(task_self, p, q));
	SHOW("move_member set -> set2", mach_port_move_member(task_self, set, set2));
	SHOW("move_member 5000 -> set", mach_port_move_member(task_self, 5000, set));
	SHOW("move_member p -> 5000", mach_port_move_member(task_self, p, 5000));
	SHOW("move_member send-only 500 -> set", mach_port_move_member(task_self, 500, set));
	kr = mach_port_get_set_status(task_self, p, &members, &n);
	out("get_set_status of a receive right: %s\n", kr_name(kr));
	kr = mach_port_get_set_status(task_self, 5000, &members, &n);
	out("get_set_status of 5000: %s\n", kr_name(kr));
	SHOW("destroy the set holding q", mach_port_destroy(task_self, set));
	status("q after its set died", q);
}

static void notifications(void)
{
	mach_port_t p = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_t notify = allocate(MACH_PORT_RIGHT_RECEIVE);
	mach_port_t prev = 0;
	kern_return_t kr;

#define REQUEST(what, name, id, sync, nport, disp)                                         \
	do {                                                                               \
		prev = 12345;                                                              \
		kr = mach_port_request_notification(task_self, (name), (id), (sync), (nport), \
		                                    (disp), &prev);                        \
		out("request_notification %s: %s previous %u\n", (what), kr_name(kr), prev); \
	} while (0)
	REQUEST("no-senders", p, MACH_NOTIFY_NO_SENDERS, 0, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	status("after no-senders request", p);
	REQUEST("no-senders again", p, MACH_NOTIFY_NO_SENDERS, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	state("previous", prev);
	REQUEST("no-senders cancel", p, MACH_NOTIFY_NO_SENDERS, 0, MACH_PORT_NULL,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	state("previous", prev);
	REQUEST("port-destroyed", p, MACH_NOTIFY_PORT_DESTROYED, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	status("after port-destroyed request", p);
	REQUEST("dead-name on a receive right", p, MACH_NOTIFY_DEAD_NAME, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	REQUEST("dead-name on send|receive", p, MACH_NOTIFY_DEAD_NAME, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	state("after dead-name request", p);
	REQUEST("dead-name again", p, MACH_NOTIFY_DEAD_NAME, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	state("previous", prev);
	REQUEST("port-deleted", p, MACH_NOTIFY_PORT_DELETED, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("send-once id", p, MACH_NOTIFY_SEND_ONCE, 0, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("msg-accepted id", p, MACH_NOTIFY_MSG_ACCEPTED, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("id 999", p, 999, 0, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("no-senders on 5000", 5000, MACH_NOTIFY_NO_SENDERS, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("dead-name on 5000", 5000, MACH_NOTIFY_DEAD_NAME, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("no-senders on a send-only name", 500, MACH_NOTIFY_NO_SENDERS, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("notify port 5000", p, MACH_NOTIFY_NO_SENDERS, 0, 5000,
	        MACH_MSG_TYPE_MAKE_SEND_ONCE);
	REQUEST("notify by make-send", p, MACH_NOTIFY_NO_SENDERS, 0, notify,
	        MACH_MSG_TYPE_MAKE_SEND);
	status("notify port", notify);
}

void suite_main(void)
{
	basics();
	refs();
	insert_extract();
	receive_side();
	notifications();
	names_list("end");
}
