/*
 * push.c: webhook push. Every event in the store goes to each
 * --push URL as CloudEvents 1.0 in batched mode (one POST of
 * application/cloudevents-batch+json holding up to 100 events), in order.
 *
 * The store is the queue: a receiver's cursor (the last seq it acknowledged
 * with a 2xx) is kept in the store's meta table, written through the store
 * thread, so a receiver that is down, or a daemon restart, loses nothing:
 * sending resumes after the cursor. A batch is acknowledged as a whole;
 * after a failure it is sent again (at least once), and each event's id is
 * its sequence number, stable across retries and restarts, so a receiver
 * can drop duplicates (CloudEvents: source + id are unique). Failures back
 * off from 0.5 s to 30 s. A receiver more than --push-backlog events behind
 * skips the oldest (counted). All of it on this thread, with libcurl
 * timeouts: no receiver can slow the daemon. Its state is one struct
 * pusher (push_start() to push_stop()); tests/unit/test_push.c runs it
 * against a receiver of its own.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event-json.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "push.h"

#define BATCH	       100
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define IDLE_WAIT_MS   5000
#define MAX_TOKEN      4096

struct target {
	char *url;
	char *label;	/* the URL without credentials or query, for /metrics and logs */
	char key[600];	/* its cursor's key in the store */
	int64_t cursor; /* last seq acknowledged */
	int64_t retry_at_ms;
	int backoff_ms;
	bool failing;
};

struct pusher {
	const struct push_config *cfg;
	struct target *targets;
	size_t n_targets;
	char *token;		    /* NULL: no Authorization header */
	char host[256];		    /* the CloudEvents' source: ocitap://HOST */
	struct ocitap_store *store; /* read-only, this thread's */
	bool curl_initialized;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	uint64_t generation; /* bumped by push_wake() */
	bool stop;	     /* read without the lock by transfers (atomically) */
};

/* scheme://[user:pass@]host[:port]/path[?query] -> scheme://host[:port]/path */
static char *url_label(const char *url)
{
	const char *s = strstr(url, "://"), *at, *end;
	char *out;

	if (!s)
		return strdup(url);
	s += 3;
	end = s + strcspn(s, "/?#");
	at = memchr(s, '@', (size_t)(end - s));
	out = malloc(strlen(url) + 1);
	if (!out)
		return NULL;
	snprintf(out, strlen(url) + 1, "%.*s%.*s", (int)(s - url), url, (int)strcspn(at ? at + 1 : s, "?#"),
		 at ? at + 1 : s);
	return out;
}

/* The receiver's cursor goes to the store through the store thread. */
static void queue_cursor(struct pusher *p, const struct target *t)
{
	struct wop *op = calloc(1, sizeof(*op));
	char v[32];

	if (!op)
		return;
	snprintf(v, sizeof(v), "%" PRId64, t->cursor);
	op->kind = WOP_META;
	op->id = strdup(t->key);
	op->meta_value = strdup(v);
	if (!op->id || !op->meta_value) {
		wop_free(op);
		return;
	}
	writer_push(p->cfg->writer, op);
	writer_kick(p->cfg->writer);
}

struct batch {
	const struct pusher *p;
	struct json_object *list;
	int64_t last;
	int n;
};

static int batch_add_event(const struct ocitap_event *ev, void *userdata)
{
	struct batch *b = userdata;
	struct json_object *ce = json_object_new_object();
	char id[32], type[64], source[300], when[64];

	snprintf(id, sizeof(id), "%" PRId64, ev->seq);
	snprintf(type, sizeof(type), "io.ocitap.%s", ev->kind ? ev->kind : "event");
	snprintf(source, sizeof(source), "ocitap://%s", b->p->host);
	ocitap_time_format(ev->wall_ns, when, sizeof(when));
	json_object_object_add(ce, "specversion", json_object_new_string("1.0"));
	json_object_object_add(ce, "id", json_object_new_string(id));
	json_object_object_add(ce, "source", json_object_new_string(source));
	json_object_object_add(ce, "type", json_object_new_string(type));
	json_object_object_add(ce, "subject", json_object_new_string(ev->container_id ? ev->container_id : ""));
	if (when[0])
		json_object_object_add(ce, "time", json_object_new_string(when));
	json_object_object_add(ce, "datacontenttype", json_object_new_string("application/json"));
	json_object_object_add(ce, "data", ocitap_event_json(ev));
	json_object_array_add(b->list, ce);
	b->last = ev->seq;
	return ++b->n == BATCH;
}

/* A transfer in flight ends at once when the daemon stops. */
static int abort_on_stop(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct pusher *p = clientp;

	return __atomic_load_n(&p->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *userdata)
{
	return size * n;
}

/* One POST; 0 on a 2xx, else -EIO with err saying what the receiver or libcurl said. */
static int post_batch(struct pusher *p, CURL *curl, const struct target *t, const char *body, struct ocitap_error *err)
{
	struct curl_slist *hdr = NULL;
	char auth[MAX_TOKEN + 64], curl_err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	hdr = curl_slist_append(hdr, "Content-Type: application/cloudevents-batch+json");
	if (p->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
		hdr = curl_slist_append(hdr, auth);
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, t->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ocitapd/" OCITAP_VERSION);
	if (p->cfg->ca_file) /* https: certificates are always verified, against this CA if given */
		curl_easy_setopt(curl, CURLOPT_CAINFO, p->cfg->ca_file);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK)
		return ocitap_error_set(err, -EIO, NULL, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return ocitap_error_set(err, -EIO, NULL, "HTTP %ld", status);
	return 0;
}

/* A receiver more than max_backlog events behind skips the oldest. */
static void skip_backlog(struct pusher *p, struct target *t, int64_t last_seq)
{
	int64_t skip = last_seq - p->cfg->max_backlog - t->cursor;

	if (last_seq - t->cursor <= p->cfg->max_backlog)
		return;
	log_msg(LOG_WARN, "push %s: %" PRId64 " events behind; skipping the oldest %" PRId64, t->label,
		last_seq - t->cursor, skip);
	metric_add("ocitap_push_skipped_events_total", (double)skip, "receiver", t->label, NULL);
	t->cursor += skip;
	queue_cursor(p, t);
}

/* Send what t has not got yet, one batch; true when a batch went out. */
static bool push_target(struct pusher *p, CURL *curl, struct target *t, int64_t last_seq)
{
	struct ocitap_error err = { 0 };
	struct batch b = { .p = p, .list = json_object_new_array(), .last = t->cursor };
	char line[512];
	bool sent = false;

	skip_backlog(p, t, last_seq);
	if (ocitap_store_foreach_event(p->store, NULL, 0, t->cursor, batch_add_event, &b, &err) < 0) {
		log_msg(LOG_ERR, "push: store: %s", err.message);
		json_object_put(b.list);
		return false;
	}
	if (b.n == 0) {
		json_object_put(b.list);
		metric_set("ocitap_push_backlog_events", 0, "receiver", t->label, NULL);
		return false;
	}
	if (post_batch(p, curl, t,
		       json_object_to_json_string_ext(b.list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		       &err) == 0) {
		if (t->failing)
			log_msg(LOG_INFO, "push %s: delivering again", t->label);
		t->failing = false;
		t->backoff_ms = 0;
		t->cursor = b.last;
		queue_cursor(p, t);
		metric_add("ocitap_push_events_total", b.n, "receiver", t->label, NULL);
		sent = true;
	} else {
		if (!t->failing)
			log_msg(LOG_WARN, "push %s: %s; retrying with backoff, nothing is dropped", t->label,
				ocitap_error_format(&err, line, sizeof(line)));
		t->failing = true;
		t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (t->backoff_ms > BACKOFF_MAX_MS)
			t->backoff_ms = BACKOFF_MAX_MS;
		t->retry_at_ms = ocitap_now_ms() + t->backoff_ms;
		metric_add("ocitap_push_failures_total", 1, "receiver", t->label, NULL);
	}
	metric_set("ocitap_push_backlog_events", (double)(last_seq - t->cursor), "receiver", t->label, NULL);
	json_object_put(b.list);
	return sent;
}

/* Until wake_at, a push_wake() or push_stop(); false once stopping. */
static bool wait_for_work(struct pusher *p, uint64_t generation, int64_t wake_at)
{
	bool go_on;

	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->generation == generation && ocitap_now_ms() < wake_at) {
		struct timespec ts = { .tv_sec = wake_at / 1000, .tv_nsec = (wake_at % 1000) * 1000000 };

		if (pthread_cond_timedwait(&p->wake, &p->lock, &ts) == ETIMEDOUT)
			break;
	}
	go_on = !p->stop;
	pthread_mutex_unlock(&p->lock);
	return go_on;
}

static void *push_thread(void *arg)
{
	struct pusher *p = arg;
	CURL *curl = curl_easy_init();

	if (!curl) {
		log_msg(LOG_ERR, "push: libcurl did not start; nothing is pushed");
		return NULL;
	}
	for (;;) {
		int64_t last_seq = ocitap_store_last_seq(p->store), now = ocitap_now_ms(), wake_at = now + IDLE_WAIT_MS;
		bool busy = false;
		uint64_t generation;

		pthread_mutex_lock(&p->lock);
		generation = p->generation;
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < p->n_targets && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED); i++) {
			struct target *t = &p->targets[i];

			if (t->failing && now < t->retry_at_ms) {
				if (t->retry_at_ms < wake_at)
					wake_at = t->retry_at_ms;
				continue;
			}
			if (last_seq > t->cursor && push_target(p, curl, t, last_seq) && last_seq > t->cursor)
				busy = true; /* more to send: go round again at once */
			if (t->failing && t->retry_at_ms < wake_at)
				wake_at = t->retry_at_ms;
		}
		if (!wait_for_work(p, generation, busy ? 0 : wake_at))
			break;
	}
	curl_easy_cleanup(curl);
	return NULL;
}

static int read_token_file(struct pusher *p, const char *path, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[MAX_TOKEN + 1];
	ssize_t n;

	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "--push-token-file %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0] || strpbrk(buf, " \t"))
		return ocitap_error_set(err, -EINVAL, NULL,
					"--push-token-file %s: expected one token on the first line, no spaces", path);
	p->token = strdup(buf);
	return p->token ? 0 : ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

/* Everything but the thread (stopped first by push_stop()). */
static void pusher_free(struct pusher *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_targets; i++) {
		free(p->targets[i].url);
		free(p->targets[i].label);
	}
	free(p->targets);
	ocitap_store_close(p->store);
	free(p->token);
	if (p->curl_initialized)
		curl_global_cleanup();
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void pusher_freep(struct pusher **p)
{
	pusher_free(*p);
}

static int check_config(const struct push_config *cfg, struct ocitap_error *err)
{
	for (size_t i = 0; i < cfg->n_urls; i++)
		if (strncmp(cfg->urls[i], "http://", 7) != 0 && strncmp(cfg->urls[i], "https://", 8) != 0)
			return ocitap_error_set(err, -EINVAL, NULL, "--push %s: expected an http:// or https:// URL",
						cfg->urls[i]);
	return 0;
}

/* Each receiver, from its cursor in the store. */
static int add_targets(struct pusher *p, struct ocitap_error *err)
{
	p->targets = calloc(p->cfg->n_urls, sizeof(*p->targets));
	if (!p->targets)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < p->cfg->n_urls; i++) {
		struct target *t = &p->targets[p->n_targets++];
		char v[32];

		t->url = strdup(p->cfg->urls[i]);
		t->label = url_label(p->cfg->urls[i]);
		if (!t->url || !t->label)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
		/* keyed by the URL as given: a changed URL is a new receiver */
		snprintf(t->key, sizeof(t->key), "push-cursor:%s", p->cfg->urls[i]);
		if (ocitap_store_get_meta(p->store, t->key, v, sizeof(v)) == 0 &&
		    ocitap_parse_int64(v, 0, INT64_MAX, &t->cursor) < 0) {
			log_msg(LOG_WARN, "push to %s: the stored cursor \"%s\" is not a number; from the start",
				t->label, v);
			t->cursor = 0;
		}
		log_msg(LOG_INFO, "push to %s from event %" PRId64, t->label, t->cursor + 1);
	}
	return 0;
}

int push_start(const struct push_config *cfg, struct pusher **ret, struct ocitap_error *err)
{
	_cleanup_(pusher_freep) struct pusher *p = NULL;
	struct ocitap_error store_err = { 0 };
	pthread_condattr_t attr;
	int r;

	if ((r = check_config(cfg, err)) < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	p->cfg = cfg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (gethostname(p->host, sizeof(p->host)) < 0)
		snprintf(p->host, sizeof(p->host), "localhost");
	if (cfg->token_file && (r = read_token_file(p, cfg->token_file, err)) < 0)
		return r;
	if (cfg->ca_file && access(cfg->ca_file, R_OK) < 0)
		return ocitap_error_set(err, -EINVAL, NULL, "--push-ca-file %s: %s", cfg->ca_file, strerror(errno));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ocitap_error_set(err, -EIO, NULL, "libcurl did not initialize");
	p->curl_initialized = true;
	if (ocitap_store_open(cfg->db_path, OCITAP_STORE_READONLY, &p->store, &store_err) < 0)
		return ocitap_error_set(err, -EIO, NULL, "push: store: %s", store_err.message);
	if ((r = add_targets(p, err)) < 0)
		return r;
	if (pthread_create(&p->thread, NULL, push_thread, p) != 0)
		return ocitap_error_set(err, -EAGAIN, NULL, "push: cannot start its thread");
	p->thread_started = true;
	*ret = TAKE_PTR(p);
	return 0;
}

void push_wake(struct pusher *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->generation++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void push_stop(struct pusher *p)
{
	if (!p)
		return;
	if (p->thread_started) {
		pthread_mutex_lock(&p->lock);
		__atomic_store_n(&p->stop, true, __ATOMIC_RELAXED);
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pusher_free(p);
}
