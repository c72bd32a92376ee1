/*
 * fuzz_hooksd.c: libFuzzer target for oci-hooks(5) files (both schemas) and
 * Go regular expressions (read as Go does, run on PCRE2), then matching what
 * parsed against a fixed bundle.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

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
	if (strlen(text) == size) {
		if (ocitap_regex_compile(text, &re, &err) == 0) {
			/* a fixed text, and the bytes themselves (often not UTF-8) */
			int a = ocitap_regex_search(&re, "io.ocitap.example=true /bin/sh"),
			    b = ocitap_regex_search(&re, text);

			if ((a != 0 && a != 1 && a != -ERANGE) || (b != 0 && b != 1 && b != -ERANGE))
				abort();
			ocitap_regex_release(&re);
		} else if (re.prog || !err.message[0]) {
			abort(); /* a refusal says why and holds nothing */
		}
	}
	free(text);
	return 0;
}
