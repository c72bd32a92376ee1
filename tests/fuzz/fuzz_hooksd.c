/*
 * fuzz_hooksd.c: libFuzzer target for oci-hooks(5) files (both schemas) and
 * the Go-to-POSIX regular expression translation, then matching what
 * parsed against a fixed bundle.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cfg_json[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"]},"
			       "\"annotations\":{\"io.x\":\"yes\",\"org.y\":\"\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ocitap_config cfg;
	static int have_cfg;
	struct ocitap_hooksd_file f;
	struct ocitap_hooksd_verdict v;
	struct ocitap_regex re;
	struct ocitap_error err;
	char *text;

	if (!have_cfg)
		have_cfg = ocitap_config_parse(cfg_json, strlen(cfg_json), 0, NULL, &cfg, NULL) == 0 ? 1 : -1;
	if (ocitap_hooksd_parse((const char *)data, size, "/fuzz/x.json", &f, &err) == 0) {
		if (!f.hook_path || !f.has_stages)
			abort(); /* validation lets nothing through without them */
		if (have_cfg > 0 && ocitap_hooksd_match(&f, &cfg, size & 1, &v, &err) == 0 &&
		    v.n_reasons > OCITAP_HOOKSD_MAX_REASONS)
			abort();
	}
	ocitap_hooksd_file_release(&f);
	/* the same bytes as a regular expression */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) == size && ocitap_regex_compile(text, &re, &err) == 0) {
		(void)ocitap_regex_search(&re, "io.ocitap.example=true /bin/sh");
		ocitap_regex_release(&re);
	}
	free(text);
	return 0;
}
