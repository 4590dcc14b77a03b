/* Semantics of the implemented Mach traps, register and SSE preservation across traps,
 * and the error answer for unimplemented trap numbers. */
#include "mach_r_user.h"

static long regs_changed(void) {
    long bad;
    __asm__ volatile(
        "push %%rbp\n\t"
        "mov $0x1111, %%rbx\n\t mov $0x2222, %%rdx\n\t mov $0x3333, %%rsi\n\t mov $0x4444, %%rdi\n\t"
        "mov $0x5555, %%r8\n\t mov $0x6666, %%r9\n\t mov $0x7777, %%r10\n\t mov $0x8888, %%r12\n\t"
        "mov $0x9999, %%r13\n\t mov $0xaaaa, %%r14\n\t mov $0xbbbb, %%r15\n\t mov $0xcccc, %%rbp\n\t"
        "mov $-28, %%rax\n\t syscall\n\t"
        "xor %%eax, %%eax\n\t"
        "cmp $0x1111, %%rbx\n\t jne 1f\n\t cmp $0x2222, %%rdx\n\t jne 1f\n\t"
        "cmp $0x3333, %%rsi\n\t jne 1f\n\t cmp $0x4444, %%rdi\n\t jne 1f\n\t"
        "cmp $0x5555, %%r8\n\t jne 1f\n\t cmp $0x6666, %%r9\n\t jne 1f\n\t"
        "cmp $0x7777, %%r10\n\t jne 1f\n\t cmp $0x8888, %%r12\n\t jne 1f\n\t"
        "cmp $0x9999, %%r13\n\t jne 1f\n\t cmp $0xaaaa, %%r14\n\t jne 1f\n\t"
        "cmp $0xbbbb, %%r15\n\t jne 1f\n\t cmp $0xcccc, %%rbp\n\t jne 1f\n\t"
        "jmp 2f\n"
        "1: mov $1, %%eax\n"
        "2: pop %%rbp\n\t"
        : "=a"(bad)
        :
        : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc");
    return bad;
}

/* Loads xmm0-15, makes `traps` traps and spins `spins` iterations (timer interrupts arrive
 * meanwhile), and checks that xmm0-15 still hold the pattern. */
static long sse_changed(long traps, long spins) {
    static unsigned long pattern[32] __attribute__((aligned(16)));
    static unsigned long out[32] __attribute__((aligned(16)));
    unsigned long *p = pattern, *o = out;
    for (int i = 0; i < 32; i++) pattern[i] = 0x0f1e2d3c4b5a6978UL * (unsigned long)(i + 1);
    __asm__ volatile(
        "movdqa 0(%0), %%xmm0\n\t movdqa 16(%0), %%xmm1\n\t movdqa 32(%0), %%xmm2\n\t movdqa 48(%0), %%xmm3\n\t"
        "movdqa 64(%0), %%xmm4\n\t movdqa 80(%0), %%xmm5\n\t movdqa 96(%0), %%xmm6\n\t movdqa 112(%0), %%xmm7\n\t"
        "movdqa 128(%0), %%xmm8\n\t movdqa 144(%0), %%xmm9\n\t movdqa 160(%0), %%xmm10\n\t movdqa 176(%0), %%xmm11\n\t"
        "movdqa 192(%0), %%xmm12\n\t movdqa 208(%0), %%xmm13\n\t movdqa 224(%0), %%xmm14\n\t movdqa 240(%0), %%xmm15\n\t"
        "1: test %2, %2\n\t jz 2f\n\t mov $-60, %%rax\n\t syscall\n\t dec %2\n\t jmp 1b\n"
        "2: test %3, %3\n\t jz 3f\n\t dec %3\n\t jmp 2b\n"
        "3:\n\t"
        "movdqa %%xmm0, 0(%1)\n\t movdqa %%xmm1, 16(%1)\n\t movdqa %%xmm2, 32(%1)\n\t movdqa %%xmm3, 48(%1)\n\t"
        "movdqa %%xmm4, 64(%1)\n\t movdqa %%xmm5, 80(%1)\n\t movdqa %%xmm6, 96(%1)\n\t movdqa %%xmm7, 112(%1)\n\t"
        "movdqa %%xmm8, 128(%1)\n\t movdqa %%xmm9, 144(%1)\n\t movdqa %%xmm10, 160(%1)\n\t movdqa %%xmm11, 176(%1)\n\t"
        "movdqa %%xmm12, 192(%1)\n\t movdqa %%xmm13, 208(%1)\n\t movdqa %%xmm14, 224(%1)\n\t movdqa %%xmm15, 240(%1)\n\t"
        : "+r"(p), "+r"(o), "+r"(traps), "+r"(spins)
        :
        : "rax", "rcx", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
    for (int i = 0; i < 32; i++)
        if (out[i] != pattern[i]) return 1;
    return 0;
}

static char crossing[8192] __attribute__((aligned(4096)));

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    mach_port_t task = mach_task_self(), thread = mach_thread_self(), host = mach_host_self();
    if (!task || !thread || !host) fail("a self port is MACH_PORT_NULL");
    if (task == thread || task == host || thread == host) fail("self ports share a name");
    if (mach_thread_self() != thread || mach_host_self() != host) fail("self names not stable");
    mach_port_t seen[10];
    for (int i = 0; i < 10; i++) {
        seen[i] = mach_reply_port();
        if (!seen[i] || seen[i] == task || seen[i] == thread || seen[i] == host) fail("bad reply port name");
        for (int j = 0; j < i; j++)
            if (seen[j] == seen[i]) fail("mach_reply_port returned a name twice");
    }
    print("self and reply port names ok\n");

    if (mach_print(0) != KERN_INVALID_ADDRESS) fail("mach_print(NULL) accepted");
    if (mach_print((const char *)0xffffffff80200000UL) != KERN_INVALID_ADDRESS) fail("mach_print(kernel address) accepted");
    if (mach_print((const char *)0x8000000000000000UL) != KERN_INVALID_ADDRESS) fail("mach_print(non-canonical) accepted");
    /* a string that crosses a page boundary */
    memcpy(&crossing[4090], "page-crossing string ok\n", 25);
    if (mach_print(&crossing[4090]) != KERN_SUCCESS) fail("page-crossing string refused");
    /* a string without terminator inside the limit */
    memset(crossing, 'x', sizeof crossing);
    if (mach_print(crossing) != KERN_INVALID_ADDRESS) fail("unterminated string accepted");

    if (swtch() != 0 || swtch_pri(0) != 0) fail("swtch reported another thread");
    if (thread_switch(0, 0, 0) != KERN_SUCCESS) fail("thread_switch(NULL) failed");
    if (thread_switch(thread, 1, 10) != KERN_SUCCESS) fail("thread_switch(self, DEPRESS) failed");
    if (thread_switch(0, 3, 0) != KERN_INVALID_ARGUMENT) fail("thread_switch bad option accepted");
    if (thread_switch(task, 0, 0) != KERN_INVALID_ARGUMENT) fail("thread_switch to a task accepted");
    if (syscall_task_terminate(host) != KERN_INVALID_ARGUMENT) fail("task_terminate(host) accepted");
    if (syscall_task_terminate(0x7777) != KERN_INVALID_ARGUMENT) fail("task_terminate(bad name) accepted");
    print("trap argument checks ok\n");

    long unimplemented[] = {-1, -31, -65, -100, 0, 1, 60, 1000, (long)0x8000000000000000UL, 0x7fffffffffffffffL};
    for (unsigned i = 0; i < sizeof unimplemented / sizeof unimplemented[0]; i++)
        if (raw_trap(unimplemented[i], 1, 2, 3, 4, 5, 6) != KERN_INVALID_ARGUMENT) fail("unimplemented trap did not return KERN_INVALID_ARGUMENT");
    print("unimplemented traps answer KERN_INVALID_ARGUMENT\n");
    /* mach_msg_trap(NULL, MACH_SEND_MSG, 32, ...): the message cannot be read; GNU Mach answers
     * MACH_SEND_INVALID_DATA (conformance/suite/expected/hostile.txt, "send from an unmapped
     * address"). */
    if (raw_trap(-25, 0, 1, 32, 0, 0, 0) != 0x10000002L) fail("mach_msg from address 0 did not answer MACH_SEND_INVALID_DATA");
    print("mach_msg of an unreadable message answers MACH_SEND_INVALID_DATA\n");

    if (regs_changed()) fail("registers other than rax, rcx, r11 changed across a trap");
    print("registers preserved across syscall\n");
    if (sse_changed(1000, 10000000)) fail("xmm registers changed across traps and interrupts");
    print("xmm0-15 preserved across 1000 traps and timer interrupts\n");
    return 0;
}
