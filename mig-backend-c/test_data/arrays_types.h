/* C types of arrays.defs, for compiling its generated stubs in tests. */
#ifndef ARRAYS_TYPES_H
#define ARRAYS_TYPES_H
typedef int int_array_t[64];
typedef int quad_t[4];
typedef struct { int a, b; } pair_t;
typedef char name_t[32];
typedef const char *const_name_t;
typedef char vname_t[64];
typedef const char *const_vname_t;
typedef vm_offset_t bytes_t;
typedef mach_port_t *ports_t;
typedef natural_t state_t[16];
#endif
