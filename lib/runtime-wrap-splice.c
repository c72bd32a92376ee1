/*
 * runtime-wrap-splice.c: ocitap-runtime's fast edit of config.json, done on
 * the text (runtime-wrap.h, ocitap_wrap_splice).
 *
 * Parsing a Docker-sized config.json with json-c and writing it out again
 * was most of what the wrapper cost per create (a million instructions for
 * 10 KB). The edit only ever adds: a hook entry at the end of an array, a
 * key at the end of an object. So this file scans the text once, validating
 * it as strictly as RFC 8259 (stricter than json-c where they differ),
 * notes where the few places ocitap edits begin and end, and copies the
 * text with the additions spliced in; every byte of the original is kept.
 *
 * Whatever the scanner is not sure of it declines (-ENOTSUP), and the
 * caller edits through json-c instead, which also words the error when
 * there is one: invalid JSON, a key ocitap looks at given twice, a \u
 * escape of NUL or of non-ASCII in a key or value it compares, a wrong type
 * where ocitap edits, a JSON null there, non-ASCII in a string it would
 * add, nesting deeper than OCITAP_JSCAN_MAX_DEPTH (json-scan.h).
 * The decisions mirror ocitap_wrap_edit() in runtime-wrap.c one for one;
 * tests/unit/test_runtime_wrap_splice.c and tests/fuzz/fuzz_wrap_splice.c check
 * that the two agree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "json-scan.h"
#include "macro.h"
#include "runtime-wrap.h"

#define MAX_INSERTS (OCITAP_STAGE_COUNT + 2)

struct stage_scan {
	enum ocitap_jkind kind;
	struct ocitap_jspot list;
	bool has_ours;
};

struct seccomp_scan {
	enum ocitap_jkind default_kind, syscalls_kind, path_kind, meta_kind;
	bool default_notifies, rule_notifies, path_set, meta_set;
	struct ocitap_jspot obj;
};

struct splice_scan {
	enum ocitap_jkind hooks_kind, linux_kind, seccomp_kind;
	struct ocitap_jspot top, hooks;
	struct stage_scan stages[OCITAP_STAGE_COUNT];
	struct seccomp_scan sec;
};

/*
 * A key ocitap looks at, the first time: true with *ret_match. Given twice
 * (json-c keeps the last of twins), or unsure: false, declined.
 */
static bool first_time(const struct ocitap_jstr *key, const char *word, bool *seen, bool *ret_match)
{
	int is = ocitap_jstr_is(key, word);

	*ret_match = is > 0;
	if (is < 0 || (is > 0 && *seen))
		return false;
	if (is > 0)
		*seen = true;
	return true;
}

/* A string value ocitap compares with word: *ret_kind, and *ret_is when it is a string. */
static bool scan_compared_string(struct ocitap_jscan *sc, const char *word, enum ocitap_jkind *ret_kind, bool *ret_is,
				 struct ocitap_jstr *ret)
{
	int is;

	*ret_kind = ocitap_jscan_kind(sc);
	*ret = (struct ocitap_jstr){ 0 };
	*ret_is = false;
	if (*ret_kind != OCITAP_J_STRING)
		return ocitap_jscan_value(sc);
	if (!ocitap_jscan_string(sc, ret))
		return false;
	if (!word)
		return true;
	is = ocitap_jstr_is(ret, word);
	*ret_is = is > 0;
	return is >= 0;
}

/* A string json-c's C view of which is not empty (has_string in runtime-wrap.c). */
static bool jstr_nonempty(const struct ocitap_jstr *s)
{
	return s->n > 0 && !(s->n >= 6 && memcmp(s->s, "\\u0000", 6) == 0);
}

/* One hook entry: is its "path" ours? */
static bool scan_hook_entry(struct ocitap_jscan *sc, const char *hook, bool *ours)
{
	bool seen = false, match, is;
	struct ocitap_jspot spot;
	struct ocitap_jstr key, path;
	enum ocitap_jkind kind;
	size_t count = 0;
	int r;

	if (ocitap_jscan_kind(sc) != OCITAP_J_OBJECT)
		return ocitap_jscan_value(sc);
	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &spot)) > 0) {
		if (!first_time(&key, "path", &seen, &match))
			return false;
		if (!match) {
			if (!ocitap_jscan_value(sc))
				return false;
			continue;
		}
		if (!scan_compared_string(sc, hook, &kind, &is, &path))
			return false;
		if (is)
			*ours = true;
	}
	return r == 0;
}

static bool scan_stage_list(struct ocitap_jscan *sc, const char *hook, struct stage_scan *st)
{
	size_t count = 0;
	int r;

	st->kind = ocitap_jscan_kind(sc);
	if (st->kind != OCITAP_J_ARRAY)
		return false; /* null is replaced by json-c's path, anything else is its error */
	if (!ocitap_jscan_open(sc, '['))
		return false;
	while ((r = ocitap_jscan_next_item(sc, ']', &count, &st->list)) > 0)
		if (!scan_hook_entry(sc, hook, &st->has_ours))
			return false;
	return r == 0;
}

static bool scan_hooks(struct ocitap_jscan *sc, const struct ocitap_wrap_config *cfg, const char *hook,
		       struct splice_scan *s)
{
	bool seen[OCITAP_STAGE_COUNT] = { false };
	struct ocitap_jstr key;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &s->hooks)) > 0) {
		int stage = -1;
		bool match = false;

		for (int i = 0; i < OCITAP_STAGE_COUNT && stage < 0; i++)
			if ((cfg->stages & (1u << i)) && !first_time(&key, ocitap_stage_to_string(i), &seen[i], &match))
				return false;
			else if (match)
				stage = i;
		if (stage < 0) {
			if (!ocitap_jscan_value(sc))
				return false;
		} else if (!scan_stage_list(sc, hook, &s->stages[stage])) {
			return false;
		}
	}
	return r == 0;
}

#define NOTIFY "SCMP_ACT_NOTIFY"

static bool scan_rules(struct ocitap_jscan *sc, struct seccomp_scan *sec)
{
	struct ocitap_jspot spot;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '['))
		return false;
	while ((r = ocitap_jscan_next_item(sc, ']', &count, &spot)) > 0) {
		struct ocitap_jspot ospot;
		struct ocitap_jstr key, action;
		enum ocitap_jkind kind;
		size_t n = 0;
		bool seen = false, match, is;
		int q;

		if (ocitap_jscan_kind(sc) != OCITAP_J_OBJECT) {
			if (!ocitap_jscan_value(sc))
				return false;
			continue;
		}
		if (!ocitap_jscan_open(sc, '{'))
			return false;
		while ((q = ocitap_jscan_next_member(sc, &n, &key, &ospot)) > 0) {
			if (!first_time(&key, "action", &seen, &match))
				return false;
			if (!match) {
				if (!ocitap_jscan_value(sc))
					return false;
				continue;
			}
			if (!scan_compared_string(sc, NOTIFY, &kind, &is, &action))
				return false;
			sec->rule_notifies |= is;
		}
		if (q < 0)
			return false;
	}
	return r == 0;
}

static bool scan_seccomp(struct ocitap_jscan *sc, struct seccomp_scan *sec)
{
	bool seen[4] = { false };
	static const char *const keys[4] = { "defaultAction", "syscalls", "listenerPath", "listenerMetadata" };
	struct ocitap_jstr key, v;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &sec->obj)) > 0) {
		bool match = false, is;
		int which = -1;

		for (int i = 0; i < 4 && which < 0; i++)
			if (!first_time(&key, keys[i], &seen[i], &match))
				return false;
			else if (match)
				which = i;
		switch (which) {
		case 0:
			if (!scan_compared_string(sc, NOTIFY, &sec->default_kind, &sec->default_notifies, &v))
				return false;
			break;
		case 1:
			sec->syscalls_kind = ocitap_jscan_kind(sc);
			if (!(sec->syscalls_kind == OCITAP_J_ARRAY ? scan_rules(sc, sec) : ocitap_jscan_value(sc)))
				return false;
			break;
		case 2:
		case 3:
			if (!scan_compared_string(sc, NULL, which == 2 ? &sec->path_kind : &sec->meta_kind, &is, &v))
				return false;
			*(which == 2 ? &sec->path_set : &sec->meta_set) = jstr_nonempty(&v);
			break;
		default:
			if (!ocitap_jscan_value(sc))
				return false;
		}
	}
	return r == 0;
}

static bool scan_linux(struct ocitap_jscan *sc, struct splice_scan *s)
{
	bool seen = false, match;
	struct ocitap_jspot spot;
	struct ocitap_jstr key;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &spot)) > 0) {
		if (!first_time(&key, "seccomp", &seen, &match))
			return false;
		if (!match) {
			if (!ocitap_jscan_value(sc))
				return false;
			continue;
		}
		s->seccomp_kind = ocitap_jscan_kind(sc);
		if (s->seccomp_kind == OCITAP_J_OBJECT) {
			if (!scan_seccomp(sc, &s->sec))
				return false;
		} else if (s->seccomp_kind != OCITAP_J_NULL || !ocitap_jscan_value(sc)) {
			return false; /* not an object: json-c's path says so */
		}
	}
	return r == 0;
}

/* The whole text: one object, nothing after it but white space. */
static bool scan_config(struct ocitap_jscan *sc, const struct ocitap_wrap_config *cfg, const char *hook,
			struct splice_scan *s)
{
	bool seen_hooks = false, seen_linux = false, match;
	struct ocitap_jstr key;
	size_t count = 0;
	int r;

	if (!ocitap_jscan_open(sc, '{'))
		return false;
	while ((r = ocitap_jscan_next_member(sc, &count, &key, &s->top)) > 0) {
		if (!first_time(&key, "hooks", &seen_hooks, &match))
			return false;
		if (match && cfg->stages) {
			s->hooks_kind = ocitap_jscan_kind(sc);
			if (s->hooks_kind != OCITAP_J_OBJECT || !scan_hooks(sc, cfg, hook, s))
				return false;
			continue;
		}
		if (!match && !first_time(&key, "linux", &seen_linux, &match))
			return false;
		if (match && cfg->listener && ocitap_jstr_is(&key, "linux") > 0) {
			s->linux_kind = ocitap_jscan_kind(sc);
			if (s->linux_kind == OCITAP_J_OBJECT) {
				if (!scan_linux(sc, s))
					return false;
				continue;
			}
			if (s->linux_kind != OCITAP_J_NULL)
				return false;
		}
		if (!ocitap_jscan_value(sc))
			return false;
	}
	if (r < 0)
		return false;
	ocitap_jscan_skip_ws(sc);
	return sc->p == sc->end;
}

/* ---- what is added ------------------------------------------------------ */

struct text {
	char *buf;
	size_t len, size;
	bool failed; /* out of memory, or a string it does not write */
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->size) {
		size_t size = (t->len + n + 1) * 2;
		char *b = realloc(t->buf, size);

		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->size = size;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* A JSON string of printable ASCII; anything else is left to json-c's writer (declined). */
static void text_string(struct text *t, const char *prefix, const char *s)
{
	text_puts(t, "\"");
	if (prefix)
		text_puts(t, prefix);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f) {
			t->failed = true;
			return;
		}
		if (c == '"' || c == '\\')
			text_add(t, "\\", 1);
		text_add(t, p, 1);
	}
	text_puts(t, "\"");
}

/* The entry runtime-wrap.c's hook_entry() builds, as text. */
static void text_hook_entry(struct text *t, const struct ocitap_wrap_config *cfg, const char *hook,
			    enum ocitap_stage stage)
{
	char timeout[16];

	text_puts(t, "{\"path\":");
	text_string(t, NULL, hook);
	text_puts(t, ",\"args\":[\"ocitap-hook\",");
	text_string(t, NULL, ocitap_stage_to_string(stage));
	if (cfg->fail_closed)
		text_puts(t, ",\"--fail-closed\"");
	text_puts(t, "]");
	if (cfg->socket || cfg->state_dir) {
		text_puts(t, ",\"env\":[");
		if (cfg->socket)
			text_string(t, "OCITAP_SOCKET=", cfg->socket);
		if (cfg->socket && cfg->state_dir)
			text_puts(t, ",");
		if (cfg->state_dir)
			text_string(t, "OCITAP_STATE_DIR=", cfg->state_dir);
		text_puts(t, "]");
	}
	snprintf(timeout, sizeof(timeout), "%d", cfg->hook_timeout);
	text_puts(t, ",\"timeout\":");
	text_puts(t, timeout);
	text_puts(t, "}");
}

struct insert {
	const char *at; /* inserted before this byte of the original */
	struct text text;
};

static struct insert *insert_at(struct insert *ins, size_t *n, const struct ocitap_jspot *spot)
{
	struct insert *i = &ins[(*n)++];

	*i = (struct insert){ .at = spot->close };
	if (spot->nonempty)
		text_puts(&i->text, ",");
	return i;
}

static void plan_hooks(const struct splice_scan *s, const struct ocitap_wrap_config *cfg, const char *hook,
		       struct insert *ins, size_t *n, struct ocitap_wrap_changes *ch)
{
	struct insert *obj = NULL;

	if (!cfg->stages)
		return;
	if (s->hooks_kind == OCITAP_J_ABSENT) {
		obj = insert_at(ins, n, &s->top);
		text_puts(&obj->text, "\"hooks\":{");
	}
	for (int st = 0; st < OCITAP_STAGE_COUNT; st++) {
		const struct stage_scan *sc = &s->stages[st];
		struct insert *i;

		if (!(cfg->stages & (1u << st)) || sc->has_ours)
			continue;
		if (sc->kind == OCITAP_J_ARRAY) {
			i = insert_at(ins, n, &sc->list);
			text_hook_entry(&i->text, cfg, hook, st);
		} else {
			if (obj && obj->text.len > 0 && obj->text.buf[obj->text.len - 1] != '{')
				text_puts(&obj->text, ",");
			else if (!obj)
				obj = insert_at(ins, n, &s->hooks);
			text_string(&obj->text, NULL, ocitap_stage_to_string(st));
			text_puts(&obj->text, ":[");
			text_hook_entry(&obj->text, cfg, hook, st);
			text_puts(&obj->text, "]");
		}
		ch->hooks_added |= 1u << st;
	}
	if (s->hooks_kind == OCITAP_J_ABSENT)
		text_puts(&obj->text, "}");
}

/* 0, -ENOTSUP where json-c's path would give an error or replace a value. */
static int plan_listener(const struct splice_scan *s, const struct ocitap_wrap_config *cfg, struct insert *ins,
			 size_t *n, struct ocitap_wrap_changes *ch)
{
	const char *socket = cfg->socket ? cfg->socket : ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET);
	const struct seccomp_scan *sec = &s->sec;
	_cleanup_free_ char *meta = NULL;
	struct insert *i;

	if (!cfg->listener || s->linux_kind != OCITAP_J_OBJECT || s->seccomp_kind != OCITAP_J_OBJECT)
		return 0;
	if (!sec->default_notifies && sec->syscalls_kind != OCITAP_J_ABSENT && sec->syscalls_kind != OCITAP_J_NULL &&
	    sec->syscalls_kind != OCITAP_J_ARRAY)
		return -ENOTSUP; /* "linux.seccomp.syscalls: expected an array" */
	if (!sec->default_notifies && !sec->rule_notifies)
		return 0;
	if (sec->path_set)
		return 0;
	if (sec->path_kind != OCITAP_J_ABSENT)
		return -ENOTSUP; /* an empty or odd listenerPath: json-c's path replaces it */
	i = insert_at(ins, n, &sec->obj);
	text_puts(&i->text, "\"listenerPath\":");
	text_string(&i->text, NULL, socket);
	ch->listener_set = true;
	if (sec->meta_set)
		return 0;
	if (cfg->metadata)
		meta = strdup(cfg->metadata);
	else if (cfg->policy && asprintf(&meta, "policy=%s", cfg->policy) < 0)
		meta = NULL;
	if (!meta)
		return cfg->metadata || cfg->policy ? -ENOMEM : 0;
	if (sec->meta_kind != OCITAP_J_ABSENT)
		return -ENOTSUP;
	text_puts(&i->text, ",\"listenerMetadata\":");
	text_string(&i->text, NULL, meta);
	ch->metadata_set = true;
	return 0;
}

static int by_position(const void *a, const void *b)
{
	const struct insert *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

int ocitap_wrap_splice(const char *buf, size_t len, const struct ocitap_wrap_config *cfg, const char *hook,
		       char **ret_text, size_t *ret_len, struct ocitap_wrap_changes *ret)
{
	struct ocitap_jscan sc = { .p = buf, .end = buf + len };
	struct splice_scan s = { 0 };
	struct ocitap_wrap_changes ch = { 0 };
	struct insert ins[MAX_INSERTS];
	size_t n = 0, total = len;
	char *out, *o;
	const char *from = buf;
	int r = 0;

	if (!scan_config(&sc, cfg, hook, &s))
		return -ENOTSUP;
	plan_hooks(&s, cfg, hook, ins, &n, &ch);
	r = plan_listener(&s, cfg, ins, &n, &ch);
	for (size_t i = 0; i < n; i++) {
		if (ins[i].text.failed && r == 0)
			r = -ENOTSUP; /* out of memory, or a string json-c's path writes */
		total += ins[i].text.len;
	}
	if (r < 0 || n == 0) {
		for (size_t i = 0; i < n; i++)
			free(ins[i].text.buf);
		if (r == 0) {
			*ret_text = NULL;
			*ret_len = 0;
			*ret = ch;
		}
		return r;
	}
	qsort(ins, n, sizeof(ins[0]), by_position);
	if (!(out = malloc(total + 1))) {
		for (size_t i = 0; i < n; i++)
			free(ins[i].text.buf);
		return -ENOMEM;
	}
	o = out;
	for (size_t i = 0; i < n; i++) {
		memcpy(o, from, (size_t)(ins[i].at - from));
		o += ins[i].at - from;
		memcpy(o, ins[i].text.buf, ins[i].text.len);
		o += ins[i].text.len;
		from = ins[i].at;
		free(ins[i].text.buf);
	}
	memcpy(o, from, (size_t)(buf + len - from));
	o += buf + len - from;
	*o = '\0';
	*ret_text = out;
	*ret_len = (size_t)(o - out);
	*ret = ch;
	return 0;
}
