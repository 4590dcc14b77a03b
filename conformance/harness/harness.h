/* harness.h: the in-process MIG wire harness.
 *
 * A client stub's mach_msg call does not trap: it lands in harness_rt.c, which records the
 * request as the stub sent it, transforms it as GNU Mach would on delivery (header ports
 * swapped, port dispositions turned into the received right types, out-of-line regions
 * copied), hands it to the server side's demux function, records the reply as the server stub
 * built it, transforms it back and copies it into the client's buffer.  The generated test
 * program (one per subsystem, written by conformance/src/harness.rs) provides the demux
 * function, the server functions and the calls. */
#ifndef HARNESS_H
#define HARNESS_H

#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/port.h>
#include <stddef.h>
#include <stdint.h>

/* The demux function of the server side under test (<subsystem>_server). */
typedef boolean_t (*harness_demux_t)(mach_msg_header_t *in, mach_msg_header_t *out);
extern harness_demux_t harness_demux;

/* The name mig_get_reply_port gives, and the sequence number the "kernel" puts in requests. */
#define HARNESS_REPLY_PORT ((mach_port_t)0x0000e5e5u)
#define HARNESS_SEQNO ((mach_port_seqno_t)0x5e0)

/* Values: a deterministic byte pattern from a seed. */
uint32_t h_seed(unsigned routine, unsigned arg, unsigned kase);
void h_fill(void *p, size_t n, uint32_t seed);
/* A printable NUL-terminated string of length len from a seed (buffer holds len + 1). */
void h_fill_string(char *p, size_t len, uint32_t seed);
/* Memory that stays valid until the next call: out-of-line data built by a server function. */
void *h_arena(size_t n);
void h_arena_reset(void);

/* Fills the stack below the caller with a pattern, so that bytes a stub leaves unset in its
 * message buffer are the same on every run. */
void h_scrub_stack(void);

/* Checks: a mismatch prints a "fail" line and counts. */
extern int h_failures;
extern const char *h_routine;
extern unsigned h_case;
void h_check_bytes(const char *what, const void *got, const void *want, size_t n);
void h_check_u64(const char *what, uint64_t got, uint64_t want);
void h_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void h_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the last mach_msg carried. */
struct h_last {
	int sent;		/* a request reached the demux */
	boolean_t demux_result;
	kern_return_t reply_retcode;
	mach_port_t received_remote;	/* header as the server stub saw it */
	mach_msg_bits_t received_bits;
	mach_msg_size_t request_size;
	unsigned char request[65536];	/* as the client stub sent it */
};
extern struct h_last h_last;

/* The disposition a sent right arrives as (MACH_MSG_TYPE_COPY_SEND -> MACH_MSG_TYPE_PORT_SEND ...). */
mach_msg_type_name_t h_received_disposition(mach_msg_type_name_t sent);

/* Malformed requests: replays the last request with one defect and prints what the demux
 * answered: "malformed <routine> <defect> demux=<0|1> retcode=<n> server_calls=<n>". */
void h_malformed(const char *routine, int *server_calls, mach_msg_id_t first_id,
                 mach_msg_id_t end_id);

#endif
