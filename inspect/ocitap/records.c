/*
 * records.c: ocitap's record of containers for the CLI: the daemon's HTTP
 * API first; its store, opened read-only, when the daemon is down or off.
 * And which container an argument (an id, a name, an id prefix) means.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "event-json.h"
#include "records.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocitap_store *, ocitap_store_close);

int records_store_open(const char *state_dir, struct ocitap_store **ret, struct ocitap_error *err)
{
	char db[4096];

	snprintf(db, sizeof(db), "%s/" OCITAP_STATE_DB_NAME, state_dir);
	/* SQLite says only "unable to open database file": say why, and what to do */
	if (access(db, R_OK) < 0 && (errno == EACCES || errno == EPERM))
		return ocitap_error_set(err, -ENOTCONN, NULL,
					"cannot open the store %.200s: permission denied (ocitapd keeps it root's: "
					"run as root, or ask the daemon: its HTTP API on a TCP address, the "
					"default " OCITAP_DEFAULT_HTTP ", answers any local user)",
					db);
	if (access(db, F_OK) < 0 && errno == ENOENT)
		return ocitap_error_set(err, -ENOTCONN, NULL,
					"no store at %.200s (no ocitapd has run with --state-dir %.200s)", db,
					state_dir);
	if (ocitap_store_open(db, OCITAP_STORE_READONLY, ret, err) < 0)
		return ocitap_error_wrap(err, -ENOTCONN, "store %.200s", db);
	return 0;
}

struct stored {
	struct json_object *list;
	struct ocitap_store *store; /* for each container's last event */
};

static int add_stored(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	struct stored *st = userdata;

	(void)stopped_wall_ns;
	json_object_array_add(st->list, ocitap_container_json(c, st->store, -1));
	return 0;
}

/* Every container in the store, as the API gives them. */
static int read_store(const char *state_dir, struct json_object **ret, struct ocitap_error *err)
{
	_cleanup_(ocitap_store_closep) struct ocitap_store *s = NULL;
	_cleanup_(json_object_putp) struct json_object *list = NULL;
	struct stored st;
	int r;

	r = records_store_open(state_dir, &s, err);
	if (r < 0)
		return r;
	list = json_object_new_array();
	st = (struct stored){ list, s };
	r = ocitap_store_foreach_container(s, add_stored, &st, err);
	if (r < 0)
		return ocitap_error_wrap(err, r, "store");
	*ret = TAKE_PTR(list);
	return 0;
}

int records_list(struct cli_http *h, const char *state_dir, struct json_object **ret, char *how, size_t how_size,
		 struct ocitap_error *err)
{
	_cleanup_(json_object_putp) struct json_object *page = NULL;
	struct ocitap_error daemon_err = { 0 }, store_err = { 0 };
	struct json_object *list;
	int r;

	r = cli_http_get_json(h, "/v1/containers", &page, &daemon_err);
	if (r == 0 && json_object_object_get_ex(page, "containers", &list) &&
	    json_object_is_type(list, json_type_array)) {
		*ret = json_object_get(list);
		snprintf(how, how_size, "ocitapd at %s", h->addr);
		return 0;
	}
	if (r == 0)
		ocitap_error_set(&daemon_err, -EBADMSG, NULL, "its answer has no \"containers\" array");
	r = read_store(state_dir, ret, &store_err);
	if (r == 0) {
		snprintf(how, how_size, "the store in %s (ocitapd at %s: %s)", state_dir, h->where, daemon_err.message);
		return 0;
	}
	return ocitap_error_set(err, r, NULL, "ocitapd at %s: %s; %s", h->where, daemon_err.message, store_err.message);
}

int records_get(struct cli_http *h, const char *state_dir, const char *id, int64_t run, struct json_object **ret,
		char *how, size_t how_size, struct ocitap_error *err)
{
	_cleanup_(ocitap_store_closep) struct ocitap_store *s = NULL;
	_cleanup_(curl_freep) char *esc = h->curl ? curl_easy_escape(h->curl, id, 0) : NULL;
	struct ocitap_error daemon_err = { 0 }, store_err = { 0 };
	char path[2200];
	int r;

	if (run > 0)
		snprintf(path, sizeof(path), "/v1/containers/%s?run=%lld", esc ? esc : id, (long long)run);
	else
		snprintf(path, sizeof(path), "/v1/containers/%s", esc ? esc : id);
	r = cli_http_get_json(h, path, ret, &daemon_err);
	if (r == 0 || r == -ENOENT) { /* found, or the daemon does not track it */
		snprintf(how, how_size, "ocitapd at %s", h->addr);
		return r;
	}
	r = records_store_open(state_dir, &s, &store_err);
	if (r == 0) {
		snprintf(how, how_size, "the store in %s (ocitapd at %s: %s)", state_dir, h->where, daemon_err.message);
		r = ocitap_container_detail_json(s, id, run, -1, ret, &store_err);
		if (r == 0 || r == -ENOENT)
			return r;
		ocitap_error_prefix(&store_err, "store");
	}
	return ocitap_error_set(err, r, NULL, "ocitapd at %s: %s; %s", h->where, daemon_err.message, store_err.message);
}

/* ---- container arguments ---- */

static bool status_live(const char *status)
{
	return status && strcmp(status, "stopped") != 0 && strcmp(status, "failed") != 0 &&
	       strcmp(status, "unknown") != 0;
}

static int refs_grow(struct records_refs *refs)
{
	struct ocitap_ref_candidate *c = realloc(refs->cands, (refs->n + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	refs->cands = c;
	return 0;
}

int records_refs_load(struct records_refs *refs, struct cli_http *h, const char *state_dir)
{
	struct ocitap_error err = { 0 };
	char how[768];

	*refs = (struct records_refs){ 0 };
	if (records_list(h, state_dir, &refs->records, how, sizeof(how), &err) < 0)
		return 0; /* nothing to match against: the id is taken as it is */
	for (size_t i = 0; i < json_object_array_length(refs->records); i++) {
		struct json_object *c = json_object_array_get_idx(refs->records, i);
		const char *id = cli_json_string(c, "id"), *status = cli_json_string(c, "status");

		if (!id)
			continue;
		if (refs_grow(refs) < 0)
			return -ENOMEM;
		refs->cands[refs->n++] = (struct ocitap_ref_candidate){
			.id = id, .name = cli_json_string(c, "name"), .status = status, .live = status_live(status)
		};
	}
	return 0;
}

int records_refs_add(struct records_refs *refs, const char *id, bool live)
{
	char **extra, *copy;

	for (size_t i = 0; i < refs->n; i++)
		if (strcmp(refs->cands[i].id, id) == 0)
			return 0;
	extra = realloc(refs->extra, (refs->n_extra + 1) * sizeof(*extra));
	if (!extra)
		return -ENOMEM;
	refs->extra = extra;
	if (refs_grow(refs) < 0 || !(copy = strdup(id)))
		return -ENOMEM;
	refs->extra[refs->n_extra++] = copy;
	refs->cands[refs->n++] = (struct ocitap_ref_candidate){ .id = copy, .live = live };
	return 0;
}

int records_refs_resolve(const struct records_refs *refs, const char *ref, const char **ret_id,
			 struct ocitap_error *err)
{
	size_t i;
	int r = ocitap_ref_resolve(ref, refs->cands, refs->n, &i, NULL, NULL, err);

	if (r == 0)
		*ret_id = refs->cands[i].id;
	return r;
}

void records_refs_release(struct records_refs *refs)
{
	for (size_t i = 0; i < refs->n_extra; i++)
		free(refs->extra[i]);
	free(refs->extra);
	free(refs->cands);
	json_object_put(refs->records);
	*refs = (struct records_refs){ 0 };
}

int records_refs_exit_status(int r)
{
	return r == -EINVAL ? EXIT_USAGE : EXIT_INVALID;
}
