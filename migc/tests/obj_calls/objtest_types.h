#ifndef OBJTEST_TYPES_H
#define OBJTEST_TYPES_H
/* big_t of objtest.defs: 32 bytes, passed by value in memory under System V. */
typedef struct { int v[8]; } big_t;
#endif
