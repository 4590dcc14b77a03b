/* Runtime of the Mach_R test programs: entry, printing, failing. */
#include "mach_r_user.h"

void *memset(void *d, int c, unsigned long n) {
    volatile unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n) {
    volatile unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}

int streq(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

void print(const char *s) {
    if (mach_print(s) != KERN_SUCCESS) __builtin_trap();
}

void print_u64(u64 v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    print(&buf[i]);
}

void print_hex(u64 v) {
    char buf[19];
    buf[0] = '0'; buf[1] = 'x';
    for (int i = 0; i < 16; i++) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    buf[18] = 0;
    print(buf);
}

/* Reports a failed check and ends the task with #UD, which the kernel's test runner sees
 * as a fault instead of the expected termination. */
void fail(const char *why) {
    print("FAIL: ");
    print(why);
    print("\n");
    __builtin_trap();
}

void cstart(long *sp) __attribute__((noreturn));
void cstart(long *sp) {
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    main(argc, argv);
    syscall_task_terminate(mach_task_self());
    fail("task_terminate returned");
}
