/* Test stand-in for GNU Mach's <device/device_types_kernel.h>, which gnumach-dev headers include under MACH_KERNEL:
   nothing the stubs need (kernel_shim.h declares it). */
