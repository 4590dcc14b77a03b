/* bench-tasks.c: RPC round trips between two tasks.  The child (task_create with inherited
 * memory, one thread) serves a port whose send right it sends to the parent; the parent sends
 * a null request with a send-once reply right and receives the null reply in one mach_msg;
 * the child replies and receives the next request in one mach_msg.  Per round trip (two
 * messages, two switches between address spaces) in guest TSC ticks (guest instructions
 * under QEMU -icount shift=0,sleep=off). */
#include "suite.h"

#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("bench-tasks");

#define WARMUP 100
#define ITERATIONS 1000
#define BOOT_NAME 100

static vm_address_t child_stack;

void suite_thread_main(void *arg)
{
	(void)arg;
	mach_port_t service = mach_reply_port();
	struct {
		mach_msg_header_t head;
		mach_msg_type_t type;
		mach_port_t port;
		uint32_t pad;
	} hello;
	memset(&hello, 0, sizeof hello);
	hello.head.msgh_bits = MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	hello.head.msgh_size = sizeof hello;
	hello.head.msgh_remote_port = BOOT_NAME;
	hello.type.msgt_name = MACH_MSG_TYPE_MAKE_SEND;
	hello.type.msgt_size = 64;
	hello.type.msgt_number = 1;
	hello.type.msgt_inline = 1;
	hello.port = service;
	mach_msg_trap(&hello.head, MACH_SEND_MSG, sizeof hello, 0, MACH_PORT_NULL, 0,
	              MACH_PORT_NULL);
	mach_msg_header_t m;
	memset(&m, 0, sizeof m);
	mach_msg_trap(&m, MACH_RCV_MSG, 0, sizeof m, service, 0, MACH_PORT_NULL);
	for (;;) {
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
		m.msgh_size = sizeof m;
		m.msgh_local_port = MACH_PORT_NULL;
		m.msgh_id += 100;
		mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, service, 0,
		              MACH_PORT_NULL);
	}
}

void suite_main(void)
{
	vm_allocate(task_self, &child_stack, 16 * 4096, TRUE);
	mach_port_t boot = MACH_PORT_NULL, reply = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &boot);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &reply);
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, TRUE, &child);
	if (kr == KERN_SUCCESS)
		kr = mach_port_insert_right(child, BOOT_NAME, boot, MACH_MSG_TYPE_MAKE_SEND);
	thread_t thread = MACH_PORT_NULL;
	if (kr == KERN_SUCCESS)
		kr = thread_create(child, &thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	if (kr == KERN_SUCCESS)
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = child_stack + 16 * 4096 - 64;
	if (kr == KERN_SUCCESS)
		kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	if (kr == KERN_SUCCESS)
		kr = thread_resume(thread);
	struct msg_buffer r;
	if (kr == KERN_SUCCESS)
		kr = receive(&r, boot, MACH_RCV_TIMEOUT, 2000);
	if (kr != KERN_SUCCESS) {
		out("bench task round trip: set-up %s\n", kr_name(kr));
		return;
	}
	mach_port_t service = *(uint32_t *)(r.bytes + sizeof(mach_msg_header_t) +
	                                    sizeof(mach_msg_type_t));

	mach_msg_header_t m;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	uint64_t start = 0;
	for (int i = 0; i < WARMUP + ITERATIONS && mr == MACH_MSG_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
		m.msgh_size = sizeof m;
		m.msgh_remote_port = service;
		m.msgh_local_port = reply;
		m.msgh_id = 1;
		mr = mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, reply, 0,
		                   MACH_PORT_NULL);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench task round trip: %s, %u round trips, %lu per round trip (two messages)\n",
	    kr_name(mr), ITERATIONS, (unsigned long)(total / ITERATIONS));
	task_terminate(child);
}
