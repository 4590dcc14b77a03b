/* notify.c: each notification (dead-name, no-senders, port-deleted, port-destroyed,
 * send-once), requested with mach_port_request_notification, received and printed whole
 * (header, ids, bodies' names and counts). */
#include "suite.h"

#include <mach/notify.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("notify");

static struct msg_buffer r;
static mach_port_t notify;

static mach_port_t new_port(int with_send)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	if (with_send)
		mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	return p;
}

static void request(const char *what, mach_port_t name, mach_msg_id_t id,
                    mach_port_mscount_t sync)
{
	mach_port_t prev = 12345;
	kern_return_t kr = mach_port_request_notification(task_self, name, id, sync, notify,
	                                                  MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	out("%s: request id %d on %u sync %u: %s previous %u\n", what, id, name, sync,
	    kr_name(kr), prev);
}

static void collect(const char *what)
{
	for (int i = 0; i < 4; i++) {
		mach_msg_return_t kr = receive(&r, notify, MACH_RCV_TIMEOUT, 0);
		if (kr != MACH_MSG_SUCCESS) {
			out("%s: %s\n", what, kr_name(kr));
			return;
		}
		dump_message(what, &r.head);
		if (r.head.msgh_remote_port != MACH_PORT_NULL)
			show_rights(what, r.head.msgh_remote_port);
	}
}

void suite_main(void)
{
	notify = new_port(0);
	out("notify port %u\n", notify);

	/* dead-name: the receive right dies while a send right remains. */
	mach_port_t p = new_port(1);
	request("dead-name", p, MACH_NOTIFY_DEAD_NAME, 0);
	show_rights("dead-name armed", p);
	out("dead-name: drop the receive right: %s\n",
	    kr_name(mach_port_mod_refs(task_self, p, MACH_PORT_RIGHT_RECEIVE, -1)));
	show_rights("dead-name after", p);
	collect("dead-name");
	/* A request on a name that is already dead. */
	request("dead-name on a dead name", p, MACH_NOTIFY_DEAD_NAME, 0);
	show_rights("dead name", p);
	collect("dead-name immediate");
	out("dead-name: deallocate the dead name: %s\n", kr_name(mach_port_deallocate(task_self, p)));
	show_rights("dead name after deallocate", p);

	/* no-senders: the last send right goes away; sync against the make-send count. */
	p = new_port(1);
	request("no-senders", p, MACH_NOTIFY_NO_SENDERS, 0);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	out("no-senders: deallocate one send: %s\n", kr_name(mach_port_deallocate(task_self, p)));
	collect("no-senders (one send left)");
	out("no-senders: deallocate the last send: %s\n",
	    kr_name(mach_port_deallocate(task_self, p)));
	collect("no-senders");
	request("no-senders with no senders, sync 0", p, MACH_NOTIFY_NO_SENDERS, 0);
	collect("no-senders immediate");
	request("no-senders sync 5 (mscount 2)", p, MACH_NOTIFY_NO_SENDERS, 5);
	collect("no-senders sync above mscount");
	request("no-senders sync 2", p, MACH_NOTIFY_NO_SENDERS, 2);
	collect("no-senders sync equal");

	/* port-deleted: a send right with a dead-name request is deallocated. */
	mach_port_t q = new_port(1);
	request("port-deleted (dead-name request)", q, MACH_NOTIFY_DEAD_NAME, 0);
	out("port-deleted: deallocate the send right: %s\n",
	    kr_name(mach_port_deallocate(task_self, q)));
	collect("port-deleted");
	/* ... and when the whole name is destroyed. */
	mach_port_t q2 = new_port(1);
	request("dead-name before destroy", q2, MACH_NOTIFY_DEAD_NAME, 0);
	out("destroy the name: %s\n", kr_name(mach_port_destroy(task_self, q2)));
	collect("after destroy");

	/* port-destroyed: the receive right is handed back instead of being destroyed. */
	mach_port_t d = new_port(0);
	uint32_t word = 7;
	struct msg_builder b;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), d, MACH_PORT_NULL, 4242);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &word);
	out("port-destroyed: queue a message: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	request("port-destroyed", d, MACH_NOTIFY_PORT_DESTROYED, 0);
	out("port-destroyed: destroy the receive right: %s\n",
	    kr_name(mach_port_destroy(task_self, d)));
	show_rights("port-destroyed: old name", d);
	mach_msg_return_t kr = receive(&r, notify, MACH_RCV_TIMEOUT, 0);
	out("port-destroyed: receive %s\n", kr_name(kr));
	if (kr == MACH_MSG_SUCCESS) {
		dump_message("port-destroyed", &r.head);
		mach_port_t back = (mach_port_t)((mach_port_destroyed_notification_t *)&r)->not_port;
		show_rights("port-destroyed: returned right", back);
		mach_port_status_t st;
		mach_port_get_receive_status(task_self, back, &st);
		out("port-destroyed: returned right's status msgcount %u seqno %u pdrequest %d\n",
		    st.mps_msgcount, st.mps_seqno, st.mps_pdrequest);
	}

	/* send-once: an unused send-once right is destroyed. */
	mach_port_t so = 0;
	mach_msg_type_name_t t = 0;
	kern_return_t k = mach_port_extract_right(task_self, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE,
	                                          &so, &t);
	out("send-once: extract %s type %s\n", kr_name(k), msgt_name(t));
	out("send-once: deallocate it: %s\n", kr_name(mach_port_deallocate(task_self, so)));
	collect("send-once");
	/* ... and when the port a send-once right names dies, the right becomes a dead name. */
	mach_port_t e = new_port(0);
	k = mach_port_extract_right(task_self, e, MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t);
	request("dead-name on a send-once right", so, MACH_NOTIFY_DEAD_NAME, 0);
	out("send-once: destroy its port: %s\n", kr_name(mach_port_destroy(task_self, e)));
	show_rights("send-once right after its port died", so);
	collect("send-once port died");

	/* Notifications to a port whose queue is full are still delivered. */
	mach_port_set_qlimit(task_self, notify, 1);
	mach_port_t f1 = new_port(1), f2 = new_port(1);
	request("dead-name f1", f1, MACH_NOTIFY_DEAD_NAME, 0);
	request("dead-name f2", f2, MACH_NOTIFY_DEAD_NAME, 0);
	mach_port_mod_refs(task_self, f1, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_mod_refs(task_self, f2, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, notify, &st);
	out("notify port with qlimit 1: msgcount %u\n", st.mps_msgcount);
	collect("full queue");
	mach_port_get_receive_status(task_self, notify, &st);
	out("notify port at the end: seqno %u msgcount %u sorights %u\n", st.mps_seqno,
	    st.mps_msgcount, st.mps_sorights);
}
