/* runtime.c: the freestanding runtime under the MIG user stubs of the bootstrap program:
 * mach_msg over the trap, the mig_* reply-port and string helpers, memory and string
 * functions, a small formatter and a console writer over device_write_inband. */
#include "runtime.h"

#include <device/device_types.h>
#include <mach/kern_return.h>
#include <mach/mach_types.h>

#include "device.h"

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
                           mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                           mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
                           mach_port_name_t notify)
{
	mach_msg_return_t r;

	/* Retry an interrupted receive (the send half has completed then). */
	r = mach_msg_trap(msg, option, send_size, rcv_size, rcv_name, timeout, notify);
	while (r == MACH_RCV_INTERRUPTED)
		r = mach_msg_trap(msg, option & ~MACH_SEND_MSG, 0, rcv_size, rcv_name,
		                  timeout, notify);
	return r;
}

/* One cached reply port for the single thread of this program. */
static mach_port_t reply_port = MACH_PORT_NULL;

mach_port_t mig_get_reply_port(void)
{
	if (reply_port == MACH_PORT_NULL)
		reply_port = mach_reply_port();
	return reply_port;
}

void mig_dealloc_reply_port(mach_port_t port)
{
	/* The stub saw an error on the reply port: forget it, take a fresh one next time.  The
	 * right itself is leaked: this program never runs long enough for that to matter. */
	if (port == reply_port)
		reply_port = MACH_PORT_NULL;
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

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

/* The formatter.  Unknown conversions are copied literally. */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_number(struct out *o, unsigned long v, unsigned base, int width, char pad)
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
	struct out o = { buf, size, 0 };

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

/* The console.  Output is buffered and written in pieces of at most the inband maximum. */
static mach_port_t console = MACH_PORT_NULL;
static char line[sizeof(io_buf_ptr_inband_t)];
static unsigned line_len;

int console_open(mach_port_t device_master)
{
	return device_open(device_master, D_READ | D_WRITE, "console", &console);
}

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

void console_printf(const char *fmt, ...)
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
