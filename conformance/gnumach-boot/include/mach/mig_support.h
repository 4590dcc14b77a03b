/* mach/mig_support.h: the MIG runtime interface the generated stubs call.
 * gnumach-dev does not ship this header; this is the minimal freestanding version used by the
 * conformance programs (GNU Mach bootstrap program and the in-process wire harness). */
#ifndef _MACH_MIG_SUPPORT_H_
#define _MACH_MIG_SUPPORT_H_

#include <mach/message.h>
#include <mach/port.h>
#include <mach/std_types.h>
#include <stddef.h>

extern mach_port_t mig_get_reply_port(void);
extern void mig_dealloc_reply_port(mach_port_t reply_port);
extern void mig_put_reply_port(mach_port_t reply_port);
extern vm_size_t mig_strncpy(char *dst, const char *src, vm_size_t len);
extern void mig_allocate(vm_address_t *addr, vm_size_t size);
extern void mig_deallocate(vm_address_t addr, vm_size_t size);

extern void *memcpy(void *dst, const void *src, size_t n);
extern void *memset(void *dst, int c, size_t n);

#endif
