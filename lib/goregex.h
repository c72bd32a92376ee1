/*
 * goregex.h: what the two files of the Go regular expression translation
 * share (internal to libocitap, never installed): goregex.c reads a
 * pattern's structure (groups, flags, quantifiers) and compiles and runs it
 * on PCRE2; goregex-class.c reads escapes and character classes. The public
 * face is ocitap_regex_compile/search/release in hooksd.h.
 */
#ifndef OCITAP_GOREGEX_H
#define OCITAP_GOREGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "number.h"

#define REGEX_MAX_REPEAT     1000	 /* Go's maxRepeat: one count, and nested counts multiplied */
#define REGEX_MAX_DEPTH	     1000	 /* Go's maxHeight, counted here as nested groups */
#define REGEX_MATCH_LIMIT    1000000	 /* pcre2_match steps per search */
#define REGEX_DEPTH_LIMIT    100000	 /* backtracking frames per search */
#define REGEX_HEAP_LIMIT_KIB (64 * 1024) /* their memory */

/* A growing output string; oom set once an allocation failed (then nothing more is written). */
struct rebuf {
	char *s;
	size_t len, cap;
	bool oom;
};

struct re_group {
	size_t out_start;     /* where its "(" is in the output */
	unsigned long weight; /* largest product of counted repeats inside */
	bool fold_before;     /* (?i) outside it, restored at its ")" */
};

struct re_translation {
	const char *pattern;
	const char *p; /* next token */
	struct rebuf out;
	struct rebuf flags;	 /* (?flags) not written yet: see flush_flags() */
	struct re_group *groups; /* [0] is the whole pattern */
	size_t depth;
	/* the last atom, what a quantifier applies to */
	bool have_atom;
	bool atom_repeated;    /* already carries a quantifier */
	bool atom_empty_width; /* ^ $ \A \z \b \B: grouped before PCRE2 repeats them */
	size_t atom_start;
	unsigned long atom_weight;
	const char *last_repeat; /* the previous token, when it was a quantifier (Go's lastRepeat) */
	bool fold;		 /* (?i) in effect */
	const char *newer_go;	 /* syntax older Go refuses, for people */
	struct ocitap_error *err;
};

void ocitap_re_put(struct rebuf *b, const char *s, size_t n);
void ocitap_re_puts(struct rebuf *b, const char *s);
/* Put s in at offset pos (to wrap what is already written in a group). */
void ocitap_re_insert(struct rebuf *b, size_t pos, const char *s);
/* Length of the UTF-8 sequence at s and its code point in *ret, or 0 when s
 * does not start one (Go's utf8.DecodeRune: no overlong forms, surrogates or
 * code points past U+10FFFF). */
size_t ocitap_re_utf8_decode(const char *str, uint32_t *ret);
/* -EINVAL, with err saying msg and the byte offset of at. */
int ocitap_re_fail(struct re_translation *t, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* (?flags) waiting to be written go out before the next atom or "|". */
void ocitap_re_flush_flags(struct re_translation *t);
void ocitap_re_atom_end(struct re_translation *t);
void ocitap_re_atom_begin(struct re_translation *t, bool empty_width);

/* goregex-class.c */
/* One code point as a PCRE2 literal, inside or outside brackets. */
void ocitap_re_put_literal(struct rebuf *out, uint32_t c);
/* An escape that stands for one character (\x41, \n, \123, \.) at *pp; *pp moves past it. */
int ocitap_re_parse_char_escape(struct re_translation *t, const char **pp, uint32_t *ret);
/* \pL, \p{Greek}, \PN at *pp, written out for PCRE2. */
int ocitap_re_put_unicode_class(struct re_translation *t, const char **pp);
/* A bracketed class [...] at t->p. */
int ocitap_re_translate_class(struct re_translation *t);

static inline bool is_ascii_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool is_surrogate(uint32_t c)
{
	return c >= 0xd800 && c <= 0xdfff;
}

/* The bytes of the construct at s for a message: up to n bytes, never past the end. */
#define SPAN(s, n) (int)strnlen((s), (n)), (s)

#endif
