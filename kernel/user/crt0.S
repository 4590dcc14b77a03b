/* Process entry and Mach trap stubs for Mach_R user programs.
 * At entry %rsp points at argc, then the argv pointers, NULL, and an empty environment
 * (the GNU Mach bootstrap convention). The stubs are exactly GNU Mach's x86_64 ones
 * (mach/x86_64/syscall_sw.h): number in %rax, fourth argument moved from %rcx to %r10. */
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call cstart
    ud2

#define kernel_trap(name, number) \
    .globl name; .type name, @function; name: movq $number, %rax; movq %rcx, %r10; syscall; ret

kernel_trap(mach_msg_trap, -25)
kernel_trap(mach_reply_port, -26)
kernel_trap(mach_thread_self, -27)
kernel_trap(mach_task_self, -28)
kernel_trap(mach_host_self, -29)
kernel_trap(mach_print, -30)
kernel_trap(swtch_pri, -59)
kernel_trap(swtch, -60)
kernel_trap(thread_switch, -61)
kernel_trap(syscall_vm_allocate, -65)
kernel_trap(syscall_task_terminate, -69)

/* long raw_trap(long number, long a1, long a2, long a3, long a4, long a5, long a6) */
    .globl raw_trap
    .type raw_trap, @function
raw_trap:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret
    .section .note.GNU-stack, "", @progbits
