/* Fuzz driver: hands one arbitrary message to the demux function of one of migc's generated
   servers (every subsystem of gnumach-dev). The message lives in a heap block of exactly its
   size, with msgh_size set to that size as the kernel would, so AddressSanitizer sees any read
   past it. Returns the reply's RetCode (1 when no server took the id). Byte 0 picks the server (modulo their number); with its top bit set the message id
   is forced into the server's range. */
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <stdlib.h>
#include <string.h>

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
