/* task-rpc.c: a second task serving RPCs to the first.  The child (task_create with inherited
 * memory, a thread made with thread_create + thread_set_state + thread_resume) gets a send
 * right to the parent's bootstrap port (mach_port_insert_right under a name it knows), makes
 * its service port and sends a send right to it in a message.  The parent then calls it:
 * a null request, out-of-line data and out-of-line port arrays in both directions, with and
 * without deallocate.  The child uses mach_msg only and describes what it received in text
 * that travels back in its reply; the parent prints that text and the reply it got.  Last,
 * the child's death as the parent sees it (the service port becomes a dead name). */
#include "suite.h"

#include <mach/notify.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("task-rpc");

#define PAGE 4096
#define BOOT_NAME 100 /* the child's name for the parent's bootstrap port */

enum { RQ_NULL = 500, RQ_OOL, RQ_OOL_DEALLOC, RQ_PORTS, RQ_PORTS_DEALLOC, RQ_END };

static vm_address_t child_stack;

/* The child's side ------------------------------------------------------------------------ */

static struct msg_buffer child_in;
static struct msg_builder child_out;
static char note[1024];
static unsigned note_len;
static char child_data[2 * PAGE] __attribute__((aligned(PAGE)));

static void note_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(note + note_len, sizeof note - note_len, fmt, ap);
	va_end(ap);
	if (n > 0 && note_len + (unsigned)n < sizeof note)
		note_len += (unsigned)n;
}

/* Describes the typed data of the received request (out-of-line data by its contents, port
 * names as the child's names, with their types from the message). */
static void describe(const mach_msg_header_t *m)
{
	note_add("child got id %d size %u bits %x", m->msgh_id, m->msgh_size, m->msgh_bits);
	const char *p = (const char *)(m + 1), *end = (const char *)m + m->msgh_size;
	while (p + sizeof(mach_msg_type_t) <= end) {
		const mach_msg_type_t *t = (const mach_msg_type_t *)p;
		unsigned name = t->msgt_name, size = t->msgt_size, number = t->msgt_number;
		p += sizeof(mach_msg_type_t);
		note_add("; %s size %u number %u%s%s", msgt_name(name), size, number,
		         t->msgt_inline ? "" : " out-of-line",
		         t->msgt_deallocate ? " dealloc" : "");
		unsigned bytes = (size * number + 7) / 8;
		const char *data = p;
		if (!t->msgt_inline) {
			data = *(const char *const *)p;
			p += sizeof(void *);
		} else {
			p += (bytes + 7) & ~7u;
		}
		if (name == MACH_MSG_TYPE_PORT_SEND || name == MACH_MSG_TYPE_PORT_SEND_ONCE ||
		    name == MACH_MSG_TYPE_PORT_RECEIVE) {
			unsigned step = size / 8;
			for (unsigned i = 0; i < number && data; i++)
				note_add(" name %u", *(const uint32_t *)(data + i * step));
			if (!t->msgt_inline && !data)
				note_add(" null");
		} else if (!t->msgt_inline && data && bytes) {
			note_add(" first %c last %c page-aligned %s", data[0], data[bytes - 1],
			         ((uintptr_t)data & (PAGE - 1)) ? "no" : "yes");
		}
	}
}

/* The rights and data the child received in its last request, kept for the reply. */
static mach_port_t got_names[4];
static unsigned got_count;

static void collect_ports(const mach_msg_header_t *m)
{
	got_count = 0;
	const char *p = (const char *)(m + 1), *end = (const char *)m + m->msgh_size;
	while (p + sizeof(mach_msg_type_t) <= end) {
		const mach_msg_type_t *t = (const mach_msg_type_t *)p;
		if (t->msgt_inline)
			return;
		const uint32_t *names = *(const uint32_t *const *)(t + 1);
		if (t->msgt_name == MACH_MSG_TYPE_PORT_SEND)
			for (unsigned i = 0; i < t->msgt_number && i < 4 && names; i++)
				got_names[got_count++] = names[i];
		p = (const char *)(t + 1) + sizeof(void *);
	}
}

void suite_thread_main(void *arg)
{
	(void)arg;
	mach_port_t service = mach_reply_port();
	mb_init(&child_out, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), BOOT_NAME, MACH_PORT_NULL,
	        400);
	mb_ports(&child_out, MACH_MSG_TYPE_MAKE_SEND, 1, &service);
	mb_send(&child_out, 0, 0);
	for (;;) {
		memset(&child_in, 0, sizeof child_in);
		if (mach_msg(&child_in.head, MACH_RCV_MSG, 0, sizeof child_in.bytes, service, 0,
		             MACH_PORT_NULL) != MACH_MSG_SUCCESS)
			continue;
		int id = child_in.head.msgh_id;
		mach_port_t reply = child_in.head.msgh_remote_port;
		note_len = 0;
		note[0] = 0;
		describe(&child_in.head);
		mb_init(&child_out, MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), reply,
		        MACH_PORT_NULL, id + 100);
		if (id != RQ_NULL) {
			mb_inline(&child_out, MACH_MSG_TYPE_CHAR, 8, note_len + 1, note);
		}
		if (id == RQ_OOL || id == RQ_OOL_DEALLOC) {
			for (unsigned i = 0; i < sizeof child_data; i++)
				child_data[i] = id == RQ_OOL ? 'r' : 'd';
			child_data[sizeof child_data - 1] = 'Z';
			mb_ool(&child_out, MACH_MSG_TYPE_CHAR, 8, sizeof child_data, child_data,
			       id == RQ_OOL_DEALLOC);
		}
		if (id == RQ_PORTS || id == RQ_PORTS_DEALLOC) {
			collect_ports(&child_in.head);
			/* The rights go back, moved, in an out-of-line array of our own. */
			static mach_port_t back[4] __attribute__((aligned(PAGE)));
			for (unsigned i = 0; i < got_count; i++)
				back[i] = got_names[i];
			mb_ool(&child_out, MACH_MSG_TYPE_MOVE_SEND, 32, got_count, back, FALSE);
		}
		mb_send(&child_out, 0, 0);
		if (id == RQ_END)
			for (;;)
				swtch_pri(0);
	}
}

/* The parent's side ----------------------------------------------------------------------- */

static struct msg_builder b;
static struct msg_buffer r;
static char parent_data[3 * PAGE] __attribute__((aligned(PAGE)));

static mach_port_t new_port(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	return p;
}

static void show_reply(const char *what, mach_msg_return_t kr)
{
	out("%s: %s\n", what, kr_name(kr));
	if (kr != MACH_MSG_SUCCESS)
		return;
	const char *body = r.bytes + sizeof(mach_msg_header_t);
	const mach_msg_type_t *t = (const mach_msg_type_t *)body;
	if (r.head.msgh_size > sizeof(mach_msg_header_t) && t->msgt_name == MACH_MSG_TYPE_CHAR &&
	    t->msgt_inline)
		out("%s: %s\n", what, body + sizeof *t);
	dump_message(what, &r.head);
}

static void region_state(const char *what, vm_address_t at);

/* Sends the request in b with `reply` as its reply port; when `sent_region` is not 0, says
 * whether that region is still mapped once the request is sent (before the reply comes). */
static mach_msg_return_t call_checking(mach_port_t reply, const char *what,
                                       vm_address_t sent_region)
{
	b.u.head.msgh_bits |= MACH_MSGH_BITS(0, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	b.u.head.msgh_local_port = reply;
	mach_msg_return_t kr = mb_send(&b, MACH_SEND_TIMEOUT, 1000);
	if (sent_region)
		region_state(what, sent_region);
	if (kr != MACH_MSG_SUCCESS)
		return kr;
	return receive(&r, reply, MACH_RCV_TIMEOUT, 1000);
}

static mach_msg_return_t call(mach_port_t reply)
{
	return call_checking(reply, NULL, 0);
}

static void region_state(const char *what, vm_address_t at)
{
	vm_address_t addr = at;
	vm_size_t size = 0;
	vm_prot_t prot, max;
	vm_inherit_t inh;
	boolean_t shared;
	mach_port_t obj = MACH_PORT_NULL;
	vm_offset_t off;
	kern_return_t kr = vm_region(task_self, &addr, &size, &prot, &max, &inh, &shared, &obj, &off);
	out("%s: %s\n", what, kr ? "gone (no region above)" : addr <= at && at < addr + size ? "mapped" : "gone");
	/* GNU Mach names the region's memory object with a send right: not this program's
	 * subject, so it goes at once (its name is free again for the next right). */
	if (obj != MACH_PORT_NULL)
		mach_port_deallocate(task_self, obj);
}

void suite_main(void)
{
	vm_allocate(task_self, &child_stack, 16 * PAGE, TRUE);
	mach_port_t boot = new_port();
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, TRUE, &child);
	out("task_create(inherit): %s\n", kr_name(kr));
	kr = mach_port_insert_right(child, BOOT_NAME, boot, MACH_MSG_TYPE_MAKE_SEND);
	out("mach_port_insert_right(child, %d, bootstrap, MAKE_SEND): %s\n", BOOT_NAME,
	    kr_name(kr));

	thread_t thread = MACH_PORT_NULL;
	kr = thread_create(child, &thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	if (kr == KERN_SUCCESS)
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = child_stack + 16 * PAGE - 64;
	if (kr == KERN_SUCCESS)
		kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	if (kr == KERN_SUCCESS)
		kr = thread_resume(thread);
	out("child thread: %s\n", kr_name(kr));

	mach_msg_return_t mr = receive(&r, boot, MACH_RCV_TIMEOUT, 2000);
	out("bootstrap message from the child: %s\n", kr_name(mr));
	if (mr != MACH_MSG_SUCCESS)
		return;
	dump_message("bootstrap", &r.head);
	mach_port_t service = *(uint32_t *)(r.bytes + sizeof(mach_msg_header_t) +
	                                    sizeof(mach_msg_type_t));
	show_rights("service", service);
	mach_port_t reply = new_port();

	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL, RQ_NULL);
	show_reply("null request", call(reply));

	for (unsigned i = 0; i < sizeof parent_data; i++)
		parent_data[i] = 'p';
	parent_data[sizeof parent_data - 1] = 'q';
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL, RQ_OOL);
	mb_ool(&b, MACH_MSG_TYPE_CHAR, 8, sizeof parent_data, parent_data, FALSE);
	show_reply("out-of-line data",
	           call_checking(reply, "parent's data once sent without deallocate",
	                         (vm_address_t)parent_data));

	vm_address_t mine = 0;
	vm_allocate(task_self, &mine, 2 * PAGE, TRUE);
	for (unsigned i = 0; i < 2 * PAGE; i++)
		((char *)mine)[i] = 'm';
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL,
	        RQ_OOL_DEALLOC);
	mb_ool(&b, MACH_MSG_TYPE_CHAR, 8, 2 * PAGE, (void *)mine, TRUE);
	show_reply("out-of-line data with deallocate",
	           call_checking(reply, "parent's region once sent with deallocate", mine));

	mach_port_t x = new_port(), y = new_port();
	static mach_port_t names[2] __attribute__((aligned(PAGE)));
	names[0] = x;
	names[1] = y;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL, RQ_PORTS);
	mb_ool(&b, MACH_MSG_TYPE_MAKE_SEND, 32, 2, names, FALSE);
	show_reply("out-of-line ports", call(reply));
	show_rights("x after the round trip", x);
	show_rights("y after the round trip", y);

	vm_address_t arr = 0;
	vm_allocate(task_self, &arr, PAGE, TRUE);
	((mach_port_t *)arr)[0] = x;
	((mach_port_t *)arr)[1] = y;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL,
	        RQ_PORTS_DEALLOC);
	mb_ool(&b, MACH_MSG_TYPE_COPY_SEND, 32, 2, (void *)arr, TRUE);
	show_reply("out-of-line ports with deallocate",
	           call_checking(reply, "parent's port array once sent with deallocate", arr));
	show_rights("x after the second round trip", x);

	/* The child's death: its service port dies under our send right. */
	mach_port_t notify = new_port();
	mach_port_t prev = MACH_PORT_NULL;
	kr = mach_port_request_notification(task_self, service, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                                    MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	out("dead-name request on the service port: %s\n", kr_name(kr));
	kr = task_terminate(child);
	out("task_terminate(child): %s\n", kr_name(kr));
	mr = receive(&r, notify, MACH_RCV_TIMEOUT, 1000);
	out("notification: %s id %d\n", kr_name(mr), mr ? 0 : r.head.msgh_id);
	show_rights("service after the child's death", service);
	show_rights("bootstrap after the child's death", boot);
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), service, MACH_PORT_NULL, RQ_NULL);
	out("a request to the dead service: %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
}
