/* Programs that fill the kernel heap (8 MiB, heap::RESERVE kept for the kernel) and must be
 * answered with a Mach code instead of bringing the kernel down; the behaviour is chosen by
 * the program's name (argv[0]). The requests are built by hand (these programs have no MIG
 * stubs); their layouts are migc's x86_64 ones: a 32-byte header, 8-byte type descriptors.
 *   heap_ports:  mach_port_allocate until it fails: KERN_RESOURCE_SHORTAGE.
 *   heap_queue:  4 KiB messages queued to ports of its own (a new port when one is full)
 *                until a send fails: MACH_SEND_NO_BUFFER.
 *   heap_threads: thread_create until it fails: KERN_RESOURCE_SHORTAGE.
 *   heap_regions: one-page vm_allocate regions, a page apart (so none merge), until it
 *                fails: KERN_RESOURCE_SHORTAGE.
 * Each then checks that a call giving memory back (mach_port_destroy, thread_terminate)
 * still works, and ends; the test runner checks that the heap comes back. */
#include "mach_r_user.h"

extern long mach_msg_trap(void *msg, int option, unsigned send_size, unsigned rcv_size,
                          unsigned rcv_name, unsigned timeout, unsigned notify);

#define MACH_SEND_MSG 1
#define MACH_RCV_MSG 2
#define MACH_SEND_TIMEOUT 0x10
#define MACH_SEND_TIMED_OUT 0x10000004
#define MACH_SEND_NO_BUFFER 0x1000000d
#define KERN_RESOURCE_SHORTAGE 6
#define COPY_SEND 19
#define MAKE_SEND 20
#define MAKE_SEND_ONCE 21
/* x86_64 mach_msg_type_t: msgt_name INTEGER_32 (2), msgt_size 32 (16 bits), msgt_inline
 * (bit 29); msgt_number is the second word. */
#define INT32_TYPE (2u | (32u << 8) | (1u << 29))
#define PORT_NAME_TYPE (15u | (32u << 8) | (1u << 29))
#define INT64_TYPE (11u | (64u << 8) | (1u << 29))
#define BOOLEAN_TYPE (0u | (32u << 8) | (1u << 29))
#define WORDS 1000

struct msg {
    unsigned bits, size;
    unsigned long remote, local;
    unsigned seqno, id;
    unsigned body[WORDS + 16];
};

static struct msg m;
static mach_port_t reply;

/* An RPC to the kernel object `obj`: returns the mach_msg code, or the reply's RetCode. */
static long rpc(mach_port_t obj, unsigned id, unsigned send_size) {
    m.bits = COPY_SEND | (MAKE_SEND_ONCE << 8);
    m.size = send_size;
    m.remote = obj;
    m.local = reply;
    m.seqno = 0;
    m.id = id;
    long r = mach_msg_trap(&m, MACH_SEND_MSG | MACH_RCV_MSG, send_size, sizeof m, reply, 0, 0);
    if (r != 0) return r;
    if (m.id != id + 100) fail("reply with a wrong id");
    return (long)m.body[2];
}

static long port_allocate(mach_port_t *name) {
    m.body[0] = INT32_TYPE;
    m.body[1] = 1;
    m.body[2] = 1; /* MACH_PORT_RIGHT_RECEIVE */
    m.body[3] = 0;
    long r = rpc(mach_task_self(), 3204, 48);
    if (r == 0) *name = m.body[6];
    return r;
}

static long port_destroy(mach_port_t name) {
    m.body[0] = PORT_NAME_TYPE;
    m.body[1] = 1;
    m.body[2] = name;
    m.body[3] = 0;
    return rpc(mach_task_self(), 3205, 48);
}

/* vm_allocate(task, address, 4096, anywhere = FALSE): request of 80 bytes. */
static long vm_allocate_page(unsigned long address) {
    m.body[0] = INT64_TYPE;
    m.body[1] = 1;
    m.body[2] = (unsigned)address;
    m.body[3] = (unsigned)(address >> 32);
    m.body[4] = INT64_TYPE;
    m.body[5] = 1;
    m.body[6] = 4096;
    m.body[7] = 0;
    m.body[8] = BOOLEAN_TYPE;
    m.body[9] = 1;
    m.body[10] = 0;
    m.body[11] = 0;
    return rpc(mach_task_self(), 2021, 80);
}

static void report(const char *what, unsigned long n, long code) {
    print(what);
    print(": ");
    print_u64(n);
    print(" done, then ");
    print_hex((u64)code);
    print("\n");
}

int main(int argc, char **argv) {
    (void)argc;
    const char *n = argv[0];
    reply = mach_reply_port();
    mach_port_t last = 0;
    if (streq(n, "heap_ports")) {
        unsigned long count = 0;
        long r;
        while ((r = port_allocate(&last)) == 0) count++;
        report("mach_port_allocate", count, r);
        if (r != KERN_RESOURCE_SHORTAGE) fail("not KERN_RESOURCE_SHORTAGE");
        if (port_destroy(last) != 0) fail("mach_port_destroy after the shortage");
    } else if (streq(n, "heap_queue")) {
        unsigned long count = 0, ports = 0;
        long r = MACH_SEND_TIMED_OUT;
        for (;;) {
            if (r == MACH_SEND_TIMED_OUT) {
                r = port_allocate(&last);
                if (r != 0) break;
                ports++;
            }
            m.bits = MAKE_SEND;
            m.size = 32 + 8 + 4 * WORDS;
            m.remote = last;
            m.local = 0;
            m.id = 77;
            m.body[0] = INT32_TYPE;
            m.body[1] = WORDS;
            r = mach_msg_trap(&m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, m.size, 0, 0, 0, 0);
            if (r == 0) count++;
            else if (r != MACH_SEND_TIMED_OUT) break;
        }
        report("messages queued", count, r);
        print("ports: ");
        print_u64(ports);
        print("\n");
        if (r != MACH_SEND_NO_BUFFER) fail("not MACH_SEND_NO_BUFFER");
        if (port_destroy(last) != 0) fail("mach_port_destroy after the shortage");
    } else if (streq(n, "heap_threads")) {
        unsigned long count = 0;
        long r;
        while ((r = rpc(mach_task_self(), 2061, 32)) == 0) {
            last = m.body[6];
            count++;
        }
        report("thread_create", count, r);
        if (r != KERN_RESOURCE_SHORTAGE) fail("not KERN_RESOURCE_SHORTAGE");
        if (rpc(last, 2016, 32) != 0) fail("thread_terminate after the shortage");
    } else if (streq(n, "heap_regions")) {
        unsigned long count = 0, base = 1UL << 40;
        long r;
        while ((r = vm_allocate_page(base + count * 8192)) == 0) count++;
        report("vm_allocate", count, r);
        if (r != KERN_RESOURCE_SHORTAGE) fail("not KERN_RESOURCE_SHORTAGE");
        if (port_allocate(&last) != KERN_RESOURCE_SHORTAGE) fail("a port while the heap is short");
    } else fail("unknown program name");
    return 0;
}
