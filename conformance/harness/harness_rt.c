/* harness_rt.c: the runtime of the in-process wire harness (see harness.h): mach_msg as a
 * direct call into the server's demux function, the mig_* support functions, deterministic
 * values, checks, and the recording of request and reply bytes. */
#include "harness.h"

#include <mach/mig_support.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

harness_demux_t harness_demux;
int h_failures;
const char *h_routine = "?";
unsigned h_case;
struct h_last h_last;

/* ---- values ---------------------------------------------------------------------------- */

uint32_t h_seed(unsigned routine, unsigned arg, unsigned kase)
{
	uint32_t x = 0x9e3779b9u ^ (routine * 0x85ebca6bu) ^ (arg * 0xc2b2ae35u) ^ (kase * 0x27d4eb2fu);
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x ? x : 1;
}

void h_fill(void *p, size_t n, uint32_t seed)
{
	unsigned char *b = p;
	uint32_t x = seed;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

void h_fill_string(char *p, size_t len, uint32_t seed)
{
	h_fill(p, len, seed);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)('a' + (unsigned char)p[i] % 26);
	p[len] = '\0';
}

static unsigned char arena[1 << 22];
static size_t arena_used;

void *h_arena(size_t n)
{
	size_t at = (arena_used + 15) & ~(size_t)15;
	if (at + n > sizeof arena) {
		fprintf(stderr, "harness: arena exhausted\n");
		exit(2);
	}
	arena_used = at + n;
	memset(arena + at, 0xa5, n);
	return arena + at;
}

void h_arena_reset(void)
{
	arena_used = 0;
}

void __attribute__((noinline)) h_scrub_stack(void)
{
	volatile unsigned char scrub[256 * 1024];
	memset((void *)scrub, 0xcc, sizeof scrub);
	__asm__ volatile("" : : "r"(scrub) : "memory");
}

/* ---- checks ---------------------------------------------------------------------------- */

void h_fail(const char *fmt, ...)
{
	va_list ap;
	printf("fail %s case=%u ", h_routine, h_case);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	h_failures++;
}

void h_note(const char *fmt, ...)
{
	va_list ap;
	printf("note %s case=%u ", h_routine, h_case);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void h_check_bytes(const char *what, const void *got, const void *want, size_t n)
{
	if (n && memcmp(got, want, n) != 0) {
		const unsigned char *g = got, *w = want;
		size_t i = 0;
		while (g[i] == w[i])
			i++;
		h_fail("%s differs at byte %zu of %zu: got %02x want %02x", what, i, n, g[i], w[i]);
	}
}

void h_check_u64(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		h_fail("%s: got %#llx want %#llx", what, (unsigned long long)got,
		       (unsigned long long)want);
}

/* ---- the MIG runtime the stubs call ------------------------------------------------------ */

mach_port_t mig_get_reply_port(void)
{
	return HARNESS_REPLY_PORT;
}

void mig_dealloc_reply_port(mach_port_t port)
{
	h_note("mig_dealloc_reply_port(%#x)", port);
}

void mig_put_reply_port(mach_port_t port)
{
	(void)port;
}

vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len)
{
	vm_size_t i = 0;
	if (len == 0)
		return 0;
	for (; i < len - 1 && src[i] != '\0'; i++)
		dst[i] = src[i];
	vm_size_t n = i;
	for (; i < len; i++)
		dst[i] = '\0';
	return n;
}

void mig_allocate(vm_address_t *addr, vm_size_t size)
{
	*addr = (vm_address_t)(uintptr_t)h_arena(size);
}

void mig_deallocate(vm_address_t addr, vm_size_t size)
{
	(void)addr;
	(void)size;
}

/* ---- the message walker and the "kernel" ------------------------------------------------ */

static int is_port_right(unsigned name)
{
	return name >= MACH_MSG_TYPE_MOVE_RECEIVE && name <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
}

mach_msg_type_name_t h_received_disposition(mach_msg_type_name_t sent)
{
	switch (sent) {
	case MACH_MSG_TYPE_MOVE_RECEIVE:
		return MACH_MSG_TYPE_PORT_RECEIVE;
	case MACH_MSG_TYPE_MOVE_SEND:
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MAKE_SEND:
		return MACH_MSG_TYPE_PORT_SEND;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
		return MACH_MSG_TYPE_PORT_SEND_ONCE;
	default:
		return sent;
	}
}

/* One type descriptor as the x86_64 layout has it (8 bytes, see mach/message.h). */
struct desc {
	unsigned name, size_bits, is_inline, longform, dealloc;
	uint32_t number;
};

static struct desc read_desc(const unsigned char *p)
{
	uint32_t w0, w1;
	struct desc d;
	memcpy(&w0, p, 4);
	memcpy(&w1, p + 4, 4);
	d.name = w0 & 0xff;
	d.size_bits = (w0 >> 8) & 0xffff;
	d.is_inline = (w0 >> 29) & 1;
	d.longform = (w0 >> 30) & 1;
	d.dealloc = (w0 >> 31) & 1;
	d.number = w1;
	return d;
}

static size_t data_bytes(const struct desc *d)
{
	if (d->is_inline && is_port_right(d->name))
		return (size_t)d->number * sizeof(mach_port_name_inlined_t);
	return ((size_t)d->number * d->size_bits + 7) / 8;
}

/* Walks the body.  mask (if not NULL) gets 1 for each byte whose value no receiver reads:
 * the upper halves of port-name slots, padding after inline data, out-of-line addresses.
 * visit_ool (if not NULL) is called for each out-of-line region.  Returns 0 if the body is
 * malformed (runs past size). */
static int walk(unsigned char *msg, size_t size, unsigned char *mask,
                void (*visit_ool)(unsigned char *slot, const struct desc *d, unsigned index, void *ctx),
                void (*visit_desc)(unsigned char *desc, void *ctx), void *ctx)
{
	size_t off = sizeof(mach_msg_header_t);
	unsigned index = 0;

	if (mask) {
		memset(mask, 0, size);
		/* msgh_remote_port / msgh_local_port: only the low 32 bits name a port; seqno is the
		 * kernel's to fill. */
		memset(mask + offsetof(mach_msg_header_t, msgh_remote_port) + 4, 1, 4);
		memset(mask + offsetof(mach_msg_header_t, msgh_local_port) + 4, 1, 4);
		memset(mask + offsetof(mach_msg_header_t, msgh_seqno), 1, sizeof(mach_port_seqno_t));
	}
	while (off < size) {
		if (off + 8 > size)
			return 0;
		struct desc d = read_desc(msg + off);
		if (visit_desc)
			visit_desc(msg + off, ctx);
		off += 8;
		if (d.is_inline) {
			size_t n = data_bytes(&d);
			size_t padded = (n + 7) & ~(size_t)7;
			if (off + padded > size)
				return 0;
			if (mask) {
				memset(mask + off + n, 1, padded - n);
				if (is_port_right(d.name))
					for (size_t i = 0; i < d.number; i++)
						memset(mask + off + i * 8 + 4, 1, 4);
			}
			off += padded;
		} else {
			if (off + 8 > size)
				return 0;
			if (mask)
				memset(mask + off, 1, 8);
			if (visit_ool)
				visit_ool(msg + off, &d, index, ctx);
			off += 8;
		}
		index++;
	}
	return 1;
}

static void print_masked(const char *kind, const unsigned char *msg, size_t size,
                         const unsigned char *mask)
{
	printf("%s %s case=%u size=%zu ", kind, h_routine, h_case, size);
	for (size_t i = 0; i < size; i++) {
		if (mask[i])
			printf("..");
		else
			printf("%02x", msg[i]);
	}
	printf("\n");
}

struct ool_print {
	const char *kind;
};

static void print_ool(unsigned char *slot, const struct desc *d, unsigned index, void *ctx)
{
	struct ool_print *o = ctx;
	const unsigned char *data;
	memcpy(&data, slot, sizeof data);
	size_t n = data_bytes(d);
	printf("%s-ool %s case=%u desc=%u bytes=%zu ", o->kind, h_routine, h_case, index, n);
	for (size_t i = 0; data && i < n; i++)
		printf("%02x", data[i]);
	printf("\n");
}

static void record(const char *kind, unsigned char *msg, size_t size)
{
	static unsigned char mask[65536];
	struct ool_print o = { kind };
	if (!walk(msg, size, mask, NULL, NULL, NULL)) {
		h_fail("%s: the message body does not parse (size %zu)", kind, size);
		memset(mask, 0, size);
	}
	print_masked(kind, msg, size, mask);
	walk(msg, size, NULL, print_ool, NULL, &o);
}

static void copy_ool(unsigned char *slot, const struct desc *d, unsigned index, void *ctx)
{
	(void)index;
	(void)ctx;
	const unsigned char *data;
	memcpy(&data, slot, sizeof data);
	size_t n = data_bytes(d);
	unsigned char *copy = h_arena(n ? n : 1);
	if (data && n)
		memcpy(copy, data, n);
	memcpy(slot, &copy, sizeof copy);
}

static void convert_disposition(unsigned char *desc, void *ctx)
{
	(void)ctx;
	if (is_port_right(desc[0]))
		desc[0] = (unsigned char)h_received_disposition(desc[0]);
}

/* What GNU Mach does between a send and the matching receive, for one address space. */
static int deliver(unsigned char *msg, size_t size, mach_port_seqno_t seqno)
{
	mach_msg_header_t *h = (mach_msg_header_t *)msg;
	mach_msg_bits_t bits = h->msgh_bits;
	mach_port_t remote = h->msgh_remote_port, local = h->msgh_local_port;

	h->msgh_size = (mach_msg_size_t)size;
	h->msgh_bits = MACH_MSGH_BITS_OTHER(bits) |
	               MACH_MSGH_BITS(h_received_disposition(MACH_MSGH_BITS_LOCAL(bits)),
	                              h_received_disposition(MACH_MSGH_BITS_REMOTE(bits)));
	h->msgh_remote_port_do_not_use = 0;
	h->msgh_protected_payload = 0;
	h->msgh_remote_port = local;
	h->msgh_local_port = remote;
	h->msgh_seqno = seqno;
	return walk(msg, size, NULL, copy_ool, convert_disposition, NULL);
}

/* Buffers: aligned, filled with a pattern before each use. */
static union {
	mach_msg_header_t h;
	unsigned char b[65536];
} req_buf, rep_buf;

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
                           mach_port_name_t notify)
{
	(void)rcv_name;
	(void)timeout;
	(void)notify;
	if (!(option & MACH_SEND_MSG) || send_size < sizeof(mach_msg_header_t) ||
	    send_size > sizeof req_buf) {
		h_fail("mach_msg: unsupported call (option %#x, send_size %u)", option, send_size);
		return MACH_SEND_INVALID_DATA;
	}
	memcpy(h_last.request, msg, send_size);
	h_last.request_size = send_size;
	record("request", (unsigned char *)msg, send_size);

	memset(&req_buf, 0x5a, sizeof req_buf);
	memcpy(req_buf.b, msg, send_size);
	if (!deliver(req_buf.b, send_size, HARNESS_SEQNO)) {
		h_fail("mach_msg: the request body does not parse");
		return MACH_SEND_INVALID_DATA;
	}
	h_last.received_remote = req_buf.h.msgh_remote_port;
	h_last.received_bits = req_buf.h.msgh_bits;
	memset(&rep_buf, 0x3c, sizeof rep_buf);
	h_last.sent = 1;
	h_last.demux_result = harness_demux(&req_buf.h, &rep_buf.h);
	mig_reply_header_t *reply = (mig_reply_header_t *)&rep_buf;
	h_last.reply_retcode = reply->RetCode;
	size_t reply_size = rep_buf.h.msgh_size;

	if (!(option & MACH_RCV_MSG)) {
		printf("oneway %s case=%u demux=%d retcode=%d\n", h_routine, h_case,
		       (int)h_last.demux_result, reply->RetCode);
		return MACH_MSG_SUCCESS;
	}
	if (reply->RetCode == MIG_NO_REPLY) {
		h_fail("mach_msg: the server sent no reply");
		return MACH_RCV_TIMED_OUT;
	}
	if (reply_size < sizeof(mach_msg_header_t) || reply_size > sizeof rep_buf) {
		h_fail("mach_msg: reply size %zu", reply_size);
		return MACH_RCV_INVALID_DATA;
	}
	record("reply", rep_buf.b, reply_size);
	if (!deliver(rep_buf.b, reply_size, 0)) {
		h_fail("mach_msg: the reply body does not parse");
		return MACH_RCV_INVALID_DATA;
	}
	if (reply_size > rcv_size)
		return MACH_RCV_TOO_LARGE;
	memcpy(msg, rep_buf.b, reply_size);
	return MACH_MSG_SUCCESS;
}

/* ---- malformed requests ------------------------------------------------------------------ */

static void probe(const char *routine, const char *defect, unsigned char *msg, size_t size,
                  int *server_calls)
{
	static unsigned char buf[65536 + 64];
	int before = *server_calls;

	memset(buf, 0x5a, sizeof buf);
	memcpy(buf, msg, size);
	/* A body whose descriptors run past its end would not get past GNU Mach's copyin; the
	 * server is probed all the same and the line says so. */
	int parses = deliver(buf, size, HARNESS_SEQNO);
	memset(&rep_buf, 0x3c, sizeof rep_buf);
	boolean_t handled = harness_demux((mach_msg_header_t *)buf, &rep_buf.h);
	mig_reply_header_t *reply = (mig_reply_header_t *)&rep_buf;
	printf("malformed %s %s demux=%d retcode=%d server_calls=%d body_parses=%d\n", routine,
	       defect, (int)handled, reply->RetCode, *server_calls - before, parses);
}

static void corrupt_first_type(unsigned char *desc, void *ctx)
{
	int *done = ctx;
	if (!*done) {
		desc[0] ^= 0x01;	/* another msgt_name */
		*done = 1;
	}
}

void h_malformed(const char *routine, int *server_calls, mach_msg_id_t first_id,
                 mach_msg_id_t end_id)
{
	static unsigned char msg[65536 + 64];
	size_t size = h_last.request_size;
	mach_msg_header_t *h = (mach_msg_header_t *)msg;

	if (!h_last.sent || size + 8 > sizeof msg)
		return;
	h_routine = routine;

	memcpy(msg, h_last.request, size);
	h->msgh_id = first_id - 1;
	probe(routine, "id-below-base", msg, size, server_calls);

	memcpy(msg, h_last.request, size);
	h->msgh_id = end_id;
	probe(routine, "id-past-end", msg, size, server_calls);

	memcpy(msg, h_last.request, size);
	memset(msg + size, 0, 8);
	probe(routine, "size-plus-8", msg, size + 8, server_calls);

	if (size >= sizeof(mach_msg_header_t) + 8) {
		memcpy(msg, h_last.request, size);
		probe(routine, "size-minus-8", msg, size - 8, server_calls);

		int done = 0;
		memcpy(msg, h_last.request, size);
		walk(msg, size, NULL, NULL, corrupt_first_type, &done);
		probe(routine, "wrong-type", msg, size, server_calls);
	}
}
