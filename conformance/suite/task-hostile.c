/* task-hostile.c: hostile thread states, each given to the one thread of a fresh child task
 * (task_create without inherited memory, code written into it with vm_write):
 * non-canonical, kernel, null and unmapped instruction pointers, non-canonical and kernel stack
 * pointers used by a push, every flag bit set, kernel code and stack segments.  For each:
 * what thread_set_state answers, what thread_get_state reads back, and after thread_resume
 * how the thread and its task end (thread_info, task_info, dead-name notifications). */
#include "suite.h"

#include <mach/notify.h>
#include <mach/task_info.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("task-hostile");

/* The child's code page: `push` then a loop; `pushfq` (the flags it runs with, in %rbx) then
 * a loop; a plain loop. */
extern const char hostile_code[], hostile_push[], hostile_flags[], hostile_spin[];
__asm__(".pushsection .text.child,\"ax\",@progbits\n"
        ".balign 4096\n"
        "hostile_code:\n"
        "hostile_push:\n"
        "  pushq %rax\n  movq $1, %r12\n1: jmp 1b\n"
        "hostile_flags:\n"
        "  pushfq\n  popq %rbx\n  movq $1, %r12\n2: jmp 2b\n"
        "hostile_spin:\n"
        "  movq $1, %r12\n3: jmp 3b\n"
        ".balign 4096\n"
        ".popsection\n");

#define CODE_AT 0x20000000UL
#define STACK_AT 0x30000000UL
#define AT(label) (CODE_AT + (uint64_t)((label) - hostile_code))

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

static void request_dead_name(mach_port_t name, mach_port_t notify)
{
	mach_port_t prev = MACH_PORT_NULL;
	mach_port_request_notification(task_self, name, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                               MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
}

enum which { SET_RIP, SET_RSP, SET_RFL, SET_CS, SET_SS };

static void one_case(const char *what, uint64_t rip, enum which field, uint64_t value)
{
	out("case %s\n", what);
	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, FALSE, &child);
	vm_address_t at = CODE_AT;
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(child, &at, 4096, FALSE);
	if (kr == KERN_SUCCESS)
		kr = vm_write(child, CODE_AT, (vm_offset_t)hostile_code, 4096);
	if (kr == KERN_SUCCESS)
		kr = vm_protect(child, CODE_AT, 4096, FALSE, VM_PROT_READ | VM_PROT_EXECUTE);
	at = STACK_AT;
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(child, &at, 4096, FALSE);
	thread_t thread = MACH_PORT_NULL;
	if (kr == KERN_SUCCESS)
		kr = thread_create(child, &thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	if (kr == KERN_SUCCESS)
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	if (kr != KERN_SUCCESS) {
		out("  set-up: %s\n", kr_name(kr));
		return;
	}
	unsigned cs0 = st.cs, ss0 = st.ss;
	out("  initial state: rip %lx ursp %lx rfl %lx\n", (unsigned long)st.rip,
	    (unsigned long)st.ursp, (unsigned long)st.rfl);
	st.rip = rip;
	st.ursp = st.rsp = STACK_AT + 4096 - 64;
	switch (field) {
	case SET_RIP:
		break;
	case SET_RSP:
		st.ursp = st.rsp = value;
		break;
	case SET_RFL:
		st.rfl = value;
		break;
	case SET_CS:
		st.cs = (unsigned)value;
		break;
	case SET_SS:
		st.ss = (unsigned)value;
		break;
	}
	kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	out("  thread_set_state: %s\n", kr_name(kr));
	struct i386_thread_state back;
	count = i386_THREAD_STATE_COUNT;
	kern_return_t kr2 = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&back,
	                                     &count);
	out("  read back: %s rip %lx ursp %lx cs %s ss %s rfl %lx\n", kr_name(kr2),
	    (unsigned long)back.rip, (unsigned long)back.ursp,
	    back.cs == cs0 ? "as created" : "changed", back.ss == ss0 ? "as created" : "changed",
	    (unsigned long)back.rfl);
	mach_port_t notify = new_port();
	request_dead_name(child, notify);
	request_dead_name(thread, notify);
	kr = thread_resume(thread);
	out("  thread_resume: %s\n", kr_name(kr));
	pause_ms(30);
	struct thread_basic_info info;
	count = THREAD_BASIC_INFO_COUNT;
	kr = thread_info(thread, THREAD_BASIC_INFO, (thread_info_t)&info, &count);
	out("  thread_info: %s run_state %d suspend_count %d\n", kr_name(kr),
	    kr ? 0 : info.run_state, kr ? 0 : info.suspend_count);
	struct task_basic_info tinfo;
	count = TASK_BASIC_INFO_COUNT;
	kr = task_info(child, TASK_BASIC_INFO, (task_info_t)&tinfo, &count);
	out("  task_info: %s\n", kr_name(kr));
	if (kr == KERN_SUCCESS) {
		task_suspend(child);
		count = i386_THREAD_STATE_COUNT;
		kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&back, &count);
		out("  thread_get_state: %s reached the loop %s rbx %lx\n", kr_name(kr),
		    back.r12 == 1 ? "yes" : "no", (unsigned long)back.rbx);
	}
	for (;;) {
		mach_msg_return_t mr = receive(&r, notify, MACH_RCV_TIMEOUT, 10);
		if (mr != MACH_MSG_SUCCESS)
			break;
		unsigned name = *(uint32_t *)(r.bytes + sizeof(mach_msg_header_t) +
		                              sizeof(mach_msg_type_t));
		out("  notification %d for %s\n", r.head.msgh_id,
		    name == child ? "the task" : name == thread ? "the thread" : "?");
	}
	kr = task_terminate(child);
	out("  task_terminate: %s\n", kr_name(kr));
	mach_port_destroy(task_self, notify);
	mach_port_deallocate(task_self, thread);
	mach_port_deallocate(task_self, thread);
	mach_port_deallocate(task_self, child);
	mach_port_deallocate(task_self, child);
}

void suite_main(void)
{
	one_case("plain loop", AT(hostile_spin), SET_RIP, 0);
	one_case("rip top of the lower half", 0x00007ffffffff000UL, SET_RIP, 0);
	one_case("rip kernel half", 0xffff800000000000UL, SET_RIP, 0);
	one_case("rip kernel image", 0xffffffff80000000UL, SET_RIP, 0);
	one_case("rip null", 0, SET_RIP, 0);
	one_case("rsp non-canonical, push", AT(hostile_push), SET_RSP, 0x0000800000000040UL);
	one_case("rsp kernel, push", AT(hostile_push), SET_RSP, 0xffffffff80001000UL);
	one_case("rsp unmapped, push", AT(hostile_push), SET_RSP, 0x40000000UL);
	one_case("rfl all ones", AT(hostile_flags), SET_RFL, ~0UL);
	one_case("rfl zero", AT(hostile_flags), SET_RFL, 0);
	one_case("cs kernel", AT(hostile_spin), SET_CS, 0x8);
	one_case("ss kernel", AT(hostile_spin), SET_SS, 0x10);
	one_case("cs zero", AT(hostile_spin), SET_CS, 0);
}
