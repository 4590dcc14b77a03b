/* Fuzz driver: hands one arbitrary message to the demux function of one of migc's generated
   servers (every subsystem of gnumach-dev). The message lives in a heap block of exactly its
   size, with msgh_size set to that size as the kernel would, so AddressSanitizer sees any read
   past it. Returns the reply's RetCode (1 when no server took the id). Byte 0 picks the server (modulo their number); with its top bit set the message id
   is forced into the server's range. */
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "driver.h"

/* The runtime the generated code may call. */
void mig_allocate(vm_address_t *addr, vm_size_t size) { *addr = (vm_address_t) malloc(size); }
void mig_deallocate(vm_address_t addr, vm_size_t size) { (void) size; free((void *) addr); }

int migc_fuzz_demux(const unsigned char *data, size_t len)
{
	const struct migc_fuzz_server *s;
	mach_msg_header_t *in;
	void *out;
	int handled;

	if (len < sizeof(mach_msg_header_t) + 1 || len > 65536)
		return 0;
	s = &migc_fuzz_servers[(data[0] & 0x7f) % migc_fuzz_nservers];
	in = malloc(len - 1);
	out = calloc(1, 65536);
	memcpy(in, data + 1, len - 1);
	in->msgh_size = (mach_msg_size_t) (len - 1);
	if ((data[0] & 0x80) && s->slots)
		in->msgh_id = s->base + (unsigned) in->msgh_id % s->slots;
	handled = s->demux(in, out);
	/* Not handled: 1; else the reply's RetCode (MIG_EOPNOTSUPP: the checks passed). */
	handled = handled ? ((mig_reply_header_t *) out)->RetCode : 1;
	free(in);
	free(out);
	return handled;
}

/* The demux of mach.defs twice: migc's C server (clang, AddressSanitizer) and the object back
   end's server (machine code from Cranelift, not instrumented; build.rs renamed its symbols).
   The same input (byte 0 as above, the server always mach) goes to both, each with a request
   of exactly its size and a zeroed 64 KiB reply buffer; the object's request ends right before
   a PROT_NONE page, so any access past the message faults. Aborts, naming the first differing
   byte, unless both return the same, leave the same request bytes and write the same reply
   bytes. Returns the C server's answer as migc_fuzz_demux does. */
extern boolean_t mach_server(mach_msg_header_t *, mach_msg_header_t *);
extern boolean_t migc_obj_mach_server(mach_msg_header_t *, mach_msg_header_t *);

#define OBJ_MAX 65536

static unsigned char *guarded_end(void)
{
	static unsigned char *end;
	if (!end) {
		size_t page = (size_t) sysconf(_SC_PAGESIZE);
		size_t room = (OBJ_MAX + page - 1) / page * page;
		unsigned char *p = mmap(NULL, room + page, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || mprotect(p + room, page, PROT_NONE) != 0)
			abort();
		end = p + room;
	}
	return end;
}

/* mach.defs's entry of the server table (its id range). */
static const struct migc_fuzz_server *mach_entry(void)
{
	unsigned i;
	for (i = 0; i < migc_fuzz_nservers; i++)
		if (strcmp(migc_fuzz_servers[i].name, "mach") == 0)
			return &migc_fuzz_servers[i];
	abort();
}

static void differ(const char *what, const unsigned char *c, const unsigned char *o, size_t n)
{
	size_t i;
	for (i = 0; i < n && c[i] == o[i]; i++)
		;
	fprintf(stderr, "demux_obj: %s differ at byte %zu: C %02x, object %02x\n", what, i,
		i < n ? c[i] : 0, i < n ? o[i] : 0);
	abort();
}

int migc_fuzz_demux_obj(const unsigned char *data, size_t len)
{
	mach_msg_header_t *in_c, *in_o;
	unsigned char *out_c, *out_o;
	size_t n;
	boolean_t h_c, h_o;
	int ret;

	if (len < sizeof(mach_msg_header_t) + 1 || len > OBJ_MAX + 1)
		return 0;
	n = len - 1;
	in_c = malloc(n);
	in_o = (mach_msg_header_t *) (guarded_end() - n);
	out_c = calloc(1, OBJ_MAX);
	out_o = calloc(1, OBJ_MAX);
	memcpy(in_c, data + 1, n);
	in_c->msgh_size = (mach_msg_size_t) n;
	if (data[0] & 0x80) {
		const struct migc_fuzz_server *s = mach_entry();
		in_c->msgh_id = s->base + (unsigned) in_c->msgh_id % s->slots;
	}
	memcpy(in_o, in_c, n);
	h_c = mach_server(in_c, (mach_msg_header_t *) out_c);
	h_o = migc_obj_mach_server(in_o, (mach_msg_header_t *) out_o);
	if (h_c != h_o) {
		fprintf(stderr, "demux_obj: C demux returned %d, object demux %d\n", h_c, h_o);
		abort();
	}
	if (memcmp(in_c, in_o, n) != 0)
		differ("requests after the call", (void *) in_c, (void *) in_o, n);
	if (memcmp(out_c, out_o, OBJ_MAX) != 0)
		differ("replies", out_c, out_o, OBJ_MAX);
	ret = h_c ? ((mig_reply_header_t *) out_c)->RetCode : 1;
	free(in_c);
	free(out_c);
	free(out_o);
	return ret;
}
