/*
 * http.c: the HTTP export (libmicrohttpd). Every request runs on
 * libmicrohttpd's threads, one per connection, and reads the store through
 * its own read-only SQLite connection (WAL: readers never block the store
 * thread) or the metrics table (metrics.c); nothing here touches the
 * event loop, so no client, however slow, delays a notification.
 *
 *   GET /healthz                      what works: store, listener, BPF
 *   GET /v1/containers                ?status=S  ?annotation=K=V (repeatable, all must match)
 *   GET /v1/containers/{id}           one container with its timeline and notification counts
 *   GET /v1/events                    ?since=SEQ ?limit=N ?id=ID
 *   GET /v1/events/stream             Server-Sent Events; resumes after Last-Event-ID (or ?since=)
 *   GET /metrics                      Prometheus text format
 *
 * Errors are JSON: {"error": "...", "status": N}. Paths are never opened from
 * a request; ids are matched against the store only.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
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
#include <pthread.h>

#include "event-json.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "tracer.h"

#define MAX_CONNECTIONS 64
#define CONN_TIMEOUT_S	30
#define KEEPALIVE_MS	10000
#define MAX_TOKEN	4096
#define HTTP_NICE	10

static struct {
	struct MHD_Daemon *mhd;
	int listen_fd;
	char *unix_path;
	char *token; /* NULL: no token asked for (loopback or unix socket) */
	const struct http_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t committed;
	uint64_t generation; /* bumped at every commit of events */
	bool stopping;
	int64_t started_wall_s;
} h = { .listen_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* One per connection (thread-per-connection: used by one thread at a time). */
struct conn_ctx {
	struct ocitap_store *store;
	bool niced;
};

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

static int listen_unix(const char *path, char *why, size_t why_size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		snprintf(why, why_size, "--http unix:%s: need an absolute path shorter than %zu bytes", path,
			 sizeof(sa.sun_path));
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int r = -errno;

		snprintf(why, why_size, "cannot listen on unix:%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	h.unix_path = strdup(path);
	return fd;
}

/* ADDR is HOST:PORT, [V6]:PORT or :PORT (every address). */
static int listen_tcp(const char *addr, bool *ret_loopback, char *why, size_t why_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256];
	const char *port = strrchr(addr, ':');
	size_t hl;
	int fd = -1, r, one = 1;

	if (!port || !port[1] || strspn(port + 1, "0123456789") != strlen(port + 1)) {
		snprintf(why, why_size, "--http %s: expected HOST:PORT, [IPV6]:PORT, unix:/PATH or off", addr);
		return -EINVAL;
	}
	hl = (size_t)(port - addr);
	if (hl >= sizeof(host)) {
		snprintf(why, why_size, "--http %s: host name too long", addr);
		return -EINVAL;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	r = getaddrinfo(host[0] ? host : NULL, port + 1, &hints, &res);
	if (r != 0) {
		snprintf(why, why_size, "--http %s: %s", addr, gai_strerror(r));
		return -EINVAL;
	}
	*ret_loopback = is_loopback(res->ai_addr);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		snprintf(why, why_size, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return r;
	}
	freeaddrinfo(res);
	return fd;
}

static int read_token(const char *path, char *why, size_t why_size)
{
	char buf[MAX_TOKEN + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		snprintf(why, why_size, "--http-token-file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 0004))
		log_msg(LOG_WARN, "--http-token-file %s is readable by every user", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, why_size, "--http-token-file %s: %s", path, strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0 || n > MAX_TOKEN || strpbrk(buf, " \t\r\n")) {
		snprintf(why, why_size, "--http-token-file %s: expected one token of 1 to %d characters, no spaces",
			 path, MAX_TOKEN);
		return -EINVAL;
	}
	h.token = strdup(buf);
	return h.token ? 0 : -ENOMEM;
}

/* ---- replies -------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len)
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
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	snprintf(code, sizeof(code), "%u", status);
	metric_add("ocitap_http_requests_total", 1, "code", code, NULL);
	return r;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *body = malloc(len + 2);
	enum MHD_Result r;

	if (!body) {
		json_object_put(o);
		return MHD_NO;
	}
	memcpy(body, s, len);
	body[len++] = '\n';
	body[len] = '\0';
	json_object_put(o);
	r = reply(conn, status, "application/json", body, len);
	return r;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	return reply_json(conn, status, o);
}

/* ---- JSON of store records ------------------------------------------------- */

/* ---- live notify fds (written by the event loop, read by requests) ---- */

static struct {
	pthread_mutex_t lock;
	struct live_fds {
		char *id;
		int n;
	} * v;
	size_t n, cap;
} live = { .lock = PTHREAD_MUTEX_INITIALIZER };

void http_set_notify_fds(const char *id, int n)
{
	size_t i;

	pthread_mutex_lock(&live.lock);
	for (i = 0; i < live.n && strcmp(live.v[i].id, id) != 0; i++)
		;
	if (i < live.n && n > 0) {
		live.v[i].n = n;
	} else if (i < live.n) {
		free(live.v[i].id);
		live.v[i] = live.v[--live.n];
	} else if (n > 0) {
		if (live.n == live.cap) {
			size_t cap = live.cap ? live.cap * 2 : 32;
			struct live_fds *p = realloc(live.v, cap * sizeof(*p));

			if (!p)
				goto out; /* the count is only informative */
			live.v = p;
			live.cap = cap;
		}
		live.v[live.n].id = strdup(id);
		if (live.v[live.n].id)
			live.v[live.n++].n = n;
	}
out:
	pthread_mutex_unlock(&live.lock);
}

static int live_notify_fds(const char *id)
{
	int n = 0;

	pthread_mutex_lock(&live.lock);
	for (size_t i = 0; i < live.n; i++)
		if (strcmp(live.v[i].id, id) == 0) {
			n = live.v[i].n;
			break;
		}
	pthread_mutex_unlock(&live.lock);
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

/* The request's query arguments (lib/query.h); false after answering 400. */
static bool read_query(struct MHD_Connection *conn, struct ocitap_query *q, enum MHD_Result *ret)
{
	struct query_ctx c = { .q = q };
	char line[512];

	ocitap_query_init(q);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &c);
	if (c.r < 0) {
		*ret = reply_error(conn, MHD_HTTP_BAD_REQUEST, "%s", ocitap_error_format(&c.err, line, sizeof(line)));
		ocitap_query_release(q);
		return false;
	}
	return true;
}

static struct ocitap_store *conn_store(struct conn_ctx *cc, char *why, size_t why_size)
{
	struct ocitap_error err = { 0 };

	if (!cc) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	if (!cc->store && ocitap_store_open(h.cfg->db_path, OCITAP_STORE_READONLY, &cc->store, &err) < 0) {
		ocitap_error_format(&err, why, why_size);
		return NULL;
	}
	return cc->store;
}

/* ---- /v1/containers ---------------------------------------------------------- */

struct filter {
	struct ocitap_query q;
	struct json_object *list;
	struct ocitap_store *store; /* for each container's last event */
};

static int list_one(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	struct filter *f = userdata;

	if (f->q.has_status && c->phase != f->q.status)
		return 0;
	if (!ocitap_query_annotations_match(&f->q, c->annotations_json))
		return 0;
	json_object_array_add(f->list, ocitap_container_json(c, f->store, live_notify_fds(c->id)));
	return 0;
}

static enum MHD_Result get_containers(struct MHD_Connection *conn, struct ocitap_store *store)
{
	struct filter f = { .store = store };
	struct ocitap_error err = { 0 };
	struct json_object *o;
	enum MHD_Result r;
	char line[512];

	if (!read_query(conn, &f.q, &r))
		return r;
	f.list = json_object_new_array();
	if (ocitap_store_foreach_container(store, list_one, &f, &err) < 0) {
		json_object_put(f.list);
		r = reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
				ocitap_error_format(&err, line, sizeof(line)));
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "containers", f.list);
	r = reply_json(conn, MHD_HTTP_OK, o);
out:
	ocitap_query_release(&f.q);
	return r;
}

/* ---- /v1/containers/{id} ------------------------------------------------------ */

static enum MHD_Result get_container(struct MHD_Connection *conn, struct ocitap_store *store, const char *id)
{
	struct ocitap_error err = { 0 };
	struct json_object *o;
	char line[512];
	int r;

	if (!*id || strlen(id) > 1024)
		return reply_error(conn, MHD_HTTP_BAD_REQUEST, "container id: expected 1 to 1024 bytes");
	r = ocitap_container_detail_json(store, id, live_notify_fds(id), &o, &err);
	if (r == -ENOENT) {
		struct json_object *e = json_object_new_object();

		/* built here so that the id is escaped by json-c, never by hand */
		json_object_object_add(e, "error", json_object_new_string("no such container"));
		json_object_object_add(e, "id", json_object_new_string(id));
		json_object_object_add(e, "status", json_object_new_int(404));
		return reply_json(conn, MHD_HTTP_NOT_FOUND, e);
	}
	if (r < 0)
		return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
				   ocitap_error_format(&err, line, sizeof(line)));
	return reply_json(conn, MHD_HTTP_OK, o);
}

/* ---- /v1/events ------------------------------------------------------------ */

struct page {
	struct json_object *list;
	int64_t left, last;
};

static int page_one(const struct ocitap_event *ev, void *userdata)
{
	struct page *p = userdata;

	json_object_array_add(p->list, ocitap_event_json(ev));
	p->last = ev->seq;
	return --p->left == 0;
}

static enum MHD_Result get_events(struct MHD_Connection *conn, struct ocitap_store *store)
{
	struct ocitap_error err = { 0 };
	struct ocitap_query q;
	struct page p;
	struct json_object *o;
	enum MHD_Result r;
	char line[512];

	if (!read_query(conn, &q, &r))
		return r;
	p = (struct page){ .list = json_object_new_array(), .left = q.limit, .last = q.since };
	if (ocitap_store_foreach_event(store, q.id, q.since, page_one, &p, &err) < 0) {
		json_object_put(p.list);
		ocitap_query_release(&q);
		return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
				   ocitap_error_format(&err, line, sizeof(line)));
	}
	ocitap_query_release(&q);
	o = json_object_new_object();
	json_object_object_add(o, "events", p.list);
	json_object_object_add(o, "next", json_object_new_int64(p.last)); /* since= for the next page */
	return reply_json(conn, MHD_HTTP_OK, o);
}

/* ---- /v1/events/stream (Server-Sent Events) ------------------------------------ */

struct stream {
	struct ocitap_store *store; /* its own: the stream outlives the request's handler */
	int64_t cursor;		    /* the last seq sent */
	char *buf;		    /* formatted, not yet handed to libmicrohttpd */
	size_t len, off;
	uint64_t seen_generation;
	bool failed;
};

struct sse_fill {
	FILE *out;
	int n;
	int64_t last;
};

static int sse_one(const struct ocitap_event *ev, void *userdata)
{
	struct sse_fill *f = userdata;
	struct json_object *o = ocitap_event_json(ev);

	/* one line of JSON: the data field never holds a newline */
	fprintf(f->out, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", ev->seq, ev->kind,
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	f->last = ev->seq;
	return ++f->n == 200;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	int64_t deadline = ocitap_now_ms() + KEEPALIVE_MS;

	while (s->off == s->len) {
		struct ocitap_error err = { 0 };
		struct sse_fill f = { 0 };
		uint64_t gen;
		size_t size = 0;
		char *text = NULL;

		free(s->buf);
		s->buf = NULL;
		s->len = s->off = 0;
		if (s->failed)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		pthread_mutex_lock(&h.lock);
		gen = h.generation;
		pthread_mutex_unlock(&h.lock);
		f.out = open_memstream(&text, &size);
		if (!f.out)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		f.last = s->cursor;
		if (ocitap_store_foreach_event(s->store, NULL, s->cursor, sse_one, &f, &err) < 0) {
			fprintf(f.out, "event: error\ndata: {\"error\":\"store unreadable\"}\n\n");
			s->failed = true;
		}
		s->cursor = f.last;
		fclose(f.out);
		if (size) {
			s->buf = text;
			s->len = size;
			break;
		}
		free(text);
		pthread_mutex_lock(&h.lock);
		while (!h.stopping && h.generation == gen) {
			int64_t now = ocitap_now_ms();
			struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };

			if (now >= deadline || pthread_cond_timedwait(&h.committed, &h.lock, &ts) == ETIMEDOUT)
				break;
		}
		if (h.stopping) {
			pthread_mutex_unlock(&h.lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		pthread_mutex_unlock(&h.lock);
		if (ocitap_now_ms() >= deadline) {
			/* a comment: keeps proxies from closing an idle stream, and
			 * finds a client that went away */
			s->buf = strdup(": keep-alive\n\n");
			s->len = s->buf ? strlen(s->buf) : 0;
			break;
		}
	}
	if (max > s->len - s->off)
		max = s->len - s->off;
	memcpy(out, s->buf + s->off, max);
	s->off += max;
	return (ssize_t)max;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	ocitap_store_close(s->store);
	free(s->buf);
	free(s);
}

static enum MHD_Result get_stream(struct MHD_Connection *conn)
{
	const char *last_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	struct ocitap_error err = { 0 };
	struct MHD_Response *resp;
	struct stream *s;
	struct ocitap_query q;
	int64_t since = -1;
	char line[512];
	enum MHD_Result r;

	if (last_id) {
		ocitap_query_init(&q);
		if (ocitap_query_last_event_id(&q, last_id, &err) < 0)
			return reply_error(conn, MHD_HTTP_BAD_REQUEST, "%s",
					   ocitap_error_format(&err, line, sizeof(line)));
	} else if (!read_query(conn, &q, &r)) {
		return r;
	}
	if (q.has_since)
		since = q.since;
	ocitap_query_release(&q);
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	if (ocitap_store_open(h.cfg->db_path, OCITAP_STORE_READONLY, &s->store, &err) < 0) {
		free(s);
		return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
				   ocitap_error_format(&err, line, sizeof(line)));
	}
	/* without a position: from now on */
	s->cursor = since >= 0 ? since : ocitap_store_last_seq(s->store);
	if (s->cursor < 0)
		s->cursor = 0;
	/* the first bytes say how soon to reconnect */
	s->buf = strdup("retry: 1000\n\n");
	s->len = s->buf ? strlen(s->buf) : 0;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	metric_add("ocitap_http_requests_total", 1, "code", "200", NULL);
	return r;
}

/* ---- /metrics and /healthz ------------------------------------------------------- */

static void process_metrics(FILE *out)
{
	long pages = 0, rss = 0, fds = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	DIR *dir;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	dir = opendir("/proc/self/fd");
	if (dir) {
		while (readdir(dir))
			fds++;
		closedir(dir);
		fds -= 3; /* ".", ".." and the directory's own fd */
	}
	fprintf(out,
		"# HELP process_resident_memory_bytes Resident memory of ocitapd.\n"
		"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n"
		"# HELP process_open_fds Open file descriptors of ocitapd.\n"
		"# TYPE process_open_fds gauge\nprocess_open_fds %ld\n"
		"# HELP process_start_time_seconds When ocitapd started, in seconds since the epoch.\n"
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %" PRId64 "\n",
		rss * sysconf(_SC_PAGESIZE), fds, h.started_wall_s);
}

static enum MHD_Result get_metrics(struct MHD_Connection *conn, struct ocitap_store *store)
{
	const struct http_config *cfg = h.cfg;
	struct writer_stats ws;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return MHD_NO;
	fprintf(out,
		"# HELP ocitap_build_info ocitapd's version.\n# TYPE ocitap_build_info gauge\n"
		"ocitap_build_info{version=\"%s\"} 1\n",
		OCITAP_VERSION);
	fprintf(out, "# HELP ocitap_containers Containers in the store, by status.\n# TYPE ocitap_containers gauge\n");
	{
		int64_t counts[OCITAP_PHASE_COUNT];

		if (store && ocitap_store_count_by_phase(store, counts) == 0)
			for (int p = OCITAP_PHASE_UNKNOWN; p < OCITAP_PHASE_COUNT; p++)
				fprintf(out, "ocitap_containers{status=\"%s\"} %" PRId64 "\n",
					ocitap_phase_to_string(p), counts[p]);
	}
	fprintf(out,
		"# HELP ocitap_tracked_containers Containers ocitapd holds in memory (live ones, and stopped ones "
		"within --retention).\n"
		"# TYPE ocitap_tracked_containers gauge\nocitap_tracked_containers %" PRIu64 "\n",
		__atomic_load_n(cfg->tracked_containers, __ATOMIC_RELAXED));
	fprintf(out,
		"# HELP ocitap_notify_fds Seccomp notify fds held.\n# TYPE ocitap_notify_fds gauge\n"
		"ocitap_notify_fds %" PRIu64 "\n",
		__atomic_load_n(cfg->notify_fds, __ATOMIC_RELAXED));
	fprintf(out,
		"# HELP ocitap_events_last_seq The sequence number of the newest event in the store.\n"
		"# TYPE ocitap_events_last_seq gauge\nocitap_events_last_seq %" PRId64 "\n",
		store ? ocitap_store_last_seq(store) : 0);
	writer_get_stats(cfg->writer, &ws);
	fprintf(out,
		"# HELP ocitap_store_commits_total Store transactions committed.\n"
		"# TYPE ocitap_store_commits_total counter\nocitap_store_commits_total %" PRIu64 "\n"
		"# HELP ocitap_store_failures_total Store commits that failed and were retried (disk full, I/O "
		"errors).\n"
		"# TYPE ocitap_store_failures_total counter\nocitap_store_failures_total %" PRIu64 "\n"
		"# HELP ocitap_store_degraded 1 while the store cannot be written (records are held and retried).\n"
		"# TYPE ocitap_store_degraded gauge\nocitap_store_degraded %d\n",
		ws.commits, ws.failures, ws.degraded ? 1 : 0);
	metrics_render(out);
	process_metrics(out);
	fclose(out);
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, size);
}

static enum MHD_Result get_healthz(struct MHD_Connection *conn, struct ocitap_store *store, const char *store_why)
{
	struct json_object *o = json_object_new_object(), *st = json_object_new_object();
	struct json_object *li = json_object_new_object(), *bpf = json_object_new_object();
	struct writer_stats ws;
	bool degraded = (writer_get_stats(h.cfg->writer, &ws), ws.degraded);
	bool readable = store && ocitap_store_last_seq(store) >= 0;
	bool ok = readable && !degraded;

	json_object_object_add(st, "ok", json_object_new_boolean(ok));
	json_object_object_add(st, "readable", json_object_new_boolean(readable));
	json_object_object_add(st, "writable", json_object_new_boolean(!degraded));
	if (!readable)
		json_object_object_add(st, "error",
				       json_object_new_string(store_why && *store_why ? store_why : "unreadable"));
	else if (degraded)
		json_object_object_add(st, "error",
				       json_object_new_string("commits are failing (disk full?); "
							      "records are held and retried"));
	json_object_object_add(li, "ok", json_object_new_boolean(true));
	json_object_object_add(li, "socket", json_object_new_string(h.cfg->socket_path));
	{
		struct ocitap_error off = { 0 };
		char bwhy[512] = "";
		bool on = tracer_is_on(h.cfg->tracer, &off);

		if (!on)
			ocitap_error_format(&off, bwhy, sizeof(bwhy));

		/* BPF off is a reduced service, not a failure: ok says whether it works as configured */
		json_object_object_add(bpf, "ok", json_object_new_boolean(on || strstr(bwhy, "--bpf off")));
		json_object_object_add(bpf, "enabled", json_object_new_boolean(on));
		if (on)
			json_object_object_add(bpf, "tracingSyscalls",
					       json_object_new_boolean(tracer_tracing_syscalls(h.cfg->tracer)));
		else
			json_object_object_add(bpf, "reason", json_object_new_string(bwhy));
	}
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
	json_object_object_add(o, "version", json_object_new_string(OCITAP_VERSION));
	json_object_object_add(o, "store", st);
	json_object_object_add(o, "listener", li);
	json_object_object_add(o, "bpf", bpf);
	return reply_json(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

/* ---- /v1/containers/ID/profile ------------------------------------------------- */

/* The seccomp profile of a traced container's syscalls so far. */
static enum MHD_Result get_profile(struct MHD_Connection *conn, const char *id_start, size_t id_len)
{
	struct ocitap_error err = { 0 };
	char id[256], why[512];
	char *json = NULL;
	size_t count = 0;
	int r;

	if (id_len == 0 || id_len >= sizeof(id))
		return reply_error(conn, MHD_HTTP_NOT_FOUND, "no such container");
	memcpy(id, id_start, id_len);
	id[id_len] = '\0';
	r = tracer_profile(h.cfg->tracer, id, NULL, 0, &json, &count, &err);
	ocitap_error_format(&err, why, sizeof(why));
	if (r == -ENOTSUP)
		return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", why);
	if (r == -ENOENT)
		return reply_error(conn, MHD_HTTP_NOT_FOUND, "%s", why);
	if (r == -ENODATA)
		return reply_error(conn, MHD_HTTP_CONFLICT, "%s", why);
	if (r < 0)
		return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", why);
	return reply(conn, MHD_HTTP_OK, "application/json", json, strlen(json)); /* takes json */
}

/* ---- routing ------------------------------------------------------------------- */

static bool authorized(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n, want;
	unsigned char diff = 0;

	if (!h.token)
		return true;
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	v += 7;
	n = strlen(v);
	want = strlen(h.token);
	/* the same time whatever the prefix matched */
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)(h.token[i] ^ (i < n ? v[i] : 0));
	return diff == 0 && n == want;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_ctx)
{
	static int first_call;
	const union MHD_ConnectionInfo *ci;
	struct ocitap_store *store;
	char why[512] = "";

	if (!*req_ctx) {
		/* headers only so far: decide once the body (if any) is seen */
		*req_ctx = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* discarded: no endpoint takes a body */
		*req_ctx = (void *)1;
		return MHD_YES;
	}
	if (*req_ctx == (void *)1)
		return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: only GET and HEAD are served",
				   strlen(method) < 16 ? method : "method");
	if (!authorized(conn))
		return reply_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token is required (--http-token-file)");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context && !((struct conn_ctx *)ci->socket_context)->niced) {
		/* this connection's thread yields to the notification loop when
		 * the CPUs are busy: HTTP load must not slow containers down */
		setpriority(PRIO_PROCESS, (id_t)gettid(), HTTP_NICE);
		((struct conn_ctx *)ci->socket_context)->niced = true;
	}
	if (strcmp(url, "/v1/events/stream") == 0)
		return get_stream(conn);
	store = conn_store(ci ? ci->socket_context : NULL, why, sizeof(why));
	if (strcmp(url, "/healthz") == 0)
		return get_healthz(conn, store, why);
	if (strcmp(url, "/metrics") == 0)
		return get_metrics(conn, store);
	if (strcmp(url, "/v1/containers") == 0 || strcmp(url, "/v1/containers/") == 0 ||
	    strcmp(url, "/v1/events") == 0 || strncmp(url, "/v1/containers/", 15) == 0) {
		if (!store)
			return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s", why);
		if (strcmp(url, "/v1/events") == 0)
			return get_events(conn, store);
		if (strcmp(url, "/v1/containers") == 0 || strcmp(url, "/v1/containers/") == 0)
			return get_containers(conn, store);
		if (strlen(url) > 15 + 8 && strcmp(url + strlen(url) - 8, "/profile") == 0)
			return get_profile(conn, url + 15, strlen(url) - 15 - 8);
		return get_container(conn, store, url + 15);
	}
	return reply_error(conn, MHD_HTTP_NOT_FOUND,
			   "no such endpoint (GET /healthz, /metrics, /v1/containers, /v1/containers/ID, "
			   "/v1/containers/ID/profile, /v1/events, "
			   "/v1/events/stream)");
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct conn_ctx *cc = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct conn_ctx)); /* NULL: requests answer 503 */
		return;
	}
	if (!cc)
		return;
	ocitap_store_close(cc->store);
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

int http_start(const struct http_config *cfg, char *why, size_t why_size)
{
	bool loopback = true;
	int fd;

	h.cfg = cfg;
	h.started_wall_s = (int64_t)time(NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&h.committed, &a);
		pthread_condattr_destroy(&a);
	}
	if (strncmp(cfg->addr, "unix:", 5) == 0)
		fd = listen_unix(cfg->addr + 5, why, why_size);
	else
		fd = listen_tcp(cfg->addr, &loopback, why, why_size);
	if (fd < 0)
		return fd;
	if (!loopback && !cfg->token_file) {
		snprintf(why, why_size,
			 "--http %s is not a loopback address: give --http-token-file FILE, a bearer token every "
			 "request must carry",
			 cfg->addr);
		close(fd);
		return -EPERM;
	}
	if (cfg->token_file && read_token(cfg->token_file, why, why_size) < 0) {
		close(fd);
		return -EINVAL;
	}
	h.listen_fd = fd;
	h.mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
					 MHD_USE_ERROR_LOG,
				 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				 (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
				 MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024, MHD_OPTION_NOTIFY_CONNECTION,
				 on_connection, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!h.mhd) {
		snprintf(why, why_size, "cannot start the HTTP server on %s", cfg->addr);
		close(fd);
		h.listen_fd = -1;
		return -EIO;
	}
	log_msg(LOG_INFO, "HTTP on %s%s", cfg->addr, h.token ? " (bearer token required)" : "");
	return 0;
}

void http_events_committed(void)
{
	pthread_mutex_lock(&h.lock);
	h.generation++;
	pthread_cond_broadcast(&h.committed);
	pthread_mutex_unlock(&h.lock);
}

void http_stop(void)
{
	pthread_mutex_lock(&live.lock);
	for (size_t i = 0; i < live.n; i++)
		free(live.v[i].id);
	free(live.v);
	live.v = NULL;
	live.n = live.cap = 0;
	pthread_mutex_unlock(&live.lock);
	if (!h.mhd)
		return;
	pthread_mutex_lock(&h.lock);
	h.stopping = true;
	pthread_cond_broadcast(&h.committed);
	pthread_mutex_unlock(&h.lock);
	MHD_stop_daemon(h.mhd);
	h.mhd = NULL;
	close(h.listen_fd);
	h.listen_fd = -1;
	if (h.unix_path)
		unlink(h.unix_path);
	free(h.unix_path);
	h.unix_path = NULL;
	free(h.token);
	h.token = NULL;
}
