/*
 * number.h: checked parsing of the numbers people and peers write: flags,
 * environment variables, query strings, /proc files, protocol words.
 * Private to the programs of this tree: not installed, not exported.
 *
 * The whole string is the number: decimal digits with an optional leading
 * '-' (signed forms only); no '+', no white space, no trailing bytes, no
 * empty string. Leading zeros are fine ("007" is 7). errno is left as it was:
 * the result is in the return value alone.
 *
 * Every function returns 0 and sets *ret, or returns -EINVAL (s is NULL or
 * not a number of that form) or -ERANGE (a number, but outside [min, max] or
 * beyond the type) and leaves *ret alone. Callers word the message: they
 * know which flag or field it was.
 */
#ifndef OCITAP_NUMBER_H
#define OCITAP_NUMBER_H

#include <stdint.h>

int ocitap_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);
int ocitap_parse_int(const char *s, int min, int max, int *ret);

/* No sign at all: "-0" is -EINVAL. */
int ocitap_parse_uint64(const char *s, uint64_t max, uint64_t *ret);

/* Hexadecimal digits (either case, no "0x"), as /proc writes capability masks. */
int ocitap_parse_hex64(const char *s, uint64_t *ret);

/* The value of one hexadecimal digit (either case), or -1. */
static inline int ocitap_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
