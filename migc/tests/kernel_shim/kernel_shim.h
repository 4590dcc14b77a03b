/* The GNU Mach kernel declarations that KernelServer and KernelUser stubs use, for compiling
   generated stubs outside the kernel (test shim: declarations only, as GNU Mach spells them). */
#ifndef KERNEL_SHIM_H
#define KERNEL_SHIM_H

typedef struct ipc_port *ipc_port_t;
typedef struct mach_device *device_t;

#include <mach/mach_types.h>
#include <mach/message.h>
#include <device/device_types.h>
#define IP_VALID(port) ((port) != (ipc_port_t) 0)
#define null_conversion(x) (x)
extern void ipc_port_release_send(ipc_port_t port);
extern int ipc_port_check_circularity(ipc_port_t port, ipc_port_t dest);

extern mach_msg_return_t mach_msg_send_from_kernel(mach_msg_header_t *msg, mach_msg_size_t send_size);
extern mach_msg_return_t mach_msg_rpc_from_kernel(mach_msg_header_t *msg, mach_msg_size_t send_size,
                                                  mach_msg_size_t reply_size);

extern unsigned long strlen(const char *s);
typedef unsigned short io_port_t;
typedef struct vm_map *vm_map_t;
typedef struct vm_object *vm_object_t;
typedef struct ipc_space *ipc_space_t;
typedef struct host *host_t;
typedef struct io_perm *io_perm_t;
typedef task_t *task_array_t;
typedef thread_t *thread_array_t;
typedef processor_t *processor_array_t;
typedef processor_set_t processor_set_name_t;
typedef processor_set_t *processor_set_array_t;
typedef processor_set_t *processor_set_name_array_t;
typedef vm_offset_t *emulation_vector_t;

extern task_t convert_port_to_task(ipc_port_t);
extern ipc_port_t convert_task_to_port(task_t);
extern void task_deallocate(task_t);
extern thread_t convert_port_to_thread(ipc_port_t);
extern ipc_port_t convert_thread_to_port(thread_t);
extern void thread_deallocate(thread_t);
extern vm_map_t convert_port_to_map(ipc_port_t);
extern void vm_map_deallocate(vm_map_t);
extern ipc_space_t convert_port_to_space(ipc_port_t);
extern void space_deallocate(ipc_space_t);
extern vm_object_t vm_object_lookup(ipc_port_t);
extern vm_object_t vm_object_lookup_name(ipc_port_t);
extern void vm_object_deallocate(vm_object_t);
extern host_t convert_port_to_host(ipc_port_t);
extern host_t convert_port_to_host_priv(ipc_port_t);
extern ipc_port_t convert_host_to_port(host_t);
extern processor_t convert_port_to_processor(ipc_port_t);
extern ipc_port_t convert_processor_to_port(processor_t);
extern processor_set_t convert_port_to_pset(ipc_port_t);
extern processor_set_t convert_port_to_pset_name(ipc_port_t);
extern ipc_port_t convert_pset_to_port(processor_set_t);
extern ipc_port_t convert_pset_name_to_port(processor_set_t);
extern void pset_deallocate(processor_set_t);
extern device_t dev_port_lookup(ipc_port_t);
extern ipc_port_t convert_device_to_port(device_t);
extern void device_deallocate(device_t);
extern io_perm_t convert_port_to_io_perm(ipc_port_t);
extern ipc_port_t convert_io_perm_to_port(io_perm_t);
extern void io_perm_deallocate(io_perm_t);

#endif
