/* runtime.c: the freestanding runtime of the suite programs: start-up (bootstrap arguments,
 * console, markers, host_reboot), mach_msg over the trap, the mig_* helpers the user stubs
 * call, memory and string functions, a formatter and names for return codes and types. */
#include "suite.h"

#include <device/device_types.h>
#include <mach/notify.h>

#include "device.h"
#include "mach.h"
#include "mach_host.h"
#include "mach_port.h"

mach_port_t host_priv = MACH_PORT_NULL, device_master = MACH_PORT_NULL, task_self;
long suite_argc;
char **suite_argv;
long *suite_args;

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
                           mach_port_name_t notify)
{
	/* The plain trap: programs see every code the kernel returns (no retry). */
	return mach_msg_trap(msg, option, send_size, rcv_size, rcv_name, timeout, notify);
}

/* One cached reply port, for the first thread (the only one calling MIG stubs). */
static mach_port_t reply_port = MACH_PORT_NULL;

mach_port_t mig_get_reply_port(void)
{
	if (reply_port == MACH_PORT_NULL)
		reply_port = mach_reply_port();
	return reply_port;
}

void mig_dealloc_reply_port(mach_port_t port)
{
	/* The stub saw an error on the reply port: forget it and take a fresh one next time.  The
	 * right itself is left in place (a program runs for well under a second). */
	if (port == reply_port)
		reply_port = MACH_PORT_NULL;
}

void mig_put_reply_port(mach_port_t port)
{
	(void)port;
}

/* Memory for an array a stub returns out of line when the caller's buffer is too small
 * (i386_get_ldt's descriptor list). */
void mig_allocate(vm_address_t *addr, vm_size_t size)
{
	*addr = 0;
	if (vm_allocate(task_self, addr, size, TRUE) != KERN_SUCCESS)
		*addr = 0;
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

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (*a == '\0')
			return 0;
	}
	return 0;
}

/* The formatter.  Unknown conversions are copied literally. */
struct sink {
	char *buf;
	size_t size, len;
};

static void put(struct sink *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_number(struct sink *o, unsigned long v, unsigned base, int width, char pad)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (; width > n; width--)
		put(o, pad);
	while (n)
		put(o, digits[--n]);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, is_long = 0;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0) {
				put(&o, '-');
				put_number(&o, -(unsigned long)v, 10, width ? width - 1 : 0, pad);
			} else
				put_number(&o, (unsigned long)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_number(&o, v, *fmt == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (*s)
				put(&o, *s++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

/* The console: buffered, written in pieces of at most the inband maximum. */
static mach_port_t console = MACH_PORT_NULL;
static char line[sizeof(io_buf_ptr_inband_t)];
static unsigned line_len;

void console_flush(void)
{
	unsigned done = 0;

	while (console != MACH_PORT_NULL && done < line_len) {
		int written = 0;
		kern_return_t kr = device_write_inband(console, 0, 0, line + done,
		                                       line_len - done, &written);
		if (kr != KERN_SUCCESS || written <= 0)
			break;
		done += (unsigned)written;
	}
	line_len = 0;
}

void out(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vformat(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof text)
		n = sizeof text - 1;
	for (int i = 0; i < n; i++) {
		if (line_len == sizeof line)
			console_flush();
		line[line_len++] = text[i];
		if (text[i] == '\n')
			console_flush();
	}
}

/* Names of codes, from the headers' own macros. */
#define CODE(x) { (kern_return_t)(x), #x }
static const struct {
	kern_return_t code;
	const char *name;
} codes[] = {
	CODE(KERN_SUCCESS), CODE(KERN_INVALID_ADDRESS), CODE(KERN_PROTECTION_FAILURE),
	CODE(KERN_NO_SPACE), CODE(KERN_INVALID_ARGUMENT), CODE(KERN_FAILURE),
	CODE(KERN_RESOURCE_SHORTAGE), CODE(KERN_NOT_RECEIVER), CODE(KERN_NO_ACCESS),
	CODE(KERN_MEMORY_FAILURE), CODE(KERN_MEMORY_ERROR), CODE(KERN_NOT_IN_SET),
	CODE(KERN_NAME_EXISTS), CODE(KERN_ABORTED), CODE(KERN_INVALID_NAME),
	CODE(KERN_INVALID_TASK), CODE(KERN_INVALID_RIGHT), CODE(KERN_INVALID_VALUE),
	CODE(KERN_UREFS_OVERFLOW), CODE(KERN_INVALID_CAPABILITY), CODE(KERN_RIGHT_EXISTS),
	CODE(KERN_INVALID_HOST), CODE(KERN_MEMORY_PRESENT), CODE(KERN_WRITE_PROTECTION_FAILURE),
	CODE(KERN_TERMINATED), CODE(KERN_TIMEDOUT), CODE(KERN_INTERRUPTED),
	CODE(MACH_SEND_IN_PROGRESS), CODE(MACH_SEND_INVALID_DATA), CODE(MACH_SEND_INVALID_DEST),
	CODE(MACH_SEND_TIMED_OUT), CODE(MACH_SEND_WILL_NOTIFY), CODE(MACH_SEND_NOTIFY_IN_PROGRESS),
	CODE(MACH_SEND_INTERRUPTED), CODE(MACH_SEND_MSG_TOO_SMALL), CODE(MACH_SEND_INVALID_REPLY),
	CODE(MACH_SEND_INVALID_RIGHT), CODE(MACH_SEND_INVALID_NOTIFY),
	CODE(MACH_SEND_INVALID_MEMORY), CODE(MACH_SEND_NO_BUFFER), CODE(MACH_SEND_NO_NOTIFY),
	CODE(MACH_SEND_INVALID_TYPE), CODE(MACH_SEND_INVALID_HEADER),
	CODE(MACH_RCV_IN_PROGRESS), CODE(MACH_RCV_INVALID_NAME), CODE(MACH_RCV_TIMED_OUT),
	CODE(MACH_RCV_TOO_LARGE), CODE(MACH_RCV_INTERRUPTED), CODE(MACH_RCV_PORT_CHANGED),
	CODE(MACH_RCV_INVALID_NOTIFY), CODE(MACH_RCV_INVALID_DATA), CODE(MACH_RCV_PORT_DIED),
	CODE(MACH_RCV_IN_SET), CODE(MACH_RCV_HEADER_ERROR), CODE(MACH_RCV_BODY_ERROR),
	CODE(MIG_TYPE_ERROR), CODE(MIG_REPLY_MISMATCH), CODE(MIG_REMOTE_ERROR), CODE(MIG_BAD_ID),
	CODE(MIG_BAD_ARGUMENTS), CODE(MIG_NO_REPLY), CODE(MIG_EXCEPTION),
	CODE(MIG_ARRAY_TOO_LARGE), CODE(MIG_SERVER_DIED), CODE(MIG_DESTROY_REQUEST),
	CODE(D_IO_ERROR), CODE(D_WOULD_BLOCK), CODE(D_NO_SUCH_DEVICE), CODE(D_ALREADY_OPEN),
	CODE(D_DEVICE_DOWN), CODE(D_INVALID_OPERATION), CODE(D_INVALID_RECNUM),
	CODE(D_INVALID_SIZE), CODE(D_NO_MEMORY), CODE(D_READ_ONLY),
};

static char scratch[8][96];
static unsigned scratch_next;

static char *scratch_buffer(void)
{
	return scratch[scratch_next++ % 8];
}

int snformat(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
#define format_into snformat

const char *kr_name(kern_return_t kr)
{
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == kr)
			return codes[i].name;
	/* mach_msg codes carry extra bits (MACH_MSG_IPC_SPACE, ...): name the base code. */
	kern_return_t base = kr & ~MACH_MSG_MASK;
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (base != kr && codes[i].code == base) {
			char *b = scratch_buffer();
			format_into(b, sizeof scratch[0], "%s|0x%x", codes[i].name,
			            (unsigned)(kr & MACH_MSG_MASK));
			return b;
		}
	char *b = scratch_buffer();
	format_into(b, sizeof scratch[0], "0x%x", (unsigned)kr);
	return b;
}

const char *type_name(mach_port_type_t type)
{
	static const struct {
		mach_port_type_t bit;
		const char *name;
	} bits[] = {
		{ MACH_PORT_TYPE_SEND, "send" },
		{ MACH_PORT_TYPE_RECEIVE, "receive" },
		{ MACH_PORT_TYPE_SEND_ONCE, "send-once" },
		{ MACH_PORT_TYPE_PORT_SET, "port-set" },
		{ MACH_PORT_TYPE_DEAD_NAME, "dead-name" },
		{ MACH_PORT_TYPE_DNREQUEST, "dnrequest" },
		{ MACH_PORT_TYPE_MAREQUEST, "marequest" },
		{ MACH_PORT_TYPE_COMPAT, "compat" },
	};
	char *b = scratch_buffer();
	size_t len = 0;
	mach_port_type_t rest = type;

	b[0] = '\0';
	for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (type & bits[i].bit) {
			rest &= ~bits[i].bit;
			format_into(b + len, sizeof scratch[0] - len, "%s%s", len ? "|" : "",
			            bits[i].name);
			len = strlen(b);
		}
	if (rest)
		format_into(b + len, sizeof scratch[0] - len, "%s0x%x", len ? "|" : "",
		            (unsigned)rest);
	else if (!type)
		format_into(b, sizeof scratch[0], "none");
	return b;
}

const char *msgt_name(unsigned name)
{
	switch (name) {
	case MACH_MSG_TYPE_MOVE_RECEIVE: return "MOVE_RECEIVE";
	case MACH_MSG_TYPE_MOVE_SEND: return "MOVE_SEND";
	case MACH_MSG_TYPE_MOVE_SEND_ONCE: return "MOVE_SEND_ONCE";
	case MACH_MSG_TYPE_COPY_SEND: return "COPY_SEND";
	case MACH_MSG_TYPE_MAKE_SEND: return "MAKE_SEND";
	case MACH_MSG_TYPE_MAKE_SEND_ONCE: return "MAKE_SEND_ONCE";
	case MACH_MSG_TYPE_INTEGER_32: return "INTEGER_32";
	case MACH_MSG_TYPE_INTEGER_64: return "INTEGER_64";
	case MACH_MSG_TYPE_BYTE: return "BYTE";
	case MACH_MSG_TYPE_CHAR: return "CHAR";
	case MACH_MSG_TYPE_STRING: return "STRING";
	case MACH_MSG_TYPE_PORT_NAME: return "PORT_NAME";
	case 0: return "0";
	default: {
		char *b = scratch_buffer();
		format_into(b, sizeof scratch[0], "%u", name);
		return b;
	}
	}
}

static unsigned long parse_decimal(const char *s)
{
	unsigned long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long)(*s++ - '0');
	return v;
}

void suite_exit(void)
{
	out("suite-end %s\n", suite_name);
	kern_return_t kr = host_reboot(host_priv, 0);
	out("host_reboot %s\n", kr_name(kr));
	for (;;)
		;
}

void suite_start(long *args)
{
	static const char host_opt[] = "--host-priv-port=";
	static const char device_opt[] = "--device-master-port=";

	suite_args = args;
	suite_argc = args[0];
	suite_argv = (char **)&args[1];
	if (suite_before_console)
		suite_before_console();
	for (long i = 1; i < suite_argc; i++) {
		if (strncmp(suite_argv[i], host_opt, sizeof host_opt - 1) == 0)
			host_priv = (mach_port_t)parse_decimal(suite_argv[i] + sizeof host_opt - 1);
		else if (strncmp(suite_argv[i], device_opt, sizeof device_opt - 1) == 0)
			device_master = (mach_port_t)parse_decimal(suite_argv[i] + sizeof device_opt - 1);
	}
	task_self = mach_task_self_trap();
	if (device_open(device_master, D_READ | D_WRITE, "console", &console) != KERN_SUCCESS)
		host_reboot(host_priv, 0); /* nothing can be printed: the runner sees no lines */
	out("suite-begin %s\n", suite_name);
	suite_main();
	suite_exit();
}

/* A received message, field by field: the header (ports as names), then each typed datum with
 * its descriptor bits and its values; out-of-line data is shown by its contents, never by its
 * address.  At most 8 elements of each datum are printed. */
static int is_port_type(unsigned name)
{
	return name >= MACH_MSG_TYPE_MOVE_RECEIVE && name <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
}

static void dump_elements(const char *tag, unsigned k, const unsigned char *data, unsigned size,
                          unsigned number, int port)
{
	char text[160];
	size_t len = 0;
	unsigned shown = number < 8 ? number : 8;

	text[0] = '\0';
	for (unsigned i = 0; i < shown; i++) {
		unsigned long v = 0;
		if (port && size == 64)
			v = *(const uint32_t *)(data + 8 * i); /* name in the low 32 bits */
		else if (size == 64)
			v = *(const uint64_t *)(data + 8 * i);
		else if (size == 32)
			v = *(const uint32_t *)(data + 4 * i);
		else if (size == 16)
			v = *(const uint16_t *)(data + 2 * i);
		else if (size == 8)
			v = data[i];
		format_into(text + len, sizeof text - len, port ? "%s%lu" : "%s%lx", i ? " " : "", v);
		len = strlen(text);
	}
	out("%s   data %u: [%s%s]\n", tag, k, text, number > shown ? " ..." : "");
}

void dump_message(const char *tag, const mach_msg_header_t *m)
{
	out("%s header: bits 0x%x size %u remote %u local %u seqno %u id %d\n", tag, m->msgh_bits,
	    m->msgh_size, (unsigned)m->msgh_remote_port, (unsigned)m->msgh_local_port,
	    m->msgh_seqno, m->msgh_id);
	const unsigned char *p = (const unsigned char *)(m + 1);
	const unsigned char *end = (const unsigned char *)m + m->msgh_size;
	for (unsigned k = 0; p + sizeof(mach_msg_type_t) <= end && k < 16; k++) {
		const mach_msg_type_t *t = (const mach_msg_type_t *)p;
		unsigned name = t->msgt_name, size = t->msgt_size, number = t->msgt_number;
		out("%s item %u: %s size %u number %u inline %u longform %u deallocate %u\n", tag, k,
		    msgt_name(name), size, number, t->msgt_inline, t->msgt_longform,
		    t->msgt_deallocate);
		p += sizeof(mach_msg_type_t);
		int port = is_port_type(name) || name == MACH_MSG_TYPE_PORT_NAME;
		if (t->msgt_inline) {
			unsigned long bytes = ((unsigned long)size * number + 7) / 8;
			if (p + bytes > end) {
				out("%s   data %u: runs past msgh_size\n", tag, k);
				return;
			}
			dump_elements(tag, k, p, size, number, port);
			p += (bytes + 7) & ~7UL;
		} else {
			if (p + sizeof(vm_address_t) > end) {
				out("%s   data %u: pointer runs past msgh_size\n", tag, k);
				return;
			}
			const unsigned char *ool = *(unsigned char *const *)p;
			if (ool == NULL)
				out("%s   data %u: out-of-line null\n", tag, k);
			else
				dump_elements(tag, k, ool, port ? 32 : size, number, port);
			p += sizeof(vm_address_t);
		}
	}
}

/* Building messages by hand (the suite's own messages, hostile ones included). */
void mb_init(struct msg_builder *b, unsigned bits, mach_port_t remote, mach_port_t local,
             mach_msg_id_t id)
{
	memset(b, 0, sizeof *b);
	b->u.head.msgh_bits = bits;
	b->u.head.msgh_remote_port = remote;
	b->u.head.msgh_local_port = local;
	b->u.head.msgh_id = id;
	b->len = sizeof(mach_msg_header_t);
	b->u.head.msgh_size = b->len;
}

static mach_msg_type_t *mb_type(struct msg_builder *b, unsigned name, unsigned size,
                                unsigned number, int is_inline, int longform, int dealloc)
{
	mach_msg_type_t *t = (mach_msg_type_t *)(b->u.bytes + b->len);
	t->msgt_name = name;
	t->msgt_size = size;
	t->msgt_number = number;
	t->msgt_inline = is_inline;
	t->msgt_longform = longform;
	t->msgt_deallocate = dealloc;
	b->len += sizeof *t;
	return t;
}

void mb_inline(struct msg_builder *b, unsigned name, unsigned size, unsigned number,
               const void *data)
{
	unsigned long bytes = ((unsigned long)size * number + 7) / 8;
	mb_type(b, name, size, number, 1, 0, 0);
	memcpy(b->u.bytes + b->len, data, bytes);
	b->len += (unsigned)((bytes + 7) & ~7UL);
	b->u.head.msgh_size = b->len;
	if (is_port_type(name))
		b->u.head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
}

void mb_ports(struct msg_builder *b, unsigned disposition, unsigned number,
              const mach_port_t *names)
{
	uint64_t slots[32];
	for (unsigned i = 0; i < number && i < 32; i++)
		slots[i] = names[i];
	mb_inline(b, disposition, 64, number, slots);
}

void mb_ool(struct msg_builder *b, unsigned name, unsigned size, unsigned number,
            const void *data, int dealloc)
{
	mb_type(b, name, size, number, 0, 1, dealloc);
	*(const void **)(b->u.bytes + b->len) = data;
	b->len += sizeof(void *);
	b->u.head.msgh_size = b->len;
	b->u.head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
}

/* One mach_msg with the builder's message; the receive (when asked) lands in rcv. */
mach_msg_return_t mb_send(struct msg_builder *b, mach_msg_option_t option,
                          mach_msg_timeout_t timeout)
{
	return mach_msg(&b->u.head, option | MACH_SEND_MSG, b->u.head.msgh_size, 0,
	                MACH_PORT_NULL, timeout, MACH_PORT_NULL);
}

mach_msg_return_t receive(struct msg_buffer *r, mach_port_t from, mach_msg_option_t option,
                          mach_msg_timeout_t timeout)
{
	memset(r, 0, sizeof *r);
	return mach_msg(&r->head, option | MACH_RCV_MSG, 0, sizeof r->bytes, from, timeout,
	                MACH_PORT_NULL);
}

void show_rights(const char *what, mach_port_t name)
{
	static const char *const rights[] = { "send", "receive", "send-once", "port-set",
		                              "dead-name" };
	mach_port_type_t type = 0;
	kern_return_t kr = mach_port_type(task_self, name, &type);
	if (kr != KERN_SUCCESS) {
		out("%s: name %u type %s\n", what, name, kr_name(kr));
		return;
	}
	char text[200];
	size_t len = 0;
	text[0] = '\0';
	for (unsigned r = 0; r < 5; r++) {
		mach_port_urefs_t refs = 0;
		if (mach_port_get_refs(task_self, name, r, &refs) == KERN_SUCCESS && refs) {
			snformat(text + len, sizeof text - len, " %s=%u", rights[r], refs);
			len = strlen(text);
		}
	}
	out("%s: name %u type %s urefs%s\n", what, name, type_name(type), text);
}
