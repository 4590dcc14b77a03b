/* large.c: receives into a buffer too small for the message, with and without
 * MACH_RCV_LARGE: the code, what the header says, whether the message stays queued, and what
 * happens to the rights and out-of-line memory it carried. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("large");

static struct msg_builder b;
static struct msg_buffer r;

static mach_port_t p, carried;

static void queue_message(int id)
{
	uint32_t words[10];
	for (int i = 0; i < 10; i++)
		words[i] = (uint32_t)(id * 100 + i);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), p,
	        carried, id);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 10, words);
	mb_ports(&b, MACH_MSG_TYPE_MAKE_SEND, 1, &carried);
	out("queue id %d size %u: %s\n", id, b.u.head.msgh_size,
	    kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
}

static void small_receive(const char *what, mach_msg_option_t option, mach_msg_size_t size)
{
	memset(&r, 0, sizeof r);
	r.head.msgh_id = -1;
	mach_msg_return_t kr = mach_msg(&r.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT | option, 0, size,
	                                p, 0, MACH_PORT_NULL);
	out("%s (limit %u): %s\n", what, size, kr_name(kr));
	out("%s header after: bits 0x%x size %u remote %u local %u seqno %u id %d\n", what,
	    r.head.msgh_bits, r.head.msgh_size, (unsigned)r.head.msgh_remote_port,
	    (unsigned)r.head.msgh_local_port, r.head.msgh_seqno, r.head.msgh_id);
	mach_port_status_t st;
	mach_port_get_receive_status(task_self, p, &st);
	out("%s: queue msgcount %u seqno %u\n", what, st.mps_msgcount, st.mps_seqno);
	show_rights(what, carried);
}

void suite_main(void)
{
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &carried);
	out("port %u carried %u\n", p, carried);

	queue_message(1);
	small_receive("MACH_RCV_LARGE, 32 bytes", MACH_RCV_LARGE, 32);
	small_receive("MACH_RCV_LARGE, exact size minus 8", MACH_RCV_LARGE, 32 + 48 + 8);
	mach_msg_return_t kr = receive(&r, p, MACH_RCV_TIMEOUT, 0);
	out("full receive after MACH_RCV_LARGE: %s\n", kr_name(kr));
	if (kr == MACH_MSG_SUCCESS)
		dump_message("after large", &r.head);
	show_rights("after full receive", carried);

	queue_message(2);
	small_receive("no MACH_RCV_LARGE, 32 bytes", 0, 32);
	kr = receive(&r, p, MACH_RCV_TIMEOUT, 0);
	out("receive after a too-large receive without MACH_RCV_LARGE: %s\n", kr_name(kr));

	queue_message(3);
	small_receive("no MACH_RCV_LARGE, 0 bytes", 0, 0);
	queue_message(4);
	small_receive("no MACH_RCV_LARGE, 24 bytes", 0, 24);
	queue_message(5);
	small_receive("exact size", 0, 32 + 48 + 16);
	if (r.head.msgh_id == 5)
		dump_message("exact", &r.head);

	/* Out-of-line data lost with the message. */
	vm_address_t page = 0;
	vm_allocate(task_self, &page, 8192, TRUE);
	((unsigned char *)page)[0] = 0x42;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), p, MACH_PORT_NULL, 6);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 8192, (void *)page, 0);
	out("queue out-of-line id 6: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	small_receive("out-of-line, MACH_RCV_LARGE, 40 bytes", MACH_RCV_LARGE, 40);
	small_receive("out-of-line, 40 bytes", 0, 40);

	/* A combined send+receive whose receive is too large: the send went. */
	mach_port_t q = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
	uint64_t pad[8] = { 0 };
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), q, MACH_PORT_NULL, 7);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_64, 64, 8, pad);
	kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_LARGE | MACH_RCV_TIMEOUT,
	              b.u.head.msgh_size, 40, q, 0, MACH_PORT_NULL);
	out("send+receive of %u bytes into 40, MACH_RCV_LARGE: %s size %u id %d\n",
	    b.u.head.msgh_size, kr_name(kr), b.u.head.msgh_size, b.u.head.msgh_id);
}
