/*
 * fuzz_report.c: libFuzzer target for the hook report wire format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_hook_report rep, back;
	char *json;

	if (ocitap_hook_report_parse((const char *)data, size, NULL, &rep, &err) < 0)
		return 0;
	if ((unsigned)rep.stage >= OCITAP_STAGE_COUNT || !rep.state.id)
		abort();
	if (ocitap_hook_report_to_json(&rep, &json, &err) < 0)
		abort();
	if (ocitap_hook_report_parse(json, strlen(json), NULL, &back, &err) < 0 || back.stage != rep.stage)
		abort();
	ocitap_hook_report_release(&back);
	ocitap_hook_report_release(&rep);
	free(json);
	return 0;
}
