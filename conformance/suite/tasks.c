/* tasks.c: a second task made by task_create without inherited memory: its initial names and
 * task_info, task_threads of both tasks, code written into it by vm_write and run by a thread
 * made with thread_create + thread_set_state + thread_resume (the names its traps return),
 * task_suspend / task_resume counts and their effect on its thread, and its death seen from
 * the first task: dead-name notifications for its task, thread and port, no-senders for a
 * port it held a send right to, and mach_port_type of the names left behind. */
#include "suite.h"

#include <mach/notify.h>
#include <mach/task_info.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("tasks");

/* Code copied into the child (position independent, one page): its traps' results in
 * r12 (mach_task_self), r13 (mach_thread_self), r14 (mach_reply_port), r15 (mach_host_self),
 * then a loop counting in %rbx. */
extern const char child_code[], child_loop[];
__asm__(".pushsection .text.child,\"ax\",@progbits\n"
        ".balign 4096\n"
        "child_code:\n"
        "  movq $-28, %rax\n  syscall\n  movq %rax, %r12\n"
        "  movq $-27, %rax\n  syscall\n  movq %rax, %r13\n"
        "  movq $-26, %rax\n  syscall\n  movq %rax, %r14\n"
        "  movq $-29, %rax\n  syscall\n  movq %rax, %r15\n"
        "  xorl %ebx, %ebx\n"
        "child_loop:\n"
        "  incq %rbx\n  jmp child_loop\n"
        ".balign 4096\n"
        ".popsection\n");

#define CODE_AT 0x20000000UL

static struct msg_buffer r;

static mach_port_t new_port(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	return p;
}

static void pause_ms(mach_msg_timeout_t ms)
{
	static mach_port_t idle;
	if (!idle)
		idle = new_port();
	receive(&r, idle, MACH_RCV_TIMEOUT, ms);
}

static void show_task_info(const char *what, task_t task)
{
	struct task_basic_info info;
	mach_msg_type_number_t count = TASK_BASIC_INFO_COUNT;
	kern_return_t kr = task_info(task, TASK_BASIC_INFO, (task_info_t)&info, &count);
	if (kr) {
		out("%s: task_info %s\n", what, kr_name(kr));
		return;
	}
	out("%s: task_info %s count %u suspend_count %d base_priority %d\n", what, kr_name(kr),
	    count, info.suspend_count, info.base_priority);
}

static void show_sizes(const char *what, task_t task)
{
	struct task_basic_info info;
	mach_msg_type_number_t count = TASK_BASIC_INFO_COUNT;
	kern_return_t kr = task_info(task, TASK_BASIC_INFO, (task_info_t)&info, &count);
	out("%s: task_info %s virtual_size %lu\n", what, kr_name(kr),
	    kr ? 0 : (unsigned long)info.virtual_size);
}

static void show_thread(const char *what, thread_t thread)
{
	struct thread_basic_info info;
	mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
	kern_return_t kr = thread_info(thread, THREAD_BASIC_INFO, (thread_info_t)&info, &count);
	out("%s: thread_info %s run_state %d suspend_count %d\n", what, kr_name(kr),
	    kr ? 0 : info.run_state, kr ? 0 : info.suspend_count);
}

static void show_names(const char *what, task_t task)
{
	mach_port_array_t names = 0;
	mach_port_type_array_t types = 0;
	mach_msg_type_number_t n = 0, nt = 0;
	kern_return_t kr = mach_port_names(task, &names, &n, &types, &nt);
	out("%s: mach_port_names %s count %u\n", what, kr_name(kr), kr ? 0 : n);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < n; i++)
		out("%s:   name %u type %s\n", what, names[i], type_name(types[i]));
	if (kr == KERN_SUCCESS && n) {
		vm_deallocate(task_self, (vm_address_t)names, n * sizeof *names);
		vm_deallocate(task_self, (vm_address_t)types, nt * sizeof *types);
	}
}

/* task_threads: the count and each name (the caller's names for the threads). */
static void show_threads(const char *what, task_t task)
{
	thread_array_t list = 0;
	mach_msg_type_number_t n = 0;
	kern_return_t kr = task_threads(task, &list, &n);
	out("%s: task_threads %s count %u\n", what, kr_name(kr), kr ? 0 : n);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < n; i++) {
		mach_port_urefs_t refs = 0;
		mach_port_type_t type = 0;
		mach_port_type(task_self, list[i], &type);
		mach_port_get_refs(task_self, list[i], MACH_PORT_RIGHT_SEND, &refs);
		out("%s:   thread name %u type %s send urefs %u\n", what, list[i],
		    type_name(type), refs);
	}
	if (kr == KERN_SUCCESS && n)
		vm_deallocate(task_self, (vm_address_t)list, n * sizeof *list);
}

static kern_return_t get_state(thread_t thread, struct i386_thread_state *st)
{
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	return thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)st, &count);
}

static void request_dead_name(const char *what, mach_port_t name, mach_port_t notify)
{
	mach_port_t prev = MACH_PORT_NULL;
	kern_return_t kr = mach_port_request_notification(task_self, name, MACH_NOTIFY_DEAD_NAME, 0,
	                                                  notify, MACH_MSG_TYPE_MAKE_SEND_ONCE,
	                                                  &prev);
	out("dead-name request on %s (%u): %s\n", what, name, kr_name(kr));
}

/* Notifications waiting on `notify`, in order (id and the name they carry). */
static void drain(const char *what, mach_port_t notify)
{
	for (;;) {
		mach_msg_return_t kr = receive(&r, notify, MACH_RCV_TIMEOUT, 50);
		if (kr != MACH_MSG_SUCCESS) {
			out("%s: then %s\n", what, kr_name(kr));
			return;
		}
		unsigned word = *(uint32_t *)(r.bytes + sizeof(mach_msg_header_t) +
		                              sizeof(mach_msg_type_t));
		out("%s: notification id %d size %u word %u\n", what, r.head.msgh_id,
		    r.head.msgh_size, r.head.msgh_size > 32 ? word : 0);
	}
}

static void names_left(const char *what, mach_port_t name)
{
	mach_port_type_t type = 0;
	kern_return_t kr = mach_port_type(task_self, name, &type);
	mach_port_urefs_t refs = 0;
	mach_port_get_refs(task_self, name, MACH_PORT_RIGHT_DEAD_NAME, &refs);
	out("%s (%u) after the death: mach_port_type %s %s dead-name urefs %u\n", what, name,
	    kr_name(kr), kr ? "-" : type_name(type), refs);
}

static void empty_child(void)
{
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, FALSE, &child);
	out("task_create(no inherit): %s name %u\n", kr_name(kr), child);
	show_rights("child task port", child);
	show_task_info("fresh child", child);
	show_sizes("fresh child", child);
	show_names("fresh child", child);
	show_threads("fresh child", child);
	vm_address_t addr = 0;
	vm_size_t size = 0;
	vm_prot_t prot, max;
	vm_inherit_t inh;
	boolean_t shared;
	mach_port_t obj;
	vm_offset_t off;
	kr = vm_region(child, &addr, &size, &prot, &max, &inh, &shared, &obj, &off);
	out("fresh child: vm_region(0) %s\n", kr_name(kr));
	kr = task_terminate(child);
	out("task_terminate(empty child): %s\n", kr_name(kr));
	show_rights("empty child's name after task_terminate", child);
	kr = task_terminate(child);
	out("task_terminate again: %s\n", kr_name(kr));
	mach_port_deallocate(task_self, child);
}

/* A child whose only thread is terminated: the task stays, with no threads. */
static void last_thread(void)
{
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, FALSE, &child);
	out("task_create (last thread): %s\n", kr_name(kr));
	thread_t thread = MACH_PORT_NULL;
	kr = thread_create(child, &thread);
	out("thread_create: %s\n", kr_name(kr));
	kr = thread_terminate(thread);
	out("thread_terminate of its only thread: %s\n", kr_name(kr));
	show_rights("its thread's name", thread);
	show_task_info("child without threads", child);
	show_threads("child without threads", child);
	thread_t again = MACH_PORT_NULL;
	kr = thread_create(child, &again);
	out("thread_create again: %s\n", kr_name(kr));
	show_threads("child with a new thread", child);
	kr = task_terminate(child);
	out("task_terminate: %s\n", kr_name(kr));
	show_rights("child's name", child);
	show_rights("new thread's name", again);
}

void suite_main(void)
{
	show_threads("self", task_self);
	show_task_info("self", task_self);
	empty_child();

	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, FALSE, &child);
	out("task_create: %s name %u\n", kr_name(kr), child);

	/* Code for it: one page at CODE_AT, written from our text, made executable. */
	vm_address_t at = CODE_AT;
	kr = vm_allocate(child, &at, 4096, FALSE);
	out("vm_allocate(child, code page): %s\n", kr_name(kr));
	kr = vm_write(child, CODE_AT, (vm_offset_t)child_code, 4096);
	out("vm_write(child, code page): %s\n", kr_name(kr));
	kr = vm_protect(child, CODE_AT, 4096, FALSE, VM_PROT_READ | VM_PROT_EXECUTE);
	out("vm_protect(child, read|execute): %s\n", kr_name(kr));
	show_sizes("child with a page", child);

	/* A port of the child's own (receive right in its space) and a send right to it here. */
	mach_port_t child_port = MACH_PORT_NULL;
	kr = mach_port_allocate(child, MACH_PORT_RIGHT_RECEIVE, &child_port);
	out("mach_port_allocate(child, receive): %s name %u\n", kr_name(kr), child_port);
	mach_port_t to_child = MACH_PORT_NULL;
	mach_msg_type_name_t got = 0;
	kr = mach_port_extract_right(child, child_port, MACH_MSG_TYPE_MAKE_SEND, &to_child, &got);
	out("mach_port_extract_right(child, MAKE_SEND): %s name %u type %s\n", kr_name(kr),
	    to_child, msgt_name(got));
	/* A port of ours the child holds a send right to (under name 50). */
	mach_port_t ours = new_port();
	kr = mach_port_insert_right(child, 50, ours, MACH_MSG_TYPE_MAKE_SEND);
	out("mach_port_insert_right(child, 50, ours, MAKE_SEND): %s\n", kr_name(kr));
	show_names("child before its thread", child);

	thread_t thread = MACH_PORT_NULL;
	kr = thread_create(child, &thread);
	out("thread_create(child): %s name %u\n", kr_name(kr), thread);
	show_thread("child's new thread", thread);
	show_threads("child with a thread", child);
	struct i386_thread_state st;
	memset(&st, 0, sizeof st);
	kr = get_state(thread, &st);
	out("thread_get_state: %s\n", kr_name(kr));
	st.rip = CODE_AT;
	st.ursp = st.rsp = 0;
	kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st,
	                      i386_THREAD_STATE_COUNT);
	out("thread_set_state(rip = code page): %s\n", kr_name(kr));
	kr = thread_resume(thread);
	out("thread_resume: %s\n", kr_name(kr));
	pause_ms(30);

	/* Suspend the task: the thread stops counting. */
	kr = task_suspend(child);
	out("task_suspend: %s\n", kr_name(kr));
	show_task_info("suspended once", child);
	show_thread("thread of the suspended task", thread);
	kr = get_state(thread, &st);
	out("child's traps: mach_task_self %lu mach_thread_self %lu mach_reply_port %lu "
	    "mach_host_self %lu; counting %s\n",
	    (unsigned long)st.r12, (unsigned long)st.r13, (unsigned long)st.r14,
	    (unsigned long)st.r15, st.rbx ? "yes" : "no");
	show_names("child after its traps", child);
	uint64_t count1 = st.rbx;
	pause_ms(30);
	get_state(thread, &st);
	out("while suspended the counter moved: %s\n", st.rbx != count1 ? "yes" : "no");
	kr = task_suspend(child);
	out("task_suspend again: %s\n", kr_name(kr));
	show_task_info("suspended twice", child);
	kr = task_resume(child);
	out("task_resume: %s\n", kr_name(kr));
	show_task_info("resumed once", child);
	show_thread("thread, task still suspended", thread);
	kr = task_resume(child);
	out("task_resume: %s\n", kr_name(kr));
	show_task_info("resumed twice", child);
	kr = task_resume(child);
	out("task_resume of a task not suspended: %s\n", kr_name(kr));
	get_state(thread, &st);
	count1 = st.rbx;
	pause_ms(30);
	/* Its thread runs again (thread_get_state of a running thread: the state it saved
	 * last). */
	kr = task_suspend(child);
	get_state(thread, &st);
	out("after the resume the counter moved: %s\n", st.rbx != count1 ? "yes" : "no");
	task_resume(child);
	kr = thread_suspend(thread);
	out("thread_suspend: %s\n", kr_name(kr));
	show_thread("suspended thread", thread);
	show_task_info("task of the suspended thread", child);
	kr = thread_resume(thread);
	out("thread_resume: %s\n", kr_name(kr));

	/* Its death, seen from here. */
	mach_port_t notify = new_port();
	request_dead_name("child task", child, notify);
	request_dead_name("child thread", thread, notify);
	request_dead_name("child's port", to_child, notify);
	mach_port_t prev = MACH_PORT_NULL;
	kr = mach_port_request_notification(task_self, ours, MACH_NOTIFY_NO_SENDERS, 0, notify,
	                                    MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	out("no-senders request on our port (%u): %s\n", ours, kr_name(kr));
	kr = task_terminate(child);
	out("task_terminate(child): %s\n", kr_name(kr));
	drain("child's death", notify);
	names_left("child task", child);
	names_left("child thread", thread);
	names_left("child's port", to_child);
	show_rights("our port", ours);
	show_task_info("dead child", child);
	show_thread("dead child's thread", thread);
	show_threads("self at the end", task_self);
	last_thread();
}
