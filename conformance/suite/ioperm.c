/* ioperm.c: I/O port permissions (mach_i386.defs): i386_io_perm_create on the device master
 * port for a range of ports, i386_io_perm_modify granting and withdrawing it in the task
 * (every thread of it), `inb`/`outb` on port 0x80 while it is granted, the codes for bad
 * ranges and wrong ports; and, last, an `inb` after the permission was withdrawn, which
 * ends the task: the program prints `suite-fault ioperm` first, and its `suite-after-fault`
 * line must never appear.
 *
 * Not probed here: i386_io_perm_modify with a port that is no I/O permission (null, the task
 * or device master port): GNU Mach 1.8 takes a page fault in the kernel and panics. */
#include "suite.h"

#include "mach.h"
#include "mach_i386.h"
#include "mach_port.h"

SUITE_PROGRAM("ioperm");

static inline unsigned char inb(unsigned short port)
{
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static volatile int thread_read = -1;

void suite_thread_main(void *arg)
{
	(void)arg;
	thread_read = inb(0x80);
	for (;;)
		swtch();
}

static void pause_ms(unsigned ms)
{
	mach_port_t p = mach_reply_port();
	mach_msg_header_t h;
	mach_msg(&h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof h, p, ms, MACH_PORT_NULL);
	mach_port_destroy(task_self, p);
}

/* A second thread of the task reads port 0x80 (granted to the task). */
static void second_thread(void)
{
	thread_t thread = MACH_PORT_NULL;
	kern_return_t kr = thread_create(task_self, &thread);
	out("thread_create: %s\n", kr_name(kr));
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	vm_address_t stack = 0;
	vm_allocate(task_self, &stack, 16 * 4096, TRUE);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = stack + 16 * 4096 - 64;
	kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	out("thread_set_state: %s\n", kr_name(kr));
	out("thread_resume: %s\n", kr_name(thread_resume(thread)));
	for (int i = 0; i < 50 && thread_read < 0; i++)
		pause_ms(10);
	out("second thread read port 0x80: %x\n", thread_read);
	out("thread_terminate: %s\n", kr_name(thread_terminate(thread)));
}

void suite_main(void)
{
	mach_port_t perm = MACH_PORT_NULL, other = MACH_PORT_NULL;
	kern_return_t kr = i386_io_perm_create(device_master, 0x80, 0x80, &perm);
	out("create 0x80..0x80: %s name %u\n", kr_name(kr), perm);
	show_rights("perm", perm);
	kr = i386_io_perm_create(device_master, 0x81, 0x80, &other);
	out("create 0x81..0x80: %s name %u\n", kr_name(kr), other);
	kr = i386_io_perm_create(device_master, 0, 0xffff, &other);
	out("create 0..0xffff: %s name %u\n", kr_name(kr), other);
	other = MACH_PORT_NULL;
	kr = i386_io_perm_create(device_master, 0x80, 0x80, &other);
	out("create 0x80..0x80 again: %s name %u\n", kr_name(kr), other);
	other = MACH_PORT_NULL;
	kr = i386_io_perm_create(host_priv, 0x80, 0x80, &other);
	out("create on the host port: %s name %u\n", kr_name(kr), other);
	kr = i386_io_perm_create(task_self, 0x80, 0x80, &other);
	out("create on the task port: %s name %u\n", kr_name(kr), other);
	kr = i386_io_perm_create(MACH_PORT_NULL, 0x80, 0x80, &other);
	out("create on null: %s name %u\n", kr_name(kr), other);

	out("modify on the host port: %s\n", kr_name(i386_io_perm_modify(host_priv, perm, TRUE)));
	out("modify enable: %s\n", kr_name(i386_io_perm_modify(task_self, perm, TRUE)));
	show_rights("perm", perm);
	out("inb 0x80: %x\n", inb(0x80));
	outb(0x80, 0x12);
	out("inb 0x80 after outb 0x12: %x\n", inb(0x80));
	out("modify enable again: %s\n", kr_name(i386_io_perm_modify(task_self, perm, TRUE)));
	second_thread();
	out("modify disable: %s\n", kr_name(i386_io_perm_modify(task_self, perm, FALSE)));
	out("modify disable again: %s\n", kr_name(i386_io_perm_modify(task_self, perm, FALSE)));
	out("modify enable 2: %s\n", kr_name(i386_io_perm_modify(task_self, perm, 2)));
	out("inb 0x80: %x\n", inb(0x80));
	out("modify disable: %s\n", kr_name(i386_io_perm_modify(task_self, perm, FALSE)));
	out("suite-fault ioperm\n");
	unsigned char v = inb(0x80);
	out("suite-after-fault ioperm: inb 0x80 after disable: %x\n", v);
}
