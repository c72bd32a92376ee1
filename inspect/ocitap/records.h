/*
 * records.h: what ocitap recorded about containers, from ocitapd's HTTP API
 * or, when the daemon is not reachable, from a read-only open of its store:
 * the same JSON either way (event-json.h).
 */
#ifndef OCITAP_RECORDS_H
#define OCITAP_RECORDS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/*
 * Every container: *ret is a JSON array (the caller owns it). how says
 * where it came from ("ocitapd at 127.0.0.1:9476", "the store in DIR
 * (ocitapd not reachable: ...)"). A negative errno, with err naming both
 * sources and what each said, when neither answered.
 */
int records_list(struct cli_http *h, const char *state_dir, struct json_object **ret, char *how, size_t how_size,
		 struct ocitap_error *err);

/* One run of a container (the latest when run is 0) with its timeline and
 * notifications; -ENOENT when neither
 * source knows it (how still says which source was asked); another negative
 * errno, with err, when neither could be read. */
int records_get(struct cli_http *h, const char *state_dir, const char *id, int64_t run, struct json_object **ret,
		char *how, size_t how_size, struct ocitap_error *err);

#endif
