//! Entry code: the Multiboot2 and Multiboot (v1) headers, the PVH ELF note, the shared
//! 32-bit stub that PVH, Multiboot2 and Multiboot v1 enter, and the 64-bit Limine entry.
//! No Rust runs before SSE is on.
//!
//! The Multiboot v1 header is what QEMU's `-kernel` loader uses, as it boots GNU Mach: it
//! gives the load addresses itself (the a.out kludge, flag bit 16) because QEMU refuses a
//! 64-bit ELF otherwise. QEMU tries Multiboot before PVH, so the PVH boots use a copy of the
//! image with the v1 magic cleared (xtask writes it). The v1 loader copies the file from the
//! start of `.text` to `__data_load_end` and is not relied on to zero `.bss`: the v1 entry
//! zeroes it before it stores anything there.
//!
//! The 32-bit stub runs with paging off at physical addresses, so every symbol it uses
//! is written `sym - KERNEL_OFFSET`. It builds boot page tables (low 4 GiB identity,
//! the same 4 GiB at the direct map `0xffff800000000000`, the first GiB at
//! `KERNEL_OFFSET`), enables PAE, long mode and paging, turns on SSE, and jumps to the
//! higher half, where `boot32_main(path, info, magic)` takes over on the boot stack
//! (path 1 PVH, 2 Multiboot2, 3 Multiboot v1).
//! The kernel replaces these tables with its own as soon as its allocator runs.

core::arch::global_asm!(
    r#"
.set KERNEL_OFFSET, 0xffffffff80000000

/* ---------------- Multiboot2 header (first 32 KiB of the file, 8-aligned) ---------------- */
.section .boot.header, "a"
.balign 8
mb2_header:
    .long 0xE85250D6
    .long 0
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (0xE85250D6 + (mb2_header_end - mb2_header))
    .balign 8
    /* entry address tag: where GRUB jumps (32-bit protected mode) */
    .short 3
    .short 0
    .long 12
    .long mb2_entry32 - KERNEL_OFFSET
    .balign 8
    .short 0
    .short 0
    .long 8
mb2_header_end:

/* ---------------- Multiboot (v1) header (first 8 KiB of the file, 4-aligned) ---------------- */
/* flags: bit 0 modules page-aligned, bit 1 memory map, bit 16 the address fields below */
.set MB1_FLAGS, 0x00010003
.balign 4
mb1_header:
    .long 0x1BADB002
    .long MB1_FLAGS
    .long -(0x1BADB002 + MB1_FLAGS)
    .long mb1_header - KERNEL_OFFSET
    .long __kernel_start - KERNEL_OFFSET
    .long __data_load_end - KERNEL_OFFSET
    .long __kernel_end - KERNEL_OFFSET
    .long mb1_entry32 - KERNEL_OFFSET

/* ---------------- PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY = 18) ---------------- */
.section .note.Xen, "a", @note
.balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_entry32 - KERNEL_OFFSET
    .balign 4

/* ---------------- 32-bit stub ---------------- */
.section .boot.text, "ax"
.code32
.global pvh_entry32
pvh_entry32:
    cli
    cld
    movl $1, (boot_arg_path - KERNEL_OFFSET)
    movl %ebx, (boot_arg_info - KERNEL_OFFSET)
    movl $0, (boot_arg_magic - KERNEL_OFFSET)
    jmp common32

.global mb2_entry32
mb2_entry32:
    cli
    cld
    movl $2, (boot_arg_path - KERNEL_OFFSET)
    movl %ebx, (boot_arg_info - KERNEL_OFFSET)
    movl %eax, (boot_arg_magic - KERNEL_OFFSET)
    jmp common32

.global mb1_entry32
mb1_entry32:
    cli
    cld
    mov %eax, %edx
    /* zero .bss (the boot stack, page tables and boot_arg_* are in it) */
    mov $(__bss_start - KERNEL_OFFSET), %edi
    mov $(__kernel_end - KERNEL_OFFSET), %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    movl $3, (boot_arg_path - KERNEL_OFFSET)
    movl %ebx, (boot_arg_info - KERNEL_OFFSET)
    movl %edx, (boot_arg_magic - KERNEL_OFFSET)

common32:
    mov $(boot_stack_top - KERNEL_OFFSET), %esp
    /* zero the PML4 and both PDPTs */
    mov $(boot_pml4 - KERNEL_OFFSET), %edi
    xor %eax, %eax
    mov $(3 * 1024), %ecx
    rep stosl
    /* four PDs of 2 MiB pages: physical 0..4 GiB */
    mov $(boot_pd - KERNEL_OFFSET), %edi
    mov $0x83, %eax
    xor %ecx, %ecx
1:  mov %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jne 1b
    /* low PDPT: the four PDs */
    mov $(boot_pdpt_lo - KERNEL_OFFSET), %edi
    mov $(boot_pd - KERNEL_OFFSET + 3), %eax
    mov %eax, 0(%edi)
    add $4096, %eax
    mov %eax, 8(%edi)
    add $4096, %eax
    mov %eax, 16(%edi)
    add $4096, %eax
    mov %eax, 24(%edi)
    /* high PDPT: entry 510 (0xffffffff80000000) -> first GiB */
    mov $(boot_pdpt_hi - KERNEL_OFFSET), %edi
    mov $(boot_pd - KERNEL_OFFSET + 3), %eax
    mov %eax, (510 * 8)(%edi)
    /* PML4: 0 (identity) and 256 (direct map) -> low PDPT; 511 -> high PDPT */
    mov $(boot_pml4 - KERNEL_OFFSET), %edi
    mov $(boot_pdpt_lo - KERNEL_OFFSET + 3), %eax
    mov %eax, 0(%edi)
    mov %eax, (256 * 8)(%edi)
    mov $(boot_pdpt_hi - KERNEL_OFFSET + 3), %eax
    mov %eax, (511 * 8)(%edi)
    mov %edi, %cr3
    /* CR4: PAE | OSFXSR | OSXMMEXCPT */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    /* EFER.LME */
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    /* CR0: PG | MP, EM off */
    mov %cr0, %eax
    and $0xFFFFFFFB, %eax
    or $0x80000002, %eax
    mov %eax, %cr0
    lgdt (boot_gdtr - KERNEL_OFFSET)
    ljmp $0x08, $(long_mode_low - KERNEL_OFFSET)

.code64
long_mode_low:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $long_mode_high, %rax
    jmp *%rax

/* ---------------- 64-bit, higher half ---------------- */
.section .text
long_mode_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov boot_arg_path(%rip), %edi
    mov boot_arg_info(%rip), %esi
    mov boot_arg_magic(%rip), %edx
    call boot32_main
    ud2

/* Limine enters here in long mode on its own page tables, SSE state unknown. */
.global limine_entry
limine_entry:
    cli
    cld
    mov %cr0, %rax
    and $-5, %rax
    or $2, %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $0x600, %rax
    mov %rax, %cr4
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    call limine_main
    ud2

.section .rodata
.balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdtr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt - KERNEL_OFFSET

.section .bss
.balign 4096
boot_pml4:    .skip 4096
boot_pdpt_lo: .skip 4096
boot_pdpt_hi: .skip 4096
boot_pd:      .skip 4 * 4096
.global boot_stack_bottom
boot_stack_bottom:
    .skip 65536
.global boot_stack_top
boot_stack_top:
boot_arg_path:  .skip 4
boot_arg_info:  .skip 4
boot_arg_magic: .skip 4
"#,
    options(att_syntax)
);
