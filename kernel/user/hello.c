/* The first user program: runs in ring 3, prints through mach_print, makes a trap round trip. */
#include "mach_r_user.h"

static int prefixed(const char *s, const char *p) {
    while (*p)
        if (*s++ != *p++) return 0;
    return 1;
}

int main(int argc, char **argv) {
    unsigned short cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    print("hello from ");
    print(argv[0]);
    print(" in ring ");
    print_u64(cs & 3);
    print("\n");
    /* From an archive: argv = {"hello"}; from GNU Mach's command line: the module string's
     * words with ${host-port} and ${device-port} expanded to 1 and 2. */
    int gnu = argc == 3 && streq(argv[1], "--host-priv-port=1") &&
              prefixed(argv[2], "--device-master-port=2");
    if (!(argc == 1 || gnu) || !streq(argv[0], "hello")) fail("argc/argv not as the kernel set them");
    if ((cs & 3) != 3) fail("not running in ring 3");
    mach_port_t t = mach_task_self();
    if (t == 0) fail("mach_task_self returned MACH_PORT_NULL");
    if (mach_task_self() != t) fail("mach_task_self changed between calls");
    print("mach_task_self round trip: name ");
    print_u64(t);
    print("\n");
    return 0;
}
