/*
 * fuzz_config.c: libFuzzer target for the config.json parser: parse,
 * serialize, parse again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_config cfg, again;
	char *json = NULL;

	if (ocitap_config_parse((const char *)data, size, 0, NULL, &cfg, &err) < 0)
		return 0;
	for (int s = 0; s < OCITAP_STAGE_COUNT; s++)
		for (size_t i = 0; i < cfg.n_hooks[s]; i++)
			if (cfg.hooks[s][i].path[0] != '/')
				abort();
	if (cfg.seccomp.listener_metadata && !cfg.seccomp.listener_path)
		abort();
	if (ocitap_config_to_json(&cfg, 0, &json, &err) < 0)
		abort();
	if (ocitap_config_parse(json, strlen(json), 0, NULL, &again, &err) < 0)
		abort();
	ocitap_config_release(&again);
	ocitap_config_release(&cfg);
	free(json);
	return 0;
}
