/*
 * fuzz_profile.c: libFuzzer target for the io.containers.trace-syscall
 * annotation and for an input profile (if:IN) merged with observed names.
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
		/* whatever was accepted is absolute and normalised */
		if (ocitap_profile_path_check(spec.out, NULL) != 0 ||
		    (spec.in[0] && ocitap_profile_path_check(spec.in, NULL) != 0))
			abort();
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
