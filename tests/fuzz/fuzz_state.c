/*
 * fuzz_state.c: libFuzzer target for the State parser. Whatever parses must
 * serialize, and what it serializes must parse again to the same JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_state st, again;
	char *json = NULL, *json2 = NULL;

	for (unsigned flags = 0; flags <= OCITAP_PARSE_STRICT; flags++) {
		if (ocitap_state_parse((const char *)data, size, flags, NULL, &st, &err) < 0) {
			if (err.code >= 0)
				abort(); /* an error must carry a negative errno */
			continue;
		}
		if (!st.id || !st.id[0] || !st.status_text || st.pid < 0 || st.pid > OCITAP_PID_MAX)
			abort();
		if (ocitap_state_to_json(&st, 0, &json, &err) < 0)
			abort();
		if (ocitap_state_parse(json, strlen(json), flags, NULL, &again, &err) < 0)
			abort();
		if (ocitap_state_to_json(&again, 0, &json2, &err) < 0 || strcmp(json, json2) != 0)
			abort();
		ocitap_state_release(&again);
		ocitap_state_release(&st);
		free(json);
		free(json2);
		json = json2 = NULL;
	}
	(void)ocitap_doc_kind_guess((const char *)data, size, NULL);
	return 0;
}
