/* thread.c: a second thread of the same task (thread_create + thread_set_state +
 * thread_resume from mach.defs) blocked in mach_msg and woken by a send; blocked on a port set;
 * a receive timeout expiring in the other thread; the first thread woken by the second; the
 * port destroyed under a blocked receiver.  The second thread uses mach_msg only (no MIG
 * stubs); it reports through memory and a message, the first thread prints. */
#include "suite.h"

#include <mach/thread_info.h>
#include <mach/thread_status.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("thread");

/* What the second thread is told to do and what it saw. */
enum job { JOB_RECEIVE, JOB_SEND_THEN_RECEIVE, JOB_EXIT };
static struct {
	volatile int job;
	mach_port_t port;          /* receive from here */
	mach_msg_timeout_t timeout; /* MACH_RCV_TIMEOUT when not 0 */
	mach_port_t done;          /* tell the first thread here */
	volatile mach_msg_return_t kr;
	volatile mach_msg_id_t id;
	volatile unsigned seqno, local, size;
	volatile uint32_t word;
	volatile int rounds;
} shared;

static struct msg_buffer thread_buffer;

static void tell_done(void)
{
	mach_msg_header_t m;
	memset(&m, 0, sizeof m);
	m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
	m.msgh_size = sizeof m;
	m.msgh_remote_port = shared.done;
	m.msgh_id = 9999;
	mach_msg(&m, MACH_SEND_MSG, sizeof m, 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
}

void suite_thread_main(void *arg)
{
	(void)arg;
	for (;;) {
		int job = shared.job;
		if (job == JOB_EXIT) {
			tell_done();
			for (;;)
				mach_msg(&thread_buffer.head, MACH_RCV_MSG, 0, sizeof thread_buffer.bytes,
				         shared.port, 0, MACH_PORT_NULL);
		}
		if (job == JOB_SEND_THEN_RECEIVE)
			tell_done();
		memset(&thread_buffer, 0, sizeof thread_buffer);
		mach_msg_return_t kr =
			mach_msg(&thread_buffer.head,
			         MACH_RCV_MSG | (shared.timeout ? MACH_RCV_TIMEOUT : 0), 0,
			         sizeof thread_buffer.bytes, shared.port, shared.timeout,
			         MACH_PORT_NULL);
		shared.kr = kr;
		shared.id = thread_buffer.head.msgh_id;
		shared.seqno = thread_buffer.head.msgh_seqno;
		shared.local = thread_buffer.head.msgh_local_port;
		shared.size = thread_buffer.head.msgh_size;
		shared.word = *(uint32_t *)(thread_buffer.bytes + sizeof(mach_msg_header_t) +
		                            sizeof(mach_msg_type_t));
		shared.rounds++;
		if (job != JOB_SEND_THEN_RECEIVE)
			tell_done();
		/* Wait for the next job: block on the done port's sibling (never sent to). */
		while (shared.job == job && job != JOB_SEND_THEN_RECEIVE)
			swtch_pri(0);
		if (job == JOB_SEND_THEN_RECEIVE)
			shared.job = JOB_EXIT;
	}
}

static struct msg_builder b;
static struct msg_buffer r;

static mach_port_t new_port(void)
{
	mach_port_t p = MACH_PORT_NULL;
	mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p);
	return p;
}

static void send_word(mach_port_t port, int id, uint32_t word)
{
	mb_init(&b, MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0), port, MACH_PORT_NULL, id);
	mb_inline(&b, MACH_MSG_TYPE_INTEGER_32, 32, 1, &word);
	out("first thread: send id %d to %u: %s\n", id, port,
	    kr_name(mb_send(&b, MACH_SEND_TIMEOUT, 0)));
}

/* Lets the second thread run until it blocks: a timed receive on a port nobody uses. */
static void pause_ms(mach_msg_timeout_t ms)
{
	static mach_port_t idle;
	if (!idle)
		idle = new_port();
	receive(&r, idle, MACH_RCV_TIMEOUT, ms);
}

static void thread_suspend_count(const char *what, thread_t thread)
{
	struct thread_basic_info info;
	mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
	kern_return_t kr = thread_info(thread, THREAD_BASIC_INFO, (thread_info_t)&info, &count);
	out("%s: thread_info %s suspend_count %d\n", what, kr_name(kr), kr ? 0 : info.suspend_count);
}

static void thread_state(const char *what, thread_t thread)
{
	struct thread_basic_info info;
	mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
	kern_return_t kr = thread_info(thread, THREAD_BASIC_INFO, (thread_info_t)&info, &count);
	out("%s: thread_info %s run_state %d suspend_count %d\n", what, kr_name(kr),
	    kr ? 0 : info.run_state, kr ? 0 : info.suspend_count);
}

static void wait_done(const char *what)
{
	mach_msg_return_t kr = receive(&r, shared.done, MACH_RCV_TIMEOUT, 2000);
	out("%s: first thread hears back: %s id %d\n", what, kr_name(kr),
	    kr ? 0 : r.head.msgh_id);
}

static void report(const char *what)
{
	out("%s: second thread got %s id %d seqno %u local %u size %u word %x (round %d)\n", what,
	    kr_name(shared.kr), shared.kr ? 0 : shared.id, shared.kr ? 0 : shared.seqno,
	    shared.kr ? 0 : shared.local, shared.kr ? 0 : shared.size,
	    shared.kr ? 0 : shared.word, shared.rounds);
}

void suite_main(void)
{
	mach_port_t p = new_port();
	shared.done = new_port();
	shared.port = p;
	shared.job = JOB_RECEIVE;

	thread_t thread = MACH_PORT_NULL;
	kern_return_t kr = thread_create(task_self, &thread);
	out("thread_create: %s\n", kr_name(kr));
	thread_state("new thread", thread);
	struct i386_thread_state st;
	mach_msg_type_number_t count = i386_THREAD_STATE_COUNT;
	kr = thread_get_state(thread, i386_THREAD_STATE, (thread_state_t)&st, &count);
	out("thread_get_state: %s count %u\n", kr_name(kr), count);
	vm_address_t stack = 0;
	vm_allocate(task_self, &stack, 16 * 4096, TRUE);
	st.rip = (uint64_t)suite_thread_entry;
	st.rdi = 0;
	st.ursp = st.rsp = stack + 16 * 4096 - 64;
	kr = thread_set_state(thread, i386_THREAD_STATE, (thread_state_t)&st, count);
	out("thread_set_state: %s\n", kr_name(kr));
	kr = thread_resume(thread);
	out("thread_resume: %s\n", kr_name(kr));
	/* Right after the resume the new thread may or may not have run yet (on GNU Mach it
	 * depends on where the tick falls), so only its suspend count is printed here. */
	thread_suspend_count("resumed thread", thread);

	/* 1: blocked in mach_msg on a port, woken by a send. */
	pause_ms(20);
	thread_state("second thread blocked in receive", thread);
	out("second thread rounds before the send: %d\n", shared.rounds);
	mach_port_status_t ps;
	send_word(p, 100, 0xabc);
	wait_done("port");
	report("port");
	mach_port_get_receive_status(task_self, p, &ps);
	out("port after: msgcount %u seqno %u\n", ps.mps_msgcount, ps.mps_seqno);

	/* 2: blocked on a port set, woken by a send to a member. */
	mach_port_t set = MACH_PORT_NULL, member = new_port();
	mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &set);
	mach_port_move_member(task_self, member, set);
	shared.port = set;
	shared.job = 10;
	pause_ms(20);
	thread_state("second thread blocked on a set", thread);
	send_word(member, 200, 0xdef);
	wait_done("set");
	report("set");

	/* 3: a receive timeout expiring in the second thread. */
	shared.port = p;
	shared.timeout = 30;
	shared.job = 11;
	wait_done("timeout");
	report("timeout");
	shared.timeout = 0;

	/* 4: the first thread blocks in receive, the second thread wakes it. */
	shared.port = p;
	shared.job = JOB_SEND_THEN_RECEIVE;
	kr = receive(&r, shared.done, MACH_RCV_TIMEOUT, 2000);
	out("first thread woken by the second: %s id %d\n", kr_name(kr), kr ? 0 : r.head.msgh_id);
	pause_ms(20);
	thread_state("second thread blocked again", thread);

	/* 5: the port is destroyed under the blocked receiver. */
	out("destroy the port it waits on: %s\n", kr_name(mach_port_destroy(task_self, p)));
	wait_done("port died");
	report("port died");

	kr = thread_terminate(thread);
	out("thread_terminate: %s\n", kr_name(kr));
	thread_state("terminated thread", thread);
}
