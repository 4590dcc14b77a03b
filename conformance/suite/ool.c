/* ool.c: out-of-line data in messages, both directions.  User to user through a port of the
 * task's own (with and without deallocate, aligned and not, empty, large, from read-only,
 * unreadable and untouched memory): the sender's later writes do not reach the receiver and
 * the receiver's do not reach the sender, a received region is a fresh region of the
 * receiver (vm_region), deallocate removes the sender's pages.  Kernel replies (vm_read, the
 * arrays of mach_port_names) and requests (vm_write) with the same checks.  Values only:
 * codes, sizes, sums, offsets in a page and yes/no, never addresses. */
#include "suite.h"

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("ool");

#define PAGE 4096UL

static mach_port_t port;

/* FNV-1a over the bytes. */
static unsigned sum(const unsigned char *p, unsigned long n)
{
	unsigned s = 2166136261u;
	for (unsigned long i = 0; i < n; i++)
		s = (s ^ p[i]) * 16777619u;
	return s;
}

static void pattern(unsigned char *p, unsigned long n, unsigned seed)
{
	for (unsigned long i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 13 + seed + (i >> 12));
}

static vm_address_t allocate(unsigned long size)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_allocate(task_self, &a, size, TRUE);
	if (kr != KERN_SUCCESS)
		out("vm_allocate %lu: %s\n", size, kr_name(kr));
	return a;
}

/* Whether the page holding `a` is in a region of the task, and that region's attributes
 * relative to `a`. */
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
	else if (addr > at)
		out("%s: no region here (next one %s)\n", what, addr - at < (1UL << 40) ? "above" : "far");
	else
		out("%s: region from -%lu size %lu prot %d max %d inherit %d shared %d\n", what,
		    (unsigned long)(at - addr), (unsigned long)size, prot, max, inh, shared);
}

/* Whether the page of `a` is readable: vm_read of one page. */
static const char *readable(vm_address_t a)
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	kern_return_t kr = vm_read(task_self, a & ~(PAGE - 1), PAGE, &data, &count);
	if (kr == KERN_SUCCESS)
		vm_deallocate(task_self, data, count);
	return kr_name(kr);
}

static struct msg_buffer r;

/* Sends `n` bytes at `data` out of line to the port (deallocate if asked), returns the code. */
static mach_msg_return_t send_ool(const void *data, unsigned n, int dealloc, int id)
{
	struct msg_builder b;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), port, MACH_PORT_NULL, id);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, n, data, dealloc);
	return mb_send(&b, MACH_SEND_TIMEOUT, 0);
}

/* Receives the message sent by send_ool; returns the received region and its count. */
static unsigned char *receive_ool(const char *what, unsigned *count)
{
	mach_msg_return_t kr = receive(&r, port, MACH_RCV_TIMEOUT, 0);
	*count = 0;
	if (kr != MACH_MSG_SUCCESS) {
		out("%s: receive %s\n", what, kr_name(kr));
		return NULL;
	}
	const mach_msg_type_t *t = (const mach_msg_type_t *)(&r.head + 1);
	unsigned char *p = *(unsigned char **)(t + 1);
	*count = t->msgt_number;
	out("%s: received id %d size %u, %s number %u inline %u deallocate %u, null %d\n", what,
	    r.head.msgh_id, r.head.msgh_size, msgt_name(t->msgt_name), t->msgt_number,
	    t->msgt_inline, t->msgt_deallocate, p == NULL);
	return p;
}

static void user_to_user(void)
{
	/* Three pages, no deallocate; the sender writes after sending. */
	unsigned char *src = (unsigned char *)allocate(3 * PAGE);
	pattern(src, 3 * PAGE, 1);
	unsigned before = sum(src, 3 * PAGE);
	out("3 pages: send %s\n", kr_name(send_ool(src, 3 * PAGE, 0, 1)));
	src[0] = 0xA1;
	src[PAGE + 17] = 0xA2;
	src[3 * PAGE - 1] = 0xA3;
	unsigned n = 0;
	unsigned char *got = receive_ool("3 pages", &n);
	if (got) {
		out("3 pages: sum matches the source at send %d, other pages %d, offset in page %lu\n",
		    sum(got, n) == before, got != src, (unsigned long)((vm_address_t)got % PAGE));
		out("3 pages: bytes %u %u %u (source now %u %u %u)\n", got[0], got[PAGE + 17],
		    got[3 * PAGE - 1], src[0], src[PAGE + 17], src[3 * PAGE - 1]);
		show_region("3 pages received", (vm_address_t)got);
		got[1] = 0xB1;
		out("3 pages: after the receiver wrote, source byte %u\n", src[1]);
		out("3 pages: deallocate the received region %s\n",
		    kr_name(vm_deallocate(task_self, (vm_address_t)got, n)));
	}
	show_region("3 pages source after", (vm_address_t)src);

	/* Two pages with deallocate: the sender's pages are gone. */
	unsigned char *d = (unsigned char *)allocate(2 * PAGE);
	pattern(d, 2 * PAGE, 2);
	before = sum(d, 2 * PAGE);
	out("dealloc 2 pages: send %s\n", kr_name(send_ool(d, 2 * PAGE, 1, 2)));
	out("dealloc 2 pages: source page readable: %s\n", readable((vm_address_t)d));
	show_region("dealloc 2 pages source", (vm_address_t)d);
	got = receive_ool("dealloc 2 pages", &n);
	if (got) {
		out("dealloc 2 pages: sum matches %d\n", sum(got, n) == before);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}

	/* Unaligned data: 5000 bytes at offset 100 of a page, neighbours marked. */
	unsigned char *u = (unsigned char *)allocate(3 * PAGE);
	pattern(u, 3 * PAGE, 3);
	before = sum(u + 100, 5000);
	out("unaligned 5000 at +100: send %s\n", kr_name(send_ool(u + 100, 5000, 0, 3)));
	got = receive_ool("unaligned 5000 at +100", &n);
	if (got) {
		unsigned long off = (vm_address_t)got % PAGE;
		out("unaligned: sum matches %d, offset in page %lu\n", sum(got, n) == before, off);
		unsigned char *page = got - off;
		out("unaligned: first byte of its page %u (source page %u), byte after the data %u "
		    "(source %u)\n", page[0], u[0], got[5001], u[5101]);
		show_region("unaligned received", (vm_address_t)got);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}

	/* Unaligned with deallocate: which of the sender's pages go. */
	out("unaligned dealloc 200 at +4000: send %s\n", kr_name(send_ool(u + 4000, 200, 1, 4)));
	out("unaligned dealloc: page 0 %s, page 1 %s, page 2 %s\n", readable((vm_address_t)u),
	    readable((vm_address_t)u + PAGE), readable((vm_address_t)u + 2 * PAGE));
	got = receive_ool("unaligned dealloc", &n);
	if (got) {
		out("unaligned dealloc: offset in page %lu, first byte %u\n",
		    (unsigned long)((vm_address_t)got % PAGE), got[0]);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}

	/* Nothing: 0 bytes. */
	out("0 bytes: send %s\n", kr_name(send_ool(src, 0, 0, 5)));
	got = receive_ool("0 bytes", &n);

	/* 64 KiB. */
	unsigned char *big = (unsigned char *)allocate(64 * 1024);
	pattern(big, 64 * 1024, 4);
	before = sum(big, 64 * 1024);
	out("64 KiB: send %s\n", kr_name(send_ool(big, 64 * 1024, 0, 6)));
	big[30000] ^= 0xff;
	got = receive_ool("64 KiB", &n);
	if (got) {
		out("64 KiB: sum matches the source at send %d\n", sum(got, n) == before);
		show_region("64 KiB received", (vm_address_t)got);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}

	/* Memory never touched: zeros. */
	unsigned char *z = (unsigned char *)allocate(4 * PAGE);
	out("untouched 4 pages: send %s\n", kr_name(send_ool(z, 4 * PAGE, 0, 7)));
	got = receive_ool("untouched 4 pages", &n);
	if (got) {
		unsigned nonzero = 0;
		for (unsigned i = 0; i < n; i++)
			nonzero += got[i] != 0;
		out("untouched: non-zero bytes %u\n", nonzero);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}

	/* Read-only and unreadable sources. */
	unsigned char *ro = (unsigned char *)allocate(PAGE);
	ro[5] = 55;
	out("protect read-only: %s\n", kr_name(vm_protect(task_self, (vm_address_t)ro, PAGE, FALSE, VM_PROT_READ)));
	out("read-only: send %s\n", kr_name(send_ool(ro, PAGE, 0, 8)));
	got = receive_ool("read-only", &n);
	if (got) {
		out("read-only: byte 5 %u\n", got[5]);
		show_region("read-only received", (vm_address_t)got);
		got[6] = 1;
		out("read-only: the received copy is writable, byte 6 %u\n", got[6]);
		vm_deallocate(task_self, (vm_address_t)got, n);
	}
	out("protect none: %s\n", kr_name(vm_protect(task_self, (vm_address_t)ro, PAGE, FALSE, VM_PROT_NONE)));
	mach_msg_return_t kr = send_ool(ro, PAGE, 0, 9);
	out("no access: send %s\n", kr_name(kr));
	if (kr == MACH_MSG_SUCCESS) {
		got = receive_ool("no access", &n);
		if (got)
			vm_deallocate(task_self, (vm_address_t)got, n);
	}
	kr = send_ool(ro, PAGE, 1, 10);
	out("no access with deallocate: send %s\n", kr_name(kr));
	if (kr == MACH_MSG_SUCCESS) {
		got = receive_ool("no access with deallocate", &n);
		if (got)
			vm_deallocate(task_self, (vm_address_t)got, n);
	}
	show_region("no access source after", (vm_address_t)ro);

	/* Two regions in one message, the second with deallocate. */
	unsigned char *a1 = (unsigned char *)allocate(PAGE), *a2 = (unsigned char *)allocate(PAGE);
	pattern(a1, PAGE, 5);
	pattern(a2, PAGE, 6);
	unsigned s1 = sum(a1, PAGE), s2 = sum(a2, PAGE);
	struct msg_builder b;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), port, MACH_PORT_NULL, 11);
	mb_ool(&b, MACH_MSG_TYPE_BYTE, 8, PAGE, a1, 0);
	mb_ool(&b, MACH_MSG_TYPE_INTEGER_32, 32, PAGE / 4, a2, 1);
	out("two regions: send %s\n", kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
	out("two regions: first source %s, second source %s\n", readable((vm_address_t)a1),
	    readable((vm_address_t)a2));
	kr = receive(&r, port, MACH_RCV_TIMEOUT, 0);
	out("two regions: receive %s size %u\n", kr_name(kr), r.head.msgh_size);
	if (kr == MACH_MSG_SUCCESS) {
		const mach_msg_type_t *t = (const mach_msg_type_t *)(&r.head + 1);
		unsigned char *p1 = *(unsigned char **)(t + 1);
		const mach_msg_type_t *t2 = (const mach_msg_type_t *)((char *)(t + 1) + 8);
		unsigned char *p2 = *(unsigned char **)(t2 + 1);
		out("two regions: %s number %u, %s number %u, sums match %d %d, distinct %d\n",
		    msgt_name(t->msgt_name), t->msgt_number, msgt_name(t2->msgt_name), t2->msgt_number,
		    sum(p1, PAGE) == s1, sum(p2, PAGE) == s2, p1 != p2);
		vm_deallocate(task_self, (vm_address_t)p1, PAGE);
		vm_deallocate(task_self, (vm_address_t)p2, PAGE);
	}
}

static void kernel_both_ways(void)
{
	/* Replies: vm_read gives a fresh copy. */
	unsigned char *s = (unsigned char *)allocate(2 * PAGE);
	pattern(s, 2 * PAGE, 7);
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	kern_return_t kr = vm_read(task_self, (vm_address_t)s, 2 * PAGE, &data, &count);
	out("vm_read 2 pages: %s count %u\n", kr_name(kr), count);
	if (kr == KERN_SUCCESS) {
		unsigned char *c = (unsigned char *)data;
		unsigned at = sum(c, count);
		s[3] = 0x99;
		out("vm_read: later source writes reach the copy %d, offset in page %lu\n",
		    sum(c, count) != at, (unsigned long)(data % PAGE));
		show_region("vm_read copy", data);
		vm_deallocate(task_self, data, count);
	}
	kr = vm_read(task_self, (vm_address_t)s + 300, 1000, &data, &count);
	out("vm_read 1000 at +300: %s count %u\n", kr_name(kr), count);
	if (kr == KERN_SUCCESS) {
		out("vm_read unaligned: offset in page %lu, first byte %u (source %u)\n",
		    (unsigned long)(data % PAGE), ((unsigned char *)data)[0], s[300]);
		vm_deallocate(task_self, data, count);
	}

	/* Requests: vm_write from a region the sender changes afterwards. */
	unsigned char *d = (unsigned char *)allocate(PAGE);
	kr = vm_write(task_self, (vm_address_t)d, (vm_offset_t)s, PAGE);
	out("vm_write 1 page: %s, sum matches %d\n", kr_name(kr), sum(d, PAGE) == sum(s, PAGE));
	s[10] = 0x77;
	out("vm_write: later source writes reach the target %d\n", d[10] == 0x77);

	/* Reply arrays: mach_port_names, before and after three more names (the counts are not
	 * printed: GNU Mach's differ from Mach_R's, an IPC matter outside this program). */
	mach_port_array_t names = NULL;
	mach_port_type_array_t types = NULL;
	mach_msg_type_number_t nn = 0, nt = 0;
	for (int round = 0; round < 2; round++) {
		kr = mach_port_names(task_self, &names, &nn, &types, &nt);
		out("mach_port_names: %s, counts equal %d\n", kr_name(kr), nn == nt);
		if (kr != KERN_SUCCESS)
			break;
		if (round == 0) {
			mach_port_t extra;
			for (int i = 0; i < 3; i++)
				mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &extra);
		}
		show_region("names array", (vm_address_t)names);
		out("deallocate the arrays: %s %s\n",
		    kr_name(vm_deallocate(task_self, (vm_address_t)names, nn * sizeof *names)),
		    kr_name(vm_deallocate(task_self, (vm_address_t)types, nt * sizeof *types)));
	}
}

void suite_main(void)
{
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &port);
	user_to_user();
	kernel_both_ways();
}
