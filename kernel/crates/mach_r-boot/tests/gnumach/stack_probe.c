/* Probe for GNU Mach's bootstrap conventions: prints argc, argv and envp as the kernel
 * placed them, and a hex dump of the initial stack from %rsp to the end of its page, so the
 * host tests of mach_r-boot can compare Mach_R's stack builder with what GNU Mach did.
 * Built with kernel/user's crt0.S, lib.c and user.ld (see probe.sh). Prints only. */
#include "mach_r_user.h"

static void print_hex2(unsigned char b) {
    char s[3];
    s[0] = "0123456789abcdef"[b >> 4];
    s[1] = "0123456789abcdef"[b & 15];
    s[2] = 0;
    print(s);
}

static unsigned long slen(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

int main(int argc, char **argv) {
    long *sp = (long *)argv - 1; /* the entry %rsp: argc is its first slot */
    char **envp = argv + argc + 1;
    u64 rsp = (u64)sp;
    u64 end = rsp;
    print("PROBE rsp ");
    print_hex(rsp);
    print("\nPROBE argc ");
    print_u64((u64)argc);
    print("\n");
    for (int i = 0; i < argc; i++) {
        print("PROBE argv ");
        print_u64((u64)i);
        print(" +");
        print_u64((u64)argv[i] - rsp);
        print(" [");
        print(argv[i]);
        print("]\n");
        u64 e = (u64)argv[i] + slen(argv[i]) + 1;
        if (e > end) end = e;
    }
    int n = 0;
    for (char **e = envp; *e; e++, n++) {
        print("PROBE envp ");
        print_u64((u64)n);
        print(" +");
        print_u64((u64)*e - rsp);
        print(" [");
        print(*e);
        print("]\n");
        u64 x = (u64)*e + slen(*e) + 1;
        if (x > end) end = x;
    }
    u64 page_end = (end + 4095) & ~4095UL;
    print("PROBE page_end +");
    print_u64(page_end - rsp);
    print("\n");
    for (u64 a = rsp; a < page_end; a += 16) {
        print("PROBE dump +");
        print_u64(a - rsp);
        print(" ");
        for (int i = 0; i < 16; i++) print_hex2(((unsigned char *)a)[i]);
        print("\n");
    }
    print("PROBE end\n");
    for (;;) swtch();
}
