/* bench-ool.c: 64 KiB of out-of-line data to a port of the task's own, sent and received in
 * one mach_msg trap, the received region deallocated, per iteration.  Prints the guest TSC
 * delta per iteration: under QEMU -icount shift=0,sleep=off that is the number of guest
 * instructions (a benchmark: figures vary without -icount and are never compared). */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("bench-ool");

#define WARMUP 20
#define ITERATIONS 200
#define SIZE (64 * 1024)

static struct msg_buffer r;

void suite_main(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	vm_address_t data = 0;
	vm_allocate(task_self, &data, SIZE, TRUE);
	for (unsigned i = 0; i < SIZE; i += 4096)
		((volatile unsigned char *)data)[i] = (unsigned char)i;
	struct msg_builder b;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0), p, MACH_PORT_NULL, 1);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, SIZE, (void *)data, 0);
	mach_msg_return_t kr = MACH_MSG_SUCCESS;
	uint64_t start = 0;
	for (int i = 0; i < WARMUP + ITERATIONS && kr == MACH_MSG_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		mach_msg_header_t *m = (mach_msg_header_t *)r.bytes;
		__builtin_memcpy(m, b.u.bytes, b.len);
		kr = mach_msg_trap(m, MACH_SEND_MSG | MACH_RCV_MSG, b.len, sizeof r, p, 0,
		                   MACH_PORT_NULL);
		if (kr != MACH_MSG_SUCCESS)
			break;
		vm_address_t got = *(vm_address_t *)(r.bytes + sizeof(mach_msg_header_t) + 8);
		kr = vm_deallocate(task_self, got, SIZE);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench 64 KiB out-of-line to self (send+receive, vm_deallocate): %s, %u iterations, %lu per iteration\n",
	    kr_name(kr), ITERATIONS, (unsigned long)(total / ITERATIONS));
}
