/* Test stand-in for GNU Mach's <kern/ipc_host.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
