/* The first user program: runs in ring 3, prints through mach_print, makes a trap round trip. */
#include "mach_r_user.h"

int main(int argc, char **argv) {
    unsigned short cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    print("hello from ");
    print(argv[0]);
    print(" in ring ");
    print_u64(cs & 3);
    print("\n");
    if (argc != 1 || !streq(argv[0], "hello")) fail("argc/argv not as the kernel set them");
    if ((cs & 3) != 3) fail("not running in ring 3");
    mach_port_t t = mach_task_self();
    if (t == 0) fail("mach_task_self returned MACH_PORT_NULL");
    if (mach_task_self() != t) fail("mach_task_self changed between calls");
    print("mach_task_self round trip: name ");
    print_u64(t);
    print("\n");
    return 0;
}
