/* bench-vm.c: vm_allocate of one page (anywhere), one store into it (the page fault that
 * gives it a frame), vm_deallocate, per iteration.  Prints the guest TSC delta per iteration:
 * under QEMU -icount shift=0,sleep=off that is the number of guest instructions (a benchmark:
 * figures vary without -icount and are never compared). */
#include "suite.h"

#include "mach.h"

SUITE_PROGRAM("bench-vm");

#define WARMUP 50
#define ITERATIONS 500

void suite_main(void)
{
	kern_return_t kr = KERN_SUCCESS;
	uint64_t start = 0;
	for (int i = 0; i < WARMUP + ITERATIONS && kr == KERN_SUCCESS; i++) {
		if (i == WARMUP)
			start = suite_rdtsc();
		vm_address_t a = 0;
		kr = vm_allocate(task_self, &a, 4096, TRUE);
		if (kr != KERN_SUCCESS)
			break;
		*(volatile unsigned char *)a = (unsigned char)i;
		kr = vm_deallocate(task_self, a, 4096);
	}
	uint64_t total = suite_rdtsc() - start;
	out("bench vm_allocate + touch + vm_deallocate of one page: %s, %u iterations, %lu per iteration\n",
	    kr_name(kr), ITERATIONS, (unsigned long)(total / ITERATIONS));
}
