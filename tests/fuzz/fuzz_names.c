/*
 * fuzz_names.c: libFuzzer target for the engines' records a container's
 * name is read from (lib/names.h): the bytes as Docker's config.v2.json,
 * as podman's containers.json, and, split into lines, as a State's
 * annotations (KEY=VALUE) and as the ids and names a command-line
 * reference is resolved against (the first line the reference).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MAX_LINES 32

/* A name kept is 1..OCITAP_NAME_MAX bytes without a control character. */
static void check_name(const char *name)
{
	size_t n;

	if (!name)
		return;
	n = strlen(name);
	if (n == 0 || n > OCITAP_NAME_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			abort();
}

static void records(const char *buf, size_t size)
{
	struct ocitap_error err;
	char *name = NULL;

	if (ocitap_docker_config_name(buf, size, &name, &err) == 0) {
		check_name(name);
		if (!name)
			abort();
		free(name);
		name = NULL;
	} else if (name) {
		abort();
	}
	if (ocitap_podman_containers_name(buf, size, HEX_A, &name, &err) == 0) {
		check_name(name);
		if (!name)
			abort();
		free(name);
	} else if (name) {
		abort();
	}
}

static void lines(char *text)
{
	struct ocitap_annotation ann[MAX_LINES];
	struct ocitap_ref_candidate cand[MAX_LINES];
	struct ocitap_names n = { 0 };
	struct ocitap_error err;
	char *line[MAX_LINES], *save = NULL;
	size_t k = 0, idx = 0, matches[MAX_LINES], n_matches = 0;
	int r;

	for (char *l = strtok_r(text, "\n", &save); l && k < MAX_LINES; l = strtok_r(NULL, "\n", &save))
		line[k++] = l;
	if (k == 0)
		return;
	/* the reference is line 0; each other line an id, or ID NAME */
	for (size_t i = 1; i < k; i++) {
		char *sp = strchr(line[i], ' ');

		cand[i - 1] = (struct ocitap_ref_candidate){ .id = line[i], .live = (i % 3) == 0 };
		if (sp) {
			*sp = '\0';
			cand[i - 1].name = sp + 1;
		}
	}
	r = ocitap_ref_resolve(line[0], cand, k - 1, &idx, matches, &n_matches, &err);
	if (r == 0) {
		const struct ocitap_ref_candidate *c = &cand[idx];

		if (idx >= k - 1 || (strcmp(c->id, line[0]) != 0 && !(c->name && strcmp(c->name, line[0]) == 0) &&
				     (strlen(line[0]) < OCITAP_REF_PREFIX_MIN ||
				      strncmp(c->id, line[0], strlen(line[0])) != 0)))
			abort();
	} else if (r == -ENOTUNIQ) {
		if (n_matches < 2 || n_matches > k - 1)
			abort();
		for (size_t i = 0; i < n_matches; i++)
			if (matches[i] >= k - 1)
				abort();
	} else if (r != -ENOENT && r != -EINVAL) {
		abort();
	}
	/* the same lines as KEY=VALUE annotations (ids and names above were cut at a space) */
	for (size_t i = 0; i < k - 1; i++) {
		char *eq = strchr(cand[i].id, '=');

		ann[i].key = cand[i].id;
		ann[i].value = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
	}
	{
		struct ocitap_names_source src = { .id = line[0], .bundle = line[0], .annotations = ann,
						   .n_annotations = k - 1 };

		if (ocitap_names_from_annotations(&src, &n) < 0)
			abort();
	}
	check_name(n.name);
	check_name(n.pod);
	check_name(n.pod_namespace);
	ocitap_names_release(&n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	records((const char *)data, size);
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* a NUL in the input ends the lines there */
	lines(text);
	free(text);
	return 0;
}
