#ifndef OBJTEST_TYPES_H
#define OBJTEST_TYPES_H
/* big_t of objtest.defs: 32 bytes, passed by value in memory under System V. */
typedef struct { int v[8]; } big_t;
/* small_array_t: array[*:4] of int, passed as a C array. */
typedef int *small_array_t;
#endif
