/*
 * test_http_routes.c: the HTTP export's route table
 * (inspect/ocitapd/http-routes.c): every exact path, with and without the
 * trailing slash the API has always taken; /v1/containers/ID with the rest
 * of the path as the id (slashes and all); /v1/containers/ID/profile only
 * with at least one byte of id; what each endpoint needs of the store; "/"
 * (the page) the only route served without the token; and everything else (prefixes, query-less near misses) is no endpoint.
 */
#include "../../inspect/ocitapd/http-routes.h"
#include "testutil.h"

static void assert_route(const char *path, enum http_endpoint endpoint, enum http_store_use store,
			 const char *id)
{
	struct http_route r;

	http_route(path, &r);
	assert_int_equal(r.endpoint, endpoint);
	assert_int_equal(r.store, store);
	assert_int_equal(r.no_token, endpoint == HTTP_ENDPOINT_PAGE);
	if (!id) {
		assert_null(r.id);
		return;
	}
	assert_non_null(r.id);
	assert_int_equal(r.id_len, strlen(id));
	assert_memory_equal(r.id, id, r.id_len);
	assert_true(r.id >= path && r.id + r.id_len <= path + strlen(path)); /* a span of the path */
}

static void test_exact_paths(void **unused)
{
	assert_route("/", HTTP_ENDPOINT_PAGE, HTTP_STORE_NONE, NULL);
	assert_route("/healthz", HTTP_ENDPOINT_HEALTHZ, HTTP_STORE_OPTIONAL, NULL);
	assert_route("/metrics", HTTP_ENDPOINT_METRICS, HTTP_STORE_OPTIONAL, NULL);
	assert_route("/v1/containers", HTTP_ENDPOINT_CONTAINERS, HTTP_STORE_REQUIRED, NULL);
	assert_route("/v1/containers/", HTTP_ENDPOINT_CONTAINERS, HTTP_STORE_REQUIRED, NULL);
	assert_route("/v1/events", HTTP_ENDPOINT_EVENTS, HTTP_STORE_REQUIRED, NULL);
	assert_route("/v1/events/stream", HTTP_ENDPOINT_EVENTS_STREAM, HTTP_STORE_NONE, NULL);
}

static void test_container_ids(void **unused)
{
	assert_route("/v1/containers/abc", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, "abc");
	assert_route("/v1/containers/a/b", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, "a/b");
	assert_route("/v1/containers/abc/profile", HTTP_ENDPOINT_PROFILE, HTTP_STORE_REQUIRED, "abc");
	assert_route("/v1/containers/a/b/profile", HTTP_ENDPOINT_PROFILE, HTTP_STORE_REQUIRED, "a/b");
	assert_route("/v1/containers/x/profile/", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, "x/profile/");
	/* no byte of id before /profile: the id is "/profile" (a 404 from the store) */
	assert_route("/v1/containers//profile", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, "/profile");
	assert_route("/v1/containers/profile", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED, "profile");
	/* the stream's path is not a prefix for anything */
	assert_route("/v1/containers/v1/events/stream", HTTP_ENDPOINT_CONTAINER, HTTP_STORE_REQUIRED,
		     "v1/events/stream");
}

static void test_no_endpoint(void **unused)
{
	static const char *const misses[] = { "",
					      "//",
					      "/index.html",
					      "/healthz/",
					      "/metrics/",
					      "/HEALTHZ",
					      "/v1",
					      "/v1/",
					      "/v1/container",
					      "/v1/containersX",
					      "/v1/events/",
					      "/v1/events/stream/",
					      "/v1/events/streamx",
					      "/v2/containers",
					      "//v1/containers" };

	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		assert_route(misses[i], HTTP_ENDPOINT_NONE, HTTP_STORE_NONE, NULL);
	assert_non_null(strstr(HTTP_ROUTES_NOT_FOUND, "/v1/containers/ID/profile"));
	assert_non_null(strstr(HTTP_ROUTES_NOT_FOUND, "GET /, "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_paths),
		cmocka_unit_test(test_container_ids),
		cmocka_unit_test(test_no_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
