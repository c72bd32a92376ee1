/*
 * push.c: webhook push. Every event in the store goes to each --push URL,
 * in order, in the --push-format: CloudEvents 1.0 in batched mode (the
 * default: one POST of application/cloudevents-batch+json holding up to
 * 100 events), or structured (one application/cloudevents+json event per
 * POST), or plain records for log collectors (Fluent Bit's and fluentd's
 * HTTP inputs take only application/json: a JSON array of up to 100; or
 * application/x-ndjson, one per line).
 *
 * The store is the queue: a receiver's cursor (the last seq it acknowledged
 * with a 2xx) is kept in the store's meta table, written through the store
 * thread, so a receiver that is down, or a daemon restart, loses nothing:
 * sending resumes after the cursor. A batch is acknowledged as a whole;
 * after a failure it is sent again (at least once), and each event's id is
 * its sequence number, stable across retries and restarts, so a receiver
 * can drop duplicates (CloudEvents: source + id are unique; a record's seq).
 * Failures back off from 0.5 s to 30 s; a receiver that refuses (4xx: it
 * will likely refuse the same POST again, until someone changes it or
 * ocitapd's --push-format) from 5 s to 5 min, its reason (the answer's
 * body, cut to one line) logged and on /healthz; nothing is dropped. A
 * receiver more than --push-backlog events behind
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
#include <stdio.h>
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

#define BATCH		      100
#define BACKOFF_MIN_MS	      500
#define BACKOFF_MAX_MS	      30000
#define REJECT_BACKOFF_MIN_MS 5000 /* after a 4xx */
#define REJECT_BACKOFF_MAX_MS 300000
#define IDLE_WAIT_MS	      5000
#define MAX_TOKEN	      4096
#define MAX_REASON	      256 /* bytes of a receiver's answer kept as its reason */

static const char *const content_types[] = {
	[PUSH_CLOUDEVENTS_BATCH] = "application/cloudevents-batch+json",
	[PUSH_CLOUDEVENTS] = "application/cloudevents+json",
	[PUSH_JSON] = "application/json",
	[PUSH_NDJSON] = "application/x-ndjson",
};

/* Written by the push thread only; what /healthz reads (push_health_json())
 * is written under the pusher's lock. */
struct target {
	char *url;
	char *label;	/* the URL without credentials or query, for /metrics and logs */
	char key[600];	/* its cursor's key in the store */
	int64_t cursor; /* last seq acknowledged */
	int64_t backlog;
	int64_t retry_at_ms;
	int backoff_ms;
	bool failing;
	long last_status;     /* while failing: the HTTP status answered (0: none, libcurl failed) */
	int last_curl;	      /* while failing: libcurl's code (CURLE_OK: an HTTP answer) */
	char last_error[512]; /* while failing: what the receiver or libcurl said */
	uint64_t rejected;    /* 4xx answers since the start */
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
	struct json_object *list; /* CloudEvents or records, in order */
	int64_t last;
	int n, max;
};

/* A record of the json and ndjson formats: the event as /v1/events shows
 * it, with its host, and "time" in seconds since the epoch (a number):
 * fluentd's HTTP input takes a record's "time" as the record's time and
 * refuses a string there (400: Time.at of a String). */
static struct json_object *event_record(const struct pusher *p, const struct ocitap_event *ev)
{
	struct json_object *o = ocitap_event_json(ev);
	char seconds[48];

	if (ev->wall_ns > 0) {
		snprintf(seconds, sizeof(seconds), "%" PRId64 ".%09" PRId64, ev->wall_ns / 1000000000,
			 ev->wall_ns % 1000000000);
		/* printed as written: every nanosecond, which a double does not hold */
		json_object_object_add(o, "time", json_object_new_double_s((double)ev->wall_ns / 1e9, seconds));
	}
	json_object_object_add(o, "host", json_object_new_string(p->host));
	return o;
}

static int batch_add_event(const struct ocitap_event *ev, void *userdata)
{
	struct batch *b = userdata;
	struct json_object *ce;
	char id[32], type[64], source[300], when[64];

	if (b->p->cfg->format == PUSH_JSON || b->p->cfg->format == PUSH_NDJSON) {
		json_object_array_add(b->list, event_record(b->p, ev));
		b->last = ev->seq;
		return ++b->n == b->max;
	}
	ce = json_object_new_object();

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
	return ++b->n == b->max;
}

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The POST's body for b in the configured format (NULL: out of memory). */
static char *batch_body(const struct batch *b)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	switch (b->p->cfg->format) {
	case PUSH_CLOUDEVENTS:
		return strdup(json_object_to_json_string_ext(json_object_array_get_idx(b->list, 0), JSON_FLAGS));
	case PUSH_NDJSON:
		out = open_memstream(&text, &size);
		if (!out)
			return NULL;
		for (size_t i = 0; i < json_object_array_length(b->list); i++)
			fprintf(out, "%s\n",
				json_object_to_json_string_ext(json_object_array_get_idx(b->list, i), JSON_FLAGS));
		if (fclose(out) != 0) {
			free(text);
			return NULL;
		}
		return text;
	default:
		return strdup(json_object_to_json_string_ext(b->list, JSON_FLAGS));
	}
}

/* A transfer in flight ends at once when the daemon stops. */
static int abort_on_stop(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct pusher *p = clientp;

	return __atomic_load_n(&p->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

/* The start of the receiver's answer: its reason when it refuses. */
struct answer {
	char text[MAX_REASON + 1];
	size_t len;
	bool cut;
};

static size_t keep_answer(char *ptr, size_t size, size_t n, void *userdata)
{
	struct answer *a = userdata;
	size_t len = size * n;

	if (len > MAX_REASON - a->len) {
		a->cut = true;
		len = MAX_REASON - a->len;
	}
	memcpy(a->text + a->len, ptr, len);
	a->len += len;
	a->text[a->len] = '\0';
	return size * n;
}

/* A receiver's answer as one line fit for a log and JSON: each run of
 * white space and control characters one space, bytes outside printable
 * ASCII '?', trimmed, "..." when cut. */
static void answer_line(const struct answer *a, char *out, size_t size)
{
	size_t len = 0;
	bool space = false;

	for (size_t i = 0; i < a->len && len + 4 < size; i++) {
		unsigned char c = (unsigned char)a->text[i];

		if (c <= ' ' || c == 0x7f) {
			space = len > 0;
			continue;
		}
		if (space)
			out[len++] = ' ';
		space = false;
		out[len++] = c < 0x7f ? (char)c : '?';
	}
	if (a->cut && len + 4 <= size) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
}

/* One POST; 0 on a 2xx, else -EIO with err saying what the receiver (its
 * status and the start of its answer) or libcurl said, *ret_status the
 * HTTP status (0: no answer) and *ret_curl libcurl's code. */
static int post_body(struct pusher *p, CURL *curl, const struct target *t, const char *body, long *ret_status,
		     CURLcode *ret_curl, struct ocitap_error *err)
{
	struct curl_slist *hdr = NULL;
	struct answer answer = { .len = 0 };
	char auth[MAX_TOKEN + 64], ctype[96], curl_err[CURL_ERROR_SIZE] = "", reason[MAX_REASON + 8];
	long status = 0;
	CURLcode rc;

	*ret_status = 0;
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_types[p->cfg->format]);
	hdr = curl_slist_append(hdr, ctype);
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
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ocitapd/" OCITAP_VERSION);
	if (p->cfg->ca_file) /* https: certificates are always verified, against this CA if given */
		curl_easy_setopt(curl, CURLOPT_CAINFO, p->cfg->ca_file);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hdr);
	*ret_curl = rc;
	if (rc != CURLE_OK)
		return ocitap_error_set(err, -EIO, NULL, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	if (status >= 200 && status <= 299)
		return 0;
	answer_line(&answer, reason, sizeof(reason));
	if (!reason[0])
		return ocitap_error_set(err, -EIO, NULL, "HTTP %ld", status);
	return ocitap_error_set(err, -EIO, NULL, "HTTP %ld: %s", status, reason);
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
	pthread_mutex_lock(&p->lock);
	t->cursor += skip;
	pthread_mutex_unlock(&p->lock);
	queue_cursor(p, t);
}

static int next_backoff(int backoff_ms, int min_ms, int max_ms)
{
	backoff_ms = backoff_ms ? backoff_ms * 2 : min_ms;
	if (backoff_ms < min_ms)
		backoff_ms = min_ms;
	return backoff_ms > max_ms ? max_ms : backoff_ms;
}

/* The POST was acknowledged: t is past it. */
static void delivered(struct pusher *p, struct target *t, const struct batch *b)
{
	if (t->failing)
		log_msg(LOG_INFO, "push %s: delivering again", t->label);
	pthread_mutex_lock(&p->lock);
	t->failing = false;
	t->backoff_ms = 0;
	t->last_status = 0;
	t->last_error[0] = '\0';
	t->cursor = b->last;
	pthread_mutex_unlock(&p->lock);
	queue_cursor(p, t);
	metric_add("ocitap_push_events_total", b->n, "receiver", t->label, NULL);
}

/* The POST failed: sent again after a backoff, longer when the receiver
 * refused it (4xx). Logged when it starts failing and when the failure
 * changes: another status or libcurl code, or a refusal's other reason
 * (libcurl's messages vary from one try to the next: "after 3 ms"). */
static void failed(struct pusher *p, struct target *t, long status, CURLcode rc, const struct ocitap_error *err)
{
	bool rejected = status >= 400 && status <= 499;
	char line[512], code[16];
	bool changed;

	ocitap_error_format(err, line, sizeof(line));
	changed = !t->failing || t->last_status != status || t->last_curl != (int)rc ||
		  (rejected && strcmp(t->last_error, line) != 0);
	pthread_mutex_lock(&p->lock);
	t->backoff_ms = rejected ? next_backoff(t->backoff_ms, REJECT_BACKOFF_MIN_MS, REJECT_BACKOFF_MAX_MS)
				 : next_backoff(t->backoff_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
	t->retry_at_ms = ocitap_now_ms() + t->backoff_ms;
	t->failing = true;
	t->last_status = status;
	t->last_curl = (int)rc;
	snprintf(t->last_error, sizeof(t->last_error), "%s", line);
	if (rejected)
		t->rejected++;
	pthread_mutex_unlock(&p->lock);
	metric_add("ocitap_push_failures_total", 1, "receiver", t->label, NULL);
	if (rejected) {
		snprintf(code, sizeof(code), "%ld", status);
		metric_add("ocitap_push_rejected_total", 1, "receiver", t->label, "code", code, NULL);
	}
	if (!changed)
		log_msg(LOG_DEBUG, "push %s: %s; retrying in %.1f s", t->label, line, t->backoff_ms / 1000.0);
	else if (rejected)
		log_msg(LOG_WARN,
			"push %s: refused: %s (sent as %s, --push-format %s); retrying in %.0f s and less often, "
			"nothing is dropped",
			t->label, line, content_types[p->cfg->format], push_format_name(p->cfg->format),
			t->backoff_ms / 1000.0);
	else
		log_msg(LOG_WARN, "push %s: %s; retrying with backoff, nothing is dropped", t->label, line);
}

/* Send what t has not got yet, one batch; true when a batch went out. */
static bool push_target(struct pusher *p, CURL *curl, struct target *t, int64_t last_seq)
{
	struct ocitap_error err = { 0 };
	struct batch b = { .p = p,
			   .list = json_object_new_array(),
			   .last = t->cursor,
			   .max = p->cfg->format == PUSH_CLOUDEVENTS ? 1 : BATCH };
	_cleanup_free_ char *body = NULL;
	CURLcode rc = CURLE_OK;
	bool sent = false;
	long status = 0;

	skip_backlog(p, t, last_seq);
	if (ocitap_store_foreach_event(p->store, NULL, 0, t->cursor, batch_add_event, &b, &err) < 0) {
		log_msg(LOG_ERR, "push: store: %s", err.message);
		json_object_put(b.list);
		return false;
	}
	if (b.n == 0) {
		json_object_put(b.list);
		pthread_mutex_lock(&p->lock);
		t->backlog = 0;
		pthread_mutex_unlock(&p->lock);
		metric_set("ocitap_push_backlog_events", 0, "receiver", t->label, NULL);
		return false;
	}
	body = batch_body(&b);
	json_object_put(b.list);
	if (!body) {
		ocitap_error_set(&err, -ENOMEM, NULL, "out of memory");
		failed(p, t, 0, CURLE_OUT_OF_MEMORY, &err);
	} else if (post_body(p, curl, t, body, &status, &rc, &err) == 0) {
		delivered(p, t, &b);
		sent = true;
	} else {
		failed(p, t, status, rc, &err);
	}
	pthread_mutex_lock(&p->lock);
	t->backlog = last_seq - t->cursor;
	pthread_mutex_unlock(&p->lock);
	metric_set("ocitap_push_backlog_events", (double)(last_seq - t->cursor), "receiver", t->label, NULL);
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
	if ((unsigned)cfg->format >= PUSH_FORMAT_COUNT)
		return ocitap_error_set(err, -EINVAL, NULL, "--push-format: expected %s", PUSH_FORMATS_ALLOWED);
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
		log_msg(LOG_INFO, "push to %s from event %" PRId64 " (--push-format %s)", t->label, t->cursor + 1,
			push_format_name(p->cfg->format));
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

struct json_object *push_health_json(struct pusher *p)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	bool all_ok = true;
	int64_t now = ocitap_now_ms();

	if (p) {
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->n_targets; i++) {
			const struct target *t = &p->targets[i];
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "receiver", json_object_new_string(t->label));
			json_object_object_add(r, "ok", json_object_new_boolean(!t->failing));
			json_object_object_add(r, "delivered", json_object_new_int64(t->cursor));
			json_object_object_add(r, "backlog", json_object_new_int64(t->backlog));
			json_object_object_add(r, "rejected", json_object_new_int64((int64_t)t->rejected));
			if (t->failing) {
				json_object_object_add(r, "error", json_object_new_string(t->last_error));
				json_object_object_add(r, "lastStatus",
						       t->last_status ? json_object_new_int64(t->last_status) : NULL);
				json_object_object_add(r, "retryInSeconds",
						       json_object_new_double(t->retry_at_ms > now
										      ? (t->retry_at_ms - now) / 1000.0
										      : 0));
			}
			all_ok = all_ok && !t->failing;
			json_object_array_add(list, r);
		}
		pthread_mutex_unlock(&p->lock);
	}
	json_object_object_add(o, "ok", json_object_new_boolean(all_ok));
	if (p)
		json_object_object_add(o, "format", json_object_new_string(push_format_name(p->cfg->format)));
	json_object_object_add(o, "receivers", list);
	return o;
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
