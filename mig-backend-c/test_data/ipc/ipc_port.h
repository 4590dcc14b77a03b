/* The kernel's port type and right operations that KernelServer stubs use (test stand-in for
   GNU Mach's ipc/ipc_port.h). */
#ifndef IPC_IPC_PORT_H
#define IPC_IPC_PORT_H
typedef struct ipc_port *ipc_port_t;
#define IP_VALID(port) ((port) != (ipc_port_t) 0)
extern void ipc_port_release_send(ipc_port_t port);
extern int ipc_port_check_circularity(ipc_port_t port, ipc_port_t dest);
#endif
