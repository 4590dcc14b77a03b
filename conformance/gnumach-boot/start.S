/* start.S: entry point and the three Mach traps the bootstrap program needs (x86_64 GNU Mach).
 *
 * At entry %rsp points at argc, then the argv pointers, a NULL, an empty environment ending in
 * NULL (8-byte slots).  Traps are negative system call numbers entered with `syscall`: the
 * number in %rax, arguments in %rdi %rsi %rdx %r10 %r8 %r9, a seventh one on the user stack
 * just above the return address (the trap functions keep %rsp as the caller left it). */

	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp
	movq	%rsp, %rdi		/* argument block: argc, argv[], NULL, envp[], NULL */
	andq	$-16, %rsp		/* ABI: 16-byte alignment before the call */
	call	boot_start
1:	hlt				/* not reached: boot_start reboots the machine */
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
TRAP(mach_task_self_trap, -28)
TRAP(mach_host_self_trap, -29)

	.section .note.GNU-stack,"",@progbits
