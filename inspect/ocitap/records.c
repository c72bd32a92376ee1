/*
 * records.c: ocitap's record of containers for the CLI: the daemon's HTTP
 * API first; its store, opened read-only, when the daemon is down or off.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "event-json.h"
#include "records.h"

static int open_store(const char *state_dir, struct ocitap_store **ret, char *why, size_t why_size)
{
	struct ocitap_error err = { 0 };
	char db[4096];

	snprintf(db, sizeof(db), "%s/ocitap.db", state_dir);
	if (ocitap_store_open(db, OCITAP_STORE_READONLY, ret, &err) < 0) {
		snprintf(why, why_size, "store %.200s: %.250s", db, err.message);
		return -ENOTCONN; /* not -ENOENT: that means "no such container" */
	}
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

int records_list(struct cli_http *h, const char *state_dir, struct json_object **ret, char *how, size_t how_size,
		 char *why, size_t why_size)
{
	struct json_object *page = NULL, *list;
	struct ocitap_error err = { 0 };
	struct ocitap_store *s;
	char daemon_why[1024] = "", store_why[1024] = "";
	long status;
	int r;

	r = cli_http_get_json(h, "/v1/containers", &page, &status, daemon_why, sizeof(daemon_why));
	if (r == 0 && json_object_object_get_ex(page, "containers", &list) &&
	    json_object_is_type(list, json_type_array)) {
		*ret = json_object_get(list);
		json_object_put(page);
		snprintf(how, how_size, "ocitapd at %s", h->addr);
		return 0;
	}
	if (r == 0)
		snprintf(daemon_why, sizeof(daemon_why), "its answer has no \"containers\" array");
	json_object_put(page);
	if ((r = open_store(state_dir, &s, store_why, sizeof(store_why))) == 0) {
		struct stored st = { json_object_new_array(), s };

		r = ocitap_store_foreach_container(s, add_stored, &st, &err);
		ocitap_store_close(s);
		if (r == 0) {
			*ret = st.list;
			snprintf(how, how_size, "the store in %s (ocitapd at %s: %s)", state_dir, h->addr, daemon_why);
			return 0;
		}
		json_object_put(st.list);
		snprintf(store_why, sizeof(store_why), "store: %s", err.message);
	}
	snprintf(why, why_size, "ocitapd at %s: %s; %s", h->addr, daemon_why, store_why);
	return r < 0 ? r : -EIO;
}

int records_get(struct cli_http *h, const char *state_dir, const char *id, struct json_object **ret, char *how,
		size_t how_size, char *why, size_t why_size)
{
	struct json_object *o = NULL;
	struct ocitap_error err = { 0 };
	struct ocitap_store *s;
	char daemon_why[1024] = "", store_why[1024] = "", path[2200];
	char *esc;
	long status = 0;
	int r;

	esc = h->curl ? curl_easy_escape(h->curl, id, 0) : NULL;
	snprintf(path, sizeof(path), "/v1/containers/%s", esc ? esc : id);
	curl_free(esc);
	r = cli_http_get_json(h, path, &o, &status, daemon_why, sizeof(daemon_why));
	if (r == 0) {
		*ret = o;
		snprintf(how, how_size, "ocitapd at %s", h->addr);
		return 0;
	}
	if (r > 0 && status == 404) {
		snprintf(how, how_size, "ocitapd at %s", h->addr);
		return -ENOENT;
	}
	if ((r = open_store(state_dir, &s, store_why, sizeof(store_why))) == 0) {
		r = ocitap_container_detail_json(s, id, -1, &o, &err);
		ocitap_store_close(s);
		snprintf(how, how_size, "the store in %s (ocitapd at %s: %s)", state_dir, h->addr, daemon_why);
		if (r == 0) {
			*ret = o;
			return 0;
		}
		if (r == -ENOENT)
			return -ENOENT;
		snprintf(store_why, sizeof(store_why), "store: %s", err.message);
	}
	snprintf(why, why_size, "ocitapd at %s: %s; %s", h->addr, daemon_why, store_why);
	return r < 0 ? r : -EIO;
}
