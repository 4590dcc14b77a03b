/* Test stand-in for GNU Mach's <vm/vm_object.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
