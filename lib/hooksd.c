/*
 * hooksd.c: oci-hooks(5) files read, validated, masked, ordered and matched
 * against a bundle as containers/common (podman, CRI-O, Buildah) does it;
 * see hooksd.h for the rules and docs/ocitap.1.scd for what users see.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hooksd.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"

/* ---- Go regular expressions on PCRE2 ---------------------------------------------
 *
 * A pattern is read token by token as Go's regexp/syntax reads it (Perl
 * flags, as regexp.Compile uses) and written out again as a PCRE2 pattern
 * that means the same thing. What Go refuses is refused here with the
 * construct named; what PCRE2 would read differently is spelled so that it
 * cannot be misread: literals are escaped (so "{,3}" stays a literal with any
 * PCRE2 version), \s and \S get Go's set (PCRE2's has \v), \v is the
 * character, octal escapes become \x{..}, ranges are written out. PCRE2 then
 * runs in UTF mode without UCP (Go's \d \w \s \b and POSIX classes are
 * ASCII), $ only at the end of the text, ^ in (?m) also after a final
 * newline, and with limits on backtracking: RE2 is linear, PCRE2 is not.
 */

#define REGEX_MAX_REPEAT     1000	 /* Go's maxRepeat: one count, and nested counts multiplied */
#define REGEX_MAX_DEPTH	     1000	 /* Go's maxHeight, counted here as nested groups */
#define REGEX_MATCH_LIMIT    1000000	 /* pcre2_match steps per search */
#define REGEX_DEPTH_LIMIT    100000	 /* backtracking frames per search */
#define REGEX_HEAP_LIMIT_KIB (64 * 1024) /* their memory */

struct ocitap_regex_program {
	pcre2_code *code;
	pcre2_match_context *limits;
	const char *newer_go; /* see ocitap_regex_newer_go() */
};

struct rebuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void re_put(struct rebuf *b, const char *s, size_t n)
{
	char *p;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;

		p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void re_puts(struct rebuf *b, const char *s)
{
	re_put(b, s, strlen(s));
}

/* Put s in at offset pos (to wrap what is already written in a group). */
static void re_insert(struct rebuf *b, size_t pos, const char *s)
{
	size_t n = strlen(s), tail = b->len - pos;

	re_put(b, s, n); /* grows the buffer by n */
	if (b->oom)
		return;
	memmove(b->s + pos + n, b->s + pos, tail);
	memcpy(b->s + pos, s, n);
}

/* Length of the UTF-8 sequence at s and its code point in *ret, or 0 when s
 * does not start one (Go's utf8.DecodeRune: no overlong forms, surrogates or
 * code points past U+10FFFF). */
static size_t utf8_decode(const char *str, uint32_t *ret)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*ret = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*ret = c;
	return n;
}

static bool is_ascii_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_surrogate(uint32_t c)
{
	return c >= 0xd800 && c <= 0xdfff;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

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

static int re_fail(struct re_translation *t, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int re_fail(struct re_translation *t, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ocitap_error_set(t->err, -EINVAL, NULL, "%s (at byte %zu)", msg, (size_t)(at - t->pattern));
}

/* The bytes of the construct at s for a message: up to n bytes, never past the end. */
#define SPAN(s, n) (int)strnlen((s), (n)), (s)

/*
 * Flag groups such as (?i) are written just before the next atom or "|":
 * in Go they only change the parser's flags, so "a(?i)*" repeats the a, and
 * PCRE2 would refuse the quantifier after the group.
 */
static void flush_flags(struct re_translation *t)
{
	if (t->flags.len) {
		re_put(&t->out, t->flags.s, t->flags.len);
		t->flags.len = 0;
	}
}

static void atom_end(struct re_translation *t)
{
	struct re_group *g = &t->groups[t->depth];

	if (t->have_atom && t->atom_weight > g->weight)
		g->weight = t->atom_weight;
	t->have_atom = false;
}

static void atom_begin(struct re_translation *t, bool empty_width)
{
	atom_end(t);
	flush_flags(t);
	t->have_atom = true;
	t->atom_repeated = false;
	t->atom_empty_width = empty_width;
	t->atom_start = t->out.len;
	t->atom_weight = 1;
}

/* One code point as a PCRE2 literal, inside or outside brackets. */
static void put_literal(struct rebuf *out, uint32_t c)
{
	char buf[16];

	if (is_ascii_alnum(c) || c == '_') {
		buf[0] = (char)c;
		re_put(out, buf, 1);
	} else if (c > 0x20 && c < 0x7f) {
		buf[0] = '\\', buf[1] = (char)c; /* punctuation: always itself */
		re_put(out, buf, 2);
	} else {
		snprintf(buf, sizeof(buf), "\\x{%x}", (unsigned)c);
		re_puts(out, buf);
	}
}

/* Go's parseEscape at *pp (a backslash): one character, or an error that
 * names the construct when it is something Go does not have. */
static int parse_char_escape(struct re_translation *t, const char **pp, uint32_t *ret)
{
	const char *s = *pp, *q = s + 2;
	unsigned char c = (unsigned char)s[1];
	uint32_t r;
	size_t n;

	if (c == '\0')
		return re_fail(t, s, "trailing backslash at end of expression");
	if (c < 0x80 && !is_ascii_alnum(c)) {
		*ret = c;
		*pp = q;
		return 0;
	}
	switch (c) {
	case '1' ... '7':
		if (*q < '0' || *q > '7')
			return re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
		/* two or three digits are octal */
		__attribute__((fallthrough));
	case '0':
		r = c - '0';
		for (int i = 1; i < 3 && *q >= '0' && *q <= '7'; i++, q++)
			r = r * 8 + (uint32_t)(*q - '0');
		*ret = r;
		*pp = q;
		return 0;
	case '8':
	case '9':
		return re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
	case 'x':
		if (*q == '{') {
			r = 0, n = 0;
			for (q++; *q != '}'; q++, n++) {
				int v = unhex(*q);

				if (v < 0 || (r = r * 16 + (uint32_t)v) > 0x10ffff)
					return re_fail(t, s, "invalid escape sequence \"%.*s\"",
						       SPAN(s, (size_t)(q - s) + 1));
			}
			if (n == 0)
				return re_fail(t, s, "invalid escape sequence \"\\x{}\"");
			*ret = r;
			*pp = q + 1;
			return 0;
		}
		if (unhex(q[0]) < 0 || unhex(q[1]) < 0)
			return re_fail(t, s, "invalid escape sequence \"%.*s\" (\\x takes two hex digits or {...})",
				       SPAN(s, 4));
		*ret = (uint32_t)(unhex(q[0]) * 16 + unhex(q[1]));
		*pp = q + 2;
		return 0;
	case 'a':
		*ret = '\a';
		break;
	case 'f':
		*ret = '\f';
		break;
	case 'n':
		*ret = '\n';
		break;
	case 'r':
		*ret = '\r';
		break;
	case 't':
		*ret = '\t';
		break;
	case 'v':
		*ret = '\v'; /* the character; \v is a class of vertical space in PCRE2 */
		break;
	case 'Z':
		return re_fail(t, s, "\"\\Z\" is not Go syntax (Go's $ and \\z match only at the end of the text)");
	case 'K':
		return re_fail(t, s, "\"\\K\" (reset match start) is not Go syntax");
	case 'g':
	case 'k':
		return re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
	case 'G':
		return re_fail(t, s, "\"\\G\" is not Go syntax");
	default:
		n = utf8_decode(s + 1, &r);
		return re_fail(t, s, "invalid escape sequence \"\\%.*s\"", (int)(n ? n : 1), s + 1);
	}
	*pp = q;
	return 0;
}

/* Whether name is spelled as every Go release spells its Unicode classes
 * (unicode.Categories and unicode.Scripts keys: Lu, Greek, Old_Italic);
 * Go 1.25 also takes any case and spaces or '-' instead of '_'. */
static bool go_exact_class_name(const char *name, size_t len)
{
	bool word_start = true;

	if (len == 3 && memcmp(name, "Any", 3) == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '_') {
			if (word_start)
				return false;
			word_start = true;
		} else if (word_start) {
			if (name[i] < 'A' || name[i] > 'Z')
				return false;
			word_start = false;
		} else if (!is_ascii_alnum((unsigned char)name[i])) {
			return false;
		}
	}
	return !word_start;
}

/* Go's class names other than scripts (unicode.Categories, and the special
 * names of Go 1.25), lower case and without '_', as canonical below. */
static bool go_category(const char *canon)
{
	static const char *const names[] = {
		"c",  "cc", "cf", "cn", "co", "cs", "l",  "lc", "ll", "lm", "lo",  "lt",       "lu",	"m",
		"mc", "me", "mn", "n",	"nd", "nl", "no", "p",	"pc", "pd", "pe",  "pf",       "pi",	"po",
		"ps", "s",  "sc", "sk", "sm", "so", "z",  "zl", "zp", "zs", "any", "assigned", "ascii",
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(canon, names[i]) == 0)
			return true;
	return false;
}

/* \pL, \p{Greek}, \P{..}, \p{^..} at *pp, written as PCRE2 reads them. Go
 * (since 1.25) and PCRE2 both look names up ignoring case, spaces, '_' and
 * '-'. A name that is no category is a script, looked up as "sc:": PCRE2's
 * bare \p{Greek} means the Script_Extensions property, Go's the Script one,
 * and PCRE2's binary properties (\p{Alpha}) are no Go class. */
static int put_unicode_class(struct re_translation *t, const char **pp)
{
	const char *s = *pp, *name, *end;
	bool negate = s[1] == 'P';
	char canon[64];
	size_t len, k = 0;
	uint32_t c;

	if (s[2] == '\0')
		return re_fail(t, s, "invalid character class range \"\\%c\"", s[1]);
	if (s[2] == '{') {
		end = strchr(s, '}');
		if (!end)
			return re_fail(t, s, "invalid character class range \"%.*s\": missing }", SPAN(s, 40));
		name = s + 3;
		len = (size_t)(end - name);
		end++;
	} else {
		name = s + 2;
		len = utf8_decode(name, &c);
		end = name + len;
	}
	if (len > 0 && *name == '^') {
		negate = !negate;
		name++, len--;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == ' ' || ch == '_' || ch == '-')
			continue;
		if (!is_ascii_alnum((unsigned char)ch) || k + 1 >= sizeof(canon))
			return re_fail(t, s, "invalid character class range \"%.*s\"", SPAN(s, (size_t)(end - s)));
		canon[k++] = (char)(ch | 0x20);
	}
	canon[k] = '\0';
	if (k == 0)
		return re_fail(t, s, "invalid character class range \"%.*s\"", SPAN(s, (size_t)(end - s)));
	if (!go_exact_class_name(name, len) && !t->newer_go)
		t->newer_go = "a Unicode class name not spelled as Go spells it (\\p{Greek}, \\pL): Go before 1.25 "
			      "refuses it, and a podman built with such a Go creates no container";
	if (t->fold && (strcmp(canon, "lu") == 0 || strcmp(canon, "ll") == 0 || strcmp(canon, "lt") == 0)) {
		/* Go folds the class under (?i): \p{Lu} takes the lower case
		 * letters too; PCRE2 does not, so name all cased letters */
		snprintf(canon, sizeof(canon), "L&");
	} else if (strcmp(canon, "assigned") == 0) { /* Go: not Cn */
		negate = !negate;
		snprintf(canon, sizeof(canon), "cn");
	} else if (strcmp(canon, "lc") == 0) { /* Go's cased letters, PCRE2's L& */
		snprintf(canon, sizeof(canon), "L&");
	}
	re_puts(&t->out, negate ? "\\P{" : "\\p{");
	if (!go_category(canon) && strcmp(canon, "L&") != 0)
		re_puts(&t->out, "sc:");
	re_puts(&t->out, canon);
	re_puts(&t->out, "}");
	*pp = end;
	return 0;
}

static bool posix_class_known(const char *name, size_t len)
{
	static const char *const names[] = { "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
					     "lower", "print", "punct", "space", "upper", "word",  "xdigit" };

	if (len > 0 && *name == '^')
		name++, len--;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return true;
	return false;
}

/* One character of a bracket expression: an escape or a code point. */
static int parse_class_char(struct re_translation *t, const char **pp, uint32_t *ret)
{
	if (**pp == '\\')
		return parse_char_escape(t, pp, ret);
	*pp += utf8_decode(*pp, ret); /* the pattern was checked to be UTF-8 */
	return 0;
}

/* A bracket expression at t->p, Go's parseClass, every element written out. */
static int translate_class(struct re_translation *t)
{
	const char *start = t->p, *s = t->p + 1;
	bool first = true, negated = *s == '^';
	size_t elements = 0; /* written: a class of lone surrogates has none */
	int r;

	atom_begin(t, false);
	re_puts(&t->out, negated ? "[^" : "[");
	if (negated)
		s++;
	for (;; first = false, elements++) {
		uint32_t lo, hi;

		if (*s == '\0')
			return re_fail(t, start, "missing closing ]: \"%.*s\"", SPAN(start, 40));
		if (*s == ']' && !first)
			break;
		if (s[0] == '[' && s[1] == ':' && s[2]) {
			const char *end = strstr(s + 2, ":]");

			if (end) {
				if (!posix_class_known(s + 2, (size_t)(end - s - 2)))
					return re_fail(t, s, "invalid character class range \"%.*s\"",
						       SPAN(s, (size_t)(end + 2 - s)));
				re_put(&t->out, s, (size_t)(end + 2 - s));
				s = end + 2;
				continue;
			}
		}
		if (s[0] == '\\' && (s[1] == 'p' || s[1] == 'P')) {
			if ((r = put_unicode_class(t, &s)) < 0)
				return r;
			continue;
		}
		if (s[0] == '\\' && s[1] && strchr("dDwW", s[1])) {
			re_put(&t->out, s, 2);
			s += 2;
			continue;
		}
		if (s[0] == '\\' && (s[1] == 's' || s[1] == 'S')) {
			/* Go's \s is [\t\n\f\r ]; PCRE2's also has \v */
			re_puts(&t->out, s[1] == 's' ? "\\t\\n\\f\\r\\x{20}" : "[:^space:]\\x{b}");
			s += 2;
			continue;
		}
		if ((r = parse_class_char(t, &s, &lo)) < 0)
			return r;
		hi = lo;
		if (s[0] == '-' && s[1] && s[1] != ']') {
			const char *range = s;

			s++;
			if ((r = parse_class_char(t, &s, &hi)) < 0)
				return r;
			if (hi < lo)
				return re_fail(t, range, "invalid character class range (%x > %x)", (unsigned)lo,
					       (unsigned)hi);
		}
		/* Go takes U+D800..U+DFFF and never matches them; PCRE2
		 * refuses them as range ends */
		if (is_surrogate(lo))
			lo = 0xe000;
		if (is_surrogate(hi))
			hi = 0xd7ff;
		if (lo > hi) {
			elements--;
			continue;
		}
		put_literal(&t->out, lo);
		if (hi != lo) {
			re_puts(&t->out, "-");
			put_literal(&t->out, hi);
		}
	}
	if (elements == 0) { /* [\x{d800}] matches nothing, [^\x{d800}] anything */
		t->out.len = t->atom_start;
		re_puts(&t->out, negated ? "(?s:.)" : "(?!)");
		t->atom_empty_width = !negated;
		t->p = s + 1;
		return 0;
	}
	re_puts(&t->out, "]");
	t->p = s + 1;
	return 0;
}

/* Go's parseInt: decimal, no leading zeros; too many digits give -1. */
static bool parse_count(const char **pp, long *ret)
{
	const char *s = *pp;
	long n = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		if (n >= 0)
			n = n >= 100000000 ? -1 : n * 10 + (*s - '0');
	*pp = s;
	*ret = n;
	return true;
}

/* Go's parseRepeat: {n}, {n,} (max -1) or {n,m}; false when s is none of
 * them and the { is a literal. */
static bool parse_repeat(const char *s, long *ret_min, long *ret_max, const char **ret_end)
{
	long min, max;

	s++;
	if (!parse_count(&s, &min))
		return false;
	if (*s == ',') {
		s++;
		if (*s == '}')
			max = -1;
		else if (!parse_count(&s, &max))
			return false;
		else if (max < 0)
			min = -1;
	} else {
		max = min;
	}
	if (*s != '}')
		return false;
	*ret_min = min, *ret_max = max, *ret_end = s + 1;
	return true;
}

/* A quantifier of len bytes at t->p (counted: min >= 0) applied to the last atom. */
static int quantify(struct re_translation *t, size_t len, long min, long max)
{
	const char *tok = t->p, *after = tok + len;
	unsigned long weight = t->atom_weight;
	bool lazy = *after == '?';
	char text[32];

	if (lazy)
		after++;
	if (t->last_repeat) {
		const char *prev = t->last_repeat;

		return re_fail(t, prev, "invalid nested repetition operator \"%.*s\"%s",
			       SPAN(prev, (size_t)(after - prev)),
			       *tok == '+' && len == 1 ? " (Go has no possessive quantifiers)" : "");
	}
	if (!t->have_atom)
		return re_fail(t, tok, "missing argument to repetition operator \"%.*s\"",
			       SPAN(tok, (size_t)(after - tok)));
	if (min >= 0) {
		/* Go's repeatIsValid: the counts on any path through nested
		 * repeats multiply to at most 1000; {0} ends the path */
		long m = max >= 0 ? max : min;

		if (max == 0)
			weight = 1;
		else if (m > 0)
			weight *= (unsigned long)m;
		if ((min >= 2 || max >= 2) && weight > REGEX_MAX_REPEAT)
			return re_fail(t, tok, "invalid repeat count \"%.*s\": nested counts multiply past %d",
				       SPAN(tok, len), REGEX_MAX_REPEAT);
		if (max == min)
			snprintf(text, sizeof(text), "{%ld}", min);
		else if (max < 0)
			snprintf(text, sizeof(text), "{%ld,}", min);
		else
			snprintf(text, sizeof(text), "{%ld,%ld}", min, max);
	} else {
		text[0] = *tok, text[1] = '\0';
	}
	if (t->atom_repeated || t->atom_empty_width) {
		/* "a*(?i)+" in Go repeats a*; PCRE2 wants that as a group */
		re_insert(&t->out, t->atom_start, "(?:");
		re_puts(&t->out, ")");
	}
	re_puts(&t->out, text);
	if (lazy)
		re_puts(&t->out, "?");
	t->atom_repeated = true;
	t->atom_weight = weight;
	t->p = after;
	t->last_repeat = tok;
	return 0;
}

static int open_group(struct re_translation *t, const char *text, size_t len, const char *after)
{
	atom_end(t);
	flush_flags(t);
	if (t->depth + 1 >= REGEX_MAX_DEPTH)
		return re_fail(t, t->p, "expression nests too deeply (more than %d groups)", REGEX_MAX_DEPTH - 1);
	t->depth++;
	t->groups[t->depth] = (struct re_group){ .out_start = t->out.len, .weight = 1, .fold_before = t->fold };
	re_put(&t->out, text, len);
	t->p = after;
	return 0;
}

/* "(" at t->p: a group, a named group, flags; or PCRE2 syntax Go lacks, named. */
static int translate_paren(struct re_translation *t)
{
	const char *s = t->p, *q;
	bool negated = false, saw_flag = false, fold = t->fold;

	if (s[1] == '*')
		return re_fail(t, s, "missing argument to repetition operator \"*\" (Go has no (*VERB) syntax)");
	if (s[1] != '?')
		return open_group(t, "(", 1, s + 1);
	if (s[2] == '<' && (s[3] == '=' || s[3] == '!'))
		return re_fail(t, s, "lookbehind \"%.4s\" is not Go syntax", s);
	if ((s[2] == 'P' && s[3] == '<') || s[2] == '<') {
		const char *name = s + (s[2] == 'P' ? 4 : 3), *end = strchr(name, '>');

		if (!end)
			return re_fail(t, s, "invalid named capture \"%.*s\": no closing >", SPAN(s, 40));
		for (q = name; q < end && (is_ascii_alnum((unsigned char)*q) || *q == '_'); q++)
			;
		if (q != end || end == name)
			return re_fail(t, s, "invalid named capture \"%.*s\"", SPAN(s, (size_t)(end + 1 - s)));
		if (s[2] == '<' && !t->newer_go)
			t->newer_go =
				"(?<name>...) in a pattern: Go before 1.22 refuses it (it has (?P<name>...)), and a "
				"podman built with such a Go creates no container";
		return open_group(t, "(", 1, end + 1); /* names do not matter for matching */
	}
	switch (s[2]) {
	case '=':
	case '!':
		return re_fail(t, s, "lookahead \"%.3s\" is not Go syntax", s);
	case '>':
		return re_fail(t, s, "atomic group \"(?>\" is not Go syntax");
	case '|':
		return re_fail(t, s, "branch reset \"(?|\" is not Go syntax");
	case '#':
		return re_fail(t, s, "comment \"(?#\" is not Go syntax");
	case '(':
		return re_fail(t, s, "conditional \"(?(\" is not Go syntax");
	case 'C':
		return re_fail(t, s, "callout \"(?C\" is not Go syntax");
	case '\'':
		return re_fail(t, s, "named group \"(?'\" is not Go syntax (Go has (?P<name>...) and (?<name>...))");
	case 'R':
	case '&':
	case '+':
	case '0' ... '9':
		return re_fail(t, s, "recursion or subroutine call \"%.*s\" is not Go syntax", SPAN(s, 4));
	case 'P':
		return re_fail(t, s, "\"%.4s\" is not Go syntax (%s)", s,
			       s[3] == '='   ? "a backreference"
			       : s[3] == '>' ? "a subroutine call"
					     : "only (?P<name>...)");
	case '-':
		if (s[3] >= '0' && s[3] <= '9')
			return re_fail(t, s, "subroutine call \"%.4s\" is not Go syntax", s);
		break;
	}
	/* Go's parsePerlFlags: [imsU]* ( - [imsU]+ )? then ) or : */
	for (q = s + 2;; q++) {
		switch (*q) {
		case 'i':
			fold = !negated;
			saw_flag = true;
			continue;
		case 'm':
		case 's':
		case 'U':
			saw_flag = true;
			continue;
		case '-':
			if (negated)
				goto bad;
			negated = true;
			saw_flag = false;
			continue;
		case ':':
		case ')':
			if (negated && !saw_flag)
				goto bad;
			if (*q == ':') {
				int r = open_group(t, s, (size_t)(q + 1 - s), q + 1);

				t->fold = fold;
				return r;
			}
			if (q > s + 2)
				re_put(&t->flags, s, (size_t)(q + 1 - s));
			t->fold = fold;
			t->p = q + 1;
			return 0;
		default:
			goto bad;
		}
	}
bad:
	if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
		return re_fail(t, q, "flag \"%c\" in \"%.*s\" is not Go syntax (Go has i, m, s and U)", *q,
			       SPAN(s, (size_t)(q + 1 - s)));
	return re_fail(t, s, "invalid or unsupported Perl syntax \"%.*s\"", SPAN(s, (size_t)(q + 1 - s)));
}

static int close_group(struct re_translation *t)
{
	struct re_group g;

	if (t->depth == 0)
		return re_fail(t, t->p, "unexpected )");
	atom_end(t);
	t->flags.len = 0; /* flags set at the end of a group change nothing */
	re_puts(&t->out, ")");
	g = t->groups[t->depth--];
	t->fold = g.fold_before;
	t->have_atom = true;
	t->atom_repeated = false;
	t->atom_empty_width = false;
	t->atom_start = g.out_start;
	t->atom_weight = g.weight;
	t->p++;
	return 0;
}

/* A backslash at t->p outside brackets. */
static int translate_escape(struct re_translation *t)
{
	const char *s = t->p, *q, *end;
	uint32_t c;
	int r;

	switch (s[1]) {
	case 'A':
	case 'z':
	case 'b':
	case 'B':
		atom_begin(t, true);
		re_put(&t->out, s, 2);
		t->p += 2;
		return 0;
	case 'C':
		return re_fail(t, s, "\"\\C\" (any byte) is not supported by Go");
	case 'Q': /* literal up to \E or the end */
		end = strstr(s + 2, "\\E");
		for (q = s + 2; q < (end ? end : s + strlen(s));) {
			q += utf8_decode(q, &c);
			atom_begin(t, false);
			put_literal(&t->out, c);
		}
		t->p = end ? end + 2 : q;
		return 0;
	case 'p':
	case 'P':
		atom_begin(t, false);
		return put_unicode_class(t, &t->p);
	case 'd':
	case 'D':
	case 'w':
	case 'W':
		atom_begin(t, false);
		re_put(&t->out, s, 2);
		t->p += 2;
		return 0;
	case 's':
	case 'S':
		atom_begin(t, false);
		re_puts(&t->out, s[1] == 's' ? "[\\t\\n\\f\\r\\x{20}]" : "[^\\t\\n\\f\\r\\x{20}]");
		t->p += 2;
		return 0;
	}
	if ((r = parse_char_escape(t, &t->p, &c)) < 0)
		return r;
	if (is_surrogate(c)) { /* Go takes \x{d800} and never matches it; PCRE2 refuses it */
		atom_begin(t, true);
		re_puts(&t->out, "(?!)");
		return 0;
	}
	atom_begin(t, false);
	put_literal(&t->out, c);
	return 0;
}

/* Go pattern -> PCRE2 pattern in *ret (free it), or an error naming the construct. */
static int translate(const char *pattern, char **ret, const char **ret_newer_go, struct ocitap_error *err)
{
	struct re_translation t = { .pattern = pattern, .p = pattern, .err = err };
	int r = 0;

	if (strlen(pattern) > OCITAP_REGEX_MAX)
		return ocitap_error_set(err, -E2BIG, NULL, "longer than %d bytes", OCITAP_REGEX_MAX);
	for (const char *s = pattern; *s;) {
		uint32_t c;
		size_t n = utf8_decode(s, &c);

		if (n == 0)
			return ocitap_error_set(err, -EINVAL, NULL, "invalid UTF-8 (at byte %zu)",
						(size_t)(s - pattern));
		s += n;
	}
	t.groups = calloc(REGEX_MAX_DEPTH, sizeof(*t.groups));
	if (!t.groups)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	t.groups[0].weight = 1;
	re_puts(&t.out, "");
	while (*t.p && r == 0) {
		const char *tok = t.p, *after;
		long min, max;
		uint32_t c;

		switch (*tok) {
		case '(':
			r = translate_paren(&t);
			break;
		case ')':
			r = close_group(&t);
			break;
		case '|':
			atom_end(&t);
			flush_flags(&t);
			re_puts(&t.out, "|");
			t.p++;
			break;
		case '^':
		case '$':
			atom_begin(&t, true);
			re_put(&t.out, tok, 1);
			t.p++;
			break;
		case '.':
			atom_begin(&t, false);
			re_puts(&t.out, ".");
			t.p++;
			break;
		case '[':
			r = translate_class(&t);
			break;
		case '*':
		case '+':
		case '?':
			r = quantify(&t, 1, -1, -1);
			break;
		case '{':
			if (parse_repeat(tok, &min, &max, &after)) {
				if (min < 0 || min > REGEX_MAX_REPEAT || max > REGEX_MAX_REPEAT ||
				    (max >= 0 && min > max))
					r = re_fail(&t, tok, "invalid repeat count \"%.*s\"",
						    SPAN(tok, (size_t)(after - tok)));
				else
					r = quantify(&t, (size_t)(after - tok), min, max);
				break;
			}
			atom_begin(&t, false); /* not a repeat: a literal, as in Go */
			re_puts(&t.out, "\\{");
			t.p++;
			break;
		case '\\':
			r = translate_escape(&t);
			break;
		default:
			atom_begin(&t, false);
			t.p += utf8_decode(t.p, &c);
			put_literal(&t.out, c);
			break;
		}
		/* Go's lastRepeat: only the token just read, if it was a quantifier */
		if (t.last_repeat != tok)
			t.last_repeat = NULL;
	}
	if (r == 0 && t.depth > 0)
		r = ocitap_error_set(err, -EINVAL, NULL, "missing closing )");
	if (r == 0 && (t.out.oom || t.flags.oom))
		r = ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	free(t.groups);
	free(t.flags.s);
	if (r < 0) {
		free(t.out.s);
		return r;
	}
	*ret = t.out.s;
	*ret_newer_go = t.newer_go;
	return 0;
}

static void compile_context_freep(pcre2_compile_context **p)
{
	pcre2_compile_context_free(*p);
}

static void match_data_freep(pcre2_match_data **p)
{
	pcre2_match_data_free(*p);
}

int ocitap_regex_compile(const char *pattern, struct ocitap_regex *ret, struct ocitap_error *err)
{
	_cleanup_(compile_context_freep) pcre2_compile_context *ctx = NULL;
	_cleanup_free_ struct ocitap_regex_program *prog = NULL;
	_cleanup_free_ char *pcre = NULL;
	const char *newer_go = NULL;
	PCRE2_SIZE offset;
	int r, code;

	memset(ret, 0, sizeof(*ret));
	if ((r = translate(pattern, &pcre, &newer_go, err)) < 0)
		return r;
	prog = calloc(1, sizeof(*prog));
	ctx = pcre2_compile_context_create(NULL);
	if (!prog || !ctx)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);		   /* Go: only \n ends a line */
	pcre2_set_parens_nest_limit(ctx, 2 * REGEX_MAX_DEPTH + 2); /* groups, and those added above */
	prog->code = pcre2_compile((PCRE2_SPTR)pcre, PCRE2_ZERO_TERMINATED,
				   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C |
					   PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_CIRCUMFLEX | PCRE2_NO_AUTO_CAPTURE,
				   &code, &offset, ctx);
	if (!prog->code) {
		PCRE2_UCHAR msg[160];

		if (code == PCRE2_ERROR_UNKNOWN_UNICODE_PROPERTY)
			return ocitap_error_set(err, -EINVAL, NULL,
						"unknown Unicode class name (Go has the general categories such as "
						"Lu and the scripts such as Greek)");
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		return ocitap_error_set(err, code == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL, NULL, "pcre2: %s",
					(const char *)msg);
	}
	prog->limits = pcre2_match_context_create(NULL);
	if (!prog->limits) {
		pcre2_code_free(prog->code);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	pcre2_set_match_limit(prog->limits, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(prog->limits, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(prog->limits, REGEX_HEAP_LIMIT_KIB);
	prog->newer_go = newer_go;
	ret->prog = TAKE_PTR(prog);
	return 0;
}

/* text as Go's regexp reads it: each byte that does not start valid UTF-8 is
 * U+FFFD. NULL in *ret when text is valid as it is. */
static int subject_from(const char *text, size_t len, char **ret, size_t *ret_len)
{
	size_t i, o = 0, n;
	uint32_t c;
	char *s;

	*ret = NULL;
	*ret_len = len;
	for (i = 0; i < len && (n = utf8_decode(text + i, &c)) > 0; i += n)
		;
	if (i == len)
		return 0;
	s = malloc(len * 3 + 1);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < len;) {
		n = utf8_decode(text + i, &c);
		if (n == 0) {
			memcpy(s + o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		} else {
			memcpy(s + o, text + i, n);
			o += n, i += n;
		}
	}
	s[o] = '\0';
	*ret = s;
	*ret_len = o;
	return 0;
}

int ocitap_regex_search(const struct ocitap_regex *re, const char *text)
{
	_cleanup_(match_data_freep) pcre2_match_data *md = NULL;
	_cleanup_free_ char *fixed = NULL;
	size_t len;
	int r;

	if (!re->prog)
		return 0;
	if (subject_from(text, strlen(text), &fixed, &len) < 0)
		return -ENOMEM;
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		return -ENOMEM;
	r = pcre2_match(re->prog->code, (PCRE2_SPTR)(fixed ? fixed : text), len, 0, 0, md, re->prog->limits);
	if (r >= 0)
		return 1;
	switch (r) {
	case PCRE2_ERROR_NOMATCH:
		return 0;
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
		return -ERANGE;
	case PCRE2_ERROR_NOMEMORY:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

const char *ocitap_regex_newer_go(const struct ocitap_regex *re)
{
	return re && re->prog ? re->prog->newer_go : NULL;
}

void ocitap_regex_release(struct ocitap_regex *re)
{
	if (!re || !re->prog)
		return;
	pcre2_match_context_free(re->prog->limits);
	pcre2_code_free(re->prog->code);
	free(re->prog);
	re->prog = NULL;
}

/* ---- reading a file --------------------------------------------------------------- */

/* Member key as Go's encoding/json finds it: exact name first, then any
 * case. JSON null counts as absent. */
static json_object *member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (json_object_object_get_ex(obj, key, &v))
		return v;
	json_object_object_foreach (obj, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static int dup_string(json_object *v, const char *field, char **ret, struct ocitap_error *err)
{
	if (!json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, field, "a string", v);
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : ocitap_error_set(err, -ENOMEM, field, "out of memory");
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append the strings of array v (an error naming field if it is not one) to *strv. */
static int append_strings(json_object *v, const char *field, char ***strv, size_t *n, struct ocitap_error *err)
{
	size_t add, i;
	char **p;

	if (!json_object_is_type(v, json_type_array))
		return ocitap_json_wrong_type(err, field, "an array of strings", v);
	add = json_object_array_length(v);
	if (add > 4096)
		return ocitap_error_set(err, -E2BIG, field, "%zu entries, more than the limit of 4096", add);
	p = realloc(*strv, (*n + add + 1) * sizeof(char *));
	if (!p)
		return ocitap_error_set(err, -ENOMEM, field, "out of memory");
	*strv = p;
	for (i = 0; i < add; i++) {
		json_object *s = json_object_array_get_idx(v, i);
		char idx[160];

		snprintf(idx, sizeof(idx), "%s[%zu]", field, i);
		p[*n] = NULL;
		if (dup_string(s, idx, &p[*n], err) < 0)
			return err ? err->code : -EINVAL;
		(*n)++;
	}
	p[*n] = NULL;
	return 0;
}

static int get_bool(json_object *obj, const char *key, const char *field, bool *ret_has, bool *ret,
		    struct ocitap_error *err)
{
	json_object *v = member(obj, key);

	*ret_has = false;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return ocitap_json_wrong_type(err, field, "true or false", v);
	*ret_has = true;
	*ret = json_object_get_boolean(v);
	return 0;
}

static int add_annotation(struct ocitap_hooksd_file *f, const char *key, const char *value, struct ocitap_error *err)
{
	struct ocitap_hooksd_annotation *p = realloc(f->annotations, (f->n_annotations + 1) * sizeof(*f->annotations));

	if (!p)
		return ocitap_error_set(err, -ENOMEM, "when.annotations", "out of memory");
	f->annotations = p;
	memset(&p[f->n_annotations], 0, sizeof(*p));
	p[f->n_annotations].key_pattern = strdup(key);
	p[f->n_annotations].value_pattern = strdup(value);
	f->n_annotations++;
	if (!p[f->n_annotations - 1].key_pattern || !p[f->n_annotations - 1].value_pattern)
		return ocitap_error_set(err, -ENOMEM, "when.annotations", "out of memory");
	return 0;
}

static int read_current(json_object *root, struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	json_object *hook = member(root, "hook"), *when = member(root, "when"), *v;
	int r;

	if (hook && !json_object_is_type(hook, json_type_object))
		return ocitap_json_wrong_type(err, "hook", "an object", hook);
	if (when && !json_object_is_type(when, json_type_object))
		return ocitap_json_wrong_type(err, "when", "an object", when);
	if ((v = member(hook, "path")) && (r = dup_string(v, "hook.path", &f->hook_path, err)) < 0)
		return r;
	if ((v = member(hook, "args")) && (r = append_strings(v, "hook.args", &f->args, &f->n_args, err)) < 0)
		return r;
	if ((v = member(hook, "env")) && (r = append_strings(v, "hook.env", &f->env, &f->n_env, err)) < 0)
		return r;
	if ((v = member(hook, "timeout"))) {
		int64_t t = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int))
			return ocitap_json_wrong_type(err, "hook.timeout", "an integer", v);
		if (t < INT_MIN || t > INT_MAX)
			return ocitap_error_set(err, -ERANGE, "hook.timeout", "%lld is out of range", (long long)t);
		f->has_timeout = true;
		f->timeout = (int)t;
	}
	if ((r = get_bool(when, "always", "when.always", &f->has_always, &f->always, err)) < 0)
		return r;
	if ((r = get_bool(when, "hasBindMounts", "when.hasBindMounts", &f->has_bind_mounts_cond, &f->bind_mounts,
			  err)) < 0)
		return r;
	if ((v = member(when, "annotations"))) {
		if (!json_object_is_type(v, json_type_object))
			return ocitap_json_wrong_type(err, "when.annotations", "an object of strings", v);
		json_object_object_foreach (v, key, val) {
			char field[192];

			snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", key);
			if (!json_object_is_type(val, json_type_string))
				return ocitap_json_wrong_type(err, field, "a string", val);
			if ((r = add_annotation(f, key, json_object_get_string(val), err)) < 0)
				return r;
		}
	}
	if ((v = member(when, "commands")) &&
	    (r = append_strings(v, "when.commands", &f->commands, &f->n_commands, err)) < 0)
		return r;
	if ((v = member(root, "stages"))) {
		f->has_stages = true;
		if ((r = append_strings(v, "stages", &f->stages, &f->n_stages, err)) < 0)
			return r;
	}
	return 0;
}

/* 0.1.0: {hook, arguments, stages|stage, cmds|cmd, annotations|annotation, hasbindmounts} */
static int read_legacy(json_object *root, struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	json_object *v, *stages = member(root, "stages"), *stage = member(root, "stage");
	int r;

	f->legacy = true;
	if (!(v = member(root, "hook")))
		return ocitap_error_set(err, -EINVAL, "hook", "missing required property (schema 0.1.0)");
	if ((r = dup_string(v, "hook", &f->hook_path, err)) < 0)
		return r;
	if ((v = member(root, "arguments"))) {
		/* the runtime's argv: the hook itself, then the arguments */
		f->args = calloc(2, sizeof(char *));
		if (!f->args || !(f->args[0] = strdup(f->hook_path)))
			return ocitap_error_set(err, -ENOMEM, "arguments", "out of memory");
		f->n_args = 1;
		if ((r = append_strings(v, "arguments", &f->args, &f->n_args, err)) < 0)
			return r;
	}
	if (stages && stage)
		return ocitap_error_set(err, -EINVAL, "stage", "cannot set both 'stage' and 'stages'");
	if (stages || stage) {
		f->has_stages = true;
		if ((r = append_strings(stages ? stages : stage, stages ? "stages" : "stage", &f->stages, &f->n_stages,
					err)) < 0)
			return r;
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "cmd" : "cmds";

		if ((v = member(root, key)) && (r = append_strings(v, key, &f->commands, &f->n_commands, err)) < 0)
			return r;
	}
	{
		char **ann = NULL;
		size_t n = 0;
		bool present = false;

		for (int i = 0; i < 2; i++) {
			const char *key = i ? "annotation" : "annotations";

			if (!(v = member(root, key)))
				continue;
			present = true;
			if ((r = append_strings(v, key, &ann, &n, err)) < 0) {
				strv_free(ann, n);
				return r;
			}
		}
		if (present) {
			/* one condition: any annotation key, values matching any pattern */
			struct rebuf joined = { 0 };

			re_puts(&joined, "");
			for (size_t i = 0; i < n; i++) {
				if (i)
					re_puts(&joined, "|");
				re_puts(&joined, ann[i]);
			}
			strv_free(ann, n);
			r = joined.oom ? ocitap_error_set(err, -ENOMEM, "annotations", "out of memory")
				       : add_annotation(f, ".*", joined.s, err);
			free(joined.s);
			if (r < 0)
				return r;
		}
	}
	return get_bool(root, "hasbindmounts", "hasbindmounts", &f->has_bind_mounts_cond, &f->bind_mounts, err);
}

static const char *const known_stages[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* A pattern that does not compile: name the field and the pattern. */
static int regex_error(struct ocitap_error *err, int r, const char *field, const char *what, const char *pattern)
{
	ocitap_error_nest(err, field);
	ocitap_error_prefix(err, "%s \"%.100s\"", what, pattern);
	return r;
}

static int validate(struct ocitap_hooksd_file *f, struct ocitap_error *err)
{
	struct stat st;
	int r;

	if (!f->hook_path || !*f->hook_path)
		return ocitap_error_set(err, -EINVAL, f->legacy ? "hook" : "hook.path", "missing required property");
	if (stat(f->hook_path, &st) < 0)
		return ocitap_error_set(err, -errno, f->legacy ? "hook" : "hook.path", "%s: %s", f->hook_path,
					strerror(errno));
	for (size_t i = 0; i < f->n_annotations; i++) {
		struct ocitap_hooksd_annotation *a = &f->annotations[i];
		char field[192];

		if (f->legacy)
			snprintf(field, sizeof(field), "annotations");
		else
			snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", a->key_pattern);
		if ((r = ocitap_regex_compile(a->key_pattern, &a->key_re, err)) < 0)
			return regex_error(err, r, field, "key pattern", a->key_pattern);
		if ((r = ocitap_regex_compile(a->value_pattern, &a->value_re, err)) < 0)
			return regex_error(err, r, field, "value pattern", a->value_pattern);
	}
	if (f->n_commands) {
		f->command_res = calloc(f->n_commands, sizeof(*f->command_res));
		if (!f->command_res)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; i < f->n_commands; i++) {
		char field[64];

		snprintf(field, sizeof(field), "%s[%zu]", f->legacy ? "cmds" : "when.commands", i);
		if ((r = ocitap_regex_compile(f->commands[i], &f->command_res[i], err)) < 0)
			return regex_error(err, r, field, "pattern", f->commands[i]);
	}
	if (!f->has_stages)
		return ocitap_error_set(err, -EINVAL, "stages", "missing required property");
	for (size_t i = 0; i < f->n_stages; i++) {
		bool known = false;

		for (size_t k = 0; k < ELEMENTSOF(known_stages); k++)
			known |= strcmp(f->stages[i], known_stages[k]) == 0;
		if (!known) {
			char field[32];

			snprintf(field, sizeof(field), "stages[%zu]", i);
			return ocitap_error_set(err, -EINVAL, field,
						"unknown stage \"%.100s\" (known: prestart, createRuntime, "
						"createContainer, startContainer, poststart, poststop)",
						f->stages[i]);
		}
	}
	return 0;
}

int ocitap_hooksd_parse(const char *buf, size_t len, const char *path, struct ocitap_hooksd_file *ret,
			struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct ocitap_limits lim;
	const char *slash = strrchr(path, '/');
	json_object *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->path = strdup(path);
	ret->name = strdup(slash ? slash + 1 : path);
	if (!ret->path || !ret->name)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	ocitap_limits_init(&lim);
	lim.max_bytes = OCITAP_HOOKSD_MAX_FILE;
	if ((r = ocitap_json_parse_bounded(buf, len, &lim, &root, err)) < 0)
		return r;
	if (!json_object_is_type(root, json_type_object))
		return ocitap_json_wrong_type(err, NULL, "an object", root);
	v = member(root, "version");
	if (v && !json_object_is_type(v, json_type_string))
		return ocitap_json_wrong_type(err, "version", "a string", v);
	ret->version = strdup(v ? json_object_get_string(v) : "");
	if (!ret->version)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	if (strcmp(ret->version, "1.0.0") == 0)
		r = read_current(root, ret, err);
	else if (strcmp(ret->version, "0.1.0") == 0 || !*ret->version)
		r = read_legacy(root, ret, err);
	else
		return ocitap_error_set(err, -EINVAL, "version",
					"unrecognized hook version \"%.60s\" (known: 1.0.0, and 0.1.0 or none for "
					"the legacy schema)",
					ret->version);
	if (r < 0)
		return r;
	return validate(ret, err);
}

void ocitap_hooksd_file_release(struct ocitap_hooksd_file *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->path);
	free(f->version);
	free(f->hook_path);
	strv_free(f->args, f->n_args);
	strv_free(f->env, f->n_env);
	for (size_t i = 0; i < f->n_annotations; i++) {
		free(f->annotations[i].key_pattern);
		free(f->annotations[i].value_pattern);
		ocitap_regex_release(&f->annotations[i].key_re);
		ocitap_regex_release(&f->annotations[i].value_re);
	}
	free(f->annotations);
	if (f->command_res)
		for (size_t i = 0; i < f->n_commands; i++)
			ocitap_regex_release(&f->command_res[i]);
	free(f->command_res);
	strv_free(f->commands, f->n_commands);
	strv_free(f->stages, f->n_stages);
	free(f->masked_by);
	memset(f, 0, sizeof(*f));
}

/* ---- directories ---------------------------------------------------------------------- */

/*
 * Go sorts the names with a Unicode collator ignoring case: punctuation
 * first (in the collation's order), then digits, then letters. A rank per
 * byte gives the same order for the names people use.
 */
static int collation_rank(unsigned char c)
{
	static const char punct[] = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c >= 'a' && c <= 'z')
		return 200 + (c - 'a');
	if (c >= '0' && c <= '9')
		return 100 + (c - '0');
	if (c && (p = strchr(punct, c)))
		return 10 + (int)(p - punct);
	return 300 + c;
}

static int name_order(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; *x && *y; x++, y++) {
		int d = collation_rank(*x) - collation_rank(*y);

		if (d)
			return d;
	}
	if (*x || *y)
		return *x ? 1 : -1;
	return strcmp(a, b);
}

static int file_order(const void *pa, const void *pb)
{
	const struct ocitap_hooksd_file *a = pa, *b = pb;
	bool ua = a->loaded && !a->masked_by, ub = b->loaded && !b->masked_by;

	if (ua != ub)
		return ua ? -1 : 1;
	if (ua)
		return name_order(a->name, b->name);
	return strcmp(a->path, b->path);
}

static bool ends_with_json(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && strcmp(name + n - 5, ".json") == 0;
}

static int load_one(const char *dir, const char *name, struct ocitap_hooksd_file *f)
{
	_cleanup_free_ char *buf = NULL;
	struct ocitap_error e = { 0 };
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = ocitap_read_file(path, OCITAP_HOOKSD_MAX_FILE, -1, &buf, &len, &e);
	if (r < 0) {
		memset(f, 0, sizeof(*f));
		f->path = strdup(path);
		f->name = strdup(name);
		f->error = e;
		if (r == -ENOENT)
			ocitap_error_set(&f->error, r, NULL, "dangling symbolic link (podman skips it silently)");
		return f->path && f->name ? 0 : -ENOMEM;
	}
	r = ocitap_hooksd_parse(buf, len, path, f, &e);
	f->error = e;
	if (r == -ENOMEM && (!f->path || !f->name))
		return -ENOMEM;
	f->loaded = r == 0;
	return 0;
}

int ocitap_hooksd_load(const char *const *dirs, size_t n_dirs, struct ocitap_hooksd_set *ret, struct ocitap_error *err)
{
	struct ocitap_hooksd_set set = { 0 };

	set.dirs = calloc(n_dirs ? n_dirs : 1, sizeof(*set.dirs));
	if (!set.dirs)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	set.n_dirs = n_dirs;
	for (size_t d = 0; d < n_dirs; d++) {
		struct dirent **names = NULL;
		int n;

		set.dirs[d].path = strdup(dirs[d]);
		if (!set.dirs[d].path)
			goto oom;
		n = scandir(dirs[d], &names, NULL, alphasort);
		if (n < 0) {
			set.dirs[d].error = -errno;
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct ocitap_hooksd_file *p, *f;

			if (!ends_with_json(names[i]->d_name)) {
				free(names[i]);
				continue;
			}
			set.dirs[d].n_json++;
			p = realloc(set.files, (set.n_files + 1) * sizeof(*set.files));
			if (!p)
				goto oom_names;
			set.files = p;
			f = &set.files[set.n_files];
			memset(f, 0, sizeof(*f));
			if (load_one(dirs[d], names[i]->d_name, f) < 0)
				goto oom_names;
			set.n_files++;
			/* a later directory's valid file masks the earlier ones of its name */
			if (f->loaded)
				for (size_t k = 0; k + 1 < set.n_files; k++)
					if (strcmp(set.files[k].name, f->name) == 0 && !set.files[k].masked_by) {
						set.files[k].masked_by = strdup(f->path);
						if (!set.files[k].masked_by)
							goto oom_names;
					}
			free(names[i]);
			continue;
oom_names:
			for (; i < n; i++)
				free(names[i]);
			free(names);
			goto oom;
		}
		free(names);
	}
	if (set.n_files)
		qsort(set.files, set.n_files, sizeof(*set.files), file_order);
	*ret = set;
	return 0;
oom:
	ocitap_hooksd_set_release(&set);
	return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

void ocitap_hooksd_set_release(struct ocitap_hooksd_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n_dirs; i++)
		free(set->dirs[i].path);
	free(set->dirs);
	for (size_t i = 0; i < set->n_files; i++)
		ocitap_hooksd_file_release(&set->files[i]);
	free(set->files);
	memset(set, 0, sizeof(*set));
}

/* ---- matching ------------------------------------------------------------------------------ */

static struct ocitap_hooksd_reason *reason(struct ocitap_hooksd_verdict *v, const char *condition, bool matched)
{
	struct ocitap_hooksd_reason *r;

	if (v->n_reasons == OCITAP_HOOKSD_MAX_REASONS)
		v->n_reasons--; /* keep the last (deciding) one */
	r = &v->reasons[v->n_reasons++];
	r->condition = condition;
	r->matched = matched;
	r->detail[0] = '\0';
	return r;
}

/* A search that gave no answer: the field as validate() names it, the
 * pattern, the text. */
static int search_error(struct ocitap_error *err, int r, const struct ocitap_hooksd_file *f,
			const struct ocitap_hooksd_annotation *a, size_t command, const char *pattern, const char *text)
{
	char field[192];

	if (a && f->legacy)
		snprintf(field, sizeof(field), "annotations");
	else if (a)
		snprintf(field, sizeof(field), "when.annotations[\"%.120s\"]", a->key_pattern);
	else
		snprintf(field, sizeof(field), "%s[%zu]", f->legacy ? "cmds" : "when.commands", command);
	return ocitap_error_set(err, r, field, "pattern \"%.80s\" on \"%.60s\": %s", pattern, text,
				r == -ERANGE ? "the search gave up at its backtracking limit (no verdict)"
					     : strerror(-r));
}

int ocitap_hooksd_match(const struct ocitap_hooksd_file *f, const struct ocitap_config *cfg, bool has_bind_mounts,
			struct ocitap_hooksd_verdict *ret, struct ocitap_error *err)
{
	struct ocitap_hooksd_verdict v = { 0 };
	struct ocitap_hooksd_reason *why;
	bool or = f->legacy;
	int matches = 0;

	if (f->has_always) {
		why = reason(&v, "always", f->always);
		snprintf(why->detail, sizeof(why->detail), "always is %s", f->always ? "true" : "false");
		if (f->always) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	if (f->has_bind_mounts_cond) {
		bool ok = f->bind_mounts && has_bind_mounts;

		why = reason(&v, "hasBindMounts", ok);
		if (!f->bind_mounts)
			snprintf(why->detail, sizeof(why->detail), "hasBindMounts is false, which never matches");
		else
			snprintf(why->detail, sizeof(why->detail), "the container %s bind mounts",
				 has_bind_mounts ? "has" : "has no");
		if (ok) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	for (size_t i = 0; i < f->n_annotations; i++) {
		const struct ocitap_hooksd_annotation *a = &f->annotations[i];
		bool ok = false;
		const char *hit_key = NULL, *key_only = NULL;

		for (size_t k = 0; cfg && k < cfg->n_annotations && !ok; k++) {
			const struct ocitap_annotation *an = &cfg->annotations[k];
			const char *value = an->value ? an->value : "";
			int r = ocitap_regex_search(&a->key_re, an->key);

			if (r < 0)
				return search_error(err, r, f, a, 0, a->key_pattern, an->key);
			if (r == 0)
				continue;
			key_only = an->key;
			r = ocitap_regex_search(&a->value_re, value);
			if (r < 0)
				return search_error(err, r, f, a, 0, a->value_pattern, value);
			if (r > 0) {
				ok = true;
				hit_key = an->key;
			}
		}
		why = reason(&v, "annotations", ok);
		if (ok)
			snprintf(why->detail, sizeof(why->detail), "annotation \"%.80s\" matches /%.40s/=/%.60s/",
				 hit_key, a->key_pattern, a->value_pattern);
		else if (key_only)
			snprintf(why->detail, sizeof(why->detail),
				 "keys match /%.40s/ (\"%.60s\") but no value matches /%.80s/", a->key_pattern,
				 key_only, a->value_pattern);
		else
			snprintf(why->detail, sizeof(why->detail),
				 "no annotation key matches /%.80s/ (%zu annotations)", a->key_pattern,
				 cfg ? cfg->n_annotations : 0);
		if (ok) {
			if (or)
				goto matched;
			matches++;
		} else if (! or) {
			goto done;
		}
	}
	if (cfg && cfg->args && f->n_commands) {
		if (cfg->n_args == 0)
			return ocitap_error_set(err, -EINVAL, "process.args",
						"must have at least one argument for \"commands\" to be matched");
		v.decided_by_commands = true;
		for (size_t i = 0; i < f->n_commands; i++) {
			int r = ocitap_regex_search(&f->command_res[i], cfg->args[0]);

			if (r < 0)
				return search_error(err, r, f, NULL, i, f->commands[i], cfg->args[0]);
			if (r > 0) {
				why = reason(&v, "commands", true);
				snprintf(why->detail, sizeof(why->detail), "process.args[0] \"%.80s\" matches /%.80s/",
					 cfg->args[0], f->commands[i]);
				goto matched;
			}
		}
		why = reason(&v, "commands", false);
		snprintf(why->detail, sizeof(why->detail), "process.args[0] \"%.80s\" matches none of %zu pattern%s",
			 cfg->args[0], f->n_commands, f->n_commands == 1 ? "" : "s");
		goto done;
	}
	if (f->n_commands) {
		why = reason(&v, "commands", false);
		snprintf(why->detail, sizeof(why->detail), "not looked at: the bundle has no process");
	}
	if (matches > 0)
		goto matched;
	if (v.n_reasons == 0) {
		why = reason(&v, "when", false);
		snprintf(why->detail, sizeof(why->detail), "no condition that can match (\"when\" is empty)");
	}
	goto done;
matched:
	v.match = true;
done:
	*ret = v;
	return 0;
}

const char *ocitap_hooksd_injected_stage(const char *stage)
{
	return strcmp(stage, "prestart") == 0 ? "createRuntime" : stage;
}

bool ocitap_hooksd_bundle_has_bind_mounts(const struct ocitap_config *cfg)
{
	static const char *const engine_own[] = {
		"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv", "/run/secrets", "/dev/shm",
	};

	for (size_t i = 0; cfg && i < cfg->n_mounts; i++) {
		const struct ocitap_mount *m = &cfg->mounts[i];
		bool bind = m->type && strcmp(m->type, "bind") == 0, own = false;

		for (size_t k = 0; k < m->n_options && !bind; k++)
			bind = strcmp(m->options[k], "bind") == 0 || strcmp(m->options[k], "rbind") == 0;
		for (size_t k = 0; k < ELEMENTSOF(engine_own) && m->destination; k++)
			own |= strcmp(m->destination, engine_own[k]) == 0;
		if (bind && !own)
			return true;
	}
	return false;
}
