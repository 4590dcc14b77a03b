/* Programs that must be ended by the kernel with a report: the behaviour is chosen by the
 * program's name (argv[0]), one binary installed under several names. */
#include "mach_r_user.h"

static volatile int zero = 0;
/* Far more than the test machine's memory (QEMU -m 128M): zero fill on demand, touched by
 * vm_exhaust until no frame is left. */
static char big[512UL << 20];

__attribute__((noinline)) static int recurse(int depth) {
    volatile char pad[1024];
    pad[depth % 1024] = (char)depth;
    if (depth < 1000000) return recurse(depth + 1) + pad[depth % 1024];
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    const char *n = argv[0];
    print(n);
    print(": about to misbehave\n");
    if (streq(n, "fault_null")) *(volatile int *)0 = 1;
    else if (streq(n, "fault_kernel")) (void)*(volatile int *)0xffffffff80200000UL;
    else if (streq(n, "fault_wp")) *(volatile unsigned char *)(void *)&main = 0xc3;
    else if (streq(n, "fault_nx")) {
        volatile unsigned char code[16] = {0xc3};
        ((void (*)(void))(void *)code)();
    }
    else if (streq(n, "fault_div")) __asm__ volatile("xor %%ecx, %%ecx\n\tcltd\n\tidivl %%ecx" : : "a"(1) : "ecx", "edx");
    else if (streq(n, "fault_ud")) __asm__ volatile("ud2");
    else if (streq(n, "fault_noncanon")) ((void (*)(void))0x8000000000000000UL)();
    else if (streq(n, "priv_hlt")) __asm__ volatile("hlt");
    else if (streq(n, "priv_cli")) __asm__ volatile("cli");
    else if (streq(n, "priv_io")) __asm__ volatile("outl %%eax, %%dx" : : "a"(0x10), "d"(0xf4));
    else if (streq(n, "priv_cr3")) __asm__ volatile("mov %%rax, %%cr3" : : "a"(0));
    else if (streq(n, "priv_wrmsr")) __asm__ volatile("wrmsr" : : "a"(0), "d"(0), "c"(0xc0000082));
    else if (streq(n, "priv_int80")) __asm__ volatile("int $0x80");
    else if (streq(n, "stack_overflow")) zero = recurse(0);
    else if (streq(n, "spin")) for (;;) zero = zero;
    else if (streq(n, "vm_exhaust"))
        for (unsigned long i = 0; i < sizeof big; i += 4096) ((volatile char *)big)[i] = 1;
    else fail("unknown program name");
    fail("the kernel let the misbehaviour pass");
}
