/* Test stand-in for GNU Mach's <machine/io_perm.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
