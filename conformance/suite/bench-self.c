/* bench-self.c: a null message to self, sent and received in one mach_msg trap.  Prints the
 * guest TSC delta per iteration: under QEMU -icount shift=0,sleep=off that is the number of
 * guest instructions (a benchmark: figures vary without -icount and are never compared). */
#include "suite.h"

#include "mach_port.h"

SUITE_PROGRAM("bench-self");

#define WARMUP 100
#define ITERATIONS 1000

void suite_main(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	mach_msg_header_t m;
	mach_msg_return_t kr = MACH_MSG_SUCCESS;
	uint64_t start = 0;

	for (int i = 0; i < WARMUP + ITERATIONS && kr == MACH_MSG_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
		m.msgh_size = sizeof m;
		m.msgh_remote_port = p;
		m.msgh_local_port = MACH_PORT_NULL;
		m.msgh_id = 1;
		kr = mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, p, 0,
		                   MACH_PORT_NULL);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench null message to self: %s, %u iterations, %lu per iteration\n", kr_name(kr),
	    ITERATIONS, (unsigned long)(total / ITERATIONS));
}
