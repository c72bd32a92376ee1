/*
 * conf.c: the KEY = VALUE lines of ocitap's configuration files
 * (ocitapd.conf(5)), cut in place; see conf.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

void ocitap_conf_reader_init(struct ocitap_conf_reader *r, char *text, size_t size)
{
	r->pos = text;
	r->end = text + size;
	r->lineno = 0;
}

/* s..end without the blanks around it, NUL-terminated at its new end. */
static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

int ocitap_conf_next(struct ocitap_conf_reader *r, const char *path, const char **ret_key, const char **ret_value,
		     struct ocitap_error *err)
{
	while (r->pos < r->end) {
		char *line = r->pos, *nl = memchr(line, '\n', (size_t)(r->end - line));
		char *stop = nl ? nl : r->end, *key, *eq, where[PATH_MAX + 32];

		r->lineno++;
		r->pos = stop + (nl ? 1 : 0);
		snprintf(where, sizeof(where), "%s:%u", path, r->lineno);
		if (memchr(line, '\0', (size_t)(stop - line)))
			return ocitap_error_set(err, -EINVAL, where, "a NUL byte in the line");
		key = trim(line, stop);
		if (!*key || *key == '#')
			continue;
		if (!(eq = strchr(key, '=')))
			return ocitap_error_set(err, -EINVAL, where, "expected KEY = VALUE, got '%s'", key);
		*ret_value = trim(eq + 1, eq + strlen(eq));
		*ret_key = trim(key, eq);
		if (!**ret_key)
			return ocitap_error_set(err, -EINVAL, where, "no key before '='");
		return 1;
	}
	return 0;
}

int ocitap_conf_lookup(char *text, size_t size, const char *path, const char *key, const char **ret_value,
		       struct ocitap_error *err)
{
	struct ocitap_conf_reader r;
	const char *k, *v, *found = NULL;
	int n;

	ocitap_conf_reader_init(&r, text, size);
	while ((n = ocitap_conf_next(&r, path, &k, &v, err)) > 0)
		if (strcmp(k, key) == 0)
			found = v;
	if (n < 0)
		return n;
	if (!found)
		return 0;
	*ret_value = found;
	return 1;
}
