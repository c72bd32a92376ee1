/*
 * test_hooksd.c: oci-hooks(5) evaluation against tables of cases: Go
 * regular expressions (RE2 syntax) on PCRE2, reading and validating both schemas, each
 * rule of "when" (AND for 1.0.0, OR for 0.1.0), masking and ordering of
 * directories, and prestart injected as createRuntime.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hooksd.h"
#include "ocitap-private.h"
#include "testutil.h"

/* ---- regular expressions ---- */

/*
 * Go regexp (RE2 syntax) as regexp.MatchString answers, unanchored. Each
 * group names the rule of Go's regexp/syntax documentation (the package
 * comment: "Single characters", "Repetitions", "Grouping", flags, "Empty
 * strings", "Escape sequences", "Character class elements", "Perl character
 * classes (all ASCII-only)", "ASCII character classes", "Implementation
 * restriction") or of its parser, and the syntax RE2 lists as NOT SUPPORTED.
 */
static const struct {
	const char *pattern, *text;
	int expect;	  /* 1 match, 0 no match, <0 compile error */
	const char *what; /* for errors: the message names this */
} regex_cases[] = {
	/* MatchString is unanchored; ^ and $ anchor */
	{ "^sh$", "sh", 1, NULL },
	{ "sh", "/bin/bash", 1, NULL },
	{ "^sh$", "/bin/sh", 0, NULL },
	{ "", "anything", 1, NULL },
	{ "\\.json$", "x.json", 1, NULL },
	{ "\\.json$", "xjson", 0, NULL },
	/* Single characters: ". any character, possibly including newline
	 * (flag s=true)": one code point of UTF-8, not \n unless (?s) */
	{ "^.$", "\xc3\xa9", 1, NULL }, /* é is one character */
	{ "^..$", "\xc3\xa9", 0, NULL },
	{ "a.b", "a\nb", 0, NULL },
	{ "(?s)a.b", "a\nb", 1, NULL },
	{ "^.$", "\xff", 1, NULL },	     /* invalid UTF-8 in the text: a byte reads as U+FFFD */
	{ "^\\x{fffd}$", "\xff", 1, NULL }, /* ... which is what it matches */
	{ "^[^a]$", "\n", 1, NULL },	     /* a negated class takes \n (Perl flags set ClassNL) */
	/* Perl character classes (all ASCII-only): \d \w \s, and \b is an
	 * ASCII word boundary */
	{ "\\d+", "abc1", 1, NULL },
	{ "^\\d+$", "12a", 0, NULL },
	{ "^\\D+$", "abc", 1, NULL },
	{ "\\d", "\xd9\xa3", 0, NULL }, /* ARABIC-INDIC DIGIT THREE is no \d */
	{ "\\w", "\xc3\xa9", 0, NULL }, /* nor é a \w */
	{ "^\\s\\S\\w\\W$", " x_!", 1, NULL },
	{ "^[\\s]$", " ", 1, NULL },
	{ "\\s", "\v", 0, NULL },	/* \s == [\t\n\f\r ]: no vertical tab */
	{ "[\\s]", "\v", 0, NULL },
	{ "^\\S$", "\v", 1, NULL },
	{ "\\b\xc3\xa9", "\xc3\xa9", 0, NULL }, /* é is not a word character: no boundary */
	{ "\\bx\\b", "a x!", 1, NULL },
	/* ASCII character classes, [[:name:]] and [[:^name:]] */
	{ "^[[:digit:]]+$", "42", 1, NULL },
	{ "^[[:^digit:]]+$", "ab", 1, NULL },
	{ "[[:^digit:]]", "1", 0, NULL },
	{ "[[:space:]]", "\v", 1, NULL }, /* [[:space:]] == [\t\n\v\f\r ] */
	{ "[[:foo:]]", "x", -EINVAL, "[:foo:]" },
	/* Unicode classes: \pN, \p{Greek}, \PN, \P{Greek}, \p{^Greek} */
	{ "^\\pL$", "x", 1, NULL },
	{ "^\\pL$", "\xc3\xa9", 1, NULL },
	{ "\\pL", "1", 0, NULL },
	{ "\\PL", "1", 1, NULL },
	{ "\\p{Greek}", "\xce\xb1", 1, NULL }, /* α */
	{ "\\p{Greek}", "a", 0, NULL },
	{ "\\P{Greek}", "\xce\xb1", 0, NULL },
	{ "\\p{^Greek}", "a", 1, NULL },
	{ "^[\\p{Lu}\\d]+$", "A1", 1, NULL },
	{ "(?i)\\p{Lu}", "a", 1, NULL }, /* under (?i) Go folds the class (FoldCategory) */
	{ "(?i)\\P{Lu}", "a", 0, NULL },
	{ "(?i:\\p{Lu})\\p{Lu}", "aa", 0, NULL },
	{ "(?i:\\p{Lu})\\p{Lu}", "aA", 1, NULL },
	{ "\\p{Xan}", "a", -EINVAL, "unknown Unicode class" },   /* PCRE2's own, not a Go class */
	{ "\\p{Alpha}", "a", -EINVAL, "unknown Unicode class" }, /* a binary property: not Go's */
	{ "\\p{Greek}", "\xcd\x82", 0, NULL }, /* U+0342: script Inherited (Go: Script, not Script_Extensions) */
	{ "\\p{Inherited}", "\xcd\x82", 1, NULL },
	{ "^\\p{Any}+$", "a\xce\xb1", 1, NULL },
	/* Character class elements: x, A-Z, \d, [:foo:], \p{Foo}; ] first is
	 * a literal; - after a class escape is a literal */
	{ "^[\\d\\-]+$", "1-2", 1, NULL },
	{ "^[\\d\\-]+$", "1_2", 0, NULL },
	{ "^[\\w.]+@", "a.b@x", 1, NULL },
	{ "^[^\\]]$", "]", 0, NULL },
	{ "^[^\\]]$", "a", 1, NULL },
	{ "^[]a]$", "]", 1, NULL },
	{ "^[\\^x]$", "^", 1, NULL },
	{ "^[\\.]$", "\\", 0, NULL }, /* [\.] is a dot only */
	{ "^[\\d-z]+$", "1-z", 1, NULL },
	{ "[z-a]", "a", -EINVAL, "range" },
	{ "[a", "a", -EINVAL, "missing closing ]" },
	{ "[\\b]", "\b", -EINVAL, "\\b" }, /* no backspace escape in Go */
	/* Escape sequences: \x7F (exactly two digits), \x{10FFFF}, \123
	 * octal, \a \f \t \n \r \v, \* for punctuation, \Q...\E */
	{ "^\\x41$", "A", 1, NULL },
	{ "^\\x{263a}$", "\xe2\x98\xba", 1, NULL },
	{ "\\x4", "\x04", -EINVAL, "\\x4" },
	{ "\\x{110000}", "x", -EINVAL, "invalid escape" },
	/* \x{D800}..\x{DFFF} are accepted (only > U+10FFFF is refused) and
	 * match nothing: decoded text never holds a surrogate */
	{ "\\x{d800}", "\xed\xa0\x80", 0, NULL },
	{ "^\\x{d800}*$", "", 1, NULL },
	{ "^[^\\x{d800}]$", "\n", 1, NULL },
	{ "[\\x{d800}-\\x{e000}]", "\xee\x80\x80", 1, NULL },
	{ "^\\101\\12$", "A\n", 1, NULL }, /* octal, also two digits: \12 is \n, not backreference 12 */
	{ "^\\v$", "\v", 1, NULL },	     /* the character, not PCRE2's vertical space class */
	{ "\\v", "\n", 0, NULL },
	{ "a\\/b", "a/b", 1, NULL },
	{ "^\\Qa.b\\E$", "a.b", 1, NULL },
	{ "^\\Qa.b\\E$", "axb", 0, NULL },
	{ "^\\Qa+", "a+", 1, NULL }, /* no \E: literal to the end */
	{ "\\y", "y", -EINVAL, "\\y" },
	{ "a\\", "a", -EINVAL, "trailing backslash" },
	{ "\\C", "a", -EINVAL, "\\C" },
	/* Empty strings: $ "at end of text (like \z not \Z)", ^ and $ at
	 * lines with m; \A and \z */
	{ "a$", "a\n", 0, NULL },
	{ "(?m)a$", "a\nb", 1, NULL },
	{ "(?m)^b", "a\nb", 1, NULL },
	{ "^b", "a\nb", 0, NULL },
	{ "(?m)a\\n^", "a\n", 1, NULL }, /* ^ also after a final newline (EmptyBeginLine) */
	{ "\\A/usr\\z", "/usr", 1, NULL },
	{ "\\A/usr\\z", "/usr/bin", 0, NULL },
	{ "\\A/usr\\z", "/usr\n", 0, NULL },
	/* Grouping and flags: (re), (?P<name>re), (?<name>re), (?:re),
	 * (?flags) within the current group, (?flags:re); flags i m s U,
	 * -flags clears */
	{ "(?:a|b)c", "bc", 1, NULL },
	{ "(?P<x>a)b", "ab", 1, NULL },
	{ "(?<x>a)b", "ab", 1, NULL },
	{ "(?P<1>a)b", "ab", 1, NULL }, /* Go allows a leading digit */
	{ "(?P<a-b>x)", "x", -EINVAL, "named capture" },
	{ "(?i)^SH$", "sh", 1, NULL },
	{ "^SH$", "sh", 0, NULL },
	{ "x(?i)y", "xY", 1, NULL },
	{ "x(?i)y", "XY", 0, NULL },
	{ "(?i:A)b", "aB", 0, NULL },
	{ "(?i:A)b", "ab", 1, NULL },
	{ "(a(?i)b)c", "aBc", 1, NULL }, /* the flag ends with its group */
	{ "(a(?i)b)c", "aBC", 0, NULL },
	{ "(?i)a(?-i)b", "Ab", 1, NULL },
	{ "(?i)a(?-i)b", "AB", 0, NULL },
	{ "(?i)\xc3\xa9", "\xc3\x89", 1, NULL }, /* é / É: folding is Unicode's */
	{ "(?U)^a+$", "aaa", 1, NULL },
	{ "(?x)a b", "ab", -EINVAL, "flag \"x\"" },
	{ "(?i-)", "a", -EINVAL, "(?i-)" },
	{ "(", "x", -EINVAL, "missing closing )" },
	{ "a)", "x", -EINVAL, "unexpected )" },
	/* Repetitions: x* x+ x? x{n,m} x{n,} x{n} and the lazy forms; a {
	 * that is not a repeat is a literal (parseRepeat), so {,n} is one */
	{ "a.*?b", "axxb", 1, NULL },
	{ "^a+?$", "aaa", 1, NULL },
	{ "a*?b", "aab", 1, NULL },
	{ "^a{2,3}$", "aaa", 1, NULL },
	{ "^a{2}$", "aaa", 0, NULL },
	{ "^a{2,}$", "aaaa", 1, NULL },
	{ "^a{,3}$", "aa", 0, NULL },
	{ "^a{,3}$", "a{,3}", 1, NULL },
	{ "^a{1,2$", "a{1,2", 1, NULL },
	{ "^a{01}$", "a{01}", 1, NULL }, /* leading zero: not a count */
	{ "^*", "x", 1, NULL },	  /* an empty-width assertion may be repeated */
	{ "a*(?i)+", "aaa", 1, NULL },   /* the flag group between: repeats a* */
	{ "*", "x", -EINVAL, "missing argument" },
	{ "a|*", "x", -EINVAL, "missing argument" },
	{ "(*FAIL)", "x", -EINVAL, "missing argument" }, /* no PCRE2 verbs */
	/* Implementation restriction: counts above 1000, also as the product
	 * of nested counts (repeatIsValid); a** and a++ are "invalid nested
	 * repetition operator" */
	{ "^a{1000}$", "a", 0, NULL },
	{ "a{1001}", "a", -EINVAL, "invalid repeat count" },
	{ "x{2,1}", "x", -EINVAL, "invalid repeat count" },
	{ "(a{100}){100}", "a", -EINVAL, "invalid repeat count" },
	{ "(a{10}){100}", "a", 0, NULL },
	{ "((a{100}){0}){100}", "x", 1, NULL }, /* {0} ends the product */
	{ "a++", "a", -EINVAL, "possessive" },
	{ "a*+", "a", -EINVAL, "possessive" },
	{ "a**", "a", -EINVAL, "nested repetition" },
	{ "a{2}{3}", "a", -EINVAL, "nested repetition" },
	/* NOT SUPPORTED in RE2: backreferences, lookaround, atomic groups,
	 * \K, \Z, recursion, conditionals, other named-group syntax */
	{ "a\\1", "aa", -EINVAL, "backreference" },
	{ "(a)\\1", "aa", -EINVAL, "backreference" },
	{ "(?P<n>a)(?P=n)", "aa", -EINVAL, "backreference" },
	{ "(a)\\g1", "aa", -EINVAL, "backreference" },
	{ "a(?=b)", "ab", -EINVAL, "lookahead" },
	{ "a(?!b)", "ab", -EINVAL, "lookahead" },
	{ "(?<=a)b", "ab", -EINVAL, "lookbehind" },
	{ "(?<!a)b", "ab", -EINVAL, "lookbehind" },
	{ "(?>a+)b", "ab", -EINVAL, "atomic" },
	{ "a\\Kb", "ab", -EINVAL, "\\K" },
	{ "a\\Z", "a", -EINVAL, "\\Z" },
	{ "(a|(?R))", "a", -EINVAL, "recursion" },
	{ "(a)(?1)", "aa", -EINVAL, "recursion" },
	{ "(a)?(?(1)b|c)", "c", -EINVAL, "conditional" },
	{ "(?'n'a)", "a", -EINVAL, "(?'" },
	{ "(?|a)", "a", -EINVAL, "branch reset" },
	{ "(?#note)a", "a", -EINVAL, "comment" },
	/* what is not UTF-8 is not a Go pattern (ErrInvalidUTF8) */
	{ "a\xff", "a", -EINVAL, "UTF-8" },
};

static void test_regex_table(void **unused)
{
	for (size_t i = 0; i < sizeof(regex_cases) / sizeof(regex_cases[0]); i++) {
		struct ocitap_regex re;
		struct ocitap_error err = { 0 };
		int r = ocitap_regex_compile(regex_cases[i].pattern, &re, &err);

		if (regex_cases[i].expect < 0) {
			if (r != regex_cases[i].expect)
				fail_msg("/%s/: compile gave %d, expected %d", regex_cases[i].pattern, r,
					 regex_cases[i].expect);
			if (!strstr(err.message, regex_cases[i].what))
				fail_msg("/%s/: \"%s\" does not name \"%s\"", regex_cases[i].pattern, err.message,
					 regex_cases[i].what);
			assert_null(re.prog);
			continue;
		}
		if (r < 0)
			fail_msg("/%s/: %s", regex_cases[i].pattern, err.message);
		if (ocitap_regex_search(&re, regex_cases[i].text) != regex_cases[i].expect)
			fail_msg("/%s/ on \"%s\": expected %d", regex_cases[i].pattern, regex_cases[i].text,
				 regex_cases[i].expect);
		ocitap_regex_release(&re);
	}
}

/* Go syntax that older Go releases refuse is noted for lint: (?<name>) since
 * Go 1.22, loosely spelled class names since Go 1.25. */
static void test_regex_newer_go(void **unused)
{
	static const struct {
		const char *pattern, *note; /* note: NULL, or a word of it */
	} cases[] = {
		{ "(?P<x>a)\\p{Greek}\\pL\\p{Old_Italic}\\P{Lu}\\p{Any}", NULL },
		{ "(?<x>a)", "1.22" },
		{ "a(b(?<x>c))", "(?P<name>" },
		{ "\\p{greek}", "1.25" },
		{ "[\\p{Old Italic}]", "1.25" },
		{ "\\pl", "1.25" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocitap_regex re;
		const char *note;

		assert_int_equal(ocitap_regex_compile(cases[i].pattern, &re, NULL), 0);
		note = ocitap_regex_newer_go(&re);
		if (cases[i].note ? !note || !strstr(note, cases[i].note) : note != NULL)
			fail_msg("/%s/: note \"%s\"", cases[i].pattern, note ? note : "(none)");
		ocitap_regex_release(&re);
	}
}

/* PCRE2 backtracks where RE2 does not: a search that would run away stops
 * at its limit and says so (-ERANGE), never "no match"; the file's match
 * then fails naming the field. */
static void test_regex_limits(void **unused)
{
	struct ocitap_regex re;
	struct ocitap_error err = { 0 };
	char text[64 + 2];

	memset(text, 'a', 64);
	text[64] = '!';
	text[65] = '\0';
	assert_int_equal(ocitap_regex_compile("^(a|a?)+$", &re, &err), 0);
	assert_int_equal(ocitap_regex_search(&re, text), -ERANGE);
	assert_int_equal(ocitap_regex_search(&re, "aaa"), 1);
	ocitap_regex_release(&re);
	ocitap_regex_release(&re); /* twice is fine */

	/* bounded pattern length, as before */
	{
		char *big = malloc(OCITAP_REGEX_MAX + 2);

		assert_non_null(big);
		memset(big, 'a', OCITAP_REGEX_MAX + 1);
		big[OCITAP_REGEX_MAX + 1] = '\0';
		assert_int_equal(ocitap_regex_compile(big, &re, &err), -E2BIG);
		big[OCITAP_REGEX_MAX] = '\0';
		assert_int_equal(ocitap_regex_compile(big, &re, &err), 0);
		ocitap_regex_release(&re);
		free(big);
	}
	/* nesting: Go's limit of 1000 */
	{
		char deep[2 * 1000 + 2];

		memset(deep, '(', 1000);
		memset(deep + 1000, ')', 1000);
		deep[2000] = '\0';
		assert_int_equal(ocitap_regex_compile(deep, &re, &err), -EINVAL);
		assert_non_null(strstr(err.message, "nests too deeply"));
		assert_true(ocitap_regex_compile(deep + 1, &re, &err) < 0); /* unbalanced */
		deep[1999] = '\0';
		assert_int_equal(ocitap_regex_compile(deep + 1, &re, &err), 0); /* 999 groups */
		assert_int_equal(ocitap_regex_search(&re, "x"), 1);
		ocitap_regex_release(&re);
	}
}

/* ---- reading and validating ---- */

static const struct {
	const char *json;
	int code;
	const char *field, *message;
} parse_cases[] = {
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/"
	  "sh\"},\"when\":{\"always\":true},\"stages\":[\"prestart\"]}",
	  0, "", "" },
	{ "{\"version\":\"2.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"stages\":[]}", -EINVAL, "version",
	  "unrecognized hook version" },
	{ "{\"version\":1,\"hook\":{\"path\":\"/bin/sh\"},\"stages\":[]}", -EINVAL, "version", "a string" },
	{ "{\"version\":\"1.0.0\",\"hook\":{},\"stages\":[]}", -EINVAL, "hook.path", "missing" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/nonexistent/hook\"},\"stages\":[]}", -ENOENT, "hook.path",
	  "/nonexistent/hook" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/"
	  "sh\"},\"when\":{\"annotations\":{\"a\":\"(\"}},\"stages\":[]}",
	  -EINVAL, "when.annotations[\"a\"]", "value pattern" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/"
	  "sh\"},\"when\":{\"annotations\":{\"[\":\"x\"}},\"stages\":[]}",
	  -EINVAL, "when.annotations[\"[\"]", "key pattern" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/"
	  "sh\"},\"when\":{\"commands\":[\"ok\",\"^(?=sh)\"]},\"stages\":[]}",
	  -EINVAL, "when.commands[1]", "pattern \"^(?=sh)\": lookahead" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/"
	  "sh\"},\"when\":{\"commands\":[\"^\\\\pL+$\",\"x(?i)y\",\"\\\\Qa.b\\\\E\"]},\"stages\":[]}",
	  0, "", "" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"when\":{\"always\":true}}", -EINVAL, "stages",
	  "missing" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"stages\":[\"poststart\",\"preStart\"]}", -EINVAL,
	  "stages[1]", "unknown stage \"preStart\"" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"stages\":\"prestart\"}", -EINVAL, "stages",
	  "an array" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"when\":{\"always\":\"yes\"},\"stages\":[]}",
	  -EINVAL, "when.always", "true or false" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\",\"timeout\":\"5\"},\"stages\":[]}", -EINVAL,
	  "hook.timeout", "an integer" },
	{ "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\",\"args\":[\"a\",3]},\"stages\":[]}", -EINVAL,
	  "hook.args[1]", "a string" },
	{ "{\"version\":\"1.0.0\",", -EBADMSG, "", "invalid JSON" },
	{ "[]", -EINVAL, "", "an object" },
	/* Go's encoding/json matches keys ignoring case */
	{ "{\"Version\":\"1.0.0\",\"HOOK\":{\"Path\":\"/bin/sh\"},\"when\":{\"HasBindMounts\":true},\"Stages\":[]}", 0,
	  "", "" },
	/* legacy 0.1.0 */
	{ "{\"hook\":\"/bin/sh\",\"stage\":[\"prestart\"],\"cmd\":[\"^sh$\"],\"annotation\":[\"a\"]}", 0, "", "" },
	{ "{\"version\":\"0.1.0\",\"hook\":\"/bin/sh\",\"stages\":[\"poststop\"]}", 0, "", "" },
	{ "{\"hook\":\"/bin/sh\",\"stage\":[\"prestart\"],\"stages\":[\"prestart\"]}", -EINVAL, "stage", "both" },
	{ "{\"stages\":[\"prestart\"]}", -EINVAL, "hook", "missing" },
	{ "{\"hook\":\"/bin/sh\"}", -EINVAL, "stages", "missing" },
	{ "{\"hook\":\"/bin/sh\",\"stages\":[\"prestart\"],\"cmds\":[\"(\"]}", -EINVAL, "cmds[0]", "pattern" },
	{ "{\"hook\":\"/bin/sh\",\"stages\":[\"prestart\"],\"hasbindmounts\":1}", -EINVAL, "hasbindmounts",
	  "true or false" },
};

static void test_parse_table(void **unused)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct ocitap_hooksd_file f;
		struct ocitap_error err = { 0 };
		int r = ocitap_hooksd_parse(parse_cases[i].json, strlen(parse_cases[i].json), "/d/x.json", &f, &err);

		if (r != parse_cases[i].code)
			fail_msg("case %zu (%s): got %d (%s: %s), expected %d", i, parse_cases[i].json, r, err.field,
				 err.message, parse_cases[i].code);
		if (r < 0) {
			if (strcmp(err.field, parse_cases[i].field) != 0)
				fail_msg("case %zu: field \"%s\", expected \"%s\" (%s)", i, err.field,
					 parse_cases[i].field, err.message);
			if (!strstr(err.message, parse_cases[i].message))
				fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message,
					 parse_cases[i].message);
		}
		assert_string_equal(f.name, "x.json");
		ocitap_hooksd_file_release(&f);
	}
}

static void test_legacy_conversion(void **unused)
{
	static const char json[] =
		"{\"hook\":\"/bin/sh\",\"arguments\":[\"-c\",\"true\"],\"stage\":[\"prestart\"],"
		"\"cmds\":[\"^a$\"],\"cmd\":[\"^b$\"],\"annotations\":[\"x\"],\"annotation\":[\"y\"],"
		"\"hasbindmounts\":true}";
	struct ocitap_hooksd_file f;
	struct ocitap_error err = { 0 };

	assert_int_equal(ocitap_hooksd_parse(json, strlen(json), "legacy.json", &f, &err), 0);
	assert_true(f.legacy);
	assert_string_equal(f.version, "");
	assert_string_equal(f.hook_path, "/bin/sh");
	/* args: the hook, then the arguments */
	assert_int_equal(f.n_args, 3);
	assert_string_equal(f.args[0], "/bin/sh");
	assert_string_equal(f.args[2], "true");
	assert_null(f.args[3]);
	assert_int_equal(f.n_stages, 1);
	assert_int_equal(f.n_commands, 2);
	assert_string_equal(f.commands[1], "^b$");
	/* annotations: one condition, any key, the values joined with | */
	assert_int_equal(f.n_annotations, 1);
	assert_string_equal(f.annotations[0].key_pattern, ".*");
	assert_string_equal(f.annotations[0].value_pattern, "x|y");
	assert_true(f.has_bind_mounts_cond && f.bind_mounts);
	ocitap_hooksd_file_release(&f);
}

/* ---- matching ---- */

#define HOOK  "\"hook\":{\"path\":\"/bin/sh\"},\"stages\":[\"prestart\"]"
#define V1(w) "{\"version\":\"1.0.0\"," HOOK ",\"when\":" w "}"
#define OLD   "\"hook\":\"/bin/sh\",\"stages\":[\"prestart\"]"

static const char cfg_sh[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"]},"
			     "\"annotations\":{\"io.x\":\"yes\",\"io.y\":\"no\",\"org.z\":\"maybe\"}}";
static const char cfg_binsh[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/sh\"]}}";
static const char cfg_noproc[] = "{\"ociVersion\":\"1.0.2\"}";
static const char cfg_noargs[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[]}}";
static const char cfg_long[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},"
			      "\"annotations\":{\"io.a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}}";

static const struct {
	const char *file, *cfg;
	bool bind_mounts;
	int expect;	 /* 1 match, 0 no, <0 error */
	const char *why; /* in the deciding reason's detail; for errors, err.field */
} match_cases[] = {
	/* 1.0.0: every condition must hold */
	{ V1("{\"always\":true}"), cfg_sh, false, 1, "always is true" },
	{ V1("{\"always\":false}"), cfg_sh, false, 0, "always is false" },
	{ V1("{\"always\":false,\"commands\":[\"^sh$\"]}"), cfg_sh, false, 0, "always is false" },
	{ V1("{\"hasBindMounts\":true}"), cfg_sh, true, 1, "has bind mounts" },
	{ V1("{\"hasBindMounts\":true}"), cfg_sh, false, 0, "has no bind mounts" },
	{ V1("{\"hasBindMounts\":false}"), cfg_sh, true, 0, "never matches" },
	{ V1("{\"annotations\":{\"^io\\\\.x$\":\"^yes$\"}}"), cfg_sh, false, 1, "\"io.x\"" },
	{ V1("{\"annotations\":{\"^io\\\\.x$\":\"^no$\"}}"), cfg_sh, false, 0, "no value matches" },
	{ V1("{\"annotations\":{\"^nope$\":\".*\"}}"), cfg_sh, false, 0, "no annotation key" },
	/* the key matches two annotations; one of them has a matching value */
	{ V1("{\"annotations\":{\"^io\\\\.\":\"^no$\"}}"), cfg_sh, false, 1, "\"io.y\"" },
	/* all pairs must match */
	{ V1("{\"annotations\":{\"io.x\":\"yes\",\"org.z\":\"never\"}}"), cfg_sh, false, 0, "no value" },
	{ V1("{\"commands\":[\"^sh$\"]}"), cfg_sh, false, 1, "matches /^sh$/" },
	{ V1("{\"commands\":[\"^sh$\"]}"), cfg_binsh, false, 0, "matches none of 1 pattern" },
	{ V1("{\"commands\":[\"^/usr/bin/x$\",\"sh\"]}"), cfg_binsh, false, 1, "matches /sh/" },
	{ V1("{\"always\":true,\"commands\":[\"^nope$\"]}"), cfg_sh, false, 0, "none" },
	{ V1("{\"always\":true,\"annotations\":{\"^x$\":\"y\"}}"), cfg_sh, false, 0, "no annotation key" },
	/* commands are not looked at without a process */
	{ V1("{\"commands\":[\"^sh$\"]}"), cfg_noproc, false, 0, "no process" },
	{ V1("{\"always\":true,\"commands\":[\"^nope$\"]}"), cfg_noproc, false, 1, "no process" },
	{ V1("{\"commands\":[\"^sh$\"]}"), cfg_noargs, false, -EINVAL, "process.args" },
	/* Go syntax PCRE2 reads differently or not at all */
	{ V1("{\"annotations\":{\"^io\\\\.x$\":\"(?i)^YES$\"}}"), cfg_sh, false, 1, "\"io.x\"" },
	{ V1("{\"commands\":[\"^\\\\pL{2}$\"]}"), cfg_sh, false, 1, "matches" },
	{ V1("{\"commands\":[\"^s{,1}h$\"]}"), cfg_sh, false, 0, "none" },
	/* a search that hits its limit is an error naming the field, not "no" */
	{ V1("{\"annotations\":{\"^io\\\\.a$\":\"^(a|a?)+$\"}}"), cfg_long, false, -ERANGE,
	  "when.annotations[\"^io\\.a$\"]" },
	{ V1("{\"commands\":[\"^(s|s?)+h?$\"]}"), cfg_sh, false, 1, "matches" },
	{ V1("{}"), cfg_sh, false, 0, "empty" },
	{ "{\"version\":\"1.0.0\"," HOOK "}", cfg_sh, false, 0, "empty" },
	/* 0.1.0: any one condition */
	{ "{" OLD ",\"cmds\":[\"^nope$\"],\"annotations\":[\"^yes$\"]}", cfg_sh, false, 1, "\"io.x\"" },
	{ "{" OLD ",\"cmds\":[\"^sh$\"],\"annotations\":[\"^never$\"]}", cfg_sh, false, 1, "matches /^sh$/" },
	{ "{" OLD ",\"cmds\":[\"^nope$\"],\"hasbindmounts\":true}", cfg_sh, true, 1, "has bind mounts" },
	{ "{" OLD ",\"cmds\":[\"^nope$\"],\"hasbindmounts\":true}", cfg_sh, false, 0, "none" },
	{ "{" OLD ",\"annotations\":[\"^maybe$\",\"^never$\"]}", cfg_sh, false, 1, "\"org.z\"" },
	{ "{" OLD "}", cfg_sh, false, 0, "empty" },
};

static void test_match_table(void **unused)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		struct ocitap_hooksd_file f;
		struct ocitap_config cfg;
		struct ocitap_hooksd_verdict v;
		struct ocitap_error err = { 0 };
		int r;

		if (ocitap_hooksd_parse(match_cases[i].file, strlen(match_cases[i].file), "m.json", &f, &err) < 0)
			fail_msg("case %zu: %s: %s: %s", i, match_cases[i].file, err.field, err.message);
		assert_int_equal(
			ocitap_config_parse(match_cases[i].cfg, strlen(match_cases[i].cfg), 0, NULL, &cfg, &err), 0);
		r = ocitap_hooksd_match(&f, &cfg, match_cases[i].bind_mounts, &v, &err);
		if (match_cases[i].expect < 0) {
			assert_int_equal(r, match_cases[i].expect);
			assert_string_equal(err.field, match_cases[i].why);
		} else {
			assert_int_equal(r, 0);
			if (v.match != (match_cases[i].expect == 1))
				fail_msg("case %zu: %s: match %d, expected %d", i, match_cases[i].file, v.match,
					 match_cases[i].expect);
			assert_true(v.n_reasons > 0);
			if (!strstr(v.reasons[v.n_reasons - 1].detail, match_cases[i].why))
				fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, v.reasons[v.n_reasons - 1].detail,
					 match_cases[i].why);
		}
		ocitap_config_release(&cfg);
		ocitap_hooksd_file_release(&f);
	}
}

static void test_injection_and_bind_mounts(void **unused)
{
	static const char with_bind[] =
		"{\"ociVersion\":\"1.0.2\",\"mounts\":[{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/"
		"x\"},"
		"{\"destination\":\"/data\",\"type\":\"none\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\"]}]}";
	static const char engine_only[] = "{\"ociVersion\":\"1.0.2\",\"mounts\":[{\"destination\":\"/etc/"
					  "hosts\",\"type\":\"bind\",\"source\":\"/x\"},"
					  "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]}";
	struct ocitap_config cfg;

	assert_string_equal(ocitap_hooksd_injected_stage("prestart"), "createRuntime");
	assert_string_equal(ocitap_hooksd_injected_stage("poststop"), "poststop");
	{
		struct ocitap_hooksd_rules r;
		struct ocitap_error err = { 0 };

		/* containers/common v0.58.0 (podman 5.0): prestart as createRuntime */
		assert_int_equal(ocitap_hooksd_rules_for_podman("4.3.1", &r, &err), 0);
		assert_false(r.prestart_as_create_runtime);
		assert_int_equal(r.minor, 3);
		assert_string_equal(ocitap_hooksd_injected_stage_under("prestart", &r), "prestart");
		assert_int_equal(ocitap_hooksd_rules_for_podman("4.9", &r, &err), 0);
		assert_false(r.prestart_as_create_runtime);
		assert_int_equal(ocitap_hooksd_rules_for_podman("5.0.0-rc1", &r, &err), 0);
		assert_true(r.prestart_as_create_runtime);
		assert_string_equal(ocitap_hooksd_injected_stage_under("prestart", &r), "createRuntime");
		assert_string_equal(ocitap_hooksd_injected_stage_under("poststop", &r), "poststop");
		assert_int_equal(ocitap_hooksd_rules_for_podman("5", &r, &err), -EINVAL);
		assert_int_equal(ocitap_hooksd_rules_for_podman("v5.1", &r, &err), -EINVAL);
		assert_int_equal(ocitap_hooksd_rules_for_podman("5.1x", &r, &err), -EINVAL);
		assert_string_equal(err.message, "expected X.Y or X.Y.Z, got '5.1x'");
	}
	assert_int_equal(ocitap_config_parse(with_bind, strlen(with_bind), 0, NULL, &cfg, NULL), 0);
	assert_true(ocitap_hooksd_bundle_has_bind_mounts(&cfg));
	ocitap_config_release(&cfg);
	assert_int_equal(ocitap_config_parse(engine_only, strlen(engine_only), 0, NULL, &cfg, NULL), 0);
	assert_false(ocitap_hooksd_bundle_has_bind_mounts(&cfg));
	ocitap_config_release(&cfg);
}

/* ---- directories: masking and ordering ---- */

static void put(const char *dir, const char *name, const char *json)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
}

#define GOOD(s) \
	"{\"version\":\"1.0.0\",\"hook\":{\"path\":\"/bin/sh\"},\"when\":{\"always\":true},\"stages\":[\"" s "\"]}"

static const struct ocitap_hooksd_file *find(const struct ocitap_hooksd_set *set, const char *path)
{
	for (size_t i = 0; i < set->n_files; i++)
		if (strcmp(set->files[i].path, path) == 0)
			return &set->files[i];
	fail_msg("%s not in the set", path);
	return NULL;
}

static void test_load_dirs(void **unused)
{
	char top[] = "/tmp/test_hooksd.XXXXXX", d1[600], d2[600], missing[600], p[700];
	const char *dirs[3];
	struct ocitap_hooksd_set set;
	static const char *const order[] = { "_x.json", "10-x.json", "9.json", "a.json", "B.json", "c.json", "z.json" };
	const struct ocitap_hooksd_file *f;

	assert_non_null(mkdtemp(top));
	snprintf(d1, sizeof(d1), "%s/usr", top);
	snprintf(d2, sizeof(d2), "%s/etc", top);
	snprintf(missing, sizeof(missing), "%s/none", top);
	assert_int_equal(mkdir(d1, 0755), 0);
	assert_int_equal(mkdir(d2, 0755), 0);
	put(d1, "a.json", GOOD("poststop"));
	put(d1, "B.json", GOOD("poststart"));
	put(d1, "c.json", "{\"version\":\"1.0.0\"}");
	put(d1, "z.json", GOOD("createContainer"));
	put(d1, "notes.txt", "not a hook");
	put(d1, "9.json", GOOD("poststop"));
	put(d1, "10-x.json", GOOD("poststop"));
	put(d1, "_x.json", GOOD("poststop"));
	put(d2, "a.json", GOOD("prestart")); /* masks usr/a.json */
	put(d2, "c.json", GOOD("poststop")); /* masks the broken usr/c.json */
	put(d2, "z.json", "{broken");	     /* broken: masks nothing */
	snprintf(p, sizeof(p), "%s/dangling.json", d2);
	assert_int_equal(symlink("/nonexistent/target.json", p), 0);
	dirs[0] = d1;
	dirs[1] = d2;
	dirs[2] = missing;
	assert_int_equal(ocitap_hooksd_load(dirs, 3, &set, NULL), 0);
	assert_int_equal(set.n_dirs, 3);
	assert_int_equal(set.dirs[0].error, 0);
	assert_int_equal(set.dirs[0].n_json, 7);
	assert_int_equal(set.dirs[2].error, -ENOENT);
	assert_int_equal(set.n_files, 11);
	/* loaded unmasked files first, in collation order of their names */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		assert_true(set.files[i].loaded);
		assert_null(set.files[i].masked_by);
		if (strcmp(set.files[i].name, order[i]) != 0)
			fail_msg("position %zu: %s, expected %s", i, set.files[i].name, order[i]);
	}
	snprintf(p, sizeof(p), "%s/a.json", d2);
	assert_string_equal(set.files[3].path, p);
	assert_string_equal(set.files[3].stages[0], "prestart");
	snprintf(p, sizeof(p), "%s/z.json", d1);
	assert_string_equal(set.files[6].path, p);
	/* the rest: masked or broken */
	snprintf(p, sizeof(p), "%s/a.json", d1);
	f = find(&set, p);
	assert_true(f->loaded);
	assert_non_null(f->masked_by);
	snprintf(p, sizeof(p), "%s/c.json", d1);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_string_equal(f->error.field, "hook.path");
	assert_non_null(f->masked_by);
	snprintf(p, sizeof(p), "%s/z.json", d2);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_true(f->error.code < 0);
	snprintf(p, sizeof(p), "%s/dangling.json", d2);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_non_null(strstr(f->error.message, "dangling"));
	ocitap_hooksd_set_release(&set);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	assert_int_equal(system(p), 0);
}

/* Only regular files are read: a FIFO (which would block an open or a
 * read forever), a directory named *.json, a socket and a symlink to a
 * FIFO are each reported by name and kind, and the rest still loads. */
static void test_load_not_regular(void **unused)
{
	char top[] = "/tmp/test_hooksd.XXXXXX", p[700];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dirs[1] = { top };
	struct ocitap_hooksd_set set;
	const struct ocitap_hooksd_file *f;
	int sfd;

	assert_non_null(mkdtemp(top));
	put(top, "a.json", GOOD("poststop"));
	put(top, "z.json", GOOD("prestart"));
	snprintf(p, sizeof(p), "%s/fifo.json", top);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/x.json", top);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/link.json", top);
	assert_int_equal(symlink("fifo.json", p), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock.json", top);
	sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(sfd >= 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	alarm(10); /* a blocking open would hang here: fail instead */
	assert_int_equal(ocitap_hooksd_load(dirs, 1, &set, NULL), 0);
	alarm(0);
	close(sfd);
	assert_int_equal(set.n_files, 6);
	assert_int_equal(set.dirs[0].n_json, 6);
	snprintf(p, sizeof(p), "%s/a.json", top);
	assert_true(find(&set, p)->loaded);
	snprintf(p, sizeof(p), "%s/z.json", top);
	assert_true(find(&set, p)->loaded);
	snprintf(p, sizeof(p), "%s/fifo.json", top);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_int_equal(f->error.code, -EINVAL);
	assert_non_null(strstr(f->error.message, "not a regular file: a FIFO"));
	snprintf(p, sizeof(p), "%s/link.json", top);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_non_null(strstr(f->error.message, "a FIFO"));
	snprintf(p, sizeof(p), "%s/x.json", top);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_non_null(strstr(f->error.message, "a directory"));
	snprintf(p, sizeof(p), "%s/sock.json", top);
	f = find(&set, p);
	assert_false(f->loaded);
	assert_non_null(strstr(f->error.message, "not a regular file"));
	ocitap_hooksd_set_release(&set);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regex_table),
		cmocka_unit_test(test_regex_limits),
		cmocka_unit_test(test_regex_newer_go),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_legacy_conversion),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_injection_and_bind_mounts),
		cmocka_unit_test(test_load_dirs),
		cmocka_unit_test(test_load_not_regular),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
