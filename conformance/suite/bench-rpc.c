/* bench-rpc.c: a null kernel RPC, mach_port_type through the MIG user stub, per iteration in
 * guest TSC ticks (guest instructions under QEMU -icount shift=0,sleep=off). */
#include "suite.h"

#include "mach_port.h"

SUITE_PROGRAM("bench-rpc");

#define WARMUP 100
#define ITERATIONS 1000

void suite_main(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	kern_return_t kr = KERN_SUCCESS;
	mach_port_type_t type = 0;
	uint64_t start = 0;

	for (int i = 0; i < WARMUP + ITERATIONS && kr == KERN_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		kr = mach_port_type(task_self, p, &type);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench null RPC mach_port_type: %s type %s, %u iterations, %lu per iteration\n",
	    kr_name(kr), type_name(type), ITERATIONS, (unsigned long)(total / ITERATIONS));
}
