/*
 * fuzz_query.c: libFuzzer target for the HTTP API's query string handling
 * (lib/query.h): a raw query string, decoded and checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_query q;

	ocitap_query_init(&q);
	if (ocitap_query_parse_string(&q, (const char *)data, size, &err) == 0) {
		if (q.n_annotations > OCITAP_QUERY_MAX_ANNOTATIONS || q.limit < 1 || q.limit > OCITAP_QUERY_MAX_LIMIT ||
		    q.since < 0 || (q.has_status && q.status >= OCITAP_PHASE_COUNT) ||
		    (q.id && (!*q.id || strlen(q.id) > OCITAP_QUERY_ID_MAX)) ||
		    (q.name && (!*q.name || strlen(q.name) > OCITAP_NAME_MAX)))
			abort();
		(void)ocitap_query_names_match(&q, "web", NULL, "default", "docker");
		for (size_t i = 0; i < q.n_annotations; i++)
			if (!q.ann_key[i] || !*q.ann_key[i])
				abort();
		(void)ocitap_query_annotations_match(&q, "{\"a\": \"b\"}");
	} else if (q.n_annotations > OCITAP_QUERY_MAX_ANNOTATIONS) {
		abort();
	}
	ocitap_query_release(&q);
	return 0;
}
