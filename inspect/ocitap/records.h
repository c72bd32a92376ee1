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
#include "ocitap-private.h"

/*
 * Every container: *ret is a JSON array (the caller owns it). how says
 * where it came from ("ocitapd at 127.0.0.1:9476", "the store in DIR
 * (ocitapd not reachable: ...)"). A negative errno, with err naming both
 * sources and what each said, when neither answered.
 */
int records_list(struct cli_http *h, const char *state_dir, struct json_object **ret, char *how, size_t how_size,
		 struct ocitap_error *err);

/*
 * ocitapd's store in state_dir, opened read-only: 0 with *ret; else
 * -ENOTCONN (not -ENOENT, which means "no such container") with err saying
 * why in words an operator can act on: permission denied (and what to do),
 * no store there, or what SQLite said.
 */
int records_store_open(const char *state_dir, struct ocitap_store **ret, struct ocitap_error *err);

/* One run of a container (the latest when run is 0) with its timeline and
 * notifications; -ENOENT when neither
 * source knows it (how still says which source was asked); another negative
 * errno, with err, when neither could be read. */
int records_get(struct cli_http *h, const char *state_dir, const char *id, int64_t run, struct json_object **ret,
		char *how, size_t how_size, struct ocitap_error *err);

/*
 * What a container argument (an id, a name, or an id prefix of at least 3
 * characters: ocitap_ref_resolve()) may mean: every container of ocitap's
 * record (records_list; its latest run's name), and ids other sources
 * know (records_refs_add: the runtimes'). Release with records_refs_release.
 */
struct records_refs {
	struct json_object *records;	    /* NULL when the record could not be read */
	struct ocitap_ref_candidate *cands; /* borrowed from records, and the extra ids */
	char **extra;
	size_t n, n_extra;
};

/* Load ocitap's record; a record that cannot be read leaves only the extra ids. 0 or -ENOMEM. */
int records_refs_load(struct records_refs *refs, struct cli_http *h, const char *state_dir);
/* Another source's container (copied), unless the record has it; live: not stopped. */
int records_refs_add(struct records_refs *refs, const char *id, bool live);
/*
 * The id ref means: 0 with *ret_id (borrowed from refs); -ENOENT when no
 * candidate matches (the caller goes on with ref as an id, and says it is
 * unknown as it would); -EINVAL for a prefix under 3 characters that is no
 * id or name, -ENOTUNIQ when several match, each with err saying so (and
 * listing them).
 */
int records_refs_resolve(const struct records_refs *refs, const char *ref, const char **ret_id,
			 struct ocitap_error *err);
void records_refs_release(struct records_refs *refs);

/* The exit status for a records_refs_resolve() failure other than -ENOENT:
 * a short prefix is a bad command line, an ambiguous one a failure. */
int records_refs_exit_status(int r);

#endif
