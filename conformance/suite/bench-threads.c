/* bench-threads.c: message round trips between two threads of one task: the first thread
 * sends to the second's port and receives from its own in one mach_msg, the second does the
 * same the other way.  Per round trip (two messages, two thread switches) in guest TSC ticks
 * (guest instructions under QEMU -icount shift=0,sleep=off). */
#include "suite.h"

#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("bench-threads");

#define WARMUP 100
#define ITERATIONS 1000

static mach_port_t ping, pong;

void suite_thread_main(void *arg)
{
	(void)arg;
	mach_msg_header_t m;
	memset(&m, 0, sizeof m);
	mach_msg_trap(&m, MACH_RCV_MSG, 0, sizeof m, ping, 0, MACH_PORT_NULL);
	for (;;) {
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
		m.msgh_size = sizeof m;
		m.msgh_remote_port = pong;
		m.msgh_local_port = MACH_PORT_NULL;
		m.msgh_id = 2;
		mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, ping, 0,
		              MACH_PORT_NULL);
	}
}

void suite_main(void)
{
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &ping);
	mach_port_insert_right(task_self, ping, ping, MACH_MSG_TYPE_MAKE_SEND);
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &pong);
	mach_port_insert_right(task_self, pong, pong, MACH_MSG_TYPE_MAKE_SEND);

	thread_t thread = MACH_PORT_NULL;
	kern_return_t kr = thread_create(task_self, &thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	if (kr == KERN_SUCCESS)
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	vm_address_t stack = 0;
	vm_allocate(task_self, &stack, 16 * 4096, TRUE);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = stack + 16 * 4096 - 64;
	if (kr == KERN_SUCCESS)
		kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	if (kr == KERN_SUCCESS)
		kr = thread_resume(thread);
	if (kr != KERN_SUCCESS) {
		out("bench thread round trip: thread set-up %s\n", kr_name(kr));
		return;
	}

	mach_msg_header_t m;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	uint64_t start = 0;
	for (int i = 0; i < WARMUP + ITERATIONS && mr == MACH_MSG_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
		m.msgh_size = sizeof m;
		m.msgh_remote_port = ping;
		m.msgh_local_port = MACH_PORT_NULL;
		m.msgh_id = 1;
		mr = mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, pong, 0,
		                   MACH_PORT_NULL);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench thread round trip: %s, %u round trips, %lu per round trip (two messages)\n",
	    kr_name(mr), ITERATIONS, (unsigned long)(total / ITERATIONS));
	thread_terminate(thread);
}
