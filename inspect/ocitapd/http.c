/*
 * http.c: the HTTP export's server (libmicrohttpd): the listening socket
 * (TCP or unix), the bearer token, a context per connection, and
 * on_request(), which checks the method, the body and the token and
 * dispatches by the route table (http-routes.c) to the handlers of
 * http-api.c, http-stream.c and http-page.c; answers kept ready are
 * http-answers.c's. Every request runs on libmicrohttpd's
 * threads, one per connection, and reads the store through a read-only
 * SQLite connection taken from a small pool for the time of the request
 * (WAL: readers never block the store thread) or the metrics table (metrics.c); nothing here touches the event loop,
 * so no client, however slow, delays a notification. All of it hangs off
 * one struct http_server, libmicrohttpd's callbacks' cls.
 *
 *   GET /                             the live page (http-page.c): no data in it, so no token asked
 *   GET /healthz                      what works: store, listener, BPF
 *   GET /v1/containers                the latest run of each; ?status=S|failed  ?annotation=K=V (repeatable)
 *   GET /v1/containers/{id}           its latest run (?run=N: another) with its timeline and notification counts
 *   GET /v1/containers/{id}/runs      every run of the id, oldest first
 *   GET /v1/containers/{id}/profile   the seccomp profile of a traced container's syscalls so far
 *   GET /v1/events                    ?since=SEQ ?limit=N ?id=ID ?run=N
 *   GET /v1/events/stream             Server-Sent Events; resumes after Last-Event-ID (or ?since=)
 *   GET /metrics                      Prometheus text format
 *
 * Errors are JSON: {"error": "...", "status": N}, and close the connection.
 * Paths are never opened from a request; ids are matched against the store
 * only. A path holding a control character, raw or escaped (%00, %0a), is
 * refused before it is unescaped (400): libmicrohttpd would cut it at a NUL.
 *
 * Fairness: at most MAX_CONNECTIONS connections, of which at most
 * HTTP_MAX_STREAMS event streams, so /healthz, /metrics and the API always
 * have connections left; a connection idle for CONN_TIMEOUT_S is closed.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "http-internal.h"
#include "http-routes.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"

/* Room for the event streams and for a burst of clients that connect and
 * drop at once (120 in tests/integration/http-fairness.sh): at 64,
 * such a burst took every place and a /healthz in the middle of it was
 * accepted and closed unanswered. A thread each, 256 KiB of stack mapped. */
#define MAX_CONNECTIONS 256
#define LISTEN_BACKLOG	MAX_CONNECTIONS
#define CONN_TIMEOUT_S                                                                                \
	10 /* a connection that says nothing for this long is closed (streams: HTTP_STREAM_TIMEOUT_S) \
	    */
#define MAX_TOKEN 4096
#define HTTP_NICE 10

/* ---- listening ------------------------------------------------------------ */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* The listening fd; s->unix_path remembers the file to unlink at the stop. */
static int listen_unix(struct http_server *s, const char *path, struct ocitap_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/')
		return ocitap_error_set(err, -EINVAL, NULL,
					"--http unix:%s: need an absolute path shorter than %zu bytes", path,
					sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot listen on unix:%s: %s", path, strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot listen on unix:%s: %s", path, strerror(errno));
	s->unix_path = strdup(path);
	return TAKE_FD(fd);
}

static void freeaddrinfop(struct addrinfo **res)
{
	if (*res)
		freeaddrinfo(*res);
}

/* ADDR is HOST:PORT, [V6]:PORT or :PORT (every address). */
static int listen_tcp(const char *addr, bool *ret_loopback, struct ocitap_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	_cleanup_(freeaddrinfop) struct addrinfo *res = NULL;
	_cleanup_close_ int fd = -1;
	char host[256];
	const char *port = strrchr(addr, ':');
	size_t hl;
	int r, one = 1;

	if (!port || !port[1] || strspn(port + 1, "0123456789") != strlen(port + 1))
		return ocitap_error_set(err, -EINVAL, NULL,
					"--http %s: expected HOST:PORT, [IPV6]:PORT, unix:/PATH or off", addr);
	hl = (size_t)(port - addr);
	if (hl >= sizeof(host))
		return ocitap_error_set(err, -EINVAL, NULL, "--http %s: host name too long", addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	r = getaddrinfo(host[0] ? host : NULL, port + 1, &hints, &res);
	if (r != 0)
		return ocitap_error_set(err, -EINVAL, NULL, "--http %s: %s", addr, gai_strerror(r));
	*ret_loopback = is_loopback(res->ai_addr);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot listen on %s: %s", addr, strerror(errno));
	return TAKE_FD(fd);
}

static int read_token(struct http_server *s, const char *path, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[MAX_TOKEN + 2];
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "--http-token-file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 0004))
		log_msg(LOG_WARN, "--http-token-file %s is readable by every user", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return ocitap_error_set(err, -EIO, NULL, "--http-token-file %s: %s", path, strerror(errno));
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0 || n > MAX_TOKEN || strpbrk(buf, " \t\r\n"))
		return ocitap_error_set(err, -EINVAL, NULL,
					"--http-token-file %s: expected one token of 1 to %d characters, no spaces",
					path, MAX_TOKEN);
	s->token = strdup(buf);
	return s->token ? 0 : ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

/* ---- replies -------------------------------------------------------------- */

enum MHD_Result http_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result r;
	char code[16];

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ocitapd\"");
	/* the slot goes back at once: a client that sent garbage, or was turned
	 * away (503), and never reads the answer holds nothing */
	if (status >= 400)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	snprintf(code, sizeof(code), "%u", status);
	metric_add("ocitap_http_requests_total", 1, "code", code, NULL);
	return r;
}

/* o (taken) as one line of JSON in a new buffer; NULL: out of memory. */
char *http_json_body(struct json_object *o, size_t *ret_len)
{
	const char *text = json_object_to_json_string_ext(o, HTTP_JSON_FLAGS);
	size_t len = strlen(text);
	char *body = malloc(len + 2);

	if (body) {
		memcpy(body, text, len);
		body[len++] = '\n';
		body[len] = '\0';
		*ret_len = len;
	}
	json_object_put(o);
	return body;
}

enum MHD_Result http_reply_json(struct MHD_Connection *conn, unsigned status, struct json_object *o)
{
	size_t len = 0;
	char *body = http_json_body(o, &len);

	return body ? http_reply(conn, status, "application/json", body, len) : MHD_NO;
}

enum MHD_Result http_reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	return http_reply_json(conn, status, o);
}

/* the cache's own reference to a kept answer (http-cache.c) */
static void drop_response(void *value)
{
	MHD_destroy_response(value); /* freed once the last connection sending it is done */
}

/* ---- live notify fds (written by the event loop, read by requests) ---- */

void http_set_notify_fds(struct http_server *s, const char *id, int n, const char *policies)
{
	size_t i;

	if (!s)
		return;
	pthread_mutex_lock(&s->live_lock);
	for (i = 0; i < s->n_live && strcmp(s->live[i].id, id) != 0; i++)
		;
	if (i < s->n_live && n > 0) {
		s->live[i].n = n;
		free(s->live[i].policies);
		s->live[i].policies = policies ? strdup(policies) : NULL;
	} else if (i < s->n_live) {
		free(s->live[i].id);
		free(s->live[i].policies);
		s->live[i] = s->live[--s->n_live];
	} else if (n > 0) {
		if (s->n_live == s->cap_live) {
			size_t cap = s->cap_live ? s->cap_live * 2 : 32;
			struct http_live_fds *v = realloc(s->live, cap * sizeof(*v));

			if (!v)
				goto out; /* the count is only informative */
			s->live = v;
			s->cap_live = cap;
		}
		s->live[s->n_live].id = strdup(id);
		s->live[s->n_live].policies = policies ? strdup(policies) : NULL;
		if (s->live[s->n_live].id)
			s->live[s->n_live++].n = n;
		else
			free(s->live[s->n_live].policies);
	}
out:
	/* after the change: an answer kept under the old generation may show it,
	 * none under the new one can miss it */
	__atomic_add_fetch(&s->live_changes, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->live_lock);
}

void http_add_live_policies(struct http_server *s, const char *id, struct json_object *o)
{
	struct json_object *list = NULL, *v, *pick = NULL;

	if (!json_object_object_get_ex(o, "notifyFds", &v) || json_object_get_int(v) <= 0)
		return;
	pthread_mutex_lock(&s->live_lock);
	for (size_t i = 0; i < s->n_live; i++)
		if (strcmp(s->live[i].id, id) == 0) {
			if (s->live[i].policies)
				list = json_tokener_parse(s->live[i].policies);
			break;
		}
	pthread_mutex_unlock(&s->live_lock);
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *fd = json_object_array_get_idx(list, i);

		if (!pick || (json_object_object_get_ex(fd, "init", &v) && json_object_get_boolean(v)))
			pick = fd;
	}
	if (pick) {
		static const char *const keys[] = { "policy", "policyFallback", "policyRequested" };

		for (size_t k = 0; k < 3; k++)
			json_object_object_add(
				o, keys[k], json_object_object_get_ex(pick, keys[k], &v) ? json_object_get(v) : NULL);
	}
	json_object_object_add(o, "notifyFdPolicies", list);
}

int http_live_notify_fds(struct http_server *s, const char *id)
{
	int n = 0;

	pthread_mutex_lock(&s->live_lock);
	for (size_t i = 0; i < s->n_live; i++)
		if (strcmp(s->live[i].id, id) == 0) {
			n = s->live[i].n;
			break;
		}
	pthread_mutex_unlock(&s->live_lock);
	return n;
}

/* ---- query arguments --------------------------------------------------------- */

struct query_ctx {
	struct ocitap_query *q;
	struct ocitap_error err;
	int r;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_ctx *c = cls;

	c->r = ocitap_query_add(c->q, key, value, &c->err);
	return c->r < 0 ? MHD_NO : MHD_YES;
}

bool http_read_query(struct MHD_Connection *conn, struct ocitap_query *q, enum MHD_Result *ret)
{
	struct query_ctx c = { .q = q };
	char line[512];

	ocitap_query_init(q);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &c);
	if (c.r < 0) {
		*ret = http_reply_error(conn, MHD_HTTP_BAD_REQUEST, "%s",
					ocitap_error_format(&c.err, line, sizeof(line)));
		ocitap_query_release(q);
		return false;
	}
	return true;
}

/* ---- requests ------------------------------------------------------------------- */

/* ---- the store connections' pool ------------------------------------------------- */

int http_store_take(struct http_server *s, struct ocitap_store **ret, struct ocitap_error *err)
{
	struct timespec until;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&s->pool_lock);
	while (s->n_idle == 0 && s->n_open >= HTTP_STORE_POOL)
		if (pthread_cond_timedwait(&s->pool_returned, &s->pool_lock, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->pool_lock);
			return ocitap_error_set(err, -EBUSY, NULL, "all %d store connections busy for 5 s",
						HTTP_STORE_POOL);
		}
	if (s->n_idle) {
		*ret = s->idle[--s->n_idle];
		pthread_mutex_unlock(&s->pool_lock);
		return 0;
	}
	s->n_open++;
	pthread_mutex_unlock(&s->pool_lock);
	r = ocitap_store_open(s->cfg->db_path, OCITAP_STORE_READONLY, ret, err);
	if (r < 0) {
		pthread_mutex_lock(&s->pool_lock);
		s->n_open--;
		pthread_cond_signal(&s->pool_returned);
		pthread_mutex_unlock(&s->pool_lock);
	}
	return r;
}

void http_store_give(struct http_server *s, struct ocitap_store *store)
{
	if (!store)
		return;
	pthread_mutex_lock(&s->pool_lock);
	s->idle[s->n_idle++] = store; /* n_idle <= n_open <= HTTP_STORE_POOL */
	pthread_cond_signal(&s->pool_returned);
	pthread_mutex_unlock(&s->pool_lock);
}

static bool authorized(struct http_server *s, struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n, want;
	unsigned char diff = 0;

	if (!s->token)
		return true;
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	v += 7;
	n = strlen(v);
	want = strlen(s->token);
	/* the same time whatever the prefix matched */
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)(s->token[i] ^ (i < n ? v[i] : 0));
	return diff == 0 && n == want;
}

/* This connection's thread yields to the notification loop when the CPUs
 * are busy: HTTP load must not slow containers down. */
static void nice_connection(struct http_conn_ctx *cc)
{
	if (cc && !cc->niced) {
		setpriority(PRIO_PROCESS, (id_t)gettid(), HTTP_NICE);
		cc->niced = true;
	}
}

/* The endpoint route names, with the store it needs. */
static enum MHD_Result dispatch_endpoint(struct http_server *s, struct MHD_Connection *conn,
					 const struct http_route *route, struct ocitap_store *store, const char *why,
					 const struct http_cache_ticket *t)
{
	switch (route->endpoint) {
	case HTTP_ENDPOINT_PAGE:
		return http_get_page(conn);
	case HTTP_ENDPOINT_EVENTS_STREAM:
		return http_get_stream(s, conn);
	case HTTP_ENDPOINT_HEALTHZ:
		return http_get_healthz(s, conn, store, why);
	case HTTP_ENDPOINT_METRICS:
		return http_get_metrics(s, conn, store);
	case HTTP_ENDPOINT_EVENTS:
		return http_get_events(s, conn, store);
	case HTTP_ENDPOINT_CONTAINERS:
		return http_get_containers(s, conn, store, t);
	case HTTP_ENDPOINT_PROFILE:
		return http_get_profile(s, conn, route->id, route->id_len);
	case HTTP_ENDPOINT_CONTAINER:
		return http_get_container(s, conn, store, route->id, t);
	case HTTP_ENDPOINT_RUNS:
		return http_get_container_runs(s, conn, store, route->id, route->id_len);
	case HTTP_ENDPOINT_NONE:
		break;
	}
	return http_reply_error(conn, MHD_HTTP_NOT_FOUND, HTTP_ROUTES_NOT_FOUND);
}

/* The endpoint route names, with a store connection of the pool for the
 * time of the handler (the replies are built before it returns). */
static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *conn, const struct http_route *route)
{
	struct ocitap_error err = { 0 };
	struct ocitap_store *store = NULL;
	struct http_cache_ticket ticket = { 0 };
	char why[512] = "";
	enum MHD_Result r;

	/* a hook told its report is recorded (answered from the journal) is
	 * in every answer read after: its commit is waited for (1 s at most) */
	if (route->store == HTTP_STORE_REQUIRED && s->cfg->writer) /* not /healthz, /metrics: how it is now */
		(void)writer_await_early(s->cfg->writer, 1000);
	/* a kept answer needs no store connection */
	if (route->endpoint == HTTP_ENDPOINT_CONTAINERS || route->endpoint == HTTP_ENDPOINT_CONTAINER) {
		http_cache_ticket_make(s, conn, route, &ticket);
		if (http_cache_serve(s, conn, &ticket, &r))
			return r;
	}
	if (route->store != HTTP_STORE_NONE && http_store_take(s, &store, &err) < 0)
		ocitap_error_format(&err, why, sizeof(why));
	if (route->store == HTTP_STORE_REQUIRED && !store)
		r = http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", why);
	else
		r = dispatch_endpoint(s, conn, route, store, why, &ticket);
	http_store_give(s, store);
	if (ticket.builder)
		http_cache_built(&s->cache, ticket.key, ticket.generation);
	return r;
}

static int bad_path_marker;

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Before libmicrohttpd unescapes it: does the path (up to '?') hold a
 * control character, raw or %-escaped? */
static bool path_has_control(const char *uri)
{
	for (const char *p = uri; *p && *p != '?'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0)
			c = (unsigned char)(hex_value(p[1]) * 16 + hex_value(p[2]));
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* libmicrohttpd's URI log callback, on the raw request target: what it
 * returns is the request's first *req_ctx. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	return path_has_control(uri) ? &bad_path_marker : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_ctx)
{
	static int first_call, first_call_bad_path;
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn_ctx *cc;
	struct http_route route;

	if (!*req_ctx || *req_ctx == &bad_path_marker) {
		/* headers only so far: decide once the body (if any) is seen */
		*req_ctx = *req_ctx ? &first_call_bad_path : &first_call;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* discarded: no endpoint takes a body */
		*req_ctx = (void *)1;
		return MHD_YES;
	}
	if (*req_ctx == (void *)1)
		return http_reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted");
	if (*req_ctx == &first_call_bad_path)
		return http_reply_error(conn, MHD_HTTP_BAD_REQUEST,
					"the path holds a control character (%%00-%%1f, %%7f)");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: only GET and HEAD are served",
					strlen(method) < 16 ? method : "method");
	http_route(url, &route);
	if (!route.no_token && !authorized(s, conn))
		return http_reply_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token is required (--http-token-file)");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	cc = ci ? ci->socket_context : NULL;
	nice_connection(cc);
	return dispatch(s, conn, &route);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_conn_ctx *cc = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct http_conn_ctx)); /* NULL: not niced */
		return;
	}
	free(cc);
	*socket_context = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_msg(LOG_DEBUG, "http: %s", buf);
}

/* ---- the daemon's side -------------------------------------------------------------- */

static struct http_server *server_new(const struct http_config *cfg)
{
	struct http_server *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->listen_fd = -1;
	s->started_wall_s = ocitap_wall_ns() / 1000000000;
	s->instance = (uint64_t)ocitap_wall_ns() ^ ((uint64_t)getpid() << 40);
	http_cache_init(&s->cache, HTTP_CACHE_BYTES, drop_response);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->live_lock, NULL);
	pthread_mutex_init(&s->figures_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->committed, &attr);
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_returned, &attr);
	pthread_condattr_destroy(&attr);
	return s;
}

/* Everything but libmicrohttpd (stopped first by http_stop()). */
static void server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->unix_path)
		unlink(s->unix_path);
	free(s->unix_path);
	free(s->token);
	for (size_t i = 0; i < s->n_live; i++) {
		free(s->live[i].id);
		free(s->live[i].policies);
	}
	free(s->live);
	http_cache_release(&s->cache);
	for (unsigned i = 0; i < s->n_idle; i++)
		ocitap_store_close(s->idle[i]);
	pthread_cond_destroy(&s->pool_returned);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->committed);
	pthread_mutex_destroy(&s->live_lock);
	pthread_mutex_destroy(&s->figures_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void server_freep(struct http_server **s)
{
	server_free(*s);
}

static int server_listen(struct http_server *s, struct ocitap_error *err)
{
	const struct http_config *cfg = s->cfg;
	bool loopback = true;
	int fd;

	if (strncmp(cfg->addr, "unix:", 5) == 0)
		fd = listen_unix(s, cfg->addr + 5, err);
	else
		fd = listen_tcp(cfg->addr, &loopback, err);
	if (fd < 0)
		return fd;
	s->listen_fd = fd;
	if (!loopback && !cfg->token_file)
		return ocitap_error_set(
			err, -EPERM, NULL,
			"--http %s is not a loopback address: give --http-token-file FILE, a bearer token "
			"every request must carry",
			cfg->addr);
	if (cfg->token_file && read_token(s, cfg->token_file, err) < 0)
		return -EINVAL;
	return 0;
}

int http_start(const struct http_config *cfg, struct http_server **ret, struct ocitap_error *err)
{
	_cleanup_(server_freep) struct http_server *s = server_new(cfg);
	char where[600];
	int r;

	if (!s)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	if ((r = server_listen(s, err)) < 0)
		return r;
	s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
					  MHD_USE_ITC | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024, MHD_OPTION_THREAD_STACK_SIZE,
				  (size_t)256 * 1024, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
	if (!s->mhd)
		return ocitap_error_set(err, -EIO, NULL, "cannot start the HTTP server on %s", cfg->addr);
	/* where clients reach it, when that is not what was given: the port
	 * the kernel chose for port 0, the loopback for every interface */
	if (http_address(s, where, sizeof(where)) < 0 || strcmp(where, cfg->addr) == 0)
		where[0] = '\0';
	log_msg(LOG_INFO, "HTTP on %s%s%s%s%s", cfg->addr, where[0] ? " (clients: " : "", where, where[0] ? ")" : "",
		s->token ? " (bearer token required)" : "");
	*ret = TAKE_PTR(s);
	return 0;
}

int http_address(const struct http_server *s, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (s->unix_path)
		n = snprintf(buf, size, "unix:%s", s->unix_path);
	else if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		n = snprintf(buf, size, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		n = snprintf(buf, size, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
	} else {
		return -EAFNOSUPPORT;
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void http_events_committed(struct http_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->generation++;
	pthread_cond_broadcast(&s->committed);
	pthread_mutex_unlock(&s->lock);
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->committed);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(s->mhd);
	server_free(s);
}
