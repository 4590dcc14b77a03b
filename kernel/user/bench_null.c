/* Guest instructions of a null trap round trip. Under QEMU -icount shift=0 the time-stamp
 * counter counts guest instructions, so the deltas below are instruction counts. */
#include "mach_r_user.h"

#define N 10000

__attribute__((noinline)) static long empty_call(long n) { __asm__ volatile("" : : : "memory"); return n; }

static void report(const char *what, u64 total, u64 base) {
    print("BENCH ");
    print(what);
    print(" iterations=");
    print_u64(N);
    print(" per_call=");
    print_u64(total / N);
    print(" per_call_minus_loop=");
    print_u64((total - base) / N);
    print("\n");
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    u64 t0 = rdtsc();
    for (long i = 0; i < N; i++) empty_call(i);
    u64 base = rdtsc() - t0;
    t0 = rdtsc();
    for (long i = 0; i < N; i++) raw_trap(-1, 0, 0, 0, 0, 0, 0);
    report("null_trap(unimplemented -1)", rdtsc() - t0, base);
    t0 = rdtsc();
    for (long i = 0; i < N; i++) swtch();
    report("swtch(-60)", rdtsc() - t0, base);
    t0 = rdtsc();
    for (long i = 0; i < N; i++) mach_task_self();
    report("mach_task_self(-28)", rdtsc() - t0, base);
    return 0;
}
