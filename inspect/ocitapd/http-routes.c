/*
 * http-routes.c: the HTTP export's route table. Each row is an exact path,
 * or a prefix whose rest (before an optional suffix) is a container id;
 * the first row that matches wins, so the exact paths come first. Pure:
 * no libmicrohttpd, no allocation, no state.
 */
#include <stdbool.h>
#include <string.h>

#include "http-routes.h"
#include "macro.h"

struct route_row {
	const char *path;   /* the exact path, or the prefix before the id */
	bool id;	    /* path is a prefix: the rest is the id */
	const char *suffix; /* id rows: what follows the id (at least one byte of id), or NULL: nothing */
	enum http_endpoint endpoint;
	enum http_store_use store;
	bool no_token; /* no token asked for: the page, which holds no data */
};

static const struct route_row routes[] = {
	{ "/", false, NULL, HTTP_ENDPOINT_PAGE, HTTP_STORE_NONE, true },
	{ "/v1/events/stream", false, NULL, HTTP_ENDPOINT_EVENTS_STREAM, HTTP_STORE_NONE, false },
	{ "/healthz", false, NULL, HTTP_ENDPOINT_HEALTHZ, HTTP_STORE_OPTIONAL, false },
	{ "/metrics", false, NULL, HTTP_ENDPOINT_METRICS, HTTP_STORE_OPTIONAL, false },
	{ "/v1/containers", false, NULL, HTTP_ENDPOINT_CONTAINERS, HTTP_STORE_REQUIRED, false },
	{ "/v1/containers/", false, NULL, HTTP_ENDPOINT_CONTAINERS, HTTP_STORE_REQUIRED, false },
	{ "/v1/events", false, NULL, HTTP_ENDPOINT_EVENTS, HTTP_STORE_REQUIRED, false },
	{ "/v1/containers/", true, "/profile", HTTP_ENDPOINT_PROFILE, HTTP_STORE_REQUIRED, false },
	{ "/v1/containers/", true, "/runs", HTTP_ENDPOINT_RUNS, HTTP_STORE_REQUIRED, false },
	{ "/v1/containers/", true, NULL, HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, false },
};

/* The id's span when path matches row, else false. */
static bool row_matches(const struct route_row *row, const char *path, size_t path_len, const char **ret_id,
			size_t *ret_id_len)
{
	size_t prefix_len = strlen(row->path), suffix_len = row->suffix ? strlen(row->suffix) : 0;

	if (!row->id)
		return strcmp(path, row->path) == 0;
	if (strncmp(path, row->path, prefix_len) != 0)
		return false;
	if (row->suffix &&
	    (path_len <= prefix_len + suffix_len || strcmp(path + path_len - suffix_len, row->suffix) != 0))
		return false;
	*ret_id = path + prefix_len;
	*ret_id_len = path_len - prefix_len - suffix_len;
	return true;
}

void http_route(const char *path, struct http_route *ret)
{
	size_t path_len = strlen(path);

	*ret = (struct http_route){ .endpoint = HTTP_ENDPOINT_NONE, .store = HTTP_STORE_NONE };
	for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
		const char *id = NULL;
		size_t id_len = 0;

		if (row_matches(&routes[i], path, path_len, &id, &id_len)) {
			*ret = (struct http_route){
				.endpoint = routes[i].endpoint,
				.store = routes[i].store,
				.id = id,
				.id_len = id_len,
				.no_token = routes[i].no_token,
			};
			return;
		}
	}
}
