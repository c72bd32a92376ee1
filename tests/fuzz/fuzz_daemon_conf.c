/*
 * fuzz_daemon_conf.c: libFuzzer target for ocitapd's config file,
 * ocitapd.conf(5) (options_apply_config in inspect/ocitapd/options.c): the
 * bytes as the file's text over the defaults.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../inspect/ocitapd/ocitapd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *argv[] = { "ocitapd", "--config", "off", NULL };
	struct ocitapd_options o;
	struct ocitap_error err = { 0 };
	char *text = malloc(size + 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (options_parse(&o, 3, argv, NULL, &err) != OPTIONS_RUN)
		abort();
	r = options_apply_config(&o, text, size, "fuzz.conf", &err);
	/* an error names the file and the line; a success keeps the limits */
	if (r < 0 && (r != err.code || strncmp(err.field, "fuzz.conf:", 10) != 0))
		abort();
	if (r == 0 && (o.n_push > OCITAPD_MAX_PUSH || o.n_allow > OCITAPD_MAX_ALLOW_UIDS ||
		       o.n_profile_allow > OCITAP_PROFILE_ALLOW_MAX || o.socket_mode > 0777))
		abort();
	free(text);
	return 0;
}
