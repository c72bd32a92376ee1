/*
 * http-routes.h: which endpoint of the HTTP export a request's path names
 * (http-routes.c), as a table with no libmicrohttpd in it, so that it is
 * tested on its own (tests/unit/test_http_routes.c). http.c answers the
 * endpoint; this only tells which one it is, whether it reads the store,
 * and where the container id is in the path.
 */
#ifndef OCITAPD_HTTP_ROUTES_H
#define OCITAPD_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

enum http_endpoint {
	HTTP_ENDPOINT_NONE,	     /* no such endpoint: 404 with HTTP_ROUTES_NOT_FOUND */
	HTTP_ENDPOINT_PAGE,	     /* GET /: the live page (http-page.c) */
	HTTP_ENDPOINT_HEALTHZ,	     /* GET /healthz */
	HTTP_ENDPOINT_METRICS,	     /* GET /metrics */
	HTTP_ENDPOINT_CONTAINERS,    /* GET /v1/containers (or /v1/containers/) */
	HTTP_ENDPOINT_CONTAINER,     /* GET /v1/containers/ID */
	HTTP_ENDPOINT_PROFILE,	     /* GET /v1/containers/ID/profile */
	HTTP_ENDPOINT_RUNS,	     /* GET /v1/containers/ID/runs */
	HTTP_ENDPOINT_EVENTS,	     /* GET /v1/events */
	HTTP_ENDPOINT_EVENTS_STREAM, /* GET /v1/events/stream */
};

/* What an endpoint needs of the connection's read-only store. */
enum http_store_use {
	HTTP_STORE_NONE,     /* none (the stream opens its own) */
	HTTP_STORE_OPTIONAL, /* read if it opens; the endpoint says so if not */
	HTTP_STORE_REQUIRED, /* 503 when it cannot be opened */
};

struct http_route {
	enum http_endpoint endpoint;
	enum http_store_use store;
	const char *id; /* CONTAINER, PROFILE, RUNS: the id's first byte, inside the path given; else NULL */
	size_t id_len;	/* its length (the path is not cut) */
	bool no_token;	/* served without the bearer token: it holds no data (the page) */
};

/* The text of the 404 for a path that names no endpoint. */
#define HTTP_ROUTES_NOT_FOUND                                                                                      \
	"no such endpoint (GET /, /healthz, /metrics, /v1/containers, /v1/containers/ID, /v1/containers/ID/runs, " \
	"/v1/containers/ID/profile, /v1/events, /v1/events/stream)"

/*
 * The endpoint path (a request's URL without its query) names, by exact
 * paths first ("/" is the page, the only route served without the token), then /v1/containers/ID/profile and .../runs,
 * then /v1/containers/ID (the rest of the path is the id, slashes and all). Never fails: an unknown path is
 * HTTP_ENDPOINT_NONE. ret->id points into path.
 */
void http_route(const char *path, struct http_route *ret);

#endif
