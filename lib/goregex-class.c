/*
 * goregex-class.c: the escapes and character classes of Go regular
 * expressions, written out for PCRE2 (see goregex.c): one-character escapes
 * (\x41, \x{263a}, octal, \Q..\E handled by the caller), Perl classes with
 * Go's sets, Unicode classes by Go's names, and bracketed classes element by
 * element (ranges, POSIX classes, negation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goregex.h"
#include "macro.h"

/* One code point as a PCRE2 literal, inside or outside brackets. */
void ocitap_re_put_literal(struct rebuf *out, uint32_t c)
{
	char buf[16];

	if (is_ascii_alnum(c) || c == '_') {
		buf[0] = (char)c;
		ocitap_re_put(out, buf, 1);
	} else if (c > 0x20 && c < 0x7f) {
		buf[0] = '\\', buf[1] = (char)c; /* punctuation: always itself */
		ocitap_re_put(out, buf, 2);
	} else {
		snprintf(buf, sizeof(buf), "\\x{%x}", (unsigned)c);
		ocitap_re_puts(out, buf);
	}
}

/* Go's parseEscape at *pp (a backslash): one character, or an error that
 * names the construct when it is something Go does not have. */
int ocitap_re_parse_char_escape(struct re_translation *t, const char **pp, uint32_t *ret)
{
	const char *s = *pp, *q = s + 2;
	unsigned char c = (unsigned char)s[1];
	uint32_t r;
	size_t n;

	if (c == '\0')
		return ocitap_re_fail(t, s, "trailing backslash at end of expression");
	if (c < 0x80 && !is_ascii_alnum(c)) {
		*ret = c;
		*pp = q;
		return 0;
	}
	switch (c) {
	case '1' ... '7':
		if (*q < '0' || *q > '7')
			return ocitap_re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
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
		return ocitap_re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
	case 'x':
		if (*q == '{') {
			r = 0, n = 0;
			for (q++; *q != '}'; q++, n++) {
				int v = ocitap_hex_digit(*q);

				if (v < 0 || (r = r * 16 + (uint32_t)v) > 0x10ffff)
					return ocitap_re_fail(t, s, "invalid escape sequence \"%.*s\"",
							      SPAN(s, (size_t)(q - s) + 1));
			}
			if (n == 0)
				return ocitap_re_fail(t, s, "invalid escape sequence \"\\x{}\"");
			*ret = r;
			*pp = q + 1;
			return 0;
		}
		if (ocitap_hex_digit(q[0]) < 0 || ocitap_hex_digit(q[1]) < 0)
			return ocitap_re_fail(t, s,
					      "invalid escape sequence \"%.*s\" (\\x takes two hex digits or {...})",
					      SPAN(s, 4));
		*ret = (uint32_t)(ocitap_hex_digit(q[0]) * 16 + ocitap_hex_digit(q[1]));
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
		return ocitap_re_fail(t, s,
				      "\"\\Z\" is not Go syntax (Go's $ and \\z match only at the end of the text)");
	case 'K':
		return ocitap_re_fail(t, s, "\"\\K\" (reset match start) is not Go syntax");
	case 'g':
	case 'k':
		return ocitap_re_fail(t, s, "backreference \"\\%c\": Go regular expressions have none", c);
	case 'G':
		return ocitap_re_fail(t, s, "\"\\G\" is not Go syntax");
	default:
		n = ocitap_re_utf8_decode(s + 1, &r);
		return ocitap_re_fail(t, s, "invalid escape sequence \"\\%.*s\"", (int)(n ? n : 1), s + 1);
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
int ocitap_re_put_unicode_class(struct re_translation *t, const char **pp)
{
	const char *s = *pp, *name, *end;
	bool negate = s[1] == 'P';
	char canon[64];
	size_t len, k = 0;
	uint32_t c;

	if (s[2] == '\0')
		return ocitap_re_fail(t, s, "invalid character class range \"\\%c\"", s[1]);
	if (s[2] == '{') {
		end = strchr(s, '}');
		if (!end)
			return ocitap_re_fail(t, s, "invalid character class range \"%.*s\": missing }", SPAN(s, 40));
		name = s + 3;
		len = (size_t)(end - name);
		end++;
	} else {
		name = s + 2;
		len = ocitap_re_utf8_decode(name, &c);
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
			return ocitap_re_fail(t, s, "invalid character class range \"%.*s\"",
					      SPAN(s, (size_t)(end - s)));
		canon[k++] = (char)(ch | 0x20);
	}
	canon[k] = '\0';
	if (k == 0)
		return ocitap_re_fail(t, s, "invalid character class range \"%.*s\"", SPAN(s, (size_t)(end - s)));
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
	ocitap_re_puts(&t->out, negate ? "\\P{" : "\\p{");
	if (!go_category(canon) && strcmp(canon, "L&") != 0)
		ocitap_re_puts(&t->out, "sc:");
	ocitap_re_puts(&t->out, canon);
	ocitap_re_puts(&t->out, "}");
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
		return ocitap_re_parse_char_escape(t, pp, ret);
	*pp += ocitap_re_utf8_decode(*pp, ret); /* the pattern was checked to be UTF-8 */
	return 0;
}

/* A bracket expression at t->p, Go's parseClass, every element written out. */
int ocitap_re_translate_class(struct re_translation *t)
{
	const char *start = t->p, *s = t->p + 1;
	bool first = true, negated = *s == '^';
	size_t elements = 0; /* written: a class of lone surrogates has none */
	int r;

	ocitap_re_atom_begin(t, false);
	ocitap_re_puts(&t->out, negated ? "[^" : "[");
	if (negated)
		s++;
	for (;; first = false, elements++) {
		uint32_t lo, hi;

		if (*s == '\0')
			return ocitap_re_fail(t, start, "missing closing ]: \"%.*s\"", SPAN(start, 40));
		if (*s == ']' && !first)
			break;
		if (s[0] == '[' && s[1] == ':' && s[2]) {
			const char *end = strstr(s + 2, ":]");

			if (end) {
				if (!posix_class_known(s + 2, (size_t)(end - s - 2)))
					return ocitap_re_fail(t, s, "invalid character class range \"%.*s\"",
							      SPAN(s, (size_t)(end + 2 - s)));
				ocitap_re_put(&t->out, s, (size_t)(end + 2 - s));
				s = end + 2;
				continue;
			}
		}
		if (s[0] == '\\' && (s[1] == 'p' || s[1] == 'P')) {
			if ((r = ocitap_re_put_unicode_class(t, &s)) < 0)
				return r;
			continue;
		}
		if (s[0] == '\\' && s[1] && strchr("dDwW", s[1])) {
			ocitap_re_put(&t->out, s, 2);
			s += 2;
			continue;
		}
		if (s[0] == '\\' && (s[1] == 's' || s[1] == 'S')) {
			/* Go's \s is [\t\n\f\r ]; PCRE2's also has \v */
			ocitap_re_puts(&t->out, s[1] == 's' ? "\\t\\n\\f\\r\\x{20}" : "[:^space:]\\x{b}");
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
				return ocitap_re_fail(t, range, "invalid character class range (%x > %x)", (unsigned)lo,
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
		ocitap_re_put_literal(&t->out, lo);
		if (hi != lo) {
			ocitap_re_puts(&t->out, "-");
			ocitap_re_put_literal(&t->out, hi);
		}
	}
	if (elements == 0) { /* [\x{d800}] matches nothing, [^\x{d800}] anything */
		t->out.len = t->atom_start;
		ocitap_re_puts(&t->out, negated ? "(?s:.)" : "(?!)");
		t->atom_empty_width = !negated;
		t->p = s + 1;
		return 0;
	}
	ocitap_re_puts(&t->out, "]");
	t->p = s + 1;
	return 0;
}

/* Go's parseInt: decimal, no leading zeros; too many digits give -1. */
