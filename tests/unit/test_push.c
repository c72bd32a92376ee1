/*
 * test_push.c: ocitapd's webhook push (inspect/ocitapd/push.c) against a
 * real store in a temporary directory, a real store thread (writer.c) for
 * the cursors, and a small HTTP receiver on 127.0.0.1 run by the test (a
 * thread that answers each POST with the status the test says and keeps
 * what it got). Asserted: events are delivered in order from the stored
 * cursor, the cursor is written only after a 2xx, a restart resends
 * nothing; many events go out in few POSTs, each a JSON array of
 * CloudEvents with the bearer token; each --push-format's content type
 * and body (one CloudEvent per POST; a JSON array of records; one record a
 * line); a 500 or a refused connection is retried with backoff and nothing
 * is skipped; a 4xx is retried after a longer backoff, its reason (the
 * answer, bounded, one line) logged and in push_health_json(), counted,
 * nothing skipped; a receiver more than max_backlog behind skips the
 * oldest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../inspect/ocitapd/log.h"
#include "../../inspect/ocitapd/metrics.h"
#include "../../inspect/ocitapd/push.h"
#include "../../inspect/ocitapd/writer.h"
#include "testutil.h"

#define TOKEN	    "push-token-for-unit-tests"
#define MAX_REQUEST (4 * 1024 * 1024)

/* ---- the receiver --------------------------------------------------------- */

struct request {
	int status; /* what it was answered */
	int64_t at_ms;
	char *body;
	char authorization[128];
	char content_type[128];
};

struct receiver {
	int listen_fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	int status;	     /* the answer from now on */
	int fail_next;	     /* this many get 500 first */
	int reject_next;     /* then this many get reject_status with reject_body */
	int reject_status;
	const char *reject_body;
	struct request *requests;
	size_t n_requests;
	bool stop;
};

/* The value of header name in the request's head (NUL-terminated), "" if none. */
static void header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n"))
		if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
			const char *v = line + 3 + n;

			v += strspn(v, " ");
			snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
			return;
		}
}

/* One request from fd; false when the peer sent no complete one. */
static bool read_request(int fd, struct request *req)
{
	char *buf = malloc(MAX_REQUEST + 1), *end, len_text[32];
	size_t have = 0, need = 0;

	assert_non_null(buf);
	for (;;) {
		ssize_t n = read(fd, buf + have, MAX_REQUEST - have);

		if (n <= 0) {
			free(buf);
			return false;
		}
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			*end = '\0';
			header_value(buf, "Content-Length", len_text, sizeof(len_text));
			need = (size_t)(end + 4 - buf) + strtoul(len_text, NULL, 10);
			if (have >= need)
				break;
			*end = '\r';
		}
	}
	*end = '\0';
	header_value(buf, "Authorization", req->authorization, sizeof(req->authorization));
	header_value(buf, "Content-Type", req->content_type, sizeof(req->content_type));
	req->body = strndup(end + 4, need - (size_t)(end + 4 - buf));
	free(buf);
	return req->body != NULL;
}

static void serve_one(struct receiver *rc, int fd)
{
	struct request req = { 0 };
	const char *body = "";
	char answer[4096];

	if (!read_request(fd, &req))
		return;
	pthread_mutex_lock(&rc->lock);
	if (rc->fail_next > 0) {
		rc->fail_next--;
		req.status = 500;
	} else if (rc->reject_next > 0) {
		rc->reject_next--;
		req.status = rc->reject_status;
		body = rc->reject_body;
	} else {
		req.status = rc->status;
	}
	req.at_ms = ocitap_now_ms();
	rc->requests = realloc(rc->requests, (rc->n_requests + 1) * sizeof(*rc->requests));
	assert_non_null(rc->requests);
	rc->requests[rc->n_requests++] = req;
	pthread_mutex_unlock(&rc->lock);
	snprintf(answer, sizeof(answer), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 req.status, strlen(body), body);
	if (write(fd, answer, strlen(answer)) < 0)
		return; /* the pusher gave up on it: it sends the batch again */
}

static void *receiver_thread(void *arg)
{
	struct receiver *rc = arg;

	while (!__atomic_load_n(&rc->stop, __ATOMIC_SEQ_CST)) {
		struct pollfd pfd = { .fd = rc->listen_fd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept4(rc->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(rc, fd);
		close(fd);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1:port (0: any free one); its port. */
static int listen_loopback(int port, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_fd = fd;
	return ntohs(sa.sin_port);
}

static void receiver_start(struct receiver *rc, int port)
{
	rc->port = listen_loopback(port, &rc->listen_fd);
	rc->status = 200;
	pthread_mutex_init(&rc->lock, NULL);
	assert_int_equal(pthread_create(&rc->thread, NULL, receiver_thread, rc), 0);
}

static void receiver_stop(struct receiver *rc)
{
	if (rc->listen_fd <= 0)
		return;
	__atomic_store_n(&rc->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(rc->thread, NULL);
	close(rc->listen_fd);
	for (size_t i = 0; i < rc->n_requests; i++)
		free(rc->requests[i].body);
	free(rc->requests);
	pthread_mutex_destroy(&rc->lock);
	memset(rc, 0, sizeof(*rc));
}

/* ---- what it received --------------------------------------------------------- */

/* A CloudEvent 1.0 of the test's events (a transition of c1); its id. */
static int64_t check_cloudevent(struct json_object *ce)
{
	static const char *const keys[] = { "specversion", "id",	      "source", "type",
					    "subject",	   "time", "datacontenttype", "data" };
	struct json_object *v;
	size_t k = 0;

	assert_true(json_object_is_type(ce, json_type_object));
	json_object_object_foreach(ce, key, val) /* in this order, as ever */
	{
		assert_true(k < sizeof(keys) / sizeof(keys[0]));
		assert_string_equal(key, keys[k++]);
		(void)val;
	}
	assert_int_equal(k, sizeof(keys) / sizeof(keys[0]));
	assert_true(json_object_object_get_ex(ce, "specversion", &v));
	assert_string_equal(json_object_get_string(v), "1.0");
	assert_true(json_object_object_get_ex(ce, "type", &v));
	assert_string_equal(json_object_get_string(v), "io.ocitap." OCITAP_EVENT_TRANSITION);
	assert_true(json_object_object_get_ex(ce, "source", &v));
	assert_memory_equal(json_object_get_string(v), "ocitap://", 9);
	assert_true(json_object_object_get_ex(ce, "subject", &v));
	assert_string_equal(json_object_get_string(v), "c1");
	assert_true(json_object_object_get_ex(ce, "data", &v));
	assert_true(json_object_is_type(v, json_type_object));
	assert_true(json_object_object_get_ex(ce, "id", &v));
	assert_true(json_object_is_type(v, json_type_string));
	return strtoll(json_object_get_string(v), NULL, 10);
}

/* A record of the json and ndjson formats (the event as /v1/events shows
 * it, with "host", and "time" in seconds since the epoch); its seq. */
static int64_t check_record(struct json_object *r)
{
	struct json_object *v, *wall;
	char host[256];

	assert_true(json_object_is_type(r, json_type_object));
	assert_false(json_object_object_get_ex(r, "specversion", NULL)); /* not a CloudEvent */
	assert_true(json_object_object_get_ex(r, "container", &v));
	assert_string_equal(json_object_get_string(v), "c1");
	assert_true(json_object_object_get_ex(r, "kind", &v));
	assert_string_equal(json_object_get_string(v), OCITAP_EVENT_TRANSITION);
	assert_true(json_object_object_get_ex(r, "to", &v));
	assert_string_equal(json_object_get_string(v), "creating");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_true(json_object_object_get_ex(r, "host", &v));
	assert_string_equal(json_object_get_string(v), host);
	/* a number (fluentd refuses a string there), every nanosecond of wallNs */
	assert_true(json_object_object_get_ex(r, "time", &v));
	assert_true(json_object_is_type(v, json_type_double));
	assert_true(json_object_object_get_ex(r, "wallNs", &wall));
	{
		char want[48];
		int64_t ns = json_object_get_int64(wall);

		assert_true(ns > 0);
		snprintf(want, sizeof(want), "%" PRId64 ".%09" PRId64, ns / 1000000000, ns % 1000000000);
		assert_string_equal(json_object_to_json_string(v), want);
	}
	assert_true(json_object_object_get_ex(r, "seq", &v));
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

/* The ids of the events in one body, checked against its content type:
 * a JSON array of CloudEvents (batched), one CloudEvent, a JSON array of
 * records, or one record per line. */
static size_t body_ids(const struct request *req, int64_t *ids, size_t n, size_t max)
{
	const char *ct = req->content_type;
	struct json_object *o;

	if (strcmp(ct, "application/x-ndjson") == 0) {
		assert_true(req->body[0] != '\0');
		assert_true(req->body[strlen(req->body) - 1] == '\n'); /* every line ends */
		for (const char *line = req->body; *line; line = strchr(line, '\n') + 1) {
			char *text = strndup(line, strcspn(line, "\n"));

			o = json_tokener_parse(text);
			assert_non_null(o);
			if (n < max)
				ids[n] = check_record(o);
			n++;
			json_object_put(o);
			free(text);
		}
		return n;
	}
	o = json_tokener_parse(req->body);
	assert_non_null(o);
	/* as compact as json-c writes it: no spaces, slashes as they are */
	assert_string_equal(req->body,
			    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (strcmp(ct, "application/cloudevents+json") == 0) {
		if (n < max)
			ids[n] = check_cloudevent(o);
		json_object_put(o);
		return n + 1;
	}
	assert_true(strcmp(ct, "application/cloudevents-batch+json") == 0 || strcmp(ct, "application/json") == 0);
	assert_true(json_object_is_type(o, json_type_array));
	for (size_t k = 0; k < json_object_array_length(o); k++, n++) {
		struct json_object *e = json_object_array_get_idx(o, k);
		int64_t id = strcmp(ct, "application/json") == 0 ? check_record(e) : check_cloudevent(e);

		if (n < max)
			ids[n] = id;
	}
	json_object_put(o);
	return n;
}

/* The events' ids of every POST answered 2xx, in the order received. */
static size_t delivered_ids(struct receiver *rc, int64_t *ids, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&rc->lock);
	for (size_t i = 0; i < rc->n_requests; i++)
		if (rc->requests[i].status / 100 == 2)
			n = body_ids(&rc->requests[i], ids, n, max);
	pthread_mutex_unlock(&rc->lock);
	return n;
}

static size_t requests_seen(struct receiver *rc)
{
	size_t n;

	pthread_mutex_lock(&rc->lock);
	n = rc->n_requests;
	pthread_mutex_unlock(&rc->lock);
	return n;
}

/* Until want ids were delivered (10 s at most); how many were. */
static size_t wait_delivered(struct receiver *rc, size_t want, int64_t *ids, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		n = delivered_ids(rc, ids, max);
		if (n >= want)
			break;
		usleep(10000);
	}
	return n;
}

/* ---- fixture ---------------------------------------------------------------- */

struct fixture {
	char dir[64], db[96], token_file[128], url[128], cursor_key[160];
	struct ocitap_store *store;
	struct writer w;
	struct receiver rc;
	struct push_config cfg;
	const char *urls[1];
	struct pusher *pusher;
	int64_t last_seq;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	FILE *tf;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_push-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ocitap.db", f->dir);
	snprintf(f->token_file, sizeof(f->token_file), "%s/token", f->dir);
	tf = fopen(f->token_file, "we");
	assert_non_null(tf);
	fputs(TOKEN "\n", tf);
	fclose(tf);
	assert_int_equal(ocitap_store_open(f->db, 0, &f->store, NULL), 0);
	assert_int_equal(writer_init(&f->w, f->store, 0, NULL, NULL), 0);
	assert_int_equal(writer_start(&f->w), 0);
	f->cfg = (struct push_config){ .urls = f->urls,
				       .n_urls = 1,
				       .token_file = f->token_file,
				       .db_path = f->db,
				       .writer = &f->w,
				       .max_backlog = 100000 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	push_stop(f->pusher);
	receiver_stop(&f->rc);
	writer_stop(&f->w);
	ocitap_store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The URL of a receiver on port; the path and query are part of the
 * cursor's key, as with --push. */
static void set_url(struct fixture *f, int port)
{
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/events?src=unit", port);
	snprintf(f->cursor_key, sizeof(f->cursor_key), "push-cursor:%s", f->url);
	f->urls[0] = f->url;
}

static void start_pusher(struct fixture *f)
{
	struct ocitap_error err = { 0 };
	char line[512];
	int r = push_start(&f->cfg, &f->pusher, &err);

	if (r < 0)
		fail_msg("push_start: %s", ocitap_error_format(&err, line, sizeof(line)));
}

/* n transitions of container c1 through the store thread, committed when
 * this returns; the pusher (if any) is woken as the daemon's commit
 * callback would. */
static void add_events(struct fixture *f, int n)
{
	struct ocitap_store *ro;

	for (int i = 0; i < n; i++) {
		struct wop *op = wop_new(WOP_EVENT, "c1");

		op->kind_text = strdup(OCITAP_EVENT_TRANSITION);
		op->source = strdup("prestart");
		op->ev.from = OCITAP_PHASE_UNKNOWN;
		op->ev.to = OCITAP_PHASE_CREATING;
		op->ev.mono_ns = 1;
		op->ev.wall_ns = op->wall_ns;
		writer_push(&f->w, op);
	}
	writer_kick(&f->w);
	f->last_seq += n;
	assert_int_equal(ocitap_store_open(f->db, OCITAP_STORE_READONLY, &ro, NULL), 0);
	for (int i = 0; i < 500 && ocitap_store_last_seq(ro) < f->last_seq; i++)
		usleep(10000);
	assert_int_equal(ocitap_store_last_seq(ro), f->last_seq);
	ocitap_store_close(ro);
	push_wake(f->pusher);
}

/* The receiver's cursor in the store; -1 when none was written. */
static int64_t stored_cursor(struct fixture *f)
{
	struct ocitap_store *ro;
	char v[32];
	int64_t cursor = -1;

	assert_int_equal(ocitap_store_open(f->db, OCITAP_STORE_READONLY, &ro, NULL), 0);
	if (ocitap_store_get_meta(ro, f->cursor_key, v, sizeof(v)) == 0)
		cursor = strtoll(v, NULL, 10);
	ocitap_store_close(ro);
	return cursor;
}

/* Until the stored cursor is want (5 s at most). */
static int64_t wait_cursor(struct fixture *f, int64_t want)
{
	int64_t cursor = -1;

	for (int i = 0; i < 500; i++) {
		cursor = stored_cursor(f);
		if (cursor == want)
			break;
		usleep(10000);
	}
	return cursor;
}

static void assert_ids_from(const int64_t *ids, size_t n, int64_t first)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], first + (int64_t)i);
}

/* The value of a series in /metrics, or -1 when it is not there. */
static double metric_value(const char *series)
{
	char *text = NULL, *at;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	double v = -1;

	assert_non_null(out);
	metrics_render(out);
	fclose(out);
	at = strstr(text, series);
	if (at && at[strlen(series)] == ' ')
		v = strtod(at + strlen(series) + 1, NULL);
	free(text);
	return v;
}

/* stderr into a file until restored (the log's warnings, for a test to read) */
static int stderr_to(const char *path)
{
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	log_setup(LOG_WARN, false);
	return saved;
}

static void stderr_back(int saved)
{
	log_setup(LOG_ERR, false);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
}

static char *read_text(const char *path)
{
	FILE *in = fopen(path, "re");
	char *text = calloc(1, 65536);

	assert_non_null(in);
	assert_non_null(text);
	assert_true(fread(text, 1, 65535, in) < 65535);
	fclose(in);
	return text;
}

/* ---- tests -------------------------------------------------------------------- */

/* In order from the cursor; the cursor stored after the 2xx; a restart
 * resends nothing and picks up what came while it was down. */
static void test_cursor_and_restart(void **state)
{
	struct fixture *f = *state;
	int64_t ids[64];
	size_t n;

	receiver_start(&f->rc, 0);
	set_url(f, f->rc.port);
	add_events(f, 5);
	assert_int_equal(stored_cursor(f), -1);
	start_pusher(f);
	n = wait_delivered(&f->rc, 5, ids, 64);
	assert_int_equal(n, 5);
	assert_ids_from(ids, n, 1);
	assert_int_equal(wait_cursor(f, 5), 5);
	pthread_mutex_lock(&f->rc.lock);
	assert_string_equal(f->rc.requests[0].authorization, "Bearer " TOKEN);
	assert_string_equal(f->rc.requests[0].content_type, "application/cloudevents-batch+json");
	pthread_mutex_unlock(&f->rc.lock);

	/* more while it runs: only the new ones go */
	add_events(f, 2);
	n = wait_delivered(&f->rc, 7, ids, 64);
	assert_int_equal(n, 7);
	assert_ids_from(ids, n, 1);
	assert_int_equal(wait_cursor(f, 7), 7);

	/* stopped; events meanwhile; started again from the stored cursor */
	push_stop(f->pusher);
	f->pusher = NULL;
	add_events(f, 3);
	start_pusher(f);
	n = wait_delivered(&f->rc, 10, ids, 64);
	assert_int_equal(n, 10);
	assert_ids_from(ids, n, 1); /* 1..10 each once: nothing sent twice */
	assert_int_equal(wait_cursor(f, 10), 10);
	usleep(300000);
	assert_int_equal(delivered_ids(&f->rc, ids, 64), 10); /* and nothing after */
}

/* Many events in few POSTs (100 a batch), each a JSON array of CloudEvents. */
static void test_batching(void **state)
{
	struct fixture *f = *state;
	int64_t ids[300];
	size_t n;

	receiver_start(&f->rc, 0);
	set_url(f, f->rc.port);
	add_events(f, 250);
	start_pusher(f);
	n = wait_delivered(&f->rc, 250, ids, 300);
	assert_int_equal(n, 250);
	assert_ids_from(ids, n, 1);
	assert_int_equal(requests_seen(&f->rc), 3); /* 100 + 100 + 50 */
	assert_int_equal(wait_cursor(f, 250), 250);
}

/* A 500 is retried with backoff (0.5 s, then 1 s), the same batch again;
 * the cursor is not written before the 2xx and nothing is skipped. */
static void test_retry_after_500(void **state)
{
	struct fixture *f = *state;
	char series[256];
	int64_t ids[16], elapsed;
	size_t n;

	receiver_start(&f->rc, 0);
	f->rc.fail_next = 2;
	set_url(f, f->rc.port);
	add_events(f, 4);
	start_pusher(f);
	for (int i = 0; i < 500 && requests_seen(&f->rc) < 1; i++)
		usleep(10000);
	assert_int_equal(stored_cursor(f), -1); /* a 500 moves nothing */
	n = wait_delivered(&f->rc, 4, ids, 16);
	assert_int_equal(n, 4);
	assert_ids_from(ids, n, 1);
	assert_int_equal(requests_seen(&f->rc), 3);
	pthread_mutex_lock(&f->rc.lock);
	assert_int_equal(f->rc.requests[0].status, 500);
	assert_int_equal(f->rc.requests[1].status, 500);
	assert_string_equal(f->rc.requests[0].body, f->rc.requests[2].body); /* the same batch */
	elapsed = f->rc.requests[2].at_ms - f->rc.requests[0].at_ms;
	pthread_mutex_unlock(&f->rc.lock);
	assert_true(elapsed >= 1400);  /* 0.5 s + 1 s of backoff */
	assert_true(elapsed <= 10000); /* and not given up on */
	assert_int_equal(wait_cursor(f, 4), 4);
	snprintf(series, sizeof(series), "ocitap_push_failures_total{receiver=\"http://127.0.0.1:%d/events\"}",
		 f->rc.port);
	assert_true(metric_value(series) == 2);
}

/* Nobody listening: retried until a receiver is there, nothing skipped,
 * the outage logged once. */
static void test_retry_refused(void **state)
{
	struct fixture *f = *state;
	char series[256], logfile[128], *log;
	const char *first;
	int64_t ids[16];
	int saved;
	int port, fd;
	size_t n;

	port = listen_loopback(0, &fd);
	close(fd); /* a port nobody listens on (for now) */
	set_url(f, port);
	add_events(f, 3);
	snprintf(logfile, sizeof(logfile), "%s/log", f->dir);
	saved = stderr_to(logfile);
	start_pusher(f);
	snprintf(series, sizeof(series), "ocitap_push_failures_total{receiver=\"http://127.0.0.1:%d/events\"}", port);
	for (int i = 0; i < 500 && metric_value(series) < 3; i++)
		usleep(10000);
	stderr_back(saved);
	assert_true(metric_value(series) >= 3); /* tried, failed, tried again, and again */
	assert_int_equal(stored_cursor(f), -1);
	/* one outage, one line (libcurl's message differs from try to try) */
	log = read_text(logfile);
	first = strstr(log, "retrying with backoff, nothing is dropped");
	if (!first || strstr(first + 1, "retrying with backoff"))
		fail_msg("expected one warning for the outage, got: %s", log);
	free(log);
	receiver_start(&f->rc, port);
	n = wait_delivered(&f->rc, 3, ids, 16);
	assert_int_equal(n, 3);
	assert_ids_from(ids, n, 1);
	assert_int_equal(wait_cursor(f, 3), 3);
}

/* More than max_backlog behind: the oldest are skipped (and counted), the
 * newest max_backlog delivered. */
static void test_backlog_skips_oldest(void **state)
{
	struct fixture *f = *state;
	char series[256];
	int64_t ids[16];
	size_t n;

	receiver_start(&f->rc, 0);
	set_url(f, f->rc.port);
	f->cfg.max_backlog = 3;
	add_events(f, 10);
	start_pusher(f);
	n = wait_delivered(&f->rc, 3, ids, 16);
	assert_int_equal(n, 3);
	assert_ids_from(ids, n, 8);
	assert_int_equal(wait_cursor(f, 10), 10);
	snprintf(series, sizeof(series), "ocitap_push_skipped_events_total{receiver=\"http://127.0.0.1:%d/events\"}",
		 f->rc.port);
	assert_true(metric_value(series) == 7);
}

/* Each format: its content type on every POST, its body (body_ids()
 * checks the shape), every event once and in order, in this many POSTs. */
static void check_format(struct fixture *f, enum push_format format, int events, size_t want_posts,
			 const char *content_type)
{
	int64_t ids[300];
	size_t n;

	receiver_start(&f->rc, 0);
	set_url(f, f->rc.port);
	f->cfg.format = format;
	add_events(f, events);
	start_pusher(f);
	n = wait_delivered(&f->rc, (size_t)events, ids, 300);
	assert_int_equal(n, events);
	assert_ids_from(ids, n, 1);
	assert_int_equal(wait_cursor(f, events), events);
	assert_int_equal(requests_seen(&f->rc), want_posts);
	pthread_mutex_lock(&f->rc.lock);
	for (size_t i = 0; i < f->rc.n_requests; i++) {
		assert_string_equal(f->rc.requests[i].content_type, content_type);
		assert_string_equal(f->rc.requests[i].authorization, "Bearer " TOKEN);
	}
	pthread_mutex_unlock(&f->rc.lock);
}

/* cloudevents: one structured CloudEvent per POST. */
static void test_format_cloudevents(void **state)
{
	check_format(*state, PUSH_CLOUDEVENTS, 4, 4, "application/cloudevents+json");
}

/* json: a JSON array of records, up to 100 a POST (what Fluent Bit and fluentd take). */
static void test_format_json(void **state)
{
	check_format(*state, PUSH_JSON, 250, 3, "application/json");
}

/* ndjson: one record per line, up to 100 a POST. */
static void test_format_ndjson(void **state)
{
	check_format(*state, PUSH_NDJSON, 250, 3, "application/x-ndjson");
}

/* The default, as before: a JSON array of CloudEvents, up to 100 a POST. */
static void test_format_cloudevents_batch(void **state)
{
	check_format(*state, PUSH_CLOUDEVENTS_BATCH, 150, 2, "application/cloudevents-batch+json");
}

/* The receiver's entry of push_health_json() (one receiver). */
static struct json_object *health_receiver(struct fixture *f, struct json_object **ret_all)
{
	struct json_object *all = push_health_json(f->pusher), *list, *v;

	assert_true(json_object_object_get_ex(all, "receivers", &list));
	assert_int_equal(json_object_array_length(list), 1);
	v = json_object_array_get_idx(list, 0);
	*ret_all = all;
	return v;
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

/* A 400 (Fluent Bit's answer to a content type it does not take): logged
 * with the receiver's reason, counted, on the health JSON, the cursor
 * unmoved; retried after 5 s (not 0.5 s as after a 500), the same events
 * again, then every event delivered once, in order, and healthy again. */
static void test_rejected_backoff(void **state)
{
	struct fixture *f = *state;
	struct json_object *all, *r, *v;
	char series[256], logfile[128], *log;
	int64_t ids[16], gap;
	int saved;
	size_t n;

	receiver_start(&f->rc, 0);
	f->rc.reject_next = 1;
	f->rc.reject_status = 400;
	f->rc.reject_body = "error: invalid 'Content-Type'\n";
	set_url(f, f->rc.port);
	add_events(f, 3);
	snprintf(logfile, sizeof(logfile), "%s/log", f->dir);
	saved = stderr_to(logfile);
	start_pusher(f);
	for (int i = 0; i < 500 && requests_seen(&f->rc) < 1; i++)
		usleep(10000);
	usleep(200000);
	stderr_back(saved);
	assert_int_equal(requests_seen(&f->rc), 1);
	assert_int_equal(stored_cursor(f), -1); /* a 400 moves nothing */
	log = read_text(logfile);
	if (!strstr(log, "refused: HTTP 400: error: invalid 'Content-Type' (sent as application/cloudevents-batch+json, "
			 "--push-format cloudevents-batch); retrying in 5 s"))
		fail_msg("the log does not say why: %s", log);
	free(log);
	snprintf(series, sizeof(series), "ocitap_push_rejected_total{receiver=\"http://127.0.0.1:%d/events\",code=\"400\"}",
		 f->rc.port);
	assert_true(metric_value(series) == 1);
	snprintf(series, sizeof(series), "ocitap_push_failures_total{receiver=\"http://127.0.0.1:%d/events\"}",
		 f->rc.port);
	assert_true(metric_value(series) == 1);

	r = health_receiver(f, &all);
	assert_false(get_bool(all, "ok"));
	assert_true(json_object_object_get_ex(all, "format", &v));
	assert_string_equal(json_object_get_string(v), "cloudevents-batch");
	assert_false(get_bool(r, "ok"));
	assert_int_equal(get_int(r, "lastStatus"), 400);
	assert_int_equal(get_int(r, "rejected"), 1);
	assert_int_equal(get_int(r, "delivered"), 0);
	assert_int_equal(get_int(r, "backlog"), 3);
	assert_true(json_object_object_get_ex(r, "error", &v));
	assert_string_equal(json_object_get_string(v), "HTTP 400: error: invalid 'Content-Type'");
	assert_true(json_object_object_get_ex(r, "retryInSeconds", &v));
	assert_true(json_object_get_double(v) > 3.5 && json_object_get_double(v) <= 5.0);
	json_object_put(all);

	n = wait_delivered(&f->rc, 3, ids, 16);
	assert_int_equal(n, 3);
	assert_ids_from(ids, n, 1);
	assert_int_equal(requests_seen(&f->rc), 2);
	pthread_mutex_lock(&f->rc.lock);
	assert_int_equal(f->rc.requests[0].status, 400);
	assert_string_equal(f->rc.requests[0].body, f->rc.requests[1].body); /* the same events again */
	gap = f->rc.requests[1].at_ms - f->rc.requests[0].at_ms;
	pthread_mutex_unlock(&f->rc.lock);
	assert_true(gap >= 4900);  /* the longer backoff */
	assert_true(gap <= 8000);
	assert_int_equal(wait_cursor(f, 3), 3);

	r = health_receiver(f, &all);
	assert_true(get_bool(all, "ok"));
	assert_true(get_bool(r, "ok"));
	assert_int_equal(get_int(r, "delivered"), 3);
	assert_int_equal(get_int(r, "rejected"), 1);
	assert_false(json_object_object_get_ex(r, "error", NULL));
	json_object_put(all);
}

/* A refusal's reason is the start of its answer, one printable line:
 * line breaks, tabs and control characters a space, other bytes '?',
 * cut at 256 bytes ("..."); a 413 counts as a rejection too. */
static void test_rejected_reason_bounded(void **state)
{
	struct fixture *f = *state;
	struct json_object *all, *r, *v;
	char body[1024], want[512];
	const char *error;

	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "too big:\r\n\tline\001two \xc3\xa9 ", 23);
	receiver_start(&f->rc, 0);
	f->rc.reject_next = 5;
	f->rc.reject_status = 413;
	f->rc.reject_body = body;
	set_url(f, f->rc.port);
	add_events(f, 2);
	start_pusher(f);
	for (int i = 0; i < 500 && requests_seen(&f->rc) < 1; i++)
		usleep(10000);
	usleep(200000);
	r = health_receiver(f, &all);
	assert_int_equal(get_int(r, "lastStatus"), 413);
	assert_int_equal(get_int(r, "rejected"), 1);
	assert_true(json_object_object_get_ex(r, "error", &v));
	error = json_object_get_string(v);
	snprintf(want, sizeof(want), "HTTP 413: too big: line two ?? %.*s...", 256 - 23, body + 23);
	assert_string_equal(error, want);
	json_object_put(all);
	assert_int_equal(stored_cursor(f), -1);
}

/* What push_start() refuses, and says why. */
static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct ocitap_error err = { 0 };
	struct pusher *p = NULL;
	const char *bad[] = { "ftp://127.0.0.1/x" };

	f->cfg.urls = bad;
	assert_int_equal(push_start(&f->cfg, &p, &err), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err.message, "expected an http:// or https:// URL"));
	set_url(f, 9);
	f->cfg.urls = f->urls;
	f->cfg.token_file = "/nonexistent/token";
	assert_true(push_start(&f->cfg, &p, &err) < 0);
	assert_null(p);
	assert_non_null(strstr(err.message, "--push-token-file /nonexistent/token"));
	push_stop(NULL); /* NULL-safe */
	push_wake(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cursor_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_500, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_skips_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_cloudevents_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_cloudevents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_ndjson, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_reason_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	int r;

	log_setup(LOG_ERR, false);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	metrics_release();
	return r;
}
