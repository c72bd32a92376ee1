/*
 * http-page.c: GET /, the live page. The page is one static document,
 * inspect/ocitapd/page/index.html, turned into a byte array at build time
 * by scripts/embed-page.sh, which also writes the page's
 * Content-Security-Policy with the SHA-256 of its one inline <style> and
 * one inline <script>: nothing else may run or load, the page may only
 * fetch from its own origin, and Trusted Types forbid every HTML sink
 * (innerHTML and the like), so a container's name can only ever be text.
 *
 * The document holds no data: the route is open (no token asked), and the
 * page's script fetches the API and the event stream with the token it was
 * given (the URL's #token=..., kept in sessionStorage) as a bearer header.
 */
#include <microhttpd.h>

#include "http-internal.h"
#include "metrics.h"
#include "page.h" /* generated: page_html, PAGE_CSP */

enum MHD_Result http_get_page(struct MHD_Connection *conn)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(sizeof(page_html), (void *)page_html, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	metric_add("ocitap_http_requests_total", 1, "code", "200", NULL);
	return r;
}
