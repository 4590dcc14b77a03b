/* Minimal runtime for Mach_R test programs: trap declarations and printing helpers. */
#ifndef MACH_R_USER_H
#define MACH_R_USER_H

typedef unsigned int mach_port_t;
typedef int kern_return_t;
typedef unsigned long u64;

#define KERN_SUCCESS 0
#define KERN_INVALID_ADDRESS 1
#define KERN_INVALID_ARGUMENT 4

extern mach_port_t mach_reply_port(void);
extern mach_port_t mach_thread_self(void);
extern mach_port_t mach_task_self(void);
extern mach_port_t mach_host_self(void);
extern kern_return_t mach_print(const char *s);
extern int swtch_pri(int pri);
extern int swtch(void);
extern kern_return_t thread_switch(mach_port_t thread, int option, int time);
extern kern_return_t syscall_task_terminate(mach_port_t task);
extern long raw_trap(long number, long a1, long a2, long a3, long a4, long a5, long a6);

int main(int argc, char **argv);

void print(const char *s);
void print_u64(u64 v);
void print_hex(u64 v);
void fail(const char *why) __attribute__((noreturn));
int streq(const char *a, const char *b);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

static inline u64 rdtsc(void) {
    unsigned int lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

#endif
