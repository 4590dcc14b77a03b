/* startup.c: the codes of start-up calls of mach.defs and mach_host.defs beyond the special
 * ports (special.c): processors and processor sets, the emulation vector, time, assignment,
 * priorities.  A probe: recorded on GNU Mach; not in mach_r.list while Mach_R lacks some. */
#include "suite.h"

#include "mach.h"
#include "mach_host.h"

SUITE_PROGRAM("startup");

void suite_main(void)
{
	kern_return_t kr;
	thread_t me = mach_thread_self_trap();
	mach_port_t host = mach_host_self_trap();
	processor_array_t procs = 0;
	mach_msg_type_number_t n = 0;
	kr = host_processors(host_priv, &procs, &n);
	out("host_processors: %s count %u\n", kr_name(kr), kr ? 0 : n);
	kr = host_processors(host, &procs, &n);
	out("host_processors(host): %s\n", kr_name(kr));
	processor_set_name_t pset = MACH_PORT_NULL;
	kr = processor_set_default(host, &pset);
	out("processor_set_default: %s\n", kr_name(kr));
	processor_set_name_array_t psets = 0;
	kr = host_processor_sets(host, &psets, &n);
	out("host_processor_sets: %s count %u\n", kr_name(kr), kr ? 0 : n);
	int start = -1;
	emulation_vector_t vec = 0;
	n = 0;
	kr = task_get_emulation_vector(task_self, &start, &vec, &n);
	out("task_get_emulation_vector: %s start %d count %u\n", kr_name(kr), kr ? -1 : start,
	    kr ? 0 : n);
	time_value_t tv;
	kr = host_get_time(host, &tv);
	out("host_get_time: %s\n", kr_name(kr));
	processor_set_name_t assigned = MACH_PORT_NULL;
	kr = task_get_assignment(task_self, &assigned);
	out("task_get_assignment: %s\n", kr_name(kr));
	kr = thread_get_assignment(me, &assigned);
	out("thread_get_assignment: %s\n", kr_name(kr));
	kr = task_priority(task_self, 25, FALSE);
	out("task_priority: %s\n", kr_name(kr));
	kr = thread_priority(me, 25, FALSE);
	out("thread_priority: %s\n", kr_name(kr));
}
