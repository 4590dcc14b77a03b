/* special.c: the start-up calls a Mach program makes: task_get/set_special_port (kernel,
 * exception, bootstrap, an unknown one), thread_get/set_special_port, mach_ports_register /
 * mach_ports_lookup (their limit), what a task_create child inherits of them, what a special
 * port whose receive right died reads as (the other start-up calls: startup.c). */
#include "suite.h"

#include <mach/task_special_ports.h>
#include <mach/thread_special_ports.h>

#include "mach.h"
#include "mach_host.h"
#include "mach_port.h"

SUITE_PROGRAM("special");

static mach_port_t new_port(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	mach_port_insert_right(task_self, p, p, MACH_MSG_TYPE_MAKE_SEND);
	return p;
}

static void show_special(const char *what, mach_port_t name, mach_port_t self)
{
	if (name == MACH_PORT_NULL)
		out("%s: null\n", what);
	else if (name == MACH_PORT_DEAD)
		out("%s: dead\n", what);
	else {
		out("%s: same as self %d\n", what, name == self);
		show_rights(what, name);
	}
}

static void task_port(const char *who, task_t task, int which, const char *wname)
{
	char what[80];
	mach_port_t p = MACH_PORT_NULL;
	kern_return_t kr = task_get_special_port(task, which, &p);
	snformat(what, sizeof what, "%s task_get_special_port %s", who, wname);
	out("%s: %s\n", what, kr_name(kr));
	if (!kr)
		show_special(what, p, task_self);
}

static void thread_port(const char *who, thread_t thread, int which, const char *wname)
{
	char what[80];
	mach_port_t p = MACH_PORT_NULL;
	kern_return_t kr = thread_get_special_port(thread, which, &p);
	snformat(what, sizeof what, "%s thread_get_special_port %s", who, wname);
	out("%s: %s\n", what, kr_name(kr));
	if (!kr)
		show_special(what, p, thread);
}

static void lookup(const char *who, task_t task)
{
	mach_port_array_t ports = 0;
	mach_msg_type_number_t count = 0;
	kern_return_t kr = mach_ports_lookup(task, &ports, &count);
	out("%s mach_ports_lookup: %s count %u\n", who, kr_name(kr), kr ? 0 : count);
	if (kr)
		return;
	for (unsigned i = 0; i < count; i++) {
		char what[80];
		snformat(what, sizeof what, "%s registered %u", who, i);
		show_special(what, ports[i], task_self);
	}
	vm_deallocate(task_self, (vm_address_t)ports, count * sizeof *ports);
}

void suite_main(void)
{
	thread_t me = mach_thread_self_trap();
	task_port("self", task_self, TASK_KERNEL_PORT, "kernel");
	task_port("self", task_self, TASK_EXCEPTION_PORT, "exception");
	task_port("self", task_self, TASK_BOOTSTRAP_PORT, "bootstrap");
	task_port("self", task_self, 0, "0");
	task_port("self", task_self, 2, "2");
	task_port("self", task_self, 99, "99");
	out("bad task: %s\n", kr_name(task_get_special_port(me, TASK_KERNEL_PORT,
	                                                    &(mach_port_t){ 0 })));

	mach_port_t exc = new_port(), boot = new_port();
	out("set exception: %s\n",
	    kr_name(task_set_special_port(task_self, TASK_EXCEPTION_PORT, exc)));
	show_rights("exc after set", exc);
	out("set bootstrap: %s\n",
	    kr_name(task_set_special_port(task_self, TASK_BOOTSTRAP_PORT, boot)));
	out("set 99: %s\n", kr_name(task_set_special_port(task_self, 99, boot)));
	task_port("self", task_self, TASK_EXCEPTION_PORT, "exception");
	task_port("self", task_self, TASK_BOOTSTRAP_PORT, "bootstrap");
	show_rights("boot after get", boot);

	thread_port("self", me, THREAD_KERNEL_PORT, "kernel");
	thread_port("self", me, THREAD_EXCEPTION_PORT, "exception");
	thread_port("self", me, 2, "2");
	thread_port("self", me, 99, "99");
	mach_port_t texc = new_port();
	out("thread set exception: %s\n",
	    kr_name(thread_set_special_port(me, THREAD_EXCEPTION_PORT, texc)));
	out("thread set 99: %s\n", kr_name(thread_set_special_port(me, 99, texc)));
	thread_port("self", me, THREAD_EXCEPTION_PORT, "exception");
	show_rights("texc after get", texc);

	lookup("self before", task_self);
	mach_port_t a = new_port(), b = new_port();
	mach_port_t regs[5] = { a, b, MACH_PORT_NULL, a, b };
	out("register 2: %s\n", kr_name(mach_ports_register(task_self, regs, 2)));
	show_rights("a after register", a);
	lookup("self", task_self);
	show_rights("a after lookup", a);
	out("register 5: %s\n", kr_name(mach_ports_register(task_self, regs, 5)));
	out("register 4: %s\n", kr_name(mach_ports_register(task_self, regs, 4)));
	lookup("self", task_self);

	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, 0, &child);
	out("task_create: %s\n", kr_name(kr));
	if (!kr) {
		task_port("child", child, TASK_KERNEL_PORT, "kernel");
		task_port("child", child, TASK_EXCEPTION_PORT, "exception");
		task_port("child", child, TASK_BOOTSTRAP_PORT, "bootstrap");
		lookup("child", child);
		thread_t ct = MACH_PORT_NULL;
		kr = thread_create(child, &ct);
		out("thread_create: %s\n", kr_name(kr));
		if (!kr) {
			thread_port("child", ct, THREAD_KERNEL_PORT, "kernel");
			thread_port("child", ct, THREAD_EXCEPTION_PORT, "exception");
		}
		out("set child bootstrap null: %s\n",
		    kr_name(task_set_special_port(child, TASK_BOOTSTRAP_PORT, MACH_PORT_NULL)));
		task_port("child", child, TASK_BOOTSTRAP_PORT, "bootstrap");
		out("task_terminate: %s\n", kr_name(task_terminate(child)));
	}
	/* Dropping the receive right: what the registered and special names become. */
	mach_port_mod_refs(task_self, boot, MACH_PORT_RIGHT_RECEIVE, -1);
	show_rights("boot after receive dropped", boot);
	task_port("self", task_self, TASK_BOOTSTRAP_PORT, "bootstrap");
}
