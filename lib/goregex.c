/*
 * goregex.c: Go regular expressions (RE2 syntax, as hooks.d files use them)
 * on PCRE2.
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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "goregex.h"
#include "hooksd.h"
#include "macro.h"

struct ocitap_regex_program {
	pcre2_code *code;
	pcre2_match_context *limits;
	const char *newer_go; /* see ocitap_regex_newer_go() */
};

void ocitap_re_put(struct rebuf *b, const char *s, size_t n)
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

void ocitap_re_puts(struct rebuf *b, const char *s)
{
	ocitap_re_put(b, s, strlen(s));
}

/* Put s in at offset pos (to wrap what is already written in a group). */
void ocitap_re_insert(struct rebuf *b, size_t pos, const char *s)
{
	size_t n = strlen(s), tail = b->len - pos;

	ocitap_re_put(b, s, n); /* grows the buffer by n */
	if (b->oom)
		return;
	memmove(b->s + pos + n, b->s + pos, tail);
	memcpy(b->s + pos, s, n);
}

/* Length of the UTF-8 sequence at s and its code point in *ret, or 0 when s
 * does not start one (Go's utf8.DecodeRune: no overlong forms, surrogates or
 * code points past U+10FFFF). */
size_t ocitap_re_utf8_decode(const char *str, uint32_t *ret)
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

int ocitap_re_fail(struct re_translation *t, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ocitap_error_set(t->err, -EINVAL, NULL, "%s (at byte %zu)", msg, (size_t)(at - t->pattern));
}

/*
 * Flag groups such as (?i) are written just before the next atom or "|":
 * in Go they only change the parser's flags, so "a(?i)*" repeats the a, and
 * PCRE2 would refuse the quantifier after the group.
 */
void ocitap_re_flush_flags(struct re_translation *t)
{
	if (t->flags.len) {
		ocitap_re_put(&t->out, t->flags.s, t->flags.len);
		t->flags.len = 0;
	}
}

void ocitap_re_atom_end(struct re_translation *t)
{
	struct re_group *g = &t->groups[t->depth];

	if (t->have_atom && t->atom_weight > g->weight)
		g->weight = t->atom_weight;
	t->have_atom = false;
}

void ocitap_re_atom_begin(struct re_translation *t, bool empty_width)
{
	ocitap_re_atom_end(t);
	ocitap_re_flush_flags(t);
	t->have_atom = true;
	t->atom_repeated = false;
	t->atom_empty_width = empty_width;
	t->atom_start = t->out.len;
	t->atom_weight = 1;
}

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

		return ocitap_re_fail(t, prev, "invalid nested repetition operator \"%.*s\"%s",
				      SPAN(prev, (size_t)(after - prev)),
				      *tok == '+' && len == 1 ? " (Go has no possessive quantifiers)" : "");
	}
	if (!t->have_atom)
		return ocitap_re_fail(t, tok, "missing argument to repetition operator \"%.*s\"",
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
			return ocitap_re_fail(t, tok, "invalid repeat count \"%.*s\": nested counts multiply past %d",
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
		ocitap_re_insert(&t->out, t->atom_start, "(?:");
		ocitap_re_puts(&t->out, ")");
	}
	ocitap_re_puts(&t->out, text);
	if (lazy)
		ocitap_re_puts(&t->out, "?");
	t->atom_repeated = true;
	t->atom_weight = weight;
	t->p = after;
	t->last_repeat = tok;
	return 0;
}

static int open_group(struct re_translation *t, const char *text, size_t len, const char *after)
{
	ocitap_re_atom_end(t);
	ocitap_re_flush_flags(t);
	if (t->depth + 1 >= REGEX_MAX_DEPTH)
		return ocitap_re_fail(t, t->p, "expression nests too deeply (more than %d groups)",
				      REGEX_MAX_DEPTH - 1);
	t->depth++;
	t->groups[t->depth] = (struct re_group){ .out_start = t->out.len, .weight = 1, .fold_before = t->fold };
	ocitap_re_put(&t->out, text, len);
	t->p = after;
	return 0;
}

/* "(" at t->p: a group, a named group, flags; or PCRE2 syntax Go lacks, named. */
static int translate_paren(struct re_translation *t)
{
	const char *s = t->p, *q;
	bool negated = false, saw_flag = false, fold = t->fold;

	if (s[1] == '*')
		return ocitap_re_fail(t, s, "missing argument to repetition operator \"*\" (Go has no (*VERB) syntax)");
	if (s[1] != '?')
		return open_group(t, "(", 1, s + 1);
	if (s[2] == '<' && (s[3] == '=' || s[3] == '!'))
		return ocitap_re_fail(t, s, "lookbehind \"%.4s\" is not Go syntax", s);
	if ((s[2] == 'P' && s[3] == '<') || s[2] == '<') {
		const char *name = s + (s[2] == 'P' ? 4 : 3), *end = strchr(name, '>');

		if (!end)
			return ocitap_re_fail(t, s, "invalid named capture \"%.*s\": no closing >", SPAN(s, 40));
		for (q = name; q < end && (is_ascii_alnum((unsigned char)*q) || *q == '_'); q++)
			;
		if (q != end || end == name)
			return ocitap_re_fail(t, s, "invalid named capture \"%.*s\"", SPAN(s, (size_t)(end + 1 - s)));
		if (s[2] == '<' && !t->newer_go)
			t->newer_go =
				"(?<name>...) in a pattern: Go before 1.22 refuses it (it has (?P<name>...)), and a "
				"podman built with such a Go creates no container";
		return open_group(t, "(", 1, end + 1); /* names do not matter for matching */
	}
	switch (s[2]) {
	case '=':
	case '!':
		return ocitap_re_fail(t, s, "lookahead \"%.3s\" is not Go syntax", s);
	case '>':
		return ocitap_re_fail(t, s, "atomic group \"(?>\" is not Go syntax");
	case '|':
		return ocitap_re_fail(t, s, "branch reset \"(?|\" is not Go syntax");
	case '#':
		return ocitap_re_fail(t, s, "comment \"(?#\" is not Go syntax");
	case '(':
		return ocitap_re_fail(t, s, "conditional \"(?(\" is not Go syntax");
	case 'C':
		return ocitap_re_fail(t, s, "callout \"(?C\" is not Go syntax");
	case '\'':
		return ocitap_re_fail(t, s,
				      "named group \"(?'\" is not Go syntax (Go has (?P<name>...) and (?<name>...))");
	case 'R':
	case '&':
	case '+':
	case '0' ... '9':
		return ocitap_re_fail(t, s, "recursion or subroutine call \"%.*s\" is not Go syntax", SPAN(s, 4));
	case 'P':
		return ocitap_re_fail(t, s, "\"%.4s\" is not Go syntax (%s)", s,
				      s[3] == '='   ? "a backreference"
				      : s[3] == '>' ? "a subroutine call"
						    : "only (?P<name>...)");
	case '-':
		if (s[3] >= '0' && s[3] <= '9')
			return ocitap_re_fail(t, s, "subroutine call \"%.4s\" is not Go syntax", s);
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
				ocitap_re_put(&t->flags, s, (size_t)(q + 1 - s));
			t->fold = fold;
			t->p = q + 1;
			return 0;
		default:
			goto bad;
		}
	}
bad:
	if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
		return ocitap_re_fail(t, q, "flag \"%c\" in \"%.*s\" is not Go syntax (Go has i, m, s and U)", *q,
				      SPAN(s, (size_t)(q + 1 - s)));
	return ocitap_re_fail(t, s, "invalid or unsupported Perl syntax \"%.*s\"", SPAN(s, (size_t)(q + 1 - s)));
}

static int close_group(struct re_translation *t)
{
	struct re_group g;

	if (t->depth == 0)
		return ocitap_re_fail(t, t->p, "unexpected )");
	ocitap_re_atom_end(t);
	t->flags.len = 0; /* flags set at the end of a group change nothing */
	ocitap_re_puts(&t->out, ")");
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
		ocitap_re_atom_begin(t, true);
		ocitap_re_put(&t->out, s, 2);
		t->p += 2;
		return 0;
	case 'C':
		return ocitap_re_fail(t, s, "\"\\C\" (any byte) is not supported by Go");
	case 'Q': /* literal up to \E or the end */
		end = strstr(s + 2, "\\E");
		for (q = s + 2; q < (end ? end : s + strlen(s));) {
			q += ocitap_re_utf8_decode(q, &c);
			ocitap_re_atom_begin(t, false);
			ocitap_re_put_literal(&t->out, c);
		}
		t->p = end ? end + 2 : q;
		return 0;
	case 'p':
	case 'P':
		ocitap_re_atom_begin(t, false);
		return ocitap_re_put_unicode_class(t, &t->p);
	case 'd':
	case 'D':
	case 'w':
	case 'W':
		ocitap_re_atom_begin(t, false);
		ocitap_re_put(&t->out, s, 2);
		t->p += 2;
		return 0;
	case 's':
	case 'S':
		ocitap_re_atom_begin(t, false);
		ocitap_re_puts(&t->out, s[1] == 's' ? "[\\t\\n\\f\\r\\x{20}]" : "[^\\t\\n\\f\\r\\x{20}]");
		t->p += 2;
		return 0;
	}
	if ((r = ocitap_re_parse_char_escape(t, &t->p, &c)) < 0)
		return r;
	if (is_surrogate(c)) { /* Go takes \x{d800} and never matches it; PCRE2 refuses it */
		ocitap_re_atom_begin(t, true);
		ocitap_re_puts(&t->out, "(?!)");
		return 0;
	}
	ocitap_re_atom_begin(t, false);
	ocitap_re_put_literal(&t->out, c);
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
		size_t n = ocitap_re_utf8_decode(s, &c);

		if (n == 0)
			return ocitap_error_set(err, -EINVAL, NULL, "invalid UTF-8 (at byte %zu)",
						(size_t)(s - pattern));
		s += n;
	}
	t.groups = calloc(REGEX_MAX_DEPTH, sizeof(*t.groups));
	if (!t.groups)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	t.groups[0].weight = 1;
	ocitap_re_puts(&t.out, "");
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
			ocitap_re_atom_end(&t);
			ocitap_re_flush_flags(&t);
			ocitap_re_puts(&t.out, "|");
			t.p++;
			break;
		case '^':
		case '$':
			ocitap_re_atom_begin(&t, true);
			ocitap_re_put(&t.out, tok, 1);
			t.p++;
			break;
		case '.':
			ocitap_re_atom_begin(&t, false);
			ocitap_re_puts(&t.out, ".");
			t.p++;
			break;
		case '[':
			r = ocitap_re_translate_class(&t);
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
					r = ocitap_re_fail(&t, tok, "invalid repeat count \"%.*s\"",
							   SPAN(tok, (size_t)(after - tok)));
				else
					r = quantify(&t, (size_t)(after - tok), min, max);
				break;
			}
			ocitap_re_atom_begin(&t, false); /* not a repeat: a literal, as in Go */
			ocitap_re_puts(&t.out, "\\{");
			t.p++;
			break;
		case '\\':
			r = translate_escape(&t);
			break;
		default:
			ocitap_re_atom_begin(&t, false);
			t.p += ocitap_re_utf8_decode(t.p, &c);
			ocitap_re_put_literal(&t.out, c);
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
	for (i = 0; i < len && (n = ocitap_re_utf8_decode(text + i, &c)) > 0; i += n)
		;
	if (i == len)
		return 0;
	s = malloc(len * 3 + 1);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < len;) {
		n = ocitap_re_utf8_decode(text + i, &c);
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
