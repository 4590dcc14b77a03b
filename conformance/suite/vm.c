/* vm.c: vm_read, vm_write, vm_copy and vm_statistics on the task itself, with their failures
 * (unaligned and unmapped ranges, protection), copy semantics of vm_read (later writes to the
 * source do not reach the copy), and vm_allocate / vm_deallocate / vm_protect edge cases
 * (fixed over a region, size 0, ranges that wrap or reach the kernel's half). Values only:
 * codes, counts and bytes, never addresses. */
#include "suite.h"

#include "mach.h"

SUITE_PROGRAM("vm");

#define PAGE 4096UL

/* FNV-1a over the bytes. */
static unsigned sum(const unsigned char *p, unsigned long n)
{
	unsigned s = 2166136261u;
	for (unsigned long i = 0; i < n; i++)
		s = (s ^ p[i]) * 16777619u;
	return s;
}

static void show_region(const char *what, vm_address_t at)
{
	vm_address_t addr = at;
	vm_size_t size = 0;
	vm_prot_t prot = 0, max = 0;
	vm_inherit_t inh = 0;
	boolean_t shared = 0;
	mach_port_t name = MACH_PORT_NULL;
	vm_offset_t off = 0;
	kern_return_t kr = vm_region(task_self, &addr, &size, &prot, &max, &inh, &shared, &name, &off);
	if (kr != KERN_SUCCESS)
		out("%s: vm_region %s\n", what, kr_name(kr));
	else
		out("%s: vm_region at+%ld size %lu prot %d max %d inherit %d\n", what,
		    (long)(addr - at), (unsigned long)size, prot, max, inh);
}

void suite_main(void)
{
	vm_address_t a = 0, src = 0;
	kern_return_t kr = vm_allocate(task_self, &src, 2 * PAGE, TRUE);
	out("allocate 2 source pages: %s\n", kr_name(kr));
	kr = vm_allocate(task_self, &a, 5 * PAGE, TRUE);
	out("allocate 5 pages: %s\n", kr_name(kr));
	out("deallocate the last: %s\n", kr_name(vm_deallocate(task_self, a + 4 * PAGE, PAGE)));
	unsigned char *s = (unsigned char *)src;
	for (unsigned long i = 0; i < 2 * PAGE; i++)
		s[i] = (unsigned char)(i * 7 + 3);
	out("source sum %08x\n", sum(s, 2 * PAGE));

	/* vm_write */
	out("write 1 page at +1: %s\n", kr_name(vm_write(task_self, a + PAGE, src, PAGE)));
	unsigned char *d = (unsigned char *)a;
	out("page 1 sum %08x, page 0 sum %08x\n", sum(d + PAGE, PAGE), sum(d, PAGE));
	out("write at unaligned address: %s\n", kr_name(vm_write(task_self, a + 1, src, PAGE)));
	out("write of 100 bytes: %s\n", kr_name(vm_write(task_self, a, src, 100)));
	out("page 0 first bytes %u %u %u, byte 100 %u\n", d[0], d[1], d[99], d[100]);
	out("write from unaligned data: %s\n", kr_name(vm_write(task_self, a + 2 * PAGE, src + 8, PAGE)));
	out("page 2 first byte %u\n", d[2 * PAGE]);
	out("write past the region: %s\n", kr_name(vm_write(task_self, a + 3 * PAGE, src, 2 * PAGE)));
	out("copy past the region: %s\n", kr_name(vm_copy(task_self, a, 2 * PAGE, a + 3 * PAGE)));
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	kr = vm_read(task_self, a + 3 * PAGE, 2 * PAGE, &data, &count);
	out("read past the region: %s\n", kr_name(kr));
	vm_address_t hole = a + 4 * PAGE;
	out("allocate the hole again: %s\n", kr_name(vm_allocate(task_self, &hole, PAGE, FALSE)));
	out("page 3 first byte %u\n", d[3 * PAGE]);

	/* vm_read */
	kr = vm_read(task_self, src, 2 * PAGE, &data, &count);
	out("read 2 pages: %s count %u\n", kr_name(kr), count);
	if (kr == KERN_SUCCESS) {
		unsigned char *c = (unsigned char *)data;
		out("copy sum %08x\n", sum(c, count));
		s[0] = 0xAA;
		s[PAGE + 5] = 0xBB;
		out("after the source changed: copy bytes %u %u, sum %08x\n", c[0], c[PAGE + 5], sum(c, count));
		c[1] = 0xCC;
		out("after the copy changed: source byte %u\n", s[1]);
		out("deallocate the copy: %s\n", kr_name(vm_deallocate(task_self, data, count)));
	}
	kr = vm_read(task_self, src + 100, 50, &data, &count);
	out("read 50 bytes at +100: %s count %u\n", kr_name(kr), count);
	if (kr == KERN_SUCCESS) {
		out("  first byte %u (source %u)\n", ((unsigned char *)data)[0], s[100]);
		vm_deallocate(task_self, data, count);
	}
	kr = vm_read(task_self, src, 0, &data, &count);
	out("read 0 bytes: %s count %u\n", kr_name(kr), count);

	/* vm_copy */
	out("copy page 1 to page 3: %s\n", kr_name(vm_copy(task_self, a + PAGE, PAGE, a + 3 * PAGE)));
	out("page 3 sum %08x (page 1 %08x)\n", sum(d + 3 * PAGE, PAGE), sum(d + PAGE, PAGE));
	out("copy unaligned: %s\n", kr_name(vm_copy(task_self, a + 1, PAGE, a + 2 * PAGE)));
	out("copy of 10 bytes: %s\n", kr_name(vm_copy(task_self, a + PAGE, 10, a + 2 * PAGE)));

	/* protection */
	out("protect page 0 none: %s\n", kr_name(vm_protect(task_self, a, PAGE, FALSE, VM_PROT_NONE)));
	kr = vm_read(task_self, a, PAGE, &data, &count);
	out("read a page without access: %s\n", kr_name(kr));
	out("write into it: %s\n", kr_name(vm_write(task_self, a, src, PAGE)));
	out("copy from it: %s\n", kr_name(vm_copy(task_self, a, PAGE, a + 2 * PAGE)));
	out("protect page 0 read: %s\n", kr_name(vm_protect(task_self, a, PAGE, FALSE, VM_PROT_READ)));
	out("write into a read-only page: %s\n", kr_name(vm_write(task_self, a, src, PAGE)));
	out("copy into a read-only page: %s\n", kr_name(vm_copy(task_self, a + PAGE, PAGE, a)));
	kr = vm_read(task_self, a, PAGE, &data, &count);
	out("read a read-only page: %s count %u\n", kr_name(kr), count);
	if (kr == KERN_SUCCESS)
		vm_deallocate(task_self, data, count);
	out("max read: %s\n", kr_name(vm_protect(task_self, a, PAGE, TRUE, VM_PROT_READ)));
	out("raise past max: %s\n", kr_name(vm_protect(task_self, a, PAGE, FALSE, VM_PROT_ALL)));
	show_region("page 0", a);

	/* unmapped */
	out("deallocate pages 2-3: %s\n", kr_name(vm_deallocate(task_self, a + 2 * PAGE, 2 * PAGE)));
	kr = vm_read(task_self, a + 2 * PAGE, PAGE, &data, &count);
	out("read unmapped: %s\n", kr_name(kr));
	out("write unmapped: %s\n", kr_name(vm_write(task_self, a + 2 * PAGE, src, PAGE)));
	out("copy to unmapped: %s\n", kr_name(vm_copy(task_self, a + PAGE, PAGE, a + 2 * PAGE)));
	out("copy from unmapped: %s\n", kr_name(vm_copy(task_self, a + 2 * PAGE, PAGE, a + PAGE)));
	out("deallocate unmapped again: %s\n", kr_name(vm_deallocate(task_self, a + 2 * PAGE, PAGE)));

	/* vm_allocate edges */
	vm_address_t f = a;
	out("allocate fixed over a region: %s\n", kr_name(vm_allocate(task_self, &f, PAGE, FALSE)));
	f = a + 2 * PAGE;
	out("allocate fixed in the hole: %s, same address %d\n",
	    kr_name(vm_allocate(task_self, &f, PAGE, FALSE)), f == a + 2 * PAGE);
	f = a + 2 * PAGE + 100;
	kr = vm_allocate(task_self, &f, 100, FALSE);
	out("allocate fixed unaligned over it: %s\n", kr_name(kr));
	f = 0;
	out("allocate size 0: %s\n", kr_name(vm_allocate(task_self, &f, 0, TRUE)));
	f = 0xfffffffffffff000UL;
	out("allocate fixed that wraps: %s\n", kr_name(vm_allocate(task_self, &f, 2 * PAGE, FALSE)));
	f = 0xffff800000000000UL;
	out("allocate fixed in the kernel half: %s\n", kr_name(vm_allocate(task_self, &f, PAGE, FALSE)));
	f = 0x00007ffffffff000UL;
	out("allocate fixed across the lower half's end: %s\n",
	    kr_name(vm_allocate(task_self, &f, 2 * PAGE, FALSE)));
	f = 0;
	out("allocate 1<<47 anywhere: %s\n", kr_name(vm_allocate(task_self, &f, 1UL << 47, TRUE)));
	f = 0;
	out("allocate ~0 anywhere: %s\n", kr_name(vm_allocate(task_self, &f, ~0UL, TRUE)));
	out("deallocate a range that wraps: %s\n",
	    kr_name(vm_deallocate(task_self, 0xfffffffffffff000UL, 2 * PAGE)));
	out("deallocate in the kernel half: %s\n",
	    kr_name(vm_deallocate(task_self, 0xffff800000000000UL, PAGE)));
	out("deallocate size 0: %s\n", kr_name(vm_deallocate(task_self, a, 0)));
	out("protect a range that wraps: %s\n",
	    kr_name(vm_protect(task_self, 0xfffffffffffff000UL, 2 * PAGE, FALSE, VM_PROT_READ)));
	out("protect unmapped: %s\n",
	    kr_name(vm_protect(task_self, a + 3 * PAGE, PAGE, FALSE, VM_PROT_READ)));
	out("inherit unmapped: %s\n", kr_name(vm_inherit(task_self, a + 3 * PAGE, PAGE, VM_INHERIT_NONE)));
	kr = vm_read(task_self, 0xfffffffffffff000UL, 2 * PAGE, &data, &count);
	out("read a range that wraps: %s\n", kr_name(kr));
	kr = vm_read(task_self, 0xffff800000000000UL, PAGE, &data, &count);
	out("read the kernel half: %s\n", kr_name(kr));

	/* statistics */
	vm_statistics_data_t st;
	kr = vm_statistics(task_self, &st);
	out("vm_statistics: %s pagesize %d\n", kr_name(kr), (int)st.pagesize);
	kr = vm_statistics(mach_host_self_trap(), &st);
	out("vm_statistics on the host port: %s\n", kr_name(kr));
}
