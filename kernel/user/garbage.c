/* Calls every trap number from -128 to 128 (and the extremes) with garbage arguments:
 * kernel addresses, non-canonical addresses, unmapped addresses, huge and tiny values.
 * Each call must come back with the documented answer (for mach_msg_trap, success or one
 * of its MACH_SEND_* / MACH_RCV_* codes); the kernel must survive. */
#include "mach_r_user.h"

static const u64 garbage[] = {
    0, 1, 2, 3, 0xffffffffffffffffUL, 0x8000000000000000UL, 0x0000800000000000UL, 0xffff800000000000UL,
    0xffffffff80200000UL, 0xffffc00000000000UL, 0xdeadbeefdeadbeefUL, 0x00007ffffffff000UL, 0x1000,
    0x7fffffffffffUL, 0x100000000UL, 0xffffffffUL, 0x7fffffffffffffffUL, 0x4141414141414141UL,
};
#define NG (sizeof garbage / sizeof garbage[0])

static u64 seed = 0x2545f4914f6cdd1dUL;
static u64 pick(void) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return garbage[(seed >> 33) % NG];
}

static int answer_ok(long n, long r, u64 a0, mach_port_t self) {
    switch (n) {
    case -25: return r == 0 || (r & 0xfffff000L) == 0x10000000L || (r & 0xfffff000L) == 0x10004000L;
    case -26: case -27: case -28: case -29: return r >= 0 && r <= 0xffffffffL;
    case -30: return r == KERN_INVALID_ADDRESS;
    case -59: case -60: return r == 0;
    case -61: return r == KERN_SUCCESS || r == KERN_INVALID_ARGUMENT;
    case -69: return a0 != self && r == KERN_INVALID_ARGUMENT;
    default: return r == KERN_INVALID_ARGUMENT;
    }
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    mach_port_t self = mach_task_self();
    long extremes[] = {(long)0x8000000000000000UL, 0x7fffffffffffffffL, -0x80000000L, 0x7fffffffL, -129, 129};
    u64 calls = 0, numbers = 0;
    for (long k = -128; k <= 128 + (long)(sizeof extremes / sizeof extremes[0]); k++) {
        long n = k <= 128 ? k : extremes[k - 129];
        numbers++;
        for (int i = 0; i < 12; i++) {
            u64 a[6];
            for (int j = 0; j < 6; j++) a[j] = pick();
            if (n == -69 && a[0] == self) a[0] ^= 0x5a5a; /* the one argument that would end us */
            long r = raw_trap(n, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
            calls++;
            if (!answer_ok(n, r, a[0], self)) {
                print("trap ");
                print_hex((u64)n);
                print(" answered ");
                print_hex((u64)r);
                print("\n");
                fail("unexpected answer to a garbage trap");
            }
        }
    }
    print("garbage: ");
    print_u64(calls);
    print(" calls to ");
    print_u64(numbers);
    print(" trap numbers, every answer as documented\n");
    return 0;
}
