/* start.S: entry point and the Mach traps of the suite programs (x86_64 GNU Mach).
 *
 * At entry %rsp points at argc, then the argv pointers, a NULL, an empty environment ending in
 * NULL (8-byte slots; see OBSERVED.md).  _start hands that block to suite_start.  Traps are
 * negative system call numbers entered with `syscall`: the number in %rax, arguments in %rdi
 * %rsi %rdx %r10 %r8 %r9, a seventh one on the user stack just above the return address (the
 * trap functions keep %rsp as the caller left it). */

	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp
	movq	%rsp, %rdi		/* argument block: argc, argv[], NULL, envp[], NULL */
	andq	$-16, %rsp		/* ABI: 16-byte alignment before the call */
	call	suite_start
1:	hlt				/* not reached: suite_start reboots the machine */
	jmp	1b
	.size	_start, . - _start

#define TRAP(name, number)		\
	.globl	name;			\
	.type	name, @function;	\
name:					\
	movq	$number, %rax;		\
	movq	%rcx, %r10;		\
	syscall;			\
	ret;				\
	.size	name, . - name

TRAP(mach_msg_trap, -25)
TRAP(mach_reply_port, -26)
TRAP(mach_thread_self_trap, -27)
TRAP(mach_task_self_trap, -28)
TRAP(mach_host_self_trap, -29)
TRAP(swtch_pri, -59)
TRAP(swtch, -60)
TRAP(thread_switch, -61)

/* rdtsc: the time stamp counter (guest instructions under QEMU -icount shift=0,sleep=off). */
	.globl	suite_rdtsc
	.type	suite_rdtsc, @function
suite_rdtsc:
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	ret
	.size	suite_rdtsc, . - suite_rdtsc

/* The first instruction of a thread made by thread_create + thread_set_state: %rsp is set by
 * the creator to a 16-byte aligned stack top, %rdi to the argument. */
	.globl	suite_thread_entry
	.type	suite_thread_entry, @function
	.weak	suite_thread_main
suite_thread_entry:
	xorl	%ebp, %ebp
	call	suite_thread_main
2:	jmp	2b
	.size	suite_thread_entry, . - suite_thread_entry

	.section .note.GNU-stack,"",@progbits
