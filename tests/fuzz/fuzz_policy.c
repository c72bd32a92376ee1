/*
 * fuzz_policy.c: libFuzzer target for the policy file parser and the
 * listenerMetadata "policy=NAME" scanner; a refusal must say what, and the
 * line and column it gives must lie inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_policy_set *set;
	char name[OCITAP_POLICY_NAME_MAX], *text;

	if (ocitap_policy_set_parse((const char *)data, size, NULL, &set, &err) == 0) {
		for (int nr = 0; nr < 8; nr++)
			(void)ocitap_policy_decide(ocitap_policy_set_default(set), 0xc000003e, nr);
		if (ocitap_policy_set_count(set) < 2 || !ocitap_policy_set_find(set, "deny"))
			abort();
		ocitap_policy_set_free(set);
	} else {
		/* every refusal says what; a position it gives lies inside the text */
		const char *at = strstr(err.message, "at line ");
		unsigned line, col;

		if (!err.message[0])
			abort();
		if (at && sscanf(at, "at line %u, column %u", &line, &col) == 2 &&
		    (line < 1 || col < 1 || line > size + 1 || col > size + 1))
			abort();
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ocitap_metadata_policy(text, name, sizeof(name)) == 1 && (name[0] == '\0' || strlen(name) >= sizeof(name)))
		abort();
	free(text);
	return 0;
}
