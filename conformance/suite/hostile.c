/* hostile.c: messages a careless or hostile program sends: forged names, bad descriptors,
 * sizes past the buffer, pointers into unmapped memory, malformed MIG requests to the task
 * port.  GNU Mach's exact codes are printed, with the rights left behind, and a last round
 * trip shows the kernel still serves the task. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("hostile");

static struct msg_builder b;
static struct msg_buffer r;
static mach_port_t dest, carried;

static mach_port_t new_port(int with_send)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	if (with_send)
		mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	return p;
}

static void queue_state(const char *what)
{
	mach_port_status_t st;
	kern_return_t k = mach_port_get_receive_status(task_self, dest, &st);
	if (k != KERN_SUCCESS) {
		out("%s: dest get_receive_status %s\n", what, kr_name(k));
		return;
	}
	out("%s: dest msgcount %u seqno %u\n", what, st.mps_msgcount, st.mps_seqno);
	/* Whatever arrived is received and shown. */
	for (unsigned n = st.mps_msgcount; n > 0 && n <= 16; n--) {
		mach_msg_return_t kr = receive(&r, dest, MACH_RCV_TIMEOUT, 0);
		out("%s: queued message received: %s\n", what, kr_name(kr));
		if (kr == MACH_MSG_SUCCESS)
			dump_message(what, &r.head);
	}
}

static void try_send(const char *what, mach_msg_size_t send_size)
{
	mach_msg_return_t kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_SEND_TIMEOUT, send_size, 0,
	                                MACH_PORT_NULL, 0, MACH_PORT_NULL);
	out("%s: %s\n", what, kr_name(kr));
	queue_state(what);
}

static void plain(mach_msg_id_t id)
{
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL, id);
}

static void headers(void)
{
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), 5000, MACH_PORT_NULL, 1);
	try_send("forged destination 5000", b.u.head.msgh_size);
	mach_port_t rcv_only = new_port(0);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), rcv_only, MACH_PORT_NULL, 2);
	try_send("copy-send of a receive-only name", b.u.head.msgh_size);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), dest, MACH_PORT_NULL, 3);
	try_send("move-send-once of a send right", b.u.head.msgh_size);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), MACH_PORT_NULL, MACH_PORT_NULL, 4);
	try_send("null destination", b.u.head.msgh_size);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), MACH_PORT_DEAD, MACH_PORT_NULL, 5);
	try_send("dead destination", b.u.head.msgh_size);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_COPY_SEND), dest, 5000, 6);
	try_send("forged reply port 5000", b.u.head.msgh_size);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND), dest,
	        carried + 1000, 7);
	try_send("make-send reply of a forged name", b.u.head.msgh_size);
	mach_port_t set = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), set, MACH_PORT_NULL, 8);
	try_send("make-send to a port set", b.u.head.msgh_size);
	mach_port_t dead = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &dead);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dead, MACH_PORT_NULL, 9);
	try_send("copy-send to a dead name", b.u.head.msgh_size);
	show_rights("the dead name", dead);
	mb_init(&b, 0xff00ff00 | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), dest, MACH_PORT_NULL,
	        10);
	try_send("unknown header bits", b.u.head.msgh_size);
}

static void sizes(void)
{
	plain(20);
	try_send("send size 0", 0);
	plain(21);
	try_send("send size 16", 16);
	plain(22);
	try_send("send size 31", 31);
	plain(23);
	try_send("send size 33", 33);
	plain(24);
	try_send("send size 36", 36);
	plain(25);
	b.u.head.msgh_size = 999;
	try_send("msgh_size 999, send size 32", 32);
	plain(26);
	try_send("send size 40 (msgh_size 32)", 40);
	plain(27);
	uint32_t w[4] = { 1, 2, 3, 4 };
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 4, w);
	try_send("descriptor says 4 words, send size cuts the data", 40);
	plain(28);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 4, w);
	((mach_msg_type_t *)(b.u.bytes + 32))->msgt_number = 1000;
	try_send("descriptor count past the message", b.u.head.msgh_size);
	plain(29);
	try_send("send size 1 MiB", 1 << 20);
	plain(30);
	try_send("send size 0xffffffff", 0xffffffffu);
}

static void descriptors(void)
{
	mach_port_t forged = 5000;
	plain(40);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &forged);
	try_send("forged name in the body", b.u.head.msgh_size);
	plain(41);
	mach_port_t two[2] = { carried, forged };
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 2, two);
	try_send("good then forged name in the body", b.u.head.msgh_size);
	show_rights("carried after", carried);
	plain(42);
	mach_port_t mine[2] = { carried, carried };
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 2, mine);
	b.u.head.msgh_bits &= ~MACH_MSGH_BITS_COMPLEX;
	try_send("rights in a message without the complex bit", b.u.head.msgh_size);
	show_rights("carried after", carried);
	plain(43);
	mb_ports(&b, MACH_MSG_TYPE_COPY_SEND, 1, &carried);
	((mach_msg_type_t *)(b.u.bytes + 32))->msgt_size = 32;
	try_send("inline right with msgt_size 32", b.u.head.msgh_size);
	plain(45);
	uint32_t word = 5;
	mb_inline(&b, 200, 32, 1, &word);
	try_send("msgt_name 200", b.u.head.msgh_size);
	plain(46);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &word);
	((mach_msg_type_t *)(b.u.bytes + 32))->msgt_deallocate = 1;
	try_send("inline data with deallocate", b.u.head.msgh_size);
	plain(47);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &word);
	((mach_msg_type_t *)(b.u.bytes + 32))->msgt_longform = 1;
	try_send("inline data in long form", b.u.head.msgh_size);
	plain(48);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 0, 1, &word);
	try_send("msgt_size 0", b.u.head.msgh_size);
	plain(49);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 4096, (void *)0x1000, 0);
	try_send("out-of-line data at an unmapped address", b.u.head.msgh_size);
	plain(50);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 4096, (void *)0xffff800000000000UL, 0);
	try_send("out-of-line data at a kernel address", b.u.head.msgh_size);
	plain(51);
	static mach_port_t forged_array[3] = { 0, 0, 5000 };
	forged_array[0] = carried;
	forged_array[1] = carried;
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 32, 3, forged_array, 0);
	try_send("out-of-line rights with a forged name", b.u.head.msgh_size);
	show_rights("carried after", carried);
	plain(52);
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 32, 3, (void *)0x1000, 0);
	try_send("out-of-line rights at an unmapped address", b.u.head.msgh_size);
	plain(53);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, 0x7fffffff, &word, 0);
	try_send("out-of-line data of 2 GiB", b.u.head.msgh_size);
}

static void pointers(void)
{
	/* Two pages, the second given back: a message ending at the first page's end. */
	vm_address_t two = 0;
	vm_allocate(task_self, &two, 2 * 4096, TRUE);
	vm_deallocate(task_self, two + 4096, 4096);
	mach_msg_header_t *edge = (mach_msg_header_t *)(two + 4096 - 32);
	memset(edge, 0, 32);
	edge->msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	edge->msgh_size = 32;
	edge->msgh_remote_port = dest;
	edge->msgh_id = 60;
	mach_msg_return_t kr = mach_msg(edge, MACH_SEND_MSG | MACH_SEND_TIMEOUT, 32, 0,
	                                MACH_PORT_NULL, 0, MACH_PORT_NULL);
	out("header at a page's end, size 32: %s\n", kr_name(kr));
	queue_state("edge 32");
	edge->msgh_size = 40;
	kr = mach_msg(edge, MACH_SEND_MSG | MACH_SEND_TIMEOUT, 40, 0, MACH_PORT_NULL, 0,
	              MACH_PORT_NULL);
	out("header at a page's end, size 40 (8 bytes unmapped): %s\n", kr_name(kr));
	queue_state("edge 40");
	kr = mach_msg((mach_msg_header_t *)0x1000, MACH_SEND_MSG | MACH_SEND_TIMEOUT, 32, 0,
	              MACH_PORT_NULL, 0, MACH_PORT_NULL);
	out("send from an unmapped address: %s\n", kr_name(kr));
	kr = mach_msg((mach_msg_header_t *)0xffff800000001000UL, MACH_SEND_MSG | MACH_SEND_TIMEOUT,
	              32, 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
	out("send from a kernel address: %s\n", kr_name(kr));

	/* Receives into bad buffers: the message is queued first. */
	plain(61);
	mb_send(&b, MACH_SEND_TIMEOUT, 0);
	kr = mach_msg((mach_msg_header_t *)0x1000, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, dest, 0,
	              MACH_PORT_NULL);
	out("receive into an unmapped address: %s\n", kr_name(kr));
	queue_state("after receive into unmapped");
	plain(62);
	mb_send(&b, MACH_SEND_TIMEOUT, 0);
	kr = mach_msg(edge, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, dest, 0, MACH_PORT_NULL);
	out("receive of 32 bytes into a buffer of 64 ending 32 bytes before a hole: %s\n",
	    kr_name(kr));
	out("  received id %d size %u\n", kr ? 0 : edge->msgh_id, kr ? 0 : edge->msgh_size);
	queue_state("after receive at the edge");
	plain(63);
	uint64_t data[2] = { 7, 8 };
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_64, 64, 2, data);
	mb_send(&b, MACH_SEND_TIMEOUT, 0);
	kr = mach_msg(edge, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, dest, 0, MACH_PORT_NULL);
	out("receive of 56 bytes into the same buffer: %s\n", kr_name(kr));
	queue_state("after receive across the hole");
	/* A read-only page: vm_protect it and receive into it. */
	vm_address_t ro = 0;
	vm_allocate(task_self, &ro, 4096, TRUE);
	vm_protect(task_self, ro, 4096, FALSE, VM_PROT_READ);
	plain(64);
	mb_send(&b, MACH_SEND_TIMEOUT, 0);
	kr = mach_msg((mach_msg_header_t *)ro, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, 64, dest, 0,
	              MACH_PORT_NULL);
	out("receive into a read-only page: %s\n", kr_name(kr));
	queue_state("after receive into read-only");
}

static void mig(void)
{
	/* Malformed requests to the task port; the kernel's MIG server answers them. */
	mach_port_t reply = new_port(0);
	static const struct {
		const char *what;
		mach_msg_id_t id;
		mach_msg_size_t size;
	} cases[] = {
		{ "id below mach_port's base", 3199, 32 },
		{ "mach_port_type without its argument", 3201, 32 },
		{ "mach_port_type with a short body", 3201, 40 },
		{ "unknown id 999999", 999999, 32 },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE),
		        task_self, reply, cases[i].id);
		b.u.head.msgh_size = cases[i].size;
		mach_msg_return_t kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_SEND_TIMEOUT,
		                                cases[i].size, 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
		out("MIG %s: send %s\n", cases[i].what, kr_name(kr));
		kr = receive(&r, reply, MACH_RCV_TIMEOUT, 100);
		out("MIG %s: reply %s\n", cases[i].what, kr_name(kr));
		if (kr == MACH_MSG_SUCCESS) {
			dump_message(cases[i].what, &r.head);
			if (r.head.msgh_size >= 48)
				out("MIG %s: RetCode %s\n", cases[i].what,
				    kr_name(((mig_reply_header_t *)&r)->RetCode));
		}
	}
}

void suite_main(void)
{
	dest = new_port(1);
	carried = new_port(1);
	out("dest %u carried %u\n", dest, carried);
	headers();
	sizes();
	descriptors();
	pointers();
	mig();
	/* Still alive: a round trip and an RPC. */
	plain(99);
	mach_msg_return_t kr = mach_msg(&b.u.head, MACH_SEND_MSG | MACH_RCV_MSG, 32,
	                                sizeof b.u.bytes, dest, 0, MACH_PORT_NULL);
	out("round trip after all that: %s id %d\n", kr_name(kr), b.u.head.msgh_id);
	show_rights("dest at the end", dest);
	show_rights("carried at the end", carried);

	/* A port's receive right sent into its own queue. */
	mach_port_t self_sent = new_port(1);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), self_sent, MACH_PORT_NULL, 44);
	mb_ports(&b, MACH_MSG_TYPE_MOVE_RECEIVE, 1, &self_sent);
	kr = mb_send(&b, MACH_SEND_TIMEOUT, 0);
	out("move-receive of the destination into its own queue: %s\n", kr_name(kr));
	show_rights("that name after", self_sent);
	kr = receive(&r, self_sent, MACH_RCV_TIMEOUT, 0);
	out("receive on that name: %s\n", kr_name(kr));
}
