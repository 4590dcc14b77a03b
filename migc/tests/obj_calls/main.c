/* Calls the stubs of objtest.defs with a recording mach_msg: prints every argument of each
 * mach_msg call and the message bytes, so that a program linked with the C stub and one linked
 * with the object stub can be compared line by line. The stack below main is filled with 0xaa
 * before each call, so bytes a stub leaves unwritten print the same in both. */
#include <stdio.h>
#include <mach/message.h>
#include "objtest.h"

mach_port_t mig_get_reply_port(void) { return 77; }
void mig_dealloc_reply_port(mach_port_t p) { printf("mig_dealloc_reply_port %u\n", p); }
void mig_put_reply_port(mach_port_t p) { printf("mig_put_reply_port %u\n", p); }

mach_msg_return_t mach_msg(mach_msg_header_t *m, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_t rcv_name, mach_msg_timeout_t timeout, mach_port_t notify)
{
	printf("mach_msg option=%#x send_size=%u rcv_size=%u rcv_name=%u timeout=%u notify=%u\n",
	       option, send_size, rcv_size, rcv_name, timeout, notify);
	printf("  bits=%#x size=%u remote=%u local=%u seqno=%u id=%d\n  body", m->msgh_bits,
	       m->msgh_size, m->msgh_remote_port, m->msgh_local_port, m->msgh_seqno, m->msgh_id);
	const unsigned char *b = (const unsigned char *) m;
	for (mach_msg_size_t i = sizeof *m; i < send_size; i++)
		printf(" %02x", b[i]);
	printf("\n");
	return MACH_SEND_INVALID_DEST;
}

static __attribute__((noinline)) void dirty(void)
{
	volatile unsigned char junk[8192];
	for (unsigned i = 0; i < sizeof junk; i++)
		junk[i] = 0xaa;
}

int main(void)
{
	big_t big;
	for (int i = 0; i < 8; i++)
		big.v[i] = 0x01020304 * (i + 1);
	dirty();
	printf("obj_big -> %d\n", obj_big(5, big, 0x55));
	dirty();
	printf("obj_opt -> %d\n", obj_opt(6, 42));
	return 0;
}
