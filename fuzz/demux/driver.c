/* Fuzz driver: hands one arbitrary message to migc's generated demux functions for mach.defs
   and mach_port.defs. The message lives in a heap block of exactly its size, with msgh_size
   set to that size as the kernel would, so AddressSanitizer sees any read past it. */
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <stdlib.h>
#include <string.h>

extern boolean_t mach_server(mach_msg_header_t *, mach_msg_header_t *);
extern boolean_t mach_port_server(mach_msg_header_t *, mach_msg_header_t *);

/* The runtime the generated code may call. */
void mig_allocate(vm_address_t *addr, vm_size_t size) { *addr = (vm_address_t) malloc(size); }
void mig_deallocate(vm_address_t addr, vm_size_t size) { (void) size; free((void *) addr); }

int migc_fuzz_demux(const unsigned char *data, size_t len)
{
	mach_msg_header_t *in;
	void *out;
	int handled;

	if (len < sizeof(mach_msg_header_t) + 1 || len > 65536)
		return 0;
	in = malloc(len - 1);
	out = calloc(1, 65536);
	memcpy(in, data + 1, len - 1);
	in->msgh_size = (mach_msg_size_t) (len - 1);
	/* The first byte picks the subsystem; the id is forced into its range half the time. */
	if (data[0] & 2)
		in->msgh_id = (data[0] & 1 ? 3200 : 2000) + (in->msgh_id & 63);
	handled = (data[0] & 1) ? mach_port_server(in, out) : mach_server(in, out);
	free(in);
	free(out);
	return handled;
}
