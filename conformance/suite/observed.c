/* observed.c: the bootstrap task's starting state and the kernel's naming rules.
 *
 * What GNU Mach gives a bootstrap task (names, types, user references, queue limits, the
 * initial stack), printed as values so that the same binary on Mach_R must print the same.
 * OBSERVED.md records what GNU Mach printed. */
#include "suite.h"

#include <mach/vm_param.h>

#include "mach.h"
#include "mach_port.h"

SUITE_PROGRAM("observed");

/* The state before the runtime took any right. */
static mach_port_t first_task, first_host, first_reply, second_task;
static mach_port_t names0[64];
static mach_port_type_t types0[64];
static unsigned count0;
static kern_return_t names0_kr;

void suite_before_console(void)
{
	first_task = mach_task_self_trap();
	first_host = mach_host_self_trap();
	first_reply = mig_get_reply_port();
	second_task = mach_task_self_trap();

	mach_port_array_t names;
	mach_port_type_array_t types;
	mach_msg_type_number_t n = 0, tn = 0;
	names0_kr = mach_port_names(first_task, &names, &n, &types, &tn);
	if (names0_kr == KERN_SUCCESS) {
		for (unsigned i = 0; i < n && i < 64; i++) {
			names0[i] = names[i];
			types0[i] = types[i];
		}
		count0 = n < 64 ? n : 64;
		vm_deallocate(first_task, (vm_address_t)names, n * sizeof *names);
		vm_deallocate(first_task, (vm_address_t)types, tn * sizeof *types);
	}
}

static void print_names(const char *when)
{
	mach_port_array_t names;
	mach_port_type_array_t types;
	mach_msg_type_number_t n = 0, tn = 0;
	kern_return_t kr = mach_port_names(task_self, &names, &n, &types, &tn);

	out("%s: mach_port_names %s count=%u types-count=%u\n", when, kr_name(kr), n, tn);
	if (kr != KERN_SUCCESS)
		return;
	for (unsigned i = 0; i < n; i++) {
		mach_port_urefs_t send = 0;
		mach_port_get_refs(task_self, names[i], MACH_PORT_RIGHT_SEND, &send);
		out("%s: name %u type %s send-urefs %u\n", when, names[i], type_name(types[i]),
		    send);
	}
	vm_deallocate(task_self, (vm_address_t)names, n * sizeof *names);
	vm_deallocate(task_self, (vm_address_t)types, tn * sizeof *types);
}

static void initial_state(void)
{
	out("first mach_task_self=%u mach_host_self=%u mig reply port (mach_reply_port)=%u "
	    "second mach_task_self=%u\n",
	    first_task, first_host, first_reply, second_task);
	out("before console: mach_port_names %s count=%u\n", kr_name(names0_kr), count0);
	for (unsigned i = 0; i < count0; i++)
		out("before console: name %u type %s\n", names0[i], type_name(types0[i]));
	print_names("after console");
}

static void urefs(void)
{
	mach_port_urefs_t refs = 0;
	kern_return_t kr = mach_port_get_refs(task_self, task_self, MACH_PORT_RIGHT_SEND, &refs);
	out("task send urefs now: %s %u\n", kr_name(kr), refs);
	for (int i = 0; i < 5; i++)
		(void)mach_task_self_trap();
	kr = mach_port_get_refs(task_self, task_self, MACH_PORT_RIGHT_SEND, &refs);
	out("task send urefs after 5 more mach_task_self: %s %u\n", kr_name(kr), refs);
	mach_port_t host = mach_host_self_trap();
	kr = mach_port_get_refs(task_self, host, MACH_PORT_RIGHT_SEND, &refs);
	out("host name %u send urefs after one more mach_host_self: %s %u\n", host, kr_name(kr),
	    refs);
	mach_port_t thread = mach_thread_self_trap();
	kr = mach_port_get_refs(task_self, thread, MACH_PORT_RIGHT_SEND, &refs);
	out("mach_thread_self=%u send urefs %s %u\n", thread, kr_name(kr), refs);
	kr = mach_port_get_refs(task_self, host_priv, MACH_PORT_RIGHT_SEND, &refs);
	out("host_priv %u send urefs %s %u\n", host_priv, kr_name(kr), refs);
	kr = mach_port_get_refs(task_self, device_master, MACH_PORT_RIGHT_SEND, &refs);
	out("device_master %u send urefs %s %u\n", device_master, kr_name(kr), refs);
	mach_port_t r1 = mach_reply_port(), r2 = mach_reply_port();
	mach_port_type_t type = 0;
	kr = mach_port_type(task_self, r1, &type);
	out("mach_reply_port twice: %u %u type %s %s\n", r1, r2, kr_name(kr), type_name(type));
	kr = mach_port_get_refs(task_self, r1, MACH_PORT_RIGHT_RECEIVE, &refs);
	out("reply port receive urefs %s %u\n", kr_name(kr), refs);
}

static void naming(void)
{
	mach_port_t p[6];
	kern_return_t kr;

	for (int i = 0; i < 6; i++) {
		kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &p[i]);
		out("allocate receive #%d: %s name %u\n", i, kr_name(kr), p[i]);
	}
	kr = mach_port_destroy(task_self, p[1]);
	out("destroy %u: %s\n", p[1], kr_name(kr));
	mach_port_t q = 0;
	kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
	out("allocate after destroy: %s name %u\n", kr_name(kr), q);
	kr = mach_port_mod_refs(task_self, p[3], MACH_PORT_RIGHT_RECEIVE, -1);
	out("mod_refs receive -1 on %u: %s\n", p[3], kr_name(kr));
	kr = mach_port_destroy(task_self, p[2]);
	out("destroy %u: %s\n", p[2], kr_name(kr));
	for (int i = 0; i < 3; i++) {
		kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
		out("allocate after two frees #%d: %s name %u\n", i, kr_name(kr), q);
	}
	/* Free order: the lower name first, then the higher one. */
	kr = mach_port_destroy(task_self, p[4]);
	out("destroy %u: %s\n", p[4], kr_name(kr));
	kr = mach_port_destroy(task_self, p[5]);
	out("destroy %u: %s\n", p[5], kr_name(kr));
	for (int i = 0; i < 2; i++) {
		kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
		out("allocate after freeing %u then %u #%d: %s name %u\n", p[4], p[5], i,
		    kr_name(kr), q);
	}
	p[4] = q;
	kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_PORT_SET, &q);
	out("allocate port set: %s name %u\n", kr_name(kr), q);
	kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &q);
	out("allocate dead name: %s name %u\n", kr_name(kr), q);
	kr = mach_port_deallocate(task_self, q);
	out("deallocate dead name %u: %s\n", q, kr_name(kr));
	kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &q);
	out("allocate after deallocate: %s name %u\n", kr_name(kr), q);

	/* A send right made under the receive right's name. */
	mach_port_type_t type = 0;
	mach_port_urefs_t refs = 0;
	kr = mach_port_insert_right(task_self, p[0], p[0], MACH_MSG_TYPE_MAKE_SEND);
	mach_port_type(task_self, p[0], &type);
	mach_port_get_refs(task_self, p[0], MACH_PORT_RIGHT_SEND, &refs);
	out("insert_right make-send under %u: %s type %s send urefs %u\n", p[0], kr_name(kr),
	    type_name(type), refs);
	kr = mach_port_insert_right(task_self, 777, p[0], MACH_MSG_TYPE_MAKE_SEND);
	out("insert_right make-send of %u under new name 777: %s\n", p[0], kr_name(kr));
	type = 0;
	kr = mach_port_type(task_self, 777, &type);
	out("name 777 after the failed insert_right: %s %s\n", kr_name(kr), type_name(type));
	q = 0;
	kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_DEAD_NAME, &q);
	out("allocate dead name after the failed insert_right: %s name %u\n", kr_name(kr), q);
	kr = mach_port_deallocate(task_self, q);
	out("deallocate dead name %u: %s\n", q, kr_name(kr));

	/* Send-once rights: from extract_right, and from a message to self. */
	mach_port_t so = 0;
	mach_msg_type_name_t so_type = 0;
	kr = mach_port_extract_right(task_self, p[0], MACH_MSG_TYPE_MAKE_SEND_ONCE, &so, &so_type);
	type = 0;
	mach_port_type(task_self, so, &type);
	out("extract_right make-send-once from %u: %s type %s name %u now %s\n", p[0],
	    kr_name(kr), msgt_name(so_type), so, type_name(type));
	kr = mach_port_extract_right(task_self, p[0], MACH_MSG_TYPE_MAKE_SEND, &so, &so_type);
	type = 0;
	mach_port_type(task_self, so, &type);
	mach_port_get_refs(task_self, so, MACH_PORT_RIGHT_SEND, &refs);
	out("extract_right make-send from %u: %s type %s name %u now %s send urefs %u\n", p[0],
	    kr_name(kr), msgt_name(so_type), so, type_name(type), refs);

	mach_msg_header_t m;
	for (int i = 0; i < 3; i++) {
		memset(&m, 0, sizeof m);
		m.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
		m.msgh_size = sizeof m;
		m.msgh_remote_port = p[0];
		m.msgh_local_port = p[4];
		m.msgh_id = 100 + i;
		kr = mach_msg(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof m, sizeof m, p[0],
		              MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
		type = 0;
		mach_port_type(task_self, m.msgh_remote_port, &type);
		out("message with make-send-once reply #%d: %s bits 0x%x reply name %u type %s "
		    "local %u\n",
		    i, kr_name(kr), m.msgh_bits, m.msgh_remote_port, type_name(type),
		    m.msgh_local_port);
	}
}

static void receive_status(void)
{
	mach_port_t port = 0;
	mach_port_status_t st;
	kern_return_t kr = mach_port_allocate(task_self, MACH_PORT_RIGHT_RECEIVE, &port);

	memset(&st, 0, sizeof st);
	kr = mach_port_get_receive_status(task_self, port, &st);
	out("receive status of a new port: %s pset %u seqno %u mscount %u qlimit %u msgcount %u "
	    "sorights %u srights %d pdrequest %d nsrequest %d\n",
	    kr_name(kr), st.mps_pset, st.mps_seqno, st.mps_mscount, st.mps_qlimit,
	    st.mps_msgcount, st.mps_sorights, st.mps_srights, st.mps_pdrequest, st.mps_nsrequest);
	static const unsigned limits[] = { 0, 1, MACH_PORT_QLIMIT_MAX, MACH_PORT_QLIMIT_MAX + 1,
		                           1000 };
	for (unsigned i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		kr = mach_port_set_qlimit(task_self, port, limits[i]);
		mach_port_get_receive_status(task_self, port, &st);
		out("set_qlimit %u: %s qlimit now %u\n", limits[i], kr_name(kr), st.mps_qlimit);
	}
}

static void stack_layout(void)
{
	long *args = suite_args;
	long argc = args[0];
	char **argv = (char **)&args[1];
	unsigned long base = (unsigned long)args;

	out("stack: %%rsp mod 16 = %lu, mod 4096 = %lu, argc %ld\n", base % 16, base % 4096, argc);
	for (long i = 0; i < argc; i++)
		out("stack: argv[%ld] at slot %ld, string at %%rsp+%lu length %lu \"%s\"\n", i, i + 1,
		    (unsigned long)argv[i] - base, (unsigned long)strlen(argv[i]), argv[i]);
	out("stack: argv[argc] = %lx\n", (unsigned long)argv[argc]);
	char **envp = &argv[argc + 1];
	long envc = 0;
	while (envp[envc])
		out("stack: envp[%ld] string \"%s\"\n", envc, envp[envc]), envc++;
	out("stack: envc %ld, envp NULL at slot %ld\n", envc, argc + 2 + envc);
	/* What lies between the envp NULL and the strings. */
	unsigned long strings = (unsigned long)argv[0];
	unsigned long after = (unsigned long)&envp[envc + 1];
	out("stack: %lu bytes between the envp NULL slot's end and argv[0]'s string\n",
	    strings - after);
	unsigned long end = (unsigned long)argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	out("stack: last string ends at %%rsp+%lu, page offset %lu\n", end - base, end % 4096);

	vm_address_t region = base;
	vm_size_t size = 0;
	vm_prot_t prot = 0, max_prot = 0;
	vm_inherit_t inherit = 0;
	boolean_t shared = 0;
	mach_port_t object = 0;
	vm_offset_t offset = 0;
	kern_return_t kr = vm_region(task_self, &region, &size, &prot, &max_prot, &inherit,
	                             &shared, &object, &offset);
	out("stack: vm_region %s region starts %s %%rsp, size %lu, %%rsp+%lu is its end, "
	    "prot %d max %d inherit %d shared %d\n",
	    kr_name(kr), region <= base ? "at or below" : "above", (unsigned long)size,
	    (unsigned long)(region + size - base), prot, max_prot, inherit, shared);
}

void suite_main(void)
{
	initial_state();
	urefs();
	naming();
	receive_status();
	stack_layout();
}
