/*
 * json-scan.h: a strict JSON scanner that allocates nothing and builds
 * nothing: it validates text as RFC 8259 does (UTF-8 included, stricter
 * than json-c where the two differ) and reports where values begin and
 * end, for edits that splice text in (runtime-wrap-splice.c). Reading
 * values stays json-c's business (json-util.h).
 *
 * Every function returns false (or -1) on anything invalid and leaves the
 * cursor somewhere undefined: the caller then gives up on the text.
 */
#ifndef OCITAP_JSON_SCAN_H
#define OCITAP_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define OCITAP_JSCAN_MAX_DEPTH 32 /* nesting; json-c's parsers here allow 64 */

struct ocitap_jscan {
	const char *p, *end; /* the cursor, the end of the text */
	int depth;	     /* objects and arrays open at the cursor */
};

/* A string as written: its bytes between the quotes, and whether any is an escape. */
struct ocitap_jstr {
	const char *s;
	size_t n;
	bool escaped;
};

/* Where an object or array closes, and whether it has members. */
struct ocitap_jspot {
	const char *close; /* the closing '}' or ']'; NULL: not seen */
	bool nonempty;
};

enum ocitap_jkind { OCITAP_J_ABSENT, OCITAP_J_NULL, OCITAP_J_OBJECT, OCITAP_J_ARRAY, OCITAP_J_STRING, OCITAP_J_OTHER };

/* Past JSON white space (space, tab, LF, CR). */
void ocitap_jscan_skip_ws(struct ocitap_jscan *sc);

/* The next byte after white space, or '\0' at the end (a NUL byte is never valid there either). */
char ocitap_jscan_peek(struct ocitap_jscan *sc);

/* What the value at the cursor is, by its first byte, without moving. */
enum ocitap_jkind ocitap_jscan_kind(struct ocitap_jscan *sc);

/* A string at the cursor, validated (escapes, UTF-8); *ret may be NULL. \u escapes of surrogates are refused. */
bool ocitap_jscan_string(struct ocitap_jscan *sc, struct ocitap_jstr *ret);

/* Any value at the cursor, validated and passed over. */
bool ocitap_jscan_value(struct ocitap_jscan *sc);

/*
 * Walking an object or array: open() takes the '{' or '[' (c), then each
 * next() puts the cursor on the next member's value (1; for an object with
 * *key), or past the closing bracket (0, *spot filled), or finds it invalid
 * (-1). count is the caller's, zero before the first next().
 */
bool ocitap_jscan_open(struct ocitap_jscan *sc, char c);
int ocitap_jscan_next_item(struct ocitap_jscan *sc, char close, size_t *count, struct ocitap_jspot *spot);
int ocitap_jscan_next_member(struct ocitap_jscan *sc, size_t *count, struct ocitap_jstr *key,
			     struct ocitap_jspot *spot);

/*
 * Does the string as written mean word: 1 yes, 0 no, -1 unsure (a \u
 * escape of NUL, where json-c's C strings end, or of non-ASCII).
 */
int ocitap_jstr_is(const struct ocitap_jstr *s, const char *word);

#endif
