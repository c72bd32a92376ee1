/*
 * clock.h: the time of day and the monotonic clock in the units ocitap
 * stores (nanoseconds) and waits in (milliseconds), and RFC 3339 text for
 * wall-clock times both ways. Private to the programs of this tree: not
 * installed, not exported from libocitap.so.
 *
 * Wall times are nanoseconds since 1970-01-01T00:00:00Z in an int64_t, which
 * reaches from 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z.
 */
#ifndef OCITAP_CLOCK_H
#define OCITAP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* CLOCK_MONOTONIC and CLOCK_REALTIME, in nanoseconds and in milliseconds.
 * They cannot fail. */
int64_t ocitap_mono_ns(void);
int64_t ocitap_mono_ms(void);
int64_t ocitap_wall_ns(void);
int64_t ocitap_wall_ms(void);

/* The older name of ocitap_mono_ms(), kept for the callers that use it. */
static inline int64_t ocitap_now_ms(void)
{
	return ocitap_mono_ms();
}

/* Room for the longest text ocitap_rfc3339_format() writes, NUL included. */
#define OCITAP_RFC3339_MAX sizeof("2262-04-11T23:47:16.854775807Z")

/*
 * wall_ns as RFC 3339 in UTC with frac_digits digits of the second (0 to 9,
 * more counts as 9; 0 writes no '.'): "2026-11-23T03:41:37.840161011Z" with
 * 9, "2026-11-23T03:41:37Z" with 0. Times before 1970 too: -1 is
 * "1969-12-31T23:59:59.999999999Z" (digits are cut, never rounded). Writes at
 * most size bytes (always terminated; cut when size is short of
 * OCITAP_RFC3339_MAX) and returns buf.
 */
const char *ocitap_rfc3339_format(int64_t wall_ns, unsigned frac_digits, char *buf, size_t size);

/*
 * ocitap_rfc3339_format() with nanoseconds, but an empty string for a time
 * that is not set (wall_ns <= 0): how the store's "no time" reads in JSON.
 */
void ocitap_time_format(int64_t wall_ns, char *buf, size_t size);

/*
 * Parse an RFC 3339 date-time, "2026-11-23T05:47:57.458481Z" or with an
 * offset, "2026-11-23T06:47:57+01:00", into nanoseconds since the epoch
 * (*ret_ns, set only on success). 'T' and 'Z' may be lower case; the
 * fraction has any number of digits (beyond nanoseconds they are dropped);
 * a leap second (:60) counts as the next second. Errors: -EINVAL for text
 * that is not such a time (err quotes it and says what is wrong), -ERANGE
 * for a time an int64_t of nanoseconds cannot hold. s may be NULL (-EINVAL).
 */
int ocitap_rfc3339_parse(const char *s, int64_t *ret_ns, struct ocitap_error *err);

#endif
