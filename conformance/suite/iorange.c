/* iorange.c: I/O permissions are bits of the task's bitmap, not counted grants: a permission
 * stays granted after its port is deallocated, and withdrawing a wider range that covers it
 * withdraws it too, so the last `inb` of port 0x80 faults and ends the task (the program
 * prints `suite-fault iorange` first, and its `suite-after-fault` line must never appear). */
#include "suite.h"

#include "mach_i386.h"
#include "mach_port.h"

SUITE_PROGRAM("iorange");

static inline unsigned char inb(unsigned short port)
{
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void suite_main(void)
{
	mach_port_t perm = MACH_PORT_NULL, wide = MACH_PORT_NULL;
	out("create 0x80..0x80: %s\n",
	    kr_name(i386_io_perm_create(device_master, 0x80, 0x80, &perm)));
	out("create 0x70..0x8f: %s\n",
	    kr_name(i386_io_perm_create(device_master, 0x70, 0x8f, &wide)));
	out("enable 0x80: %s\n", kr_name(i386_io_perm_modify(task_self, perm, TRUE)));
	out("deallocate its port: %s\n", kr_name(mach_port_deallocate(task_self, perm)));
	show_rights("perm", perm);
	out("inb 0x80 after the deallocation: %x\n", inb(0x80));
	out("enable 0x70..0x8f: %s\n", kr_name(i386_io_perm_modify(task_self, wide, TRUE)));
	out("inb 0x8f: %x\n", inb(0x8f));
	out("disable 0x70..0x8f: %s\n", kr_name(i386_io_perm_modify(task_self, wide, FALSE)));
	out("suite-fault iorange\n");
	unsigned char v = inb(0x80);
	out("suite-after-fault iorange: inb 0x80 after disabling the wide range: %x\n", v);
}
