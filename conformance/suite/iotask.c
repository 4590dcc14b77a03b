/* iotask.c: I/O permissions belong to a task and go with it: the parent holds port 0x80; a
 * child made by task_create (inherited memory) does not get it, and its `inb` ends it (the
 * parent sees the child's task port die); a second child granted the permission by the parent
 * (i386_io_perm_modify on the child's task port) reads the port; the parent still can, after
 * running the children, and a third child the parent grants nothing dies again. The children
 * report through a region they share with the parent. Values only. */
#include "suite.h"

#include <mach/notify.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_i386.h"
#include "mach_port.h"

SUITE_PROGRAM("iotask");

#define PAGE 4096

static inline unsigned char inb(unsigned short port)
{
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Shared with the children (VM_INHERIT_SHARE): what the child's thread saw. */
struct report {
	volatile int started;
	volatile int value; /* -1 until the child's inb returned */
};
static struct report *rep;
static vm_address_t child_stack;
static struct msg_buffer r;

void suite_thread_main(void *arg)
{
	(void)arg;
	rep->started = 1;
	rep->value = inb(0x80);
	for (;;)
		swtch_pri(0);
}

static mach_port_t new_port(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	return p;
}

/* A child with inherited memory; its port's death is notified to *notify. */
static task_t child_task(const char *what, mach_port_t *notify)
{
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, TRUE, &child);
	out("%s: task_create %s\n", what, kr_name(kr));
	*notify = new_port();
	mach_port_t prev = MACH_PORT_NULL;
	kr = mach_port_request_notification(task_self, child, MACH_NOTIFY_DEAD_NAME, 0, *notify,
	                                    MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	out("%s: dead-name request %s\n", what, kr_name(kr));
	return child;
}

/* Starts the child's thread at suite_thread_entry and waits for its inb or its death. */
static void run_child(const char *what, task_t child, mach_port_t notify)
{
	rep->started = 0;
	rep->value = -1;
	thread_t thread = MACH_PORT_NULL;
	kern_return_t kr = thread_create(child, &thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	if (kr == KERN_SUCCESS)
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = child_stack + 16 * PAGE - 64;
	if (kr == KERN_SUCCESS)
		kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	if (kr == KERN_SUCCESS)
		kr = thread_resume(thread);
	out("%s: thread started %s\n", what, kr_name(kr));
	for (int i = 0; i < 100 && rep->value < 0; i++) {
		mach_msg_return_t mr = receive(&r, notify, MACH_RCV_TIMEOUT, 10);
		if (mr == MACH_MSG_SUCCESS) {
			out("%s: notification id %d (the child died)\n", what, r.head.msgh_id);
			break;
		}
	}
	out("%s: started %d, its inb 0x80: %s %x\n", what, rep->started,
	    rep->value < 0 ? "none" : "read", rep->value < 0 ? 0 : rep->value);
	mach_port_deallocate(task_self, thread);
}

void suite_main(void)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_allocate(task_self, &a, PAGE, TRUE);
	if (kr == KERN_SUCCESS)
		kr = vm_inherit(task_self, a, PAGE, VM_INHERIT_SHARE);
	out("shared report page: %s\n", kr_name(kr));
	rep = (struct report *)a;
	vm_allocate(task_self, &child_stack, 16 * PAGE, TRUE);

	mach_port_t perm = MACH_PORT_NULL;
	out("create 0x80..0x80: %s\n", kr_name(i386_io_perm_create(device_master, 0x80, 0x80, &perm)));
	out("enable in the parent: %s\n", kr_name(i386_io_perm_modify(task_self, perm, TRUE)));
	out("parent's inb 0x80: %x\n", inb(0x80));

	mach_port_t n1, n2, n3;
	task_t c1 = child_task("child 1", &n1);
	run_child("child 1", c1, n1);
	show_rights("child 1's task port", c1);
	out("parent's inb 0x80 after child 1: %x\n", inb(0x80));

	task_t c2 = child_task("child 2", &n2);
	out("enable in child 2: %s\n", kr_name(i386_io_perm_modify(c2, perm, TRUE)));
	run_child("child 2", c2, n2);
	out("parent's inb 0x80 after child 2: %x\n", inb(0x80));
	out("task_terminate(child 2): %s\n", kr_name(task_terminate(c2)));
	mach_msg_return_t mr = receive(&r, n2, MACH_RCV_TIMEOUT, 1000);
	out("child 2's death: %s id %d\n", kr_name(mr), mr ? 0 : r.head.msgh_id);

	task_t c3 = child_task("child 3", &n3);
	run_child("child 3", c3, n3);
	out("parent's inb 0x80 at the end: %x\n", inb(0x80));
}
