/* iofault.c: port I/O without permission: an I/O permission port exists for port 0x80 but
 * was never granted to the task, so the task's `inb` faults and ends it. The program prints
 * `suite-fault iofault` first, and its `suite-after-fault` line must never appear; what the
 * kernel prints is not compared. */
#include "suite.h"

#include "mach_i386.h"

SUITE_PROGRAM("iofault");

void suite_main(void)
{
	mach_port_t perm = MACH_PORT_NULL;
	kern_return_t kr = i386_io_perm_create(device_master, 0x80, 0x80, &perm);
	out("create 0x80..0x80: %s\n", kr_name(kr));
	out("suite-fault iofault\n");
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((unsigned short)0x80));
	out("suite-after-fault iofault: inb 0x80 without permission: %x\n", v);
}
