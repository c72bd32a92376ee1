/*
 * fuzz_wrap.c: libFuzzer target for ocitap-runtime's inputs
 * (lib/runtime-wrap.h): the input as runtime.json, and as a bundle's
 * config.json edited with the defaults and with the input's own
 * configuration. Invariants: what was edited serializes and parses again,
 * and editing it a second time changes nothing (no hook added twice, no
 * listener set over one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "ocitap-private.h"
#include "runtime-wrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void edit_twice(const char *buf, size_t size, const struct ocitap_wrap_config *cfg)
{
	json_object *config = NULL, *again = NULL;
	struct ocitap_wrap_changes ch;
	struct ocitap_error err;
	const char *text;

	if (ocitap_json_parse_object(buf, size, NULL, "config.json", &config, &err) < 0)
		return;
	if (ocitap_wrap_edit(config, cfg, "/usr/local/bin/ocitap-hook", &ch, &err) == 0) {
		text = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!text || ocitap_json_parse_object(text, strlen(text), NULL, "again", &again, &err) < 0)
			abort();
		if (ocitap_wrap_edit(again, cfg, "/usr/local/bin/ocitap-hook", &ch, &err) < 0 || ch.hooks_added ||
		    ch.listener_set || ch.metadata_set)
			abort();
		json_object_put(again);
	}
	json_object_put(config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ocitap_wrap_config cfg;
	struct ocitap_error err;

	ocitap_wrap_config_init(&cfg);
	edit_twice(buf, size, &cfg);
	if (ocitap_wrap_config_parse(buf, size, &cfg, &err) == 0) {
		if (cfg.hook && cfg.hook[0] != '/')
			abort();
		edit_twice("{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}}", 60, &cfg);
	}
	ocitap_wrap_config_release(&cfg);
	return 0;
}
