/*
 * fuzz_profile.c: libFuzzer target for the io.containers.trace-syscall
 * annotation, where its paths are placed (ocitap_profile_place(): the
 * profile directory, allowed prefixes, never the container's trees), and
 * for an input profile (if:IN) merged with observed names.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *names[] = { "exit_group", "read", "write", NULL };
	struct ocitap_trace_spec spec;
	struct ocitap_error err;
	char *text, *json = NULL;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ocitap_trace_spec_parse(text, &spec, &err) == 0) {
		static const char *const allow[] = { "/nonexistent/fuzz/allowed", "/nonexistent/fuzz/allowed/team" };
		const struct ocitap_profile_rules rules = {
			.dir = "/nonexistent/fuzz/profiles",
			.allow = allow,
			.n_allow = 2,
			.forbidden = { "/nonexistent/fuzz/allowed/b/rootfs", "/nonexistent/fuzz/allowed/b" }
		};
		struct ocitap_profile_place p;

		/* whatever was accepted is normalised */
		if (ocitap_profile_name_check(spec.out, NULL) != 0 ||
		    (spec.in[0] && ocitap_profile_name_check(spec.in, NULL) != 0))
			abort();
		/* a placed path is strictly beneath an allowed directory, without a
		 * ".." and outside the container's trees */
		if (ocitap_profile_place(&rules, spec.out, &p, NULL) == 0) {
			size_t n = strlen(p.base);

			if ((strcmp(p.base, rules.dir) != 0 && strcmp(p.base, allow[0]) != 0 &&
			     strcmp(p.base, allow[1]) != 0) ||
			    strncmp(p.path, p.base, n) != 0 || p.path[n] != '/' || !p.rel[0] ||
			    ocitap_profile_name_check(p.rel, NULL) != 0 || p.rel[0] == '/' ||
			    strncmp(p.path, "/nonexistent/fuzz/allowed/b/", 28) == 0 ||
			    strcmp(p.path + n + 1, p.rel) != 0)
				abort();
		}
	}
	free(text);
	if (ocitap_profile_build(names, (const char *)data, size, &json, &err) == 0) {
		json_object *o = json_tokener_parse(json), *v;

		if (!o || !json_object_object_get_ex(o, "defaultAction", &v) ||
		    strcmp(json_object_get_string(v), "SCMP_ACT_ERRNO") != 0)
			abort();
		json_object_put(o);
		free(json);
	}
	return 0;
}
