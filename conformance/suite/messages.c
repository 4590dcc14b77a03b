/* messages.c: messages to self with each disposition, in the header and in the body (single
 * rights, inline port arrays, out-of-line port arrays, out-of-line data), received types and
 * names printed, and the rights left behind. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("messages");

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

/* Sends b to dest, receives from dest, prints both codes and the message. */
static void round_trip(const char *what, mach_port_t dest)
{
	mach_msg_return_t kr = mb_send(&b, MACH_SEND_TIMEOUT, 0);
	out("%s: send %s\n", what, kr_name(kr));
	if (kr != MACH_MSG_SUCCESS)
		return;
	kr = receive(&r, dest, MACH_RCV_TIMEOUT, 0);
	out("%s: receive %s\n", what, kr_name(kr));
	if (kr == MACH_MSG_SUCCESS)
		dump_message(what, &r.head);
}

static const unsigned header_dispositions[] = {
	MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MOVE_SEND,
	MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE,
	0, MACH_MSG_TYPE_PORT_NAME,
};

static void header(void)
{
	char what[64];
	for (unsigned i = 0; i < sizeof header_dispositions / sizeof header_dispositions[0]; i++) {
		unsigned d = header_dispositions[i];
		mach_port_t p = new_port(1);
		mach_port_t so = MACH_PORT_NULL;
		mach_port_t remote = p;
		if (d == MACH_MSG_TYPE_MOVE_SEND_ONCE) {
			mach_msg_type_name_t t;
			mach_port_extract_right(task_self, p, MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &t);
			remote = so;
		}
		snformat(what, sizeof what, "remote %s", msgt_name(d));
		mb_init(&b, MACH_MSGH_BITS(d, 0), remote, MACH_PORT_NULL, 1000 + (int)i);
		round_trip(what, p);
		show_rights(what, p);
		if (so)
			show_rights(what, so);
	}
	for (unsigned i = 0; i < sizeof header_dispositions / sizeof header_dispositions[0]; i++) {
		unsigned d = header_dispositions[i];
		mach_port_t p = new_port(1);
		mach_port_t reply = new_port(1);
		mach_port_t local = reply;
		if (d == MACH_MSG_TYPE_MOVE_SEND_ONCE) {
			mach_msg_type_name_t t;
			mach_port_extract_right(task_self, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, &local,
			                        &t);
		}
		snformat(what, sizeof what, "local %s", msgt_name(d));
		mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, d), p, local, 1100 + (int)i);
		round_trip(what, p);
		show_rights(what, reply);
		if (local != reply)
			show_rights(what, local);
		if (r.head.msgh_remote_port && r.head.msgh_remote_port != reply &&
		    r.head.msgh_remote_port != local)
			show_rights(what, r.head.msgh_remote_port);
	}
	/* A local port equal to the destination. */
	mach_port_t p = new_port(1);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND), p, p, 1200);
	round_trip("remote and local the same port", p);
	show_rights("remote and local the same port", p);
	/* Not complex, no body. */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), p, MACH_PORT_NULL, 1201);
	uint32_t word = 0xdeadbeef;
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &word);
	round_trip("one int32", p);
	/* A dead local port given as MACH_PORT_DEAD. */
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_COPY_SEND), p,
	        MACH_PORT_DEAD, 1202);
	round_trip("local MACH_PORT_DEAD", p);
}

static const unsigned body_dispositions[] = {
	MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_COPY_SEND,
	MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE,
};

static void body(void)
{
	char what[64];
	mach_port_t dest = new_port(1);

	for (unsigned i = 0; i < sizeof body_dispositions / sizeof body_dispositions[0]; i++) {
		unsigned d = body_dispositions[i];
		mach_port_t p = new_port(d != MACH_MSG_TYPE_MOVE_RECEIVE);
		mach_port_t carried = p;
		if (d == MACH_MSG_TYPE_MOVE_SEND_ONCE) {
			mach_msg_type_name_t t;
			mach_port_extract_right(task_self, p, MACH_MSG_TYPE_MAKE_SEND_ONCE, &carried,
			                        &t);
		}
		snformat(what, sizeof what, "body %s", msgt_name(d));
		mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL,
		        2000 + (int)i);
		mb_ports(&b, d, 1, &carried);
		round_trip(what, dest);
		show_rights(what, p);
		if (carried != p)
			show_rights(what, carried);
	}

	/* Three rights in one inline array, then the same out of line. */
	mach_port_t a[3] = { new_port(1), new_port(1), new_port(1) };
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2100);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 3, a);
	round_trip("inline array COPY_SEND x3", dest);
	show_rights("inline array COPY_SEND x3", a[0]);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2101);
	mb_ports(&b, MACH_MSG_TYPE_MAKE_SEND_ONCE, 3, a);
	round_trip("inline array MAKE_SEND_ONCE x3", dest);
	show_rights("inline array MAKE_SEND_ONCE x3", a[1]);

	static mach_port_t ool_names[4];
	for (int i = 0; i < 4; i++)
		ool_names[i] = a[i % 3];
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2102);
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 32, 4, ool_names, 0);
	round_trip("out-of-line array COPY_SEND x4", dest);
	show_rights("out-of-line array COPY_SEND x4", a[0]);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2103);
	mb_ool(&b, MACH_MSG_TYPE_MAKE_SEND, 32, 4, ool_names, 0);
	round_trip("out-of-line array MAKE_SEND x4", dest);
	show_rights("out-of-line array MAKE_SEND x4", a[0]);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2104);
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 64, 4, ool_names, 0);
	round_trip("out-of-line array COPY_SEND msgt_size 64", dest);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2105);
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 32, 0, ool_names, 0);
	round_trip("out-of-line array of 0 rights", dest);

	/* Null and dead names carried as rights. */
	mach_port_t special[2] = { MACH_PORT_NULL, MACH_PORT_DEAD };
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2106);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 2, special);
	round_trip("inline null and dead", dest);

	/* Mixed data: int32, bytes, int64, a right, out-of-line bytes with deallocate. */
	vm_address_t page = 0;
	vm_allocate(task_self, &page, 4096, TRUE);
	for (int i = 0; i < 4096; i++)
		((unsigned char *)page)[i] = (unsigned char)(i * 3);
	uint32_t ints[3] = { 1, 2, 0xffffffff };
	unsigned char bytes[5] = { 'h', 'e', 'l', 'l', 'o' };
	uint64_t big = 0x0123456789abcdefULL;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, 2107);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 3, ints);
	mb_inline(&b, MACH_MSG_TYPE_BYTE, 8, 5, bytes);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_64, 64, 1, &big);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &a[2]);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 4096, (void *)page, 1);
	round_trip("mixed body, out-of-line deallocate", dest);
	show_rights("dest at the end", dest);
}

void suite_main(void)
{
	header();
	body();
}
