/*
 * number.c: see number.h. Digits are accumulated here rather than with
 * strtoll(): strtoll skips white space, takes a '+', stops silently at the
 * first non-digit and reports overflow only through errno, each of which
 * every caller had to remember.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "number.h"

static int digit(char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The magnitude of the digits of s; -ERANGE once it passes limit. */
static int magnitude(const char *s, unsigned base, uint64_t limit, uint64_t *ret)
{
	uint64_t v = 0;
	bool over = false;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d = digit(*s, base);

		if (d < 0)
			return -EINVAL; /* garbage wins over range: "99999999999999999999x" is not a number */
		if (!over && (v > (limit - (uint64_t)d) / base))
			over = true;
		if (!over)
			v = v * base + (uint64_t)d;
	}
	if (over)
		return -ERANGE;
	*ret = v;
	return 0;
}

int ocitap_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	bool negative;
	uint64_t m;
	int64_t v;
	int r;

	if (!s)
		return -EINVAL;
	negative = *s == '-';
	/* INT64_MIN's magnitude is INT64_MAX + 1 */
	r = magnitude(s + negative, 10, negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &m);
	if (r < 0)
		return r;
	if (negative)
		v = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
	else
		v = (int64_t)m;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int ocitap_parse_int(const char *s, int min, int max, int *ret)
{
	int64_t v;
	int r = ocitap_parse_int64(s, min, max, &v);

	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

int ocitap_parse_uint64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = magnitude(s, 10, UINT64_MAX, &v);
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int ocitap_parse_hex64(const char *s, uint64_t *ret)
{
	if (!s)
		return -EINVAL;
	return magnitude(s, 16, UINT64_MAX, ret);
}
