/* suite.h: the runtime shared by the differential suite's programs.
 *
 * A program defines SUITE_PROGRAM(name) and `void suite_main(void)`.  The runtime's
 * suite_start parses the bootstrap arguments, opens the console, prints `suite-begin <name>`,
 * runs suite_main, prints `suite-end <name>` and ends the run with host_reboot(host_priv, 0).
 * Programs print values, never verdicts and never addresses: every line must repeat from boot
 * to boot and from kernel to kernel.
 *
 * Only the program's first thread may call MIG stubs (one cached reply port); other threads
 * use mach_msg directly. */
#ifndef SUITE_H
#define SUITE_H

#include <mach/kern_return.h>
#include <mach/mach_types.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/mig_support.h>
#include <mach/port.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SUITE_PROGRAM(name) const char suite_name[] = name

extern const char suite_name[];
void suite_main(void);
/* Optional: runs first, before the runtime takes any right (mach_task_self, the console, the
 * reply port); it can record the task's initial state but cannot print. */
void suite_before_console(void) __attribute__((weak));

/* From the bootstrap arguments and traps, set before suite_main. */
extern mach_port_t host_priv, device_master, task_self;
extern long suite_argc;
extern char **suite_argv;
extern long *suite_args; /* the argument block _start found at %rsp */

/* Traps (start.S). */
extern mach_port_t mach_reply_port(void);
extern mach_port_t mach_thread_self_trap(void);
extern mach_port_t mach_task_self_trap(void);
extern mach_port_t mach_host_self_trap(void);
extern boolean_t swtch_pri(int pri);
extern boolean_t swtch(void);
extern kern_return_t thread_switch(mach_port_t thread, int option, mach_msg_timeout_t time);
extern uint64_t suite_rdtsc(void);
extern void suite_thread_entry(void);
/* Defined by a program that starts threads: what suite_thread_entry calls with %rdi. */
void suite_thread_main(void *arg);

/* The console: lines through device_write_inband. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_flush(void);
/* %d %u %x %lx %lu %ld %s %c %%, optional 0-padding width (%08x). */
int vformat(char *buf, size_t size, const char *fmt, va_list ap);
int snformat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The name of a kern_return_t / mach_msg_return_t / MIG code, or its value in hex (in a
 * rotating static buffer, valid for a few calls). */
const char *kr_name(kern_return_t kr);
/* mach_port_type_t as "send|receive|..." ("none" for 0); a rotating static buffer. */
const char *type_name(mach_port_type_t type);
/* A msgt_name as MACH_MSG_TYPE_* (or its number). */
const char *msgt_name(unsigned name);

/* Ends the run at once (after suite-end), as the end of suite_main does. */
void suite_exit(void) __attribute__((noreturn));

size_t strlen(const char *s);
int memcmp(const void *a, const void *b, size_t n);
int strncmp(const char *a, const char *b, size_t n);

/* Prints a received message: header fields, then each typed datum's descriptor and values
 * (out-of-line data by its contents), one line each, prefixed by tag. */
void dump_message(const char *tag, const mach_msg_header_t *m);

/* Messages built by hand: header, then typed data (8-byte descriptors, data padded to 8).
 * Adding port rights or out-of-line data sets MACH_MSGH_BITS_COMPLEX. */
struct msg_builder {
	union {
		mach_msg_header_t head;
		char bytes[2048];
	} u;
	unsigned len;
};
void mb_init(struct msg_builder *b, unsigned bits, mach_port_t remote, mach_port_t local,
             mach_msg_id_t id);
void mb_inline(struct msg_builder *b, unsigned name, unsigned size, unsigned number,
               const void *data);
/* Inline port rights (8-byte slots, msgt_size 64). */
void mb_ports(struct msg_builder *b, unsigned disposition, unsigned number,
              const mach_port_t *names);
/* Out-of-line data (long form, a pointer in the body). */
void mb_ool(struct msg_builder *b, unsigned name, unsigned size, unsigned number,
            const void *data, int dealloc);
/* Sends the builder's message (MACH_SEND_MSG | option). */
mach_msg_return_t mb_send(struct msg_builder *b, mach_msg_option_t option,
                          mach_msg_timeout_t timeout);

/* A receive buffer. */
struct msg_buffer {
	union {
		mach_msg_header_t head;
		char bytes[4096];
	};
};
/* Receives into r (MACH_RCV_MSG | option), the whole buffer as the limit. */
mach_msg_return_t receive(struct msg_buffer *r, mach_port_t from, mach_msg_option_t option,
                          mach_msg_timeout_t timeout);
/* The type of a name and the non-zero user references of each right. */
void show_rights(const char *what, mach_port_t name);
#endif
