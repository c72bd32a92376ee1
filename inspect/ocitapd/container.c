/*
 * container.c: the table of containers the daemon knows (by id), and the
 * one path every observation takes: the container's lifecycle state
 * machine (lib/lifecycle.h) orders it, and what it produced (a transition,
 * a late event, an exit) is counted for /metrics and queued for the store.
 * Also the run's names on their way to the store thread, the notification
 * counts on their way to the store, what is kept of a stopped container,
 * eviction past retention, and the restore at start.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "metrics.h"
#include "tracer.h"
#include "tracking.h"

static unsigned hash_id(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % OCITAPD_BUCKETS;
}

struct container *container_get(struct ocitapd *d, const char *id, bool create)
{
	unsigned h = hash_id(id);
	struct container *c;

	for (c = d->buckets[h]; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	if (!create)
		return NULL;
	c = ocitapd_xcalloc(1, sizeof(*c));
	c->id = ocitapd_xstrdup(id);
	c->run = 1;
	ocitap_lifecycle_init(&c->lc);
	c->policy = ocitap_policy_set_default(d->policies);
	snprintf(c->policy_name, sizeof(c->policy_name), "%s", ocitap_policy_name(c->policy));
	c->next = d->buckets[h];
	d->buckets[h] = c;
	__atomic_fetch_add(&d->n_containers, 1, __ATOMIC_RELAXED);
	return c;
}

struct container *container_get_owned(struct ocitapd *d, const char *id, uid_t owner, int64_t wall_ns)
{
	struct container *c = container_get(d, id, false);

	if (!c) {
		c = container_get(d, id, true);
		c->owner = owner;
		c->run_start_wall_ns = wall_ns;
	}
	return c;
}

struct wop *container_wop(const struct container *c, enum wop_kind kind)
{
	struct wop *op = wop_new(kind, c->id);

	op->run = c->run;
	return op;
}

struct container *container_by_cookie(struct ocitapd *d, uint64_t cookie)
{
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next)
			if (c->bpf_cookie == cookie)
				return c;
	return NULL;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t identity_hash(const struct ocitap_state *st, pid_t pid)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv1a(h, st->bundle ? st->bundle : "", st->bundle ? strlen(st->bundle) + 1 : 0);
	h = fnv1a(h, &pid, sizeof(pid));
	h = fnv1a(h, &st->has_annotations, sizeof(st->has_annotations));
	for (size_t i = 0; st->has_annotations && i < st->n_annotations; i++) {
		h = fnv1a(h, st->annotations[i].key, strlen(st->annotations[i].key) + 1);
		h = fnv1a(h, st->annotations[i].value, strlen(st->annotations[i].value) + 1);
	}
	return h | 1; /* 0 is "nothing queued yet" */
}

/* The State's annotations, copied into op (which owns them). */
static void copy_annotations(struct wop *op, const struct ocitap_state *st)
{
	op->annotations = calloc(st->n_annotations + 1, sizeof(*op->annotations));
	if (!op->annotations)
		abort();
	for (size_t i = 0; i < st->n_annotations; i++) {
		op->annotations[i].key = ocitapd_xstrdup(st->annotations[i].key);
		op->annotations[i].value = ocitapd_xstrdup(st->annotations[i].value);
	}
	op->n_annotations = st->n_annotations;
}

/* The container's identity, when it differs from what was last queued:
 * the six stages of one container mostly repeat it. */
void container_queue_identity(struct ocitapd *d, struct container *c, const struct ocitap_state *st, pid_t pid)
{
	uint64_t h = identity_hash(st, pid);
	struct wop *op;

	if (h == c->identity)
		return;
	c->identity = h;
	op = container_wop(c, WOP_CONTAINER);

	op->bundle = ocitapd_xstrdup(st->bundle);
	op->pid = pid;
	op->owner = c->owner;
	if (st->has_annotations) {
		op->has_annotations = true;
		copy_annotations(op, st);
	}
	writer_push(&d->writer, op);
}

/* Not on the loop: the names may be in the engines' files (Docker's
 * config.v2.json, podman's containers.json), which the store thread reads. */
void container_queue_names(struct ocitapd *d, struct container *c, const struct ocitap_state *st)
{
	struct wop *op;

	if (c->names_queued)
		return;
	c->names_queued = true;
	op = container_wop(c, WOP_NAMES);
	op->bundle = ocitapd_xstrdup(st->bundle);
	op->owner = c->owner;
	op->path = ocitapd_xstrdup(d->opt.docker_root);
	if (st->has_annotations && st->n_annotations)
		copy_annotations(op, st);
	writer_push(&d->writer, op);
}

/* /metrics: the transition, and the latencies it ends. */
static void count_transition(const struct container *c, const struct ocitap_transition_rec *t)
{
	const struct ocitap_lifecycle *lc = &c->lc;

	metric_add("ocitap_transitions_total", 1, "to", ocitap_phase_to_string(t->to), "source", t->source, NULL);
	/* the start is the created transition, or running when created was
	 * skipped or came late (runc runs poststart alongside startContainer) */
	if ((t->to == OCITAP_PHASE_CREATED || (t->to == OCITAP_PHASE_RUNNING && !lc->reached[OCITAP_PHASE_CREATED])) &&
	    lc->reached[OCITAP_PHASE_CREATING] && lc->at[OCITAP_PHASE_CREATING].mono_ns && t->mono_ns)
		metric_observe("ocitap_container_create_to_start_seconds",
			       (double)(t->mono_ns - lc->at[OCITAP_PHASE_CREATING].mono_ns) / 1e9, NULL);
	if (t->to == OCITAP_PHASE_RUNNING && lc->reached[OCITAP_PHASE_CREATED] &&
	    lc->at[OCITAP_PHASE_CREATED].mono_ns && t->mono_ns)
		metric_observe("ocitap_container_start_to_running_seconds",
			       (double)(t->mono_ns - lc->at[OCITAP_PHASE_CREATED].mono_ns) / 1e9, NULL);
}

/* "SIGKILL", or the number of a signal without a name */
static const char *signal_label(int sig, char *buf, size_t size)
{
	const char *name = sigabbrev_np(sig);

	if (name)
		snprintf(buf, size, "SIG%s", name);
	else
		snprintf(buf, size, "%d", sig);
	return buf;
}

static void count_exit(const struct container *c, bool had_exit, bool had_oom)
{
	char v[32];

	/* a failed container's exit is its runtime's init's, not a program's */
	if (c->lc.has_exit && !had_exit && !c->failed) {
		if (c->lc.signal) {
			metric_add("ocitap_container_signals_total", 1, "signal",
				   signal_label(c->lc.signal, v, sizeof(v)), NULL);
		} else {
			snprintf(v, sizeof(v), "%d", c->lc.exit_code);
			metric_add("ocitap_container_exits_total", 1, "code", v, NULL);
		}
	}
	if (c->lc.oom && !had_oom)
		metric_add("ocitap_oom_kills_total", 1, NULL);
}

/*
 * A container that stops while BPF, watching its init since before the
 * exec, never saw that exec, and no hook or runtime said it was created or
 * running, never ran its program: it failed (a runtime's error, such as a
 * listenerPath nobody listens on), and the exit that came with the stop is
 * its runtime's init's. Without BPF ocitap cannot tell, and says nothing.
 */
static bool never_started(const struct container *c)
{
	return c->bpf_since_create && !c->lc.reached[OCITAP_PHASE_CREATED] && !c->lc.reached[OCITAP_PHASE_RUNNING];
}

static void queue_failed(struct ocitapd *d, struct container *c, const struct ocitap_observation *obs)
{
	struct wop *op = container_wop(c, WOP_FAILED), *ev = container_wop(c, WOP_EVENT);
	char why[160], sig[32];

	if (c->lc.has_exit && c->lc.signal)
		snprintf(why, sizeof(why), "stopped before its program started (the runtime's init was killed by %s)",
			 signal_label(c->lc.signal, sig, sizeof(sig)));
	else if (c->lc.has_exit)
		snprintf(why, sizeof(why), "stopped before its program started (the runtime's init exited with %d)",
			 c->lc.exit_code);
	else
		snprintf(why, sizeof(why), "stopped before its program started");
	op->meta_value = ocitapd_xstrdup(why);
	writer_push(&d->writer, op);
	ev->kind_text = ocitapd_xstrdup(OCITAP_EVENT_FAILED);
	ev->source = ocitapd_xstrdup(obs->source);
	ev->ev.from = ev->ev.to = OCITAP_PHASE_STOPPED;
	ev->ev.mono_ns = obs->mono_ns;
	ev->ev.wall_ns = obs->wall_ns;
	writer_push(&d->writer, ev);
	metric_add("ocitap_container_failures_total", 1, NULL);
	log_msg(LOG_WARN, "container %s: failed: %s", c->id, why);
}

/*
 * Feed an observation to the container's state machine and queue what it
 * produced. ack (may be NULL) is acknowledged once this is durable.
 */
void container_observe(struct ocitapd *d, struct container *c, const struct ocitap_observation *obs,
		       struct writer_ack *ack)
{
	struct ocitap_transition_rec t;
	bool had_exit, had_oom, fails;
	struct wop *op = NULL;
	int r;

	/* a stop seen elsewhere (pidfd, hang-up, poststop) while the init's
	 * exec may still be in BPF's ring: that exec comes first */
	if (obs->phase == OCITAP_PHASE_STOPPED && c->lc.phase < OCITAP_PHASE_STOPPED && c->bpf_since_create &&
	    strcmp(obs->source, OCITAP_SOURCE_BPF) != 0)
		tracer_poll(d->tracer);
	had_exit = c->lc.has_exit;
	had_oom = c->lc.oom;
	r = ocitap_lifecycle_apply(&c->lc, obs, &t);
	fails = r == OCITAP_APPLY_TRANSITION && t.to == OCITAP_PHASE_STOPPED && never_started(c);
	c->failed |= fails; /* before the exit is counted: it is not a program's */

	if (r == OCITAP_APPLY_TRANSITION) {
		op = container_wop(c, WOP_EVENT);
		op->kind_text = ocitapd_xstrdup(OCITAP_EVENT_TRANSITION);
		op->ev.from = t.from;
		op->ev.to = t.to;
		count_transition(c, &t);
		log_msg(LOG_DEBUG, "container %s: %s -> %s (%s)", c->id, ocitap_phase_to_string(t.from),
			ocitap_phase_to_string(t.to), obs->source);
		if (t.to == OCITAP_PHASE_STOPPED)
			tracking_stopped(d, c);
	} else if (r == OCITAP_APPLY_LATE) {
		op = container_wop(c, WOP_EVENT);
		op->kind_text = ocitapd_xstrdup(OCITAP_EVENT_LATE);
		op->ev.from = c->lc.phase;
		op->ev.to = obs->phase;
		log_msg(LOG_DEBUG, "container %s: report arrived late: %s from %s (after %s; the status stays)", c->id,
			ocitap_phase_to_string(obs->phase), obs->source, ocitap_phase_to_string(c->lc.phase));
	}
	if ((c->lc.has_exit && !had_exit) || (c->lc.oom && !had_oom)) {
		struct wop *ex = container_wop(c, WOP_EVENT);

		ex->kind_text = ocitapd_xstrdup(OCITAP_EVENT_EXIT);
		ex->ev.from = ex->ev.to = c->lc.phase;
		ex->ev.has_exit = c->lc.has_exit;
		ex->ev.exit_code = c->lc.exit_code;
		ex->ev.signal = c->lc.signal;
		ex->ev.oom = c->lc.oom;
		ex->source = ocitapd_xstrdup(obs->source);
		ex->ev.mono_ns = obs->mono_ns;
		ex->ev.wall_ns = obs->wall_ns;
		count_exit(c, had_exit, had_oom);
		if (!c->failed && c->lc.signal) { /* a failed one says so in queue_failed() */
			char sig[32];

			log_msg(LOG_DEBUG, "container %s: init killed by %s", c->id,
				signal_label(c->lc.signal, sig, sizeof(sig)));
		} else if (!c->failed)
			log_msg(LOG_DEBUG, "container %s: init exited with %d", c->id, c->lc.exit_code);
		writer_push(&d->writer, ex);
	}
	if (!op && ack)
		op = container_wop(c, WOP_NOP);
	if (op) {
		op->source = op->source ? op->source : ocitapd_xstrdup(obs->source);
		op->ev.mono_ns = obs->mono_ns;
		op->ev.wall_ns = obs->wall_ns;
		op->ack = ack;
		writer_push(&d->writer, op);
	}
	if (fails)
		queue_failed(d, c, obs);
}

/* Queue what the store lacks of c's counts; release: the counters are
 * done (freed next), their ledger slots go once this is committed. */
static void flush_counts(struct ocitapd *d, struct container *c, bool release)
{
	for (size_t i = 0; i < c->n_counts; i++) {
		struct counter *k = &c->counts[i];
		char action[48];
		char *name;
		struct wop *op;

		if (k->count == k->flushed && !(release && k->slot))
			continue;
		name = seccomp_syscall_resolve_num_arch(k->arch, k->nr);
		op = container_wop(c, WOP_NOTIFICATIONS);
		if (name) {
			op->syscall = name;
		} else {
			char num[32];

			snprintf(num, sizeof(num), "%d", k->nr);
			op->syscall = ocitapd_xstrdup(num);
		}
		op->action = ocitapd_xstrdup(ocitap_action_format(&k->action, action, sizeof(action)));
		op->count = (int64_t)(k->count - k->flushed);
		op->ledger = k->slot;
		op->ledger_upto = k->count;
		op->ledger_release = release && k->slot;
		k->flushed = k->count;
		if (release)
			k->slot = NULL;
		if (op->count)
			metric_add("ocitap_notifications_total", (double)op->count, "syscall", op->syscall, "action",
				   op->action, NULL);
		writer_push(&d->writer, op);
	}
}

void container_flush_counts(struct ocitapd *d, struct container *c)
{
	flush_counts(d, c, false);
}

/*
 * At start, before the store thread runs: what the ledger holds of counts
 * answered by a daemon that died before they reached the store. Each slot
 * adds what the store lacks (answered - committed, the committed part in
 * the store's meta in the same transaction as the counts), then is freed.
 */
void container_recover_counts(struct ocitapd *d, struct ocitap_store *store)
{
	uint64_t added = 0, slots = 0;

	if (!d->ledger)
		return;
	for (size_t i = 0; i < LEDGER_SLOTS; i++) {
		struct ledger_slot *s = &d->ledger->slot[i];
		char key[40], val[32] = "0";
		int64_t committed = 0;
		uint64_t answered;
		char *name;
		struct wop *op;

		if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
			continue;
		answered = __atomic_load_n(&s->answered, __ATOMIC_ACQUIRE);
		snprintf(key, sizeof(key), LEDGER_META "%llu", (unsigned long long)s->gen);
		if (ocitap_store_get_meta(store, key, val, sizeof(val)) == 0)
			(void)ocitap_parse_int64(val, 0, INT64_MAX, &committed);
		s->id[sizeof(s->id) - 1] = s->action[sizeof(s->action) - 1] = '\0';
		op = wop_new(WOP_NOTIFICATIONS, s->id);
		op->run = s->run;
		name = seccomp_syscall_resolve_num_arch(s->arch, s->nr);
		if (!name) {
			char num[32];

			snprintf(num, sizeof(num), "%d", s->nr);
			name = ocitapd_xstrdup(num);
		}
		op->syscall = name;
		op->action = ocitapd_xstrdup(s->action);
		op->count = answered > (uint64_t)committed ? (int64_t)(answered - (uint64_t)committed) : 0;
		op->ledger = s;
		op->ledger_upto = answered;
		op->ledger_release = true;
		added += (uint64_t)op->count;
		slots++;
		writer_push(&d->writer, op);
	}
	if (added)
		log_msg(LOG_INFO,
			"ledger: %llu notification%s answered before the last stop were not in the store: "
			"added",
			(unsigned long long)added, added == 1 ? "" : "s");
	else if (slots)
		log_msg(LOG_DEBUG, "ledger: %llu counter%s, all in the store", (unsigned long long)slots,
			slots == 1 ? "" : "s");
}

/*
 * A stopped container whose fds and pidfd are all gone can learn nothing
 * more but late events: keep only what the state machine needs (a few
 * hundred bytes) until retention evicts it.
 */
void container_settle(struct ocitapd *d, struct container *c)
{
	if (c->lc.phase != OCITAP_PHASE_STOPPED || c->fds || c->pidw)
		return;
	flush_counts(d, c, true);
	free(c->counts);
	c->counts = NULL;
	c->n_counts = c->cap_counts = 0;
}

/*
 * A new init under c's id begins the next run. What is left of the
 * current one is settled under its own number first: the exit its pidfd
 * or BPF already hold, the counts not yet stored, and a stop (source
 * next-run) if none was seen, so that no run stays "running" forever.
 * The next run starts from nothing: lifecycle, counts, identity, policy,
 * BPF registration, what its hooks said. Notify fds of the old run still
 * open (its last processes, dying with its pid namespace) stay until they
 * hang up.
 */
void container_begin_run(struct ocitapd *d, struct container *c, uid_t owner, int64_t wall_ns)
{
	if (c->pidw)
		exit_finish_now(d, c);
	if (c->bpf_tracked)
		tracer_poll(d->tracer);
	if (c->lc.phase != OCITAP_PHASE_UNKNOWN && c->lc.phase < OCITAP_PHASE_STOPPED) {
		struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
						  .source = OCITAP_SOURCE_NEXT_RUN,
						  .mono_ns = ocitap_mono_ns(),
						  .wall_ns = ocitap_wall_ns() };

		container_observe(d, c, &obs, NULL);
	}
	flush_counts(d, c, true);
	if (c->bpf_tracked)
		tracer_untrack(d->tracer, c->id);
	free(c->counts);
	free(c->profile);
	free(c->profile_refused);
	c->counts = NULL;
	c->n_counts = c->cap_counts = 0;
	c->notifications = 0;
	ocitap_lifecycle_init(&c->lc);
	c->policy = ocitap_policy_set_default(d->policies);
	snprintf(c->policy_name, sizeof(c->policy_name), "%s", ocitap_policy_name(c->policy));
	c->init_pid = 0;
	c->init_start_ticks = 0;
	c->has_init_ns = false;
	c->prestart_seen = false;
	c->identity = 0;
	c->names_queued = false;
	c->stored_pid = 0;
	c->stored_created_wall_ns = 0;
	c->inside_stages = 0;
	c->bpf_cookie = 0;
	c->bpf_tracked = c->trace_checked = c->bpf_since_create = c->bpf_init_unseen_said = c->failed = false;
	c->profile = NULL;
	c->profile_refused = NULL;
	c->run++;
	c->owner = owner;
	c->run_start_wall_ns = wall_ns;
	metric_add("ocitap_container_runs_total", 1, NULL);
	log_msg(LOG_INFO, "container %s: run %lld begins (a new init under a used id)", c->id, (long long)c->run);
}

void container_free(struct ocitapd *d, struct container *c)
{
	while (c->fds) {
		struct notify_fd *n = c->fds;

		epoll_ctl(d->epfd, EPOLL_CTL_DEL, n->fd, NULL);
		close(n->fd);
		c->fds = n->next;
		if (d->inflight_owner == n)
			d->inflight_owner = NULL;
		free(n->key);
		free(n);
	}
	if (c->pidw) { /* the keeper's copy, if any, stays: the next daemon reads the exit */
		close(c->pidw->fd);
		free(c->pidw->key);
		free(c->pidw);
	}
	if (c->bpf_tracked)
		tracer_untrack(d->tracer, c->id);
	free(c->profile);
	free(c->profile_refused);
	free(c->counts);
	free(c->id);
	free(c);
}

/* Forget stopped containers past retention (the store prunes them too). */
void container_evict_stopped(struct ocitapd *d, int64_t before_wall_ns)
{
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container **p = &d->buckets[b]; *p;) {
			struct container *c = *p;

			if (c->lc.phase == OCITAP_PHASE_STOPPED && !c->fds && !c->pidw &&
			    c->lc.at[OCITAP_PHASE_STOPPED].wall_ns < before_wall_ns) {
				*p = c->next;
				__atomic_fetch_sub(&d->n_containers, 1, __ATOMIC_RELAXED);
				container_free(d, c);
			} else {
				p = &c->next;
			}
		}
}

void container_flush_all_counts(struct ocitapd *d)
{
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		for (struct container *c = d->buckets[b]; c; c = c->next)
			container_flush_counts(d, c);
}

/*
 * At start, what the store knows: each retained container's phase and exit,
 * so that the state machine goes on from there (a report replayed or
 * arriving late after a restart is a late event, never a step back).
 */
struct restoring {
	struct ocitapd *d;
	size_t n;
};

static int restore_one(const struct ocitap_store_container *sc, int64_t stopped_wall_ns, void *userdata)
{
	struct restoring *r = userdata;
	struct container *c = container_get(r->d, sc->id, true);

	c->lc.phase = sc->phase;
	if (sc->phase != OCITAP_PHASE_UNKNOWN) {
		c->lc.reached[sc->phase] = true;
		c->lc.at[sc->phase].to = sc->phase;
		c->lc.at[sc->phase].sources = 1;
		c->lc.at[sc->phase].wall_ns = sc->phase == OCITAP_PHASE_STOPPED ? stopped_wall_ns : sc->updated_wall_ns;
		snprintf(c->lc.at[sc->phase].source, sizeof(c->lc.at[sc->phase].source), "store");
	}
	c->lc.has_exit = sc->has_exit;
	c->lc.exit_code = sc->exit_code;
	c->lc.signal = sc->signal;
	c->lc.oom = sc->oom;
	c->failed = sc->failed;
	c->run = sc->run > 0 ? sc->run : 1;
	c->owner = sc->owner > 0 ? (uid_t)sc->owner : 0; /* not known: root's (only root may speak for it) */
	c->run_start_wall_ns = sc->created_wall_ns;
	c->init_start_ticks = sc->init_start_ticks;
	c->stored_pid = sc->pid;
	c->stored_created_wall_ns = sc->created_wall_ns;
	r->n++;
	return 0;
}

int container_restore(struct ocitapd *d, struct ocitap_store *store, size_t *ret_n, struct ocitap_error *err)
{
	struct restoring r = { .d = d };
	int ret = ocitap_store_foreach_container(store, restore_one, &r, err);

	if (ret < 0)
		return ret;
	*ret_n = r.n;
	return 0;
}
