/* Test stand-in for GNU Mach's <ipc/ipc_space.h>: see ../kernel_shim.h. */
#include "kernel_shim.h"
