/* Test stand-in for GNU Mach's <vm/vm_map.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
