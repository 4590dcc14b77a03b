/* runtime.h: the freestanding C runtime of the GNU Mach bootstrap program. */
#ifndef BOOT_RUNTIME_H
#define BOOT_RUNTIME_H

#include <mach/message.h>
#include <mach/port.h>
#include <mach/mig_support.h>
#include <stdarg.h>
#include <stddef.h>

/* Traps (start.S). */
extern mach_port_t mach_reply_port(void);
extern mach_port_t mach_task_self_trap(void);
extern mach_port_t mach_host_self_trap(void);

/* The console: device_open("console") once, then buffered lines through device_write_inband. */
int console_open(mach_port_t device_master);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_flush(void);

/* A tiny formatter: %d %u %x %lx %lu %ld %s %c %%, with optional 0-padding width (%08x). */
int vformat(char *buf, size_t size, const char *fmt, va_list ap);

size_t strlen(const char *s);
int memcmp(const void *a, const void *b, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
