/* Test stand-in for GNU Mach's <kern/processor.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
