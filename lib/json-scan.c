/*
 * json-scan.c: the strict JSON scanner of json-scan.h.
 */
#include <stdint.h>
#include <string.h>

#include "json-scan.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void ocitap_jscan_skip_ws(struct ocitap_jscan *sc)
{
	while (sc->p < sc->end && is_ws(*sc->p))
		sc->p++;
}

/* The next byte after white space, or '\0' at the end (a NUL in the text is never valid there). */
char ocitap_jscan_peek(struct ocitap_jscan *sc)
{
	ocitap_jscan_skip_ws(sc);
	return sc->p < sc->end ? *sc->p : '\0';
}

static bool eat(struct ocitap_jscan *sc, char c)
{
	if (ocitap_jscan_peek(sc) != c)
		return false;
	sc->p++;
	return true;
}

/* Length of the well-formed UTF-8 sequence at p (no overlongs, surrogates or beyond U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	unsigned cp, min;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1fu, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0fu, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string at the cursor. \u escapes of surrogates are declined (json-c has its own ideas about lone ones). */
bool ocitap_jscan_string(struct ocitap_jscan *sc, struct ocitap_jstr *ret)
{
	const unsigned char *p, *end = (const unsigned char *)sc->end, *start;
	bool escaped = false;

	if (!eat(sc, '"'))
		return false;
	start = p = (const unsigned char *)sc->p;
	for (;;) {
		if (p >= end || *p < 0x20)
			return false;
		if (*p == '"')
			break;
		if (*p == '\\') {
			escaped = true;
			if (++p >= end)
				return false;
			if (*p == 'u') {
				unsigned v = 0;

				if (end - p < 5)
					return false;
				for (int i = 1; i <= 4; i++) {
					int h = hex_value(p[i]);

					if (h < 0)
						return false;
					v = v << 4 | (unsigned)h;
				}
				if (v >= 0xd800 && v <= 0xdfff)
					return false;
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
			} else {
				return false;
			}
		} else if (*p < 0x80) {
			p++;
		} else {
			size_t n = utf8_sequence(p, end);

			if (!n)
				return false;
			p += n;
		}
	}
	if (ret)
		*ret = (struct ocitap_jstr){ .s = (const char *)start, .n = (size_t)(p - start), .escaped = escaped };
	sc->p = (const char *)p + 1;
	return true;
}

static bool digits(struct ocitap_jscan *sc)
{
	const char *start = sc->p;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return sc->p > start;
}

/* -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static bool scan_number(struct ocitap_jscan *sc)
{
	if (sc->p < sc->end && *sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0')
		sc->p++;
	else if (!digits(sc))
		return false;
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		if (!digits(sc))
			return false;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (!digits(sc))
			return false;
	}
	return true;
}

static bool scan_literal(struct ocitap_jscan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return false;
	sc->p += n;
	return true;
}

/* What the value at the cursor is, without moving. */
enum ocitap_jkind ocitap_jscan_kind(struct ocitap_jscan *sc)
{
	switch (ocitap_jscan_peek(sc)) {
	case '{':
		return OCITAP_J_OBJECT;
	case '[':
		return OCITAP_J_ARRAY;
	case '"':
		return OCITAP_J_STRING;
	case 'n':
		return OCITAP_J_NULL;
	default:
		return OCITAP_J_OTHER;
	}
}

bool ocitap_jscan_open(struct ocitap_jscan *sc, char c)
{
	if (!eat(sc, c) || ++sc->depth > OCITAP_JSCAN_MAX_DEPTH)
		return false;
	return true;
}

int ocitap_jscan_next_item(struct ocitap_jscan *sc, char close, size_t *count, struct ocitap_jspot *spot)
{
	char c = ocitap_jscan_peek(sc);

	if (c == close) {
		*spot = (struct ocitap_jspot){ .close = sc->p, .nonempty = *count > 0 };
		sc->p++;
		sc->depth--;
		return 0;
	}
	if (*count > 0) {
		if (c != ',')
			return -1;
		sc->p++;
		if (ocitap_jscan_peek(sc) == close)
			return -1; /* a trailing comma */
	}
	(*count)++;
	return 1;
}

int ocitap_jscan_next_member(struct ocitap_jscan *sc, size_t *count, struct ocitap_jstr *key, struct ocitap_jspot *spot)
{
	int r = ocitap_jscan_next_item(sc, '}', count, spot);

	if (r <= 0)
		return r;
	if (!ocitap_jscan_string(sc, key) || !eat(sc, ':'))
		return -1;
	return 1;
}

static bool skip_object(struct ocitap_jscan *sc)
{
	struct ocitap_jspot spot;
	struct ocitap_jstr key;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &spot)) > 0)
		if (!ocitap_jscan_value(sc))
			return false;
	return r == 0;
}

static bool skip_array(struct ocitap_jscan *sc)
{
	struct ocitap_jspot spot;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '['))
		return false;
	while ((r = ocitap_jscan_next_item(sc, ']', &count, &spot)) > 0)
		if (!ocitap_jscan_value(sc))
			return false;
	return r == 0;
}

/* Any value, validated and passed over. */
bool ocitap_jscan_value(struct ocitap_jscan *sc)
{
	char c = ocitap_jscan_peek(sc);

	switch (c) {
	case '{':
		return skip_object(sc);
	case '[':
		return skip_array(sc);
	case '"':
		return ocitap_jscan_string(sc, NULL);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		return (c == '-' || (c >= '0' && c <= '9')) && scan_number(sc);
	}
}

/*
 * Does the string as written mean word: 1 yes, 0 no, -1 unsure (a \u
 * escape of NUL, where json-c's C strings end, or of non-ASCII).
 */
int ocitap_jstr_is(const struct ocitap_jstr *s, const char *word)
{
	const char *p = s->s, *end = s->s + s->n;
	size_t wlen = strlen(word), i = 0;

	if (!s->escaped)
		return s->n == wlen && memcmp(s->s, word, wlen) == 0;
	for (; p < end; i++) {
		char c = *p++;

		if (c == '\\') {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *e = strchr(from, *p);

			c = *p++;
			if (e && c)
				c = to[e - from];
			else if (c == 'u') {
				unsigned v = 0;

				for (int k = 0; k < 4; k++)
					v = v << 4 | (unsigned)hex_value((unsigned char)p[k]);
				p += 4;
				if (v == 0 || v >= 0x80)
					return -1;
				c = (char)v;
			}
		}
		if (i >= wlen || word[i] != c)
			return 0;
	}
	return i == wlen;
}
