/*
 * error.h: how libocitap reports what went wrong.
 *
 * Every fallible function returns 0 (or a count) on success and a negative
 * errno on failure; the functions below that record a failure return a
 * negative errno too, whatever they are given, so a caller can end with
 * `return ocitap_error_...(err, ...);` and never report success by mistake. Where a message helps, it also fills a
 * struct ocitap_error: which field (a JSON path such as "state.pid"), and what is wrong with it, in lower case and
 * without a trailing period. The library never prints and never exits; the program that called it reports once. See
 * docs/design/errors.md.
 */
#ifndef OCITAP_ERROR_H
#define OCITAP_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define OCITAP_EXPORT __attribute__((visibility("default")))

#define OCITAP_ERROR_FIELD_MAX	 128
#define OCITAP_ERROR_MESSAGE_MAX 1024

struct ocitap_error {
	int code;				/* negative errno; 0 when nothing failed */
	char field[OCITAP_ERROR_FIELD_MAX];	/* offending field as a JSON path, "" if none */
	char message[OCITAP_ERROR_MESSAGE_MAX]; /* what is wrong, lower case */
};

/* Reset to "no error". err may be NULL. */
OCITAP_EXPORT void ocitap_error_clear(struct ocitap_error *err);

/*
 * Record an error and return its code, so callers can write
 * `return ocitap_error_set(err, -EINVAL, "pid", "must not be negative");`.
 * The code returned (and stored) is always a negative errno: -EINVAL and
 * EINVAL both give -EINVAL, and 0, which names no error, gives -EIO.
 * err may be NULL (the code is still returned). field may be NULL or "".
 * Control characters in field and message are replaced by '?', so a hostile
 * key cannot drive a terminal; over-long text is cut with "...".
 */
OCITAP_EXPORT int ocitap_error_set(struct ocitap_error *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
OCITAP_EXPORT int ocitap_error_setv(struct ocitap_error *err, int code, const char *field, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/*
 * Put parent in front of the field path ("pid" -> "state.pid"), or make it
 * the field when there was none. Returns err->code; when err holds no error
 * yet, it gets -EIO (never 0: the caller is on a failure path). -EIO when
 * err is NULL: a caller that must keep a precise code returns its own r, or
 * uses ocitap_error_wrap.
 */
OCITAP_EXPORT int ocitap_error_nest(struct ocitap_error *err, const char *parent);

/*
 * Put context in front of the message ("permission denied" ->
 * "cannot open /x: permission denied"); an empty message becomes the errno's
 * text. Returns err->code, set to -EIO when err held no error; -EIO when err
 * is NULL.
 */
OCITAP_EXPORT int ocitap_error_prefix(struct ocitap_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * How a caller passes a callee's failure up with context, like crun's
 * crun_error_wrap: `r = f(..., err); if (r < 0) return ocitap_error_wrap(err,
 * r, "store %s", path);`. Puts the context in front of the message (as
 * ocitap_error_prefix) and returns code as a negative errno (as
 * ocitap_error_set), also when err is NULL. When the callee filled nothing
 * (err->code is 0), the message is "context: <strerror(code)>".
 */
OCITAP_EXPORT int ocitap_error_wrap(struct ocitap_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * One line for people: "field: message", or just "message" when there is no
 * field. Writes at most size bytes into buf (always terminated) and returns buf.
 */
OCITAP_EXPORT const char *ocitap_error_format(const struct ocitap_error *err, char *buf, size_t size);

#endif
