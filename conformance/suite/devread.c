/* devread.c: the console device's input (device_read, device_read_inband) from the serial
 * line, and device_open of the names a Mach program tries. Input comes from the suite's
 * runner: each `suite-input` line makes it write the next line of input/devread.txt to the
 * serial line. A read issued before its input arrives must wait for it; a read after a pause
 * finds the whole chunk already there. Last, reads sent by hand (mb_*), one whose reply port
 * dies while it waits. Values only: codes, counts, bytes, port names. */
#include "suite.h"

#include "device.h"
#include "mach_port.h"
#include <device/device_types.h>

SUITE_PROGRAM("devread");

static mach_port_t con;

/* Waits ms milliseconds (a receive that times out on a port of its own). */
static void pause_ms(unsigned ms)
{
	mach_port_t p = mach_reply_port();
	mach_msg_header_t h;
	mach_msg(&h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof h, p, ms, MACH_PORT_NULL);
	mach_port_destroy(task_self, p);
}

static void show_bytes(const char *what, kern_return_t kr, const char *buf, unsigned n)
{
	out("%s: %s n %u:", what, kr_name(kr), n);
	for (unsigned i = 0; i < n && i < 16; i++)
		out(" %02x", (unsigned char)buf[i]);
	if (n > 16)
		out(" ...");
	out("\n");
}

static void rd(const char *what, int mode, int want)
{
	char buf[sizeof(io_buf_ptr_inband_t) + 64];
	mach_msg_type_number_t n = sizeof buf;
	kern_return_t kr = device_read_inband(con, mode, 0, want, buf, &n);
	show_bytes(what, kr, buf, n);
}

static void rd_ool(const char *what, int want)
{
	io_buf_ptr_t data = 0;
	mach_msg_type_number_t n = 0;
	kern_return_t kr = device_read(con, 0, 0, want, &data, &n);
	show_bytes(what, kr, kr == KERN_SUCCESS ? data : "", kr == KERN_SUCCESS ? n : 0);
}

/* Asks the runner for the next chunk of input; with wait, gives it time to arrive whole. */
static void input(int wait)
{
	out("suite-input\n");
	if (wait)
		pause_ms(500);
}

static const char *names[] = {
	"console", "com0", "com", "console0", "console1", "console12345", "com00", "com0x",
	"com0s1", "com4294967296", "com1", "com01", "com2", "com3", "com9", "cons", "consolex",
	"console ", "CONSOLE", "c", "", "comx", "hd0", "sd0", "wd0", "fd0", "eth0", "lpr0", "tty0",
	"nosuch",
};

/* A device_read_inband request for 10 bytes built by hand, its reply port a new receive
 * right (returned). */
static mach_port_t send_read(void)
{
	mach_port_t r = mach_reply_port();
	struct msg_builder b;
	int mode = 0, want = 10;
	uint64_t recnum = 0;
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), con, r,
	        2805);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &mode);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_64, 64, 1, &recnum);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &want);
	out("send a read by hand: %s\n", kr_name(mb_send(&b, 0, 0)));
	return r;
}

/* Reads sent by hand: one whose reply port is destroyed while it waits still takes the input
 * that comes; one kept waiting gets its reply on its own port. */
static void reads_by_hand(void)
{
	mach_port_t r = send_read();
	out("destroy its reply port: %s\n", kr_name(mach_port_destroy(task_self, r)));
	input(1);
	input(1);
	rd("read after the dead read", 0, 10);
	r = send_read();
	input(1);
	struct msg_buffer m;
	mach_msg_return_t mr = receive(&m, r, MACH_RCV_TIMEOUT, 100);
	out("receive on its reply port: %s\n", kr_name(mr));
	if (mr == KERN_SUCCESS)
		dump_message("reply", &m.head);
	out("destroy its reply port: %s\n", kr_name(mach_port_destroy(task_self, r)));
}

void suite_main(void)
{
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		mach_port_t d = MACH_PORT_NULL;
		kern_return_t kr = device_open(device_master, D_READ | D_WRITE, (char *)names[i], &d);
		out("device_open '%s': %s name %u\n", names[i], kr_name(kr), d);
	}
	mach_port_t d = MACH_PORT_NULL;
	out("device_open on the host port: %s\n",
	    kr_name(device_open(host_priv, D_READ, "console", &d)));
	out("device_open console mode 0: %s\n", kr_name(device_open(device_master, 0, "console", &con)));
	show_rights("console", con);

	/* Reads that wait: issued before their byte arrives. */
	input(0);
	rd("read 10 (waits)", 0, 10);
	input(0);
	rd("read 10 D_NOWAIT (waits too)", D_NOWAIT, 10);
	input(0);
	rd("read 0 (waits, returns nothing)", 0, 0);
	rd("read 10 after it", 0, 10);

	/* Reads of input already there: raw bytes, no echo, no line editing. */
	input(1);
	rd("read 10 of a line", 0, 10);
	input(1);
	rd("read 2", 0, 2);
	rd("read 2", 0, 2);
	rd("read 0", 0, 0);
	rd("read 10", 0, 10);
	input(1);
	rd("read -1", 0, -1);
	input(1);
	rd("read 1000 of 150 inband", 0, 1000);
	rd("read 1000 inband, the rest", 0, 1000);

	/* Out of line. */
	input(1);
	rd_ool("device_read 0", 0);
	rd_ool("device_read 3", 3);
	rd_ool("device_read 100000", 100000);

	/* Other ports. */
	mach_port_t com0 = MACH_PORT_NULL;
	out("device_open com0: %s\n", kr_name(device_open(device_master, D_READ, "com0", &com0)));
	{
		char buf[sizeof(io_buf_ptr_inband_t)];
		mach_msg_type_number_t n = sizeof buf;
		out("read on the device master: %s\n",
		    kr_name(device_read_inband(device_master, 0, 0, 10, buf, &n)));
		n = sizeof buf;
		out("read on the task port: %s\n",
		    kr_name(device_read_inband(task_self, 0, 0, 10, buf, &n)));
	}
	input(1);
	con = com0;
	rd("read com0", 0, 10);

	/* Closing leaves the port and the reads. */
	out("device_close: %s\n", kr_name(device_close(con)));
	out("device_close again: %s\n", kr_name(device_close(con)));
	input(1);
	rd("read after close", 0, 10);
	show_rights("console", con);
	reads_by_hand();
}
