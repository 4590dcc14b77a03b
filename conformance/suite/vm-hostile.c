/* vm-hostile.c: the vm_* calls on hostile ranges (address 0, ranges that wrap, cross into or
 * lie in the kernel's half, sizes past physical memory and past the address space, invalid
 * protections and inheritances), vm_allocate anywhere until the address space is full, and
 * memory far larger than physical memory allocated, touched sparsely, read and given back.
 * Values only: codes, counts and bytes, never addresses.
 * Not here: the top of the lower half (GNU Mach's stack is its last 128 KiB, Mach_R keeps
 * its last page unmapped); vm_* calls on [0x7ffffffff000, 0x800000001000) (vm_protect there
 * did not return on GNU Mach); touching pages until physical memory runs out (Mach_R only: the
 * ktest vm_exhaustion). See OBSERVED.md. */
#include "suite.h"

#include "mach.h"

SUITE_PROGRAM("vm-hostile");

#define PAGE 4096UL
#define GiB (1UL << 30)
#define TiB (1UL << 40)

static void fixed(const char *what, vm_address_t at, vm_size_t size)
{
	vm_address_t a = at;
	kern_return_t kr = vm_allocate(task_self, &a, size, FALSE);
	out("allocate fixed %s: %s", what, kr_name(kr));
	if (kr == KERN_SUCCESS) {
		out(", same address %d, deallocate %s", a == (at & ~(PAGE - 1)),
		    kr_name(vm_deallocate(task_self, a, size)));
	}
	out("\n");
}

static void anywhere(const char *what, vm_size_t size)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_allocate(task_self, &a, size, TRUE);
	out("allocate anywhere %s: %s", what, kr_name(kr));
	if (kr == KERN_SUCCESS)
		out(", deallocate %s", kr_name(vm_deallocate(task_self, a, size)));
	out("\n");
}

static void region(const char *what, vm_address_t at)
{
	vm_address_t addr = at;
	vm_size_t size = 0;
	vm_prot_t prot = 0, max = 0;
	vm_inherit_t inh = 0;
	boolean_t shared = 0;
	mach_port_t name = MACH_PORT_NULL;
	vm_offset_t off = 0;
	kern_return_t kr = vm_region(task_self, &addr, &size, &prot, &max, &inh, &shared, &name, &off);
	out("vm_region %s: %s\n", what, kr_name(kr));
}

static void calls_on(const char *what, vm_address_t a, vm_size_t size)
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	kern_return_t kr = vm_read(task_self, a, size, &data, &count);
	if (kr == KERN_SUCCESS)
		vm_deallocate(task_self, data, count);
	out("%s: read %s", what, kr_name(kr));
	out(", copy %s", kr_name(vm_copy(task_self, a, size, 0x10000000UL)));
	out(", protect %s", kr_name(vm_protect(task_self, a, size, FALSE, VM_PROT_READ)));
	out(", inherit %s", kr_name(vm_inherit(task_self, a, size, VM_INHERIT_SHARE)));
	out(", deallocate %s\n", kr_name(vm_deallocate(task_self, a, size)));
}

void suite_main(void)
{
	/* Fixed addresses at the edges. */
	fixed("at 0", 0, PAGE);
	fixed("at 0x1000", 0x1000, PAGE);
	fixed("of 1 TiB at 1 TiB", TiB, TiB);
	fixed("of 64 TiB at 64 TiB", 64 * TiB, 64 * TiB);
	fixed("at the first kernel address", 0x0000800000000000UL, PAGE);
	fixed("non-canonical", 0x0000900000000000UL, PAGE);
	fixed("of ~0 at 1 TiB", TiB, ~0UL);
	fixed("of size 2^63 at 1 TiB", TiB, 1UL << 63);
	fixed("in the upper half", 0xffffffff80000000UL, PAGE);

	/* Sizes past physical memory and the address space, anywhere. */
	anywhere("1 GiB", GiB);
	anywhere("64 GiB", 64 * GiB);
	anywhere("64 TiB", 64 * TiB);
	anywhere("127 TiB", 127 * TiB);
	anywhere("128 TiB", 128 * TiB);
	anywhere("2^63", 1UL << 63);
	anywhere("~0 - 4095", ~0UL - 4095);

	/* Memory far larger than physical memory: touched sparsely, read, given back. */
	vm_address_t big = 0;
	kern_return_t kr = vm_allocate(task_self, &big, 16 * GiB, TRUE);
	out("allocate 16 GiB: %s\n", kr_name(kr));
	if (kr == KERN_SUCCESS) {
		unsigned char *p = (unsigned char *)big;
		for (unsigned long off = 0; off < 16 * GiB; off += GiB)
			p[off + 7] = (unsigned char)(off >> 30);
		unsigned total = 0;
		for (unsigned long off = 0; off < 16 * GiB; off += GiB)
			total += p[off + 7] + p[off + 8];
		out("16 GiB: 16 touched pages sum %u\n", total);
		vm_offset_t data = 0;
		mach_msg_type_number_t count = 0;
		kr = vm_read(task_self, big + 3 * GiB, 2 * PAGE, &data, &count);
		out("16 GiB: read 2 pages at 3 GiB %s count %u", kr_name(kr), count);
		if (kr == KERN_SUCCESS) {
			out(" bytes %u %u", ((unsigned char *)data)[7], ((unsigned char *)data)[PAGE + 7]);
			vm_deallocate(task_self, data, count);
		}
		out("\n");
		out("16 GiB: protect all read %s\n",
		    kr_name(vm_protect(task_self, big, 16 * GiB, FALSE, VM_PROT_READ)));
		out("16 GiB: read back %u\n", p[5 * GiB + 7]);
		out("16 GiB: deallocate %s\n", kr_name(vm_deallocate(task_self, big, 16 * GiB)));
	}

	/* Every call on hostile ranges. */
	calls_on("wrapping range", 0xfffffffffffff000UL, 2 * PAGE);
	calls_on("kernel half", 0xffff800000000000UL, PAGE);
	calls_on("kernel image", 0xffffffff80200000UL, PAGE);
	calls_on("non-canonical range", 0x0000900000000000UL, PAGE);
	calls_on("size ~0 at a page", 0x10000000UL, ~0UL);
	calls_on("page 0", 0, PAGE);

	vm_address_t a = 0;
	vm_allocate(task_self, &a, 2 * PAGE, TRUE);
	out("protect with bit 8: %s\n", kr_name(vm_protect(task_self, a, PAGE, FALSE, 8)));
	out("protect max with ~0: %s\n", kr_name(vm_protect(task_self, a, PAGE, TRUE, ~0)));
	out("inherit 3: %s\n", kr_name(vm_inherit(task_self, a, PAGE, 3)));
	out("inherit ~0: %s\n", kr_name(vm_inherit(task_self, a, PAGE, ~0)));
	vm_deallocate(task_self, a, 2 * PAGE);

	region("in the kernel half", 0xffff800000000000UL);
	region("at ~0", ~0UL);

	/* Anywhere until the address space is full: 1 TiB at a time. */
	unsigned n = 0;
	vm_address_t got[256];
	for (; n < 256; n++) {
		got[n] = 0;
		kr = vm_allocate(task_self, &got[n], TiB, TRUE);
		if (kr != KERN_SUCCESS)
			break;
	}
	out("1 TiB regions anywhere: %u, then %s\n", n, kr_name(kr));
	vm_address_t small = 0;
	kr = vm_allocate(task_self, &small, 64 * GiB, TRUE);
	out("then 64 GiB anywhere: %s\n", kr_name(kr));
	unsigned more = 0;
	for (; more < 64 && kr == KERN_SUCCESS; more++) {
		small = 0;
		kr = vm_allocate(task_self, &small, 64 * GiB, TRUE);
	}
	out("64 GiB regions after that: %u, then %s\n", more, kr_name(kr));
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += vm_deallocate(task_self, got[i], TiB) == KERN_SUCCESS;
	out("deallocated %u\n", ok);
	anywhere("1 TiB again", TiB);
}
