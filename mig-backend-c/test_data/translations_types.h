/* C types and translation functions of translations.defs, for compiling its stubs in tests. */
#ifndef TRANSLATIONS_TYPES_H
#define TRANSLATIONS_TYPES_H
#include <ipc/ipc_port.h>
typedef struct task_obj *task_obj_t;
typedef mach_port_t reply_t;
/* A KernelServer translates the kernel's `ipc_port_t`. */
extern task_obj_t convert_port_to_task_obj(ipc_port_t);
extern task_obj_t convert_payload_to_task_obj(rpc_uintptr_t);
extern ipc_port_t convert_task_obj_to_port(task_obj_t);
extern void task_obj_release(task_obj_t);
#endif
