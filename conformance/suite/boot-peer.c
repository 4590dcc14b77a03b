/* boot-peer.c: a task port passed by the boot script.  Booted with a second module
 * `boot-peer.elf $(peer=task-create)` and `--peer-task=${peer}` in its own line
 * (conformance/tests/boot_script.rs), it looks at the peer task the kernel created and left
 * suspended: its suspend count, threads, names, memory and initial stack, then resumes it
 * (the peer, started with no arguments, waits in mach_msg) and terminates it.  Booted alone,
 * as the suite boots every program, it says that it got no peer. */
#include "suite.h"

#include <mach/notify.h>
#include <mach/task_info.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("boot-peer");

static struct msg_buffer r;

static void show_thread(const char *what, thread_t thread)
{
	struct thread_basic_info info;
	mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
	kern_return_t kr = thread_info(thread, THREAD_BASIC_INFO, (thread_info_t)&info, &count);
	out("%s: thread_info %s run_state %d suspend_count %d\n", what, kr_name(kr),
	    kr ? 0 : info.run_state, kr ? 0 : info.suspend_count);
}

static void show_task(const char *what, task_t task)
{
	struct task_basic_info info;
	mach_msg_type_number_t count = TASK_BASIC_INFO_COUNT;
	kern_return_t kr = task_info(task, TASK_BASIC_INFO, (task_info_t)&info, &count);
	out("%s: task_info %s suspend_count %d\n", what, kr_name(kr), kr ? 0 : info.suspend_count);
}

/* The peer: no arguments, so no console and no host port; it waits for a message forever. */
static void peer_main(void)
{
	mach_port_t p = mach_reply_port();
	for (;;)
		mach_msg(&r.head, MACH_RCV_MSG, 0, sizeof r.bytes, p, 0, MACH_PORT_NULL);
}

void suite_before_console(void)
{
	if (suite_argc == 1)
		peer_main();
}

void suite_main(void)
{
	static const char opt[] = "--peer-task=";
	mach_port_t peer = MACH_PORT_NULL;
	for (long i = 1; i < suite_argc; i++)
		if (strncmp(suite_argv[i], opt, sizeof opt - 1) == 0)
			for (const char *s = suite_argv[i] + sizeof opt - 1; *s >= '0' && *s <= '9'; s++)
				peer = peer * 10 + (mach_port_t)(*s - '0');
	out("argc %ld\n", suite_argc);
	for (long i = 0; i < suite_argc; i++)
		out("argv[%ld] %s\n", i, suite_argv[i]);
	if (peer == MACH_PORT_NULL) {
		out("no --peer-task argument: no peer task\n");
		return;
	}
	show_rights("peer task name", peer);
	show_task("peer as the kernel left it", peer);

	thread_array_t list = 0;
	mach_msg_type_number_t n = 0;
	kern_return_t kr = task_threads(peer, &list, &n);
	out("task_threads(peer): %s count %u\n", kr_name(kr), kr ? 0 : n);
	thread_t thread = kr == KERN_SUCCESS && n ? list[0] : MACH_PORT_NULL;
	show_thread("peer's thread", thread);

	mach_port_array_t names = 0;
	mach_port_type_array_t types = 0;
	mach_msg_type_number_t nn = 0, nt = 0;
	kr = mach_port_names(peer, &names, &nn, &types, &nt);
	out("mach_port_names(peer): %s count %u\n", kr_name(kr), kr ? 0 : nn);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < nn; i++)
		out("  name %u type %s\n", names[i], type_name(types[i]));

	/* Its initial stack: argc and argv[0] as the kernel laid them out. */
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	out("thread_get_state(peer's thread): %s\n", kr_name(kr));
	vm_offset_t data = 0;
	mach_msg_type_number_t got = 0;
	if (kr == KERN_SUCCESS)
		kr = vm_read(peer, st.ursp & ~4095UL, 4096, &data, &got);
	if (kr == KERN_SUCCESS) {
		const char *page = (const char *)data;
		const long *sp = (const long *)(page + (st.ursp & 4095));
		out("peer's stack: argc %ld, %%rsp mod 16 = %lu\n", sp[0],
		    (unsigned long)(st.ursp % 16));
		out("peer's stack: argv[0] %s, argv[1] %s\n",
		    sp[1] ? page + (sp[1] & 4095) : "NULL", sp[2] ? "set" : "NULL");
		vm_deallocate(task_self, data, got);
	} else {
		out("vm_read(peer's stack): %s\n", kr_name(kr));
	}

	mach_port_t notify = MACH_PORT_NULL, prev = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &notify);
	mach_port_request_notification(task_self, peer, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                               MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	kr = task_resume(peer);
	out("task_resume(peer): %s\n", kr_name(kr));
	show_task("peer resumed", peer);
	receive(&r, notify, MACH_RCV_TIMEOUT, 50);
	show_thread("peer's thread after a while", thread);
	kr = task_terminate(peer);
	out("task_terminate(peer): %s\n", kr_name(kr));
	mach_msg_return_t mr = receive(&r, notify, MACH_RCV_TIMEOUT, 1000);
	out("dead-name notification: %s id %d\n", kr_name(mr), mr ? 0 : r.head.msgh_id);
	show_rights("peer task name after its death", peer);
}
