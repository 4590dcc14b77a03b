/* Calls the stubs of objtest.defs with a recording mach_msg: prints every argument of each
 * mach_msg call and the message bytes, so that a program linked with the C stub and one linked
 * with the object stub can be compared line by line. The stack below main is filled with 0xaa
 * before each call, so bytes a stub leaves unwritten print the same in both. */
#include <stdint.h>
#include <stdio.h>
#include <mach/message.h>
#include <mach/notify.h>
#include "objtest.h"

mach_port_t mig_get_reply_port(void) { return 77; }
void mig_dealloc_reply_port(mach_port_t p) { printf("mig_dealloc_reply_port %u\n", p); }
void mig_put_reply_port(mach_port_t p) { printf("mig_put_reply_port %u\n", p); }

/* The reply obj_get receives: mode picks a well-formed or a malformed one. */
static int mode;

static void put32(unsigned char *m, unsigned off, uint32_t v)
{
	__builtin_memcpy(m + off, &v, 4);
}

#define INT32_DESC 0x20002002u /* MACH_MSG_TYPE_INTEGER_32, 32 bits, inline */

static mach_msg_return_t reply(mach_msg_header_t *h)
{
	unsigned char *m = (unsigned char *) h;
	unsigned n = mode == 1 ? 0 : mode == 8 || mode == 9 ? 4 : 3;
	unsigned off = 32;
	put32(m, off, INT32_DESC), put32(m, off + 4, 1), put32(m, off + 8, mode == 2 ? 5 : 0);
	off += 16;
	put32(m, off, mode == 7 ? 0x20002001u : INT32_DESC), put32(m, off + 4, n);
	off += 8;
	for (unsigned i = 0; i < n; i++)
		put32(m, off + 4 * i, 100 + i);
	off += (4 * n + 7) & ~7u;
	put32(m, off, INT32_DESC), put32(m, off + 4, 1), put32(m, off + 8, 7);
	off += 16;
	h->msgh_bits = mode == 10 ? MACH_MSGH_BITS_COMPLEX | 0x12 : 0x12;
	h->msgh_size = mode == 2 ? 48 : mode == 5 ? off + 8 : mode == 9 ? off - 8 : off;
	h->msgh_id = mode == 3 ? 4203 : mode == 4 ? MACH_NOTIFY_SEND_ONCE : 4302;
	if (mode == 6)
		put32(m, 36, 2);
	return MACH_MSG_SUCCESS;
}

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
	if (m->msgh_id == 4202)
		return reply(m);
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
	for (mode = 0; mode <= 10; mode++) {
		int data[8] = { -1, -1, -1, -1, -1, -1, -1, -1 }, val = -1;
		mach_msg_type_number_t cnt = mode == 8 ? 2 : 4;
		dirty();
		kern_return_t kr = obj_get(7, data, &cnt, &val);
		printf("obj_get mode %d -> %d cnt=%u data=%d %d %d %d %d val=%d\n", mode, kr, cnt,
		       data[0], data[1], data[2], data[3], data[4], val);
	}
	return 0;
}
