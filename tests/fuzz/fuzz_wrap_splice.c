/*
 * fuzz_wrap_splice.c: libFuzzer target for the text splice of config.json
 * (ocitap_wrap_splice, lib/runtime-wrap-splice.c). The input is a
 * config.json; its first byte picks the configuration it is edited under.
 * Invariant: the splice declines (-ENOTSUP), or json-c accepts the input,
 * the json-c edit (ocitap_wrap_edit) accepts it, both report the same
 * changes, json-c reads the splice's output as exactly the json-c edit's
 * result, and splicing that output again adds nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "ocitap-private.h"
#include "runtime-wrap.h"

#define HOOK "/usr/local/bin/ocitap-hook"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ocitap_limits wrap_limits = {
	.max_bytes = 64u << 20,
	.max_depth = 64,
	.max_string = 16u << 20,
	.max_annotations = 1u << 20,
	.max_items = 1u << 20,
};

static bool same_changes(const struct ocitap_wrap_changes *a, const struct ocitap_wrap_changes *b)
{
	return a->hooks_added == b->hooks_added && a->listener_set == b->listener_set &&
	       a->metadata_set == b->metadata_set;
}

static void check(const char *buf, size_t len, const struct ocitap_wrap_config *cfg)
{
	struct ocitap_wrap_changes fast = { 0 }, slow = { 0 }, again = { 0 }, none = { 0 };
	json_object *edited = NULL, *spliced = NULL;
	struct ocitap_error err;
	char *out = NULL, *out2 = NULL;
	size_t out_len = 0, out2_len = 0;
	int r = ocitap_wrap_splice(buf, len, cfg, HOOK, &out, &out_len, &fast);

	if (r == -ENOTSUP)
		return;
	if (r < 0)
		abort();
	if (ocitap_json_parse_object(buf, len, &wrap_limits, "config.json", &edited, &err) < 0 ||
	    ocitap_wrap_edit(edited, cfg, HOOK, &slow, &err) < 0 || !same_changes(&fast, &slow))
		abort();
	if (!out) {
		if (!same_changes(&slow, &none))
			abort();
		json_object_put(edited);
		return;
	}
	if (out_len <= len || strlen(out) != out_len ||
	    ocitap_json_parse_object(out, out_len, &wrap_limits, "spliced", &spliced, &err) < 0 ||
	    !json_object_equal(spliced, edited))
		abort();
	if (ocitap_wrap_splice(out, out_len, cfg, HOOK, &out2, &out2_len, &again) != 0 || out2 ||
	    !same_changes(&again, &none))
		abort();
	json_object_put(spliced);
	json_object_put(edited);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_wrap_config cfg;
	unsigned pick = size ? data[0] : 0;

	ocitap_wrap_config_init(&cfg);
	if (pick & 1)
		cfg.stages = pick & 2 ? 0 : (1u << OCITAP_STAGE_COUNT) - 1;
	cfg.listener = !(pick & 4);
	if (pick & 8)
		cfg.socket = strdup("/run/o \"q\" \\.sock");
	if (pick & 16)
		cfg.state_dir = strdup("/var/lib/ocitap");
	if (pick & 32)
		cfg.policy = strdup("deny");
	if (pick & 64)
		cfg.metadata = strdup("policy=x");
	cfg.fail_closed = pick & 128;
	if (size)
		check((const char *)data + 1, size - 1, &cfg);
	ocitap_wrap_config_release(&cfg);
	return 0;
}
