/* reboot.c: host_reboot. Booted plainly (as the suite does), it prints the codes of
 * host_reboot on ports that are not the privileged host port and ends the run as every
 * program does (host_reboot(host_priv, 0)). Booted with an argument `flags=N` (decimal, by
 * conformance/tests/reboot.rs), it then calls host_reboot(host_priv, N) itself: what the
 * kernel does next (reboot, halt, panic) is the test's business, not a line of the program. */
#include "suite.h"

#include "mach_host.h"

SUITE_PROGRAM("reboot");

static int flags_argument(int *flags)
{
	static const char opt[] = "flags=";
	for (long i = 1; i < suite_argc; i++) {
		if (strncmp(suite_argv[i], opt, sizeof opt - 1) == 0) {
			int v = 0;
			for (const char *s = suite_argv[i] + sizeof opt - 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (*s - '0');
			*flags = v;
			return 1;
		}
	}
	return 0;
}

void suite_main(void)
{
	static const int tried[] = { 0, 0x8, 0x1000 };
	for (unsigned i = 0; i < sizeof tried / sizeof tried[0]; i++) {
		int f = tried[i];
		out("host_reboot(host, %x): %s\n", f, kr_name(host_reboot(mach_host_self_trap(), f)));
		out("host_reboot(task, %x): %s\n", f, kr_name(host_reboot(task_self, f)));
		out("host_reboot(device master, %x): %s\n", f,
		    kr_name(host_reboot(device_master, f)));
		out("host_reboot(null, %x): %s\n", f, kr_name(host_reboot(MACH_PORT_NULL, f)));
	}
	int flags;
	if (flags_argument(&flags)) {
		out("host_reboot(host_priv, %x)\n", flags);
		kern_return_t kr = host_reboot(host_priv, flags);
		out("host_reboot returned %s\n", kr_name(kr));
	}
}
