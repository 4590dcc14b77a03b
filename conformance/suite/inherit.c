/* inherit.c: task_create with inherited memory.  Three regions made before the child, one per
 * inheritance (VM_INHERIT_COPY, VM_INHERIT_SHARE, VM_INHERIT_NONE), with known contents; then
 * what each side sees of the other's writes, from the parent (vm_read / vm_write / vm_region
 * on the child) and from a thread running the inherited program in the child (it reports
 * through the shared region).  A second child touches the region it did not inherit and dies;
 * a third inherits nothing writable (everything VM_INHERIT_NONE but its code). */
#include "suite.h"

#include <mach/notify.h>
#include <mach/task_info.h>
#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("inherit");

#define PAGE 4096
#define PAGES 2

static volatile char *copy_r, *share_r, *none_r;
static vm_address_t child_stack;

/* What the child's thread does: 0 read and report, 1 touch the NONE region. */
static volatile int child_job;

/* The shared region's layout: [0..] the parent's pattern, then the child's report at 1024. */
struct report {
	volatile int done;
	volatile char copy_first, share_first, copy_second_page;
	volatile char copy_after_parent_write, share_after_parent_write;
};
#define REPORT ((struct report *)(share_r + 1024))

void suite_thread_main(void *arg)
{
	(void)arg;
	if (child_job == 1) {
		none_r[0] = 'x'; /* not inherited: the child dies here */
		for (;;)
			;
	}
	REPORT->copy_first = copy_r[0];
	REPORT->share_first = share_r[0];
	REPORT->copy_second_page = copy_r[PAGE];
	copy_r[0] = 'c';  /* stays in the child */
	share_r[1] = 's'; /* reaches the parent */
	REPORT->done = 1;
	while (REPORT->done != 2)
		swtch_pri(0);
	REPORT->copy_after_parent_write = copy_r[8];
	REPORT->share_after_parent_write = share_r[8];
	REPORT->done = 3;
	for (;;)
		swtch_pri(0);
}

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

static volatile char *region(vm_inherit_t inh, char fill)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_allocate(task_self, &a, PAGES * PAGE, TRUE);
	if (kr == KERN_SUCCESS)
		kr = vm_inherit(task_self, a, PAGES * PAGE, inh);
	out("region inheritance %d: vm_allocate + vm_inherit %s\n", inh, kr_name(kr));
	for (int i = 0; i < PAGES * PAGE; i++)
		((char *)a)[i] = fill;
	return (volatile char *)a;
}

static void show_region(const char *what, task_t task, volatile char *at)
{
	vm_address_t addr = (vm_address_t)at;
	vm_size_t size = 0;
	vm_prot_t prot = 0, max = 0;
	vm_inherit_t inh = 0;
	boolean_t shared = 0;
	mach_port_t obj = MACH_PORT_NULL;
	vm_offset_t off = 0;
	kern_return_t kr = vm_region(task, &addr, &size, &prot, &max, &inh, &shared, &obj, &off);
	int holds = kr == KERN_SUCCESS && addr <= (vm_address_t)at && (vm_address_t)at < addr + size;
	out("%s: vm_region %s %s prot %d max %d inheritance %d\n", what, kr_name(kr),
	    kr ? "-" : holds ? "holds it" : "a region above it", kr ? 0 : prot, kr ? 0 : max,
	    kr ? 0 : inh);
	if (obj != MACH_PORT_NULL)
		mach_port_deallocate(task_self, obj);
}

static void read_child(const char *what, task_t child, volatile char *at, vm_size_t size)
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	kern_return_t kr = vm_read(child, (vm_address_t)at, size, &data, &count);
	if (kr) {
		out("%s: vm_read %s\n", what, kr_name(kr));
		return;
	}
	const char *d = (const char *)data;
	out("%s: vm_read %s count %u bytes %c%c%c ... %c\n", what, kr_name(kr), count, d[0], d[1],
	    d[8], d[count - 1]);
	vm_deallocate(task_self, data, count);
}

/* The sum of the sizes of the regions of a task (walking vm_region), and their number. */
static void walk(task_t task, unsigned long *total, unsigned *n)
{
	vm_address_t addr = 0;
	*total = 0;
	*n = 0;
	for (;;) {
		vm_size_t size = 0;
		vm_prot_t prot, max;
		vm_inherit_t inh;
		boolean_t shared;
		mach_port_t obj = MACH_PORT_NULL;
		vm_offset_t off;
		if (vm_region(task, &addr, &size, &prot, &max, &inh, &shared, &obj, &off))
			return;
		if (obj != MACH_PORT_NULL)
			mach_port_deallocate(task_self, obj);
		*total += size;
		(*n)++;
		addr += size;
	}
}

static thread_t start_thread(task_t child)
{
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
	out("child thread started: %s\n", kr_name(kr));
	return thread;
}

static void wait_report(int value)
{
	for (int i = 0; i < 100 && REPORT->done != value; i++)
		pause_ms(10);
	out("child's report %d: %s\n", value, REPORT->done == value ? "arrived" : "missing");
}

void suite_main(void)
{
	copy_r = region(VM_INHERIT_COPY, 'a');
	share_r = region(VM_INHERIT_SHARE, 'b');
	none_r = region(VM_INHERIT_NONE, 'n');
	vm_allocate(task_self, &child_stack, 16 * PAGE, TRUE);
	REPORT->done = 0;

	unsigned long parent_total;
	unsigned parent_n;
	walk(task_self, &parent_total, &parent_n);

	task_t child = MACH_PORT_NULL;
	kern_return_t kr = task_create(task_self, TRUE, &child);
	out("task_create(inherit): %s\n", kr_name(kr));
	unsigned long child_total;
	unsigned child_n;
	walk(child, &child_total, &child_n);
	/* (How many map entries that makes is the kernel's business: GNU Mach merges neighbours.) */
	(void)child_n;
	(void)parent_n;
	out("child's regions, in bytes, = the parent's - the none region: %s\n",
	    child_total == parent_total - PAGES * PAGE ? "yes" : "no");
	struct task_basic_info info;
	mach_msg_type_number_t count = TASK_BASIC_INFO_COUNT;
	kr = task_info(child, TASK_BASIC_INFO, (task_info_t)&info, &count);
	out("child task_info: %s suspend_count %d virtual_size = walked bytes: %s\n", kr_name(kr),
	    info.suspend_count, info.virtual_size == child_total ? "yes" : "no");
	show_region("parent copy", task_self, copy_r);
	show_region("child copy", child, copy_r);
	show_region("parent share", task_self, share_r);
	show_region("child share", child, share_r);
	show_region("parent none", task_self, none_r);
	show_region("child none", child, none_r);
	read_child("child copy at creation", child, copy_r, PAGES * PAGE);
	read_child("child share at creation", child, share_r, PAGES * PAGE);
	read_child("child none", child, none_r, PAGE);

	/* Writes by the parent after the creation. */
	copy_r[8] = 'P';
	share_r[8] = 'Q';
	read_child("child copy after the parent wrote", child, copy_r, 16);
	read_child("child share after the parent wrote", child, share_r, 16);
	/* Writes into the child by vm_write. */
	static char page[PAGE] __attribute__((aligned(PAGE)));
	for (int i = 0; i < PAGE; i++)
		page[i] = 'w';
	kr = vm_write(child, (vm_address_t)copy_r + PAGE, (vm_offset_t)page, PAGE);
	out("vm_write(child copy, second page): %s; parent sees %c\n", kr_name(kr), copy_r[PAGE]);
	kr = vm_write(child, (vm_address_t)share_r + PAGE, (vm_offset_t)page, PAGE);
	out("vm_write(child share, second page): %s; parent sees %c\n", kr_name(kr),
	    share_r[PAGE]);
	for (int i = 0; i < PAGE; i++)
		share_r[PAGE + i] = 'b';

	/* The child itself. */
	child_job = 0;
	thread_t thread = start_thread(child);
	wait_report(1);
	out("child saw: copy %c share %c copy's second page %c\n", REPORT->copy_first,
	    REPORT->share_first, REPORT->copy_second_page);
	out("parent after the child wrote: copy %c share %c\n", copy_r[0], share_r[1]);
	copy_r[8] = 'R';
	share_r[8] = 'S';
	REPORT->done = 2;
	wait_report(3);
	out("child after the parent wrote again: copy %c share %c\n",
	    REPORT->copy_after_parent_write, REPORT->share_after_parent_write);
	kr = task_terminate(child);
	out("task_terminate(child): %s\n", kr_name(kr));
	share_r[0] = 'z';
	out("shared region after the child's death: %c%c\n", share_r[0], share_r[1]);
	show_region("parent share after the child's death", task_self, share_r);
	mach_port_deallocate(task_self, thread);

	/* A child touching the region it did not inherit. */
	child_job = 1;
	task_t second = MACH_PORT_NULL;
	kr = task_create(task_self, TRUE, &second);
	out("task_create(inherit), second child: %s\n", kr_name(kr));
	mach_port_t notify = new_port();
	mach_port_t prev = MACH_PORT_NULL;
	mach_port_request_notification(task_self, second, MACH_NOTIFY_DEAD_NAME, 0, notify,
	                               MACH_MSG_TYPE_MAKE_SEND_ONCE, &prev);
	thread = start_thread(second);
	mach_msg_return_t mr = receive(&r, notify, MACH_RCV_TIMEOUT, 1000);
	out("second child touching the none region: %s id %d\n", kr_name(mr),
	    mr ? 0 : r.head.msgh_id);
	show_rights("second child's name", second);
	mach_port_deallocate(task_self, thread);
	out("parent's none region still its own: %c\n", none_r[0]);
	kr = vm_deallocate(task_self, (vm_address_t)none_r, PAGES * PAGE);
	out("parent's none region: vm_deallocate %s\n", kr_name(kr));
}
