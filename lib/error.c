/*
 * error.c: filling struct ocitap_error. Nothing here allocates, so setting an
 * error cannot itself fail, and a struct on the caller's stack is enough.
 * Every function that records a failure returns a negative errno, whatever
 * it was given, so `return ocitap_error_...(err, ...)` can never say success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Mark text cut by snprintf so nobody mistakes it for the whole. */
static void mark_truncated(char *buf, size_t size, int wanted)
{
	if (wanted >= 0 && (size_t)wanted >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

/* -EINVAL and EINVAL both mean -EINVAL; 0 is no errno at all: -EIO. */
static int failure_code(int code)
{
	if (code < 0)
		return code;
	return code > 0 ? -code : -EIO;
}

/* A wrapper is on a failure path: an error without a code gets -EIO, so
 * what it returns and what err says agree. */
static int recorded_code(struct ocitap_error *err)
{
	if (err->code >= 0)
		err->code = -EIO;
	return err->code;
}

void ocitap_error_clear(struct ocitap_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->field[0] = '\0';
	err->message[0] = '\0';
}

int ocitap_error_setv(struct ocitap_error *err, int code, const char *field, const char *fmt, va_list ap)
{
	int n;

	code = failure_code(code);
	if (!err)
		return code;
	err->code = code;
	n = snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	mark_truncated(err->field, sizeof(err->field), n);
	sanitize(err->field);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	mark_truncated(err->message, sizeof(err->message), n);
	sanitize(err->message);
	return code;
}

int ocitap_error_set(struct ocitap_error *err, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = ocitap_error_setv(err, code, field, fmt, ap);
	va_end(ap);
	return code;
}

int ocitap_error_nest(struct ocitap_error *err, const char *parent)
{
	char joined[OCITAP_ERROR_FIELD_MAX];
	int n;

	if (!err)
		return -EIO;
	recorded_code(err);
	if (err->field[0] == '\0')
		n = snprintf(joined, sizeof(joined), "%s", parent);
	else if (err->field[0] == '[')
		n = snprintf(joined, sizeof(joined), "%s%s", parent, err->field);
	else
		n = snprintf(joined, sizeof(joined), "%s.%s", parent, err->field);
	mark_truncated(joined, sizeof(joined), n);
	sanitize(joined);
	memcpy(err->field, joined, sizeof(joined));
	return err->code;
}

static void prefixv(struct ocitap_error *err, const char *fmt, va_list ap)
{
	char context[OCITAP_ERROR_MESSAGE_MAX], joined[OCITAP_ERROR_MESSAGE_MAX];
	int n;

	vsnprintf(context, sizeof(context), fmt, ap);
	if (err->message[0])
		n = snprintf(joined, sizeof(joined), "%s: %s", context, err->message);
	else /* nothing said yet: the errno is what there is to say */
		n = snprintf(joined, sizeof(joined), "%s: %s", context, strerror(-err->code));
	mark_truncated(joined, sizeof(joined), n);
	sanitize(joined);
	memcpy(err->message, joined, sizeof(joined));
}

int ocitap_error_prefix(struct ocitap_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -EIO;
	recorded_code(err);
	va_start(ap, fmt);
	prefixv(err, fmt, ap);
	va_end(ap);
	return err->code;
}

int ocitap_error_wrap(struct ocitap_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	code = failure_code(code);
	if (!err)
		return code;
	if (err->code >= 0) { /* the callee said nothing: start from its errno */
		err->field[0] = '\0';
		err->message[0] = '\0';
	}
	err->code = code;
	va_start(ap, fmt);
	prefixv(err, fmt, ap);
	va_end(ap);
	return code;
}

const char *ocitap_error_format(const struct ocitap_error *err, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return buf;
	if (!err || err->code == 0)
		n = snprintf(buf, size, "no error");
	else if (err->field[0])
		n = snprintf(buf, size, "%s: %s", err->field, err->message);
	else
		n = snprintf(buf, size, "%s", err->message[0] ? err->message : strerror(-err->code));
	mark_truncated(buf, size, n);
	return buf;
}
