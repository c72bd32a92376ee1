/*
 * http-api.c: the handlers of the JSON API (/v1/containers,
 * /v1/containers/{id}, .../runs, .../profile, /v1/events), /metrics
 * and /healthz, each answering on its connection's thread from the
 * connection's read-only store, the writer's stats, the tracer and the
 * metrics table. http.c's route table picks the handler; ids are matched
 * against the store (or the tracer) only, never used as paths.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event-json.h"
#include "http-internal.h"
#include "metrics.h"
#include "push.h"
#include "tracer.h"

/* What the store does not have yet, per run: from the writer's held ops. */
struct held_run {
	char id[OCITAP_QUERY_ID_MAX + 1];
	int64_t run;
	int64_t events, notifications;
	bool has_phase, has_exit;
	enum ocitap_phase phase;
	int exit_code, signal;
};

struct held {
	const char *only; /* NULL: every container */
	struct held_run *v;
	size_t n;
};

static void hold_one(const struct wop *op, void *userdata)
{
	struct held *h = userdata;
	struct held_run *r = NULL;

	if (!op->id || (h->only && strcmp(op->id, h->only) != 0) ||
	    (op->kind != WOP_EVENT && op->kind != WOP_NOTIFICATIONS && op->kind != WOP_CONTAINER))
		return;
	for (size_t i = 0; i < h->n && !r; i++)
		if (h->v[i].run == op->run && strcmp(h->v[i].id, op->id) == 0)
			r = &h->v[i];
	if (!r) {
		struct held_run *v = h->n < 4096 ? realloc(h->v, (h->n + 1) * sizeof(*v)) : NULL;

		if (!v)
			return;
		h->v = v;
		r = memset(&v[h->n++], 0, sizeof(*v));
		snprintf(r->id, sizeof(r->id), "%s", op->id);
		r->run = op->run;
	}
	if (op->kind == WOP_NOTIFICATIONS)
		r->notifications += op->count;
	if (op->kind != WOP_EVENT)
		return;
	r->events++;
	if (op->kind_text && strcmp(op->kind_text, OCITAP_EVENT_TRANSITION) == 0)
		r->has_phase = true, r->phase = op->ev.to;
	if (op->ev.has_exit)
		r->has_exit = true, r->exit_code = op->ev.exit_code, r->signal = op->ev.signal;
}

/* The runs whose latest records are held in memory (only: one container's, or NULL). */
static struct json_object *held_json(struct http_server *s, const char *only)
{
	struct held h = { .only = only };
	struct json_object *a = json_object_new_array();

	writer_foreach_held(s->cfg->writer, hold_one, &h);
	for (size_t i = 0; i < h.n; i++) {
		struct json_object *o = json_object_new_object();
		const struct held_run *r = &h.v[i];

		json_object_object_add(o, "id", json_object_new_string(r->id));
		json_object_object_add(o, "run", json_object_new_int64(r->run));
		json_object_object_add(o, "status",
				       r->has_phase ? json_object_new_string(ocitap_phase_to_string(r->phase)) : NULL);
		if (r->has_exit) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "code", json_object_new_int(r->exit_code));
			json_object_object_add(e, "signal", json_object_new_int(r->signal));
			json_object_object_add(o, "exit", e);
		} else {
			json_object_object_add(o, "exit", NULL);
		}
		json_object_object_add(o, "events", json_object_new_int64(r->events));
		json_object_object_add(o, "notifications", json_object_new_int64(r->notifications));
		json_object_array_add(a, o);
	}
	free(h.v);
	return a;
}

/* While the store cannot be written, an answer read from it may lack what
 * happened since its last commit (held in memory, retried): said in it,
 * with what is held ("held": per run, its latest status and exit). */
static void say_if_degraded(struct http_server *s, struct json_object *o, const char *only)
{
	struct writer_stats ws;

	writer_get_stats(s->cfg->writer, &ws);
	if (!ws.degraded)
		return;
	json_object_object_add(o, "degraded", json_object_new_boolean(true));
	json_object_object_add(
		o, "warning",
		json_object_new_string("the store cannot be written (see /healthz): what happened since "
				       "its last commit is held in memory, retried, and not in this answer "
				       "until it is written; \"held\" lists it by run"));
	json_object_object_add(o, "held", held_json(s, only));
}

/* ---- /v1/containers ---------------------------------------------------------- */

struct filter {
	struct http_server *server;
	struct ocitap_query q;
	/* the answer's text so far: each container is written, and its object
	 * freed, as it is read (a tree of 10,000 took a fifth of the build to
	 * free at the end) */
	FILE *out;
	char *text;
	size_t len;
	bool failed;		    /* a write to out failed (out of memory) */
	struct ocitap_store *store; /* for each container's last event */
	/* a page (limit=, after=): the list is in creation order, then id */
	bool skipping;	  /* still before the cursor */
	int64_t after_ns; /* the cursor's creation time; -1: a bare id (skip through it) */
	const char *after_id;
	int64_t taken;
	bool more;	 /* a container matched past the page */
	int64_t last_ns; /* the page's last container */
	char last_id[OCITAP_QUERY_ID_MAX + 1];
};

/* after=: "CREATED_NS:ID" (a page's "next"), or a container id. */
static void filter_cursor(struct filter *f)
{
	const char *a = f->q.after, *colon = a ? strchr(a, ':') : NULL;

	f->skipping = a != NULL;
	f->after_ns = -1;
	f->after_id = a;
	if (colon && colon > a && strspn(a, "0123456789") == (size_t)(colon - a) && colon - a < 20) {
		f->after_ns = strtoll(a, NULL, 10);
		f->after_id = colon + 1;
	}
}

/* Is c at or before the cursor? Clears skipping at the first one past it. */
/* after= a bare id: the cursor of its latest run (the order of the list). */
static int cursor_of_id(struct filter *f, struct ocitap_store *store)
{
	struct ocitap_store_container c = { 0 };
	int r = ocitap_store_get_container(store, f->after_id, 0, &c, NULL);

	if (r == 0)
		f->after_ns = c.created_wall_ns;
	ocitap_store_container_release(&c);
	return r;
}

static bool before_cursor(struct filter *f, const struct ocitap_store_container *c)
{
	if (!f->skipping)
		return false;
	if (f->after_ns < 0) { /* a bare id: everything up to and including it */
		if (strcmp(c->id, f->after_id) == 0)
			f->skipping = false;
		return true;
	}
	if (c->created_wall_ns < f->after_ns || (c->created_wall_ns == f->after_ns && strcmp(c->id, f->after_id) <= 0))
		return true;
	f->skipping = false;
	return false;
}

static int list_one(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	struct filter *f = userdata;

	if (before_cursor(f, c))
		return 0;
	if (f->q.has_status && (c->phase != f->q.status || c->failed != f->q.status_failed))
		return 0;
	if (!ocitap_query_names_match(&f->q, c->name, c->pod, c->pod_namespace, c->manager) ||
	    !ocitap_query_annotations_match(&f->q, c->annotations_json))
		return 0;
	if (f->q.has_limit && f->taken == f->q.limit) {
		f->more = true;
		return 1; /* the page is full: stop */
	}
	{
		struct json_object *o = ocitap_container_json(c, f->store, http_live_notify_fds(f->server, c->id));
		size_t n = 0;
		const char *one;

		http_add_live_policies(f->server, c->id, o);
		one = json_object_to_json_string_length(o, HTTP_JSON_FLAGS, &n);
		if (!one || (f->taken && fputc(',', f->out) == EOF) || fwrite(one, 1, n, f->out) != n)
			f->failed = true;
		json_object_put(o);
	}
	f->taken++;
	f->last_ns = c->created_wall_ns;
	snprintf(f->last_id, sizeof(f->last_id), "%s", c->id);
	return 0;
}

enum MHD_Result http_get_containers(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				    const struct http_cache_ticket *t)
{
	struct filter f = { .server = s, .store = store };
	struct ocitap_error err = { 0 };
	struct json_object *o;
	bool snapshot = false, unknown = false;
	enum MHD_Result r;
	char line[512];
	int listed;

	if (!http_read_query(conn, &f.q, &r))
		return r;
	filter_cursor(&f);
	f.out = open_memstream(&f.text, &f.len);
	if (!f.out) {
		r = MHD_NO;
		goto out;
	}
	fputs("{\"containers\":[", f.out);
	/* a cursor of a page's "next" is where the store starts reading; so is
	 * a bare id once its creation time is known (unknown: nothing comes
	 * after it; unreadable: skipped through in list_one) */
	if (f.after_ns < 0 && f.after_id) {
		/* the lookup and the list in one state of the store: a new run of
		 * that id committed between them would move it past the cursor */
		snapshot = ocitap_store_begin_read(store, NULL) == 0;
		if (cursor_of_id(&f, store) == -ENOENT)
			unknown = true;
	}
	listed = unknown ? 0
		 : f.after_ns >= 0
			 ? ocitap_store_foreach_container_after(store, f.after_ns, f.after_id, list_one, &f, &err)
			 : ocitap_store_foreach_container(store, list_one, &f, &err);
	if (snapshot)
		ocitap_store_rollback(store);
	if (listed < 0) {
		fclose(f.out);
		free(f.text);
		r = http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
				     ocitap_error_format(&err, line, sizeof(line)));
		goto out;
	}
	/* what follows the list, in the order a single object had it */
	o = json_object_new_object();
	if (f.q.has_limit || f.q.after) { /* a page: where the next one starts, null after the last */
		char next[OCITAP_QUERY_ID_MAX + 32];

		snprintf(next, sizeof(next), "%lld:%s", (long long)f.last_ns, f.last_id);
		json_object_object_add(o, "next", f.more ? json_object_new_string(next) : NULL);
	}
	say_if_degraded(s, o, NULL);
	{
		const char *rest = json_object_to_json_string_ext(o, HTTP_JSON_FLAGS); /* "{}" or "{...}" */

		if (!rest || fputc(']', f.out) == EOF || (rest[1] != '}' && fputc(',', f.out) == EOF) ||
		    fputs(rest + 1, f.out) == EOF || fputc('\n', f.out) == EOF)
			f.failed = true;
	}
	json_object_put(o);
	if (fclose(f.out) != 0 || f.failed) {
		free(f.text);
		r = MHD_NO;
		goto out;
	}
	r = http_reply_text_cached(s, conn, t, f.text, f.len);
out:
	ocitap_query_release(&f.q);
	return r;
}

/* ---- /v1/containers/{id} ------------------------------------------------------ */

static void say_if_degraded(struct http_server *s, struct json_object *o, const char *only);

/* 404, and while degraded what is held of id (a run the store has not got yet). */
static enum MHD_Result reply_not_found(struct http_server *s, struct MHD_Connection *conn, const char *id, int64_t run)
{
	struct json_object *e = json_object_new_object();

	/* built here so that the id is escaped by json-c, never by hand */
	json_object_object_add(e, "error", json_object_new_string(run ? "no such run" : "no such container"));
	json_object_object_add(e, "id", json_object_new_string(id));
	if (run)
		json_object_object_add(e, "run", json_object_new_int64(run));
	json_object_object_add(e, "status", json_object_new_int(404));
	say_if_degraded(s, e, id);
	return http_reply_json(conn, MHD_HTTP_NOT_FOUND, e);
}

enum MHD_Result http_get_container(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				   const char *id, const struct http_cache_ticket *t)
{
	struct ocitap_error err = { 0 };
	struct ocitap_query q;
	struct json_object *o;
	enum MHD_Result mr;
	int64_t run;
	char line[512];
	int r;

	if (!*id || strlen(id) > OCITAP_QUERY_ID_MAX)
		return http_reply_error(conn, MHD_HTTP_BAD_REQUEST, "container id: expected 1 to %d bytes",
					OCITAP_QUERY_ID_MAX);
	if (!http_read_query(conn, &q, &mr))
		return mr;
	run = q.run;
	ocitap_query_release(&q);
	r = ocitap_container_detail_json(store, id, run, http_live_notify_fds(s, id), &o, &err);
	if (r == -ENOENT)
		return reply_not_found(s, conn, id, run);
	if (r < 0)
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
					ocitap_error_format(&err, line, sizeof(line)));
	http_add_live_policies(s, id, o);
	say_if_degraded(s, o, id);
	return http_reply_json_cached(s, conn, t, o);
}

/* ---- /v1/containers/{id}/runs ------------------------------------------------- */

enum MHD_Result http_get_container_runs(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
					const char *id_in, size_t id_len)
{
	struct ocitap_error err = { 0 };
	char id[OCITAP_QUERY_ID_MAX + 1], line[512];
	struct json_object *o;
	int r;

	if (!id_len || id_len > OCITAP_QUERY_ID_MAX)
		return http_reply_error(conn, MHD_HTTP_BAD_REQUEST, "container id: expected 1 to %d bytes",
					OCITAP_QUERY_ID_MAX);
	memcpy(id, id_in, id_len);
	id[id_len] = '\0';
	r = ocitap_container_runs_json(store, id, http_live_notify_fds(s, id), &o, &err);
	if (r == -ENOENT)
		return reply_not_found(s, conn, id, 0);
	if (r < 0)
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
					ocitap_error_format(&err, line, sizeof(line)));
	say_if_degraded(s, o, id);
	return http_reply_json(conn, MHD_HTTP_OK, o);
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

enum MHD_Result http_get_events(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store)
{
	struct ocitap_error err = { 0 };
	struct ocitap_query q;
	struct page p;
	struct json_object *o;
	enum MHD_Result r;
	char line[512];

	if (!http_read_query(conn, &q, &r))
		return r;
	p = (struct page){ .list = json_object_new_array(), .left = q.limit, .last = q.since };
	if (ocitap_store_foreach_event(store, q.id, q.run, q.since, page_one, &p, &err) < 0) {
		json_object_put(p.list);
		ocitap_query_release(&q);
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
					ocitap_error_format(&err, line, sizeof(line)));
	}
	ocitap_query_release(&q);
	o = json_object_new_object();
	json_object_object_add(o, "events", p.list);
	json_object_object_add(o, "next", json_object_new_int64(p.last)); /* since= for the next page */
	say_if_degraded(s, o, NULL);
	return http_reply_json(conn, MHD_HTTP_OK, o);
}

/* ---- /metrics and /healthz ------------------------------------------------------- */

static void process_metrics(struct http_server *s, FILE *out)
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
		rss * sysconf(_SC_PAGESIZE), fds, s->started_wall_s);
}

/* Reports waiting in the spool (the daemon takes them within a round;
 * more than a moment there means it cannot). -1: unreadable. */
static long spool_pending(const struct http_server *s)
{
	char **names;
	size_t n;

	if (!s->cfg->spool_dir || ocitap_spool_list(s->cfg->spool_dir, &names, &n, NULL) < 0)
		return -1;
	ocitap_spool_list_free(names, n);
	return (long)n;
}

/* The store's figures for /metrics: kept for the writer's commits they
 * were read after (read first, so that a kept figure is never older than
 * its commits), read again after the next commit. false: unreadable. */
static bool store_figures(struct http_server *s, struct ocitap_store *store, struct http_store_figures *ret)
{
	uint64_t commits = s->cfg->writer ? writer_commits(s->cfg->writer) : 0;
	struct http_store_figures f = { .valid = true, .commits = commits };
	bool kept;

	pthread_mutex_lock(&s->figures_lock);
	kept = s->cfg->writer && s->figures.valid && s->figures.commits == commits;
	if (kept)
		*ret = s->figures;
	pthread_mutex_unlock(&s->figures_lock);
	if (kept)
		return true;
	if (ocitap_store_count_by_phase(store, f.by_phase, &f.failed) < 0)
		return false;
	if ((f.last_seq = ocitap_store_last_seq(store)) < 0)
		return false;
	pthread_mutex_lock(&s->figures_lock);
	if (!s->figures.valid || s->figures.commits <= commits)
		s->figures = f;
	pthread_mutex_unlock(&s->figures_lock);
	*ret = f;
	return true;
}

enum MHD_Result http_get_metrics(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store)
{
	const struct http_config *cfg = s->cfg;
	struct writer_stats ws;
	struct http_store_figures fig;
	bool have;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return MHD_NO;
	fprintf(out,
		"# HELP ocitap_build_info ocitapd's version.\n# TYPE ocitap_build_info gauge\n"
		"ocitap_build_info{version=\"%s\"} 1\n",
		OCITAP_VERSION);
	have = store && store_figures(s, store, &fig);
	fprintf(out, "# HELP ocitap_containers Containers in the store, by status.\n# TYPE ocitap_containers gauge\n");
	if (have) {
		for (int p = OCITAP_PHASE_UNKNOWN; p < OCITAP_PHASE_COUNT; p++)
			fprintf(out, "ocitap_containers{status=\"%s\"} %" PRId64 "\n", ocitap_phase_to_string(p),
				fig.by_phase[p]);
		fprintf(out, "ocitap_containers{status=\"failed\"} %" PRId64 "\n", fig.failed);
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
		have ? fig.last_seq : 0);
	writer_get_stats(cfg->writer, &ws);
	fprintf(out,
		"# HELP ocitap_store_commits_total Store transactions committed.\n"
		"# TYPE ocitap_store_commits_total counter\nocitap_store_commits_total %" PRIu64 "\n"
		"# HELP ocitap_store_failures_total Store commits that failed and were retried (disk full, I/O "
		"errors).\n"
		"# TYPE ocitap_store_failures_total counter\nocitap_store_failures_total %" PRIu64 "\n"
		"# HELP ocitap_store_degraded 1 while the store cannot be written (records are held and retried).\n"
		"# TYPE ocitap_store_degraded gauge\nocitap_store_degraded %d\n"
		"# HELP ocitap_spool_pending Hook reports waiting in the spool to be taken.\n"
		"# TYPE ocitap_spool_pending gauge\nocitap_spool_pending %ld\n"
		"# HELP ocitap_journal_pending Hook reports answered from the journal and not yet committed.\n"
		"# TYPE ocitap_journal_pending gauge\nocitap_journal_pending %" PRIu64 "\n",
		ws.commits, ws.failures, ws.degraded ? 1 : 0, spool_pending(s) > 0 ? spool_pending(s) : 0,
		writer_early_pending(cfg->writer));
	{
		size_t kept, bytes;

		http_cache_size(&s->cache, &kept, &bytes);
		fprintf(out,
			"# HELP ocitap_http_cache_answers API answers kept ready to send (valid until the next "
			"commit).\n# TYPE ocitap_http_cache_answers gauge\nocitap_http_cache_answers %zu\n"
			"# HELP ocitap_http_cache_bytes Bytes of the API answers kept ready.\n"
			"# TYPE ocitap_http_cache_bytes gauge\nocitap_http_cache_bytes %zu\n"
			"# HELP ocitap_http_cache_hits_total API requests answered from the kept answers.\n"
			"# TYPE ocitap_http_cache_hits_total counter\nocitap_http_cache_hits_total %" PRIu64 "\n"
			"# HELP ocitap_http_cache_misses_total API requests whose answer had to be built.\n"
			"# TYPE ocitap_http_cache_misses_total counter\nocitap_http_cache_misses_total %" PRIu64 "\n",
			kept, bytes, __atomic_load_n(&s->cache.hits, __ATOMIC_RELAXED),
			__atomic_load_n(&s->cache.misses, __ATOMIC_RELAXED));
	}
	metrics_render(out);
	process_metrics(s, out);
	fclose(out);
	return http_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, size);
}

enum MHD_Result http_get_healthz(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				 const char *store_why)
{
	struct json_object *o = json_object_new_object(), *st = json_object_new_object();
	struct json_object *li = json_object_new_object(), *bpf = json_object_new_object();
	struct writer_stats ws;
	bool degraded = (writer_get_stats(s->cfg->writer, &ws), ws.degraded);
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
	json_object_object_add(li, "socket", json_object_new_string(s->cfg->socket_path));
	{
		struct ocitap_error off = { 0 };
		char bwhy[512] = "";
		bool on = tracer_is_on(s->cfg->tracer, &off);

		if (!on)
			ocitap_error_format(&off, bwhy, sizeof(bwhy));
		/* BPF off is a reduced service, not a failure: ok says whether it works as configured */
		json_object_object_add(bpf, "ok", json_object_new_boolean(on || strstr(bwhy, "--bpf off")));
		json_object_object_add(bpf, "enabled", json_object_new_boolean(on));
		if (on)
			json_object_object_add(bpf, "tracingSyscalls",
					       json_object_new_boolean(tracer_tracing_syscalls(s->cfg->tracer)));
		else
			json_object_object_add(bpf, "reason", json_object_new_string(bwhy));
	}
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
	json_object_object_add(o, "version", json_object_new_string(OCITAP_VERSION));
	json_object_object_add(o, "store", st);
	json_object_object_add(o, "listener", li);
	json_object_object_add(o, "bpf", bpf);
	{
		struct json_object *sp = json_object_new_object();
		long pending = spool_pending(s);

		json_object_object_add(sp, "pending", pending >= 0 ? json_object_new_int64(pending) : NULL);
		json_object_object_add(o, "spool", sp);
	}
	if (s->cfg->writer) { /* answered, not yet committed: a moment, unless the store cannot be written */
		struct json_object *jo = json_object_new_object();

		json_object_object_add(jo, "pending",
				       json_object_new_int64((int64_t)writer_early_pending(s->cfg->writer)));
		json_object_object_add(o, "journal", jo);
	}
	/* a receiver that fails or refuses is its own problem: said here, not a degraded daemon */
	json_object_object_add(o, "push", push_health_json(s->cfg->push));
	return http_reply_json(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

/* ---- /v1/containers/ID/profile ------------------------------------------------- */

/* The seccomp profile of a traced container's syscalls so far. */
enum MHD_Result http_get_profile(struct http_server *s, struct MHD_Connection *conn, const char *id_start,
				 size_t id_len)
{
	struct ocitap_error err = { 0 };
	char id[OCITAP_QUERY_ID_MAX + 1], why[512];
	char *json = NULL;
	size_t count = 0;
	int r;

	if (id_len == 0 || id_len > OCITAP_QUERY_ID_MAX)
		return http_reply_error(conn, MHD_HTTP_BAD_REQUEST, "container id: expected 1 to %d bytes",
					OCITAP_QUERY_ID_MAX);
	memcpy(id, id_start, id_len);
	id[id_len] = '\0';
	r = tracer_profile(s->cfg->tracer, id, NULL, 0, &json, &count, &err);
	ocitap_error_format(&err, why, sizeof(why));
	if (r == -ENOTSUP)
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", why);
	if (r == -ENOENT)
		return http_reply_error(conn, MHD_HTTP_NOT_FOUND, "%s", why);
	if (r == -ENODATA)
		return http_reply_error(conn, MHD_HTTP_CONFLICT, "%s", why);
	if (r < 0)
		return http_reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", why);
	return http_reply(conn, MHD_HTTP_OK, "application/json", json, strlen(json)); /* takes json */
}
