/*
 * ocitapd.c: the ocitap daemon. One epoll loop takes, on one unix socket,
 * the runtimes' seccomp listener messages (ContainerProcessState +
 * seccompFd) and the hooks' stage reports; answers every seccomp
 * notification of every container by its policy; watches each notify fd for
 * hang-up (every process gone: stopped) and the init process's pidfd for its
 * exit status; and feeds one lifecycle state machine per container. Records
 * go to the store thread (writer.c); nothing here waits on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ocitap-bpf.h"
#include "ocitapd.h"

/* Debian 12's headers (Linux 6.1) lack these (6.6+); detected at run time. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define DEFAULT_SOCKET	  "/run/ocitap/ocitap.sock"
#define DEFAULT_STATE_DIR "/var/lib/ocitap"
#define DEFAULT_HTTP	  "127.0.0.1:9476"
#define MAX_CONNS	  256
#define CONN_TIMEOUT_MS	  2000
#define MAX_ALLOW_UIDS	  32
#define MAX_PUSH	  16
#define BUCKETS		  1024

enum watch_kind { W_LISTEN = 1, W_CONN, W_NOTIFY, W_PIDFD, W_SIGNAL, W_WRITER, W_KEEPER, W_SUCCESSOR, W_BPF };

struct watch {
	int kind;
};

struct container;

struct notify_fd {
	int kind; /* W_NOTIFY */
	int fd;
	bool init; /* the filter of the container's init (its hang-up means stopped) */
	struct container *c;
	struct notify_fd *next;
	char *key;	  /* its name at the keeper (ocitap_keeper_key_format()) */
	uint64_t last_id; /* the last notification answered; 0 none yet */
};

struct pid_watch {
	int kind; /* W_PIDFD */
	int fd;
	struct container *c;
	int64_t give_up_ms; /* waiting for the reap, see pidfd_event() */
	struct pid_watch *next_reaping;
};

struct counter {
	uint32_t arch;
	int nr;
	struct ocitap_action action;
	uint64_t count, flushed;
};

struct container {
	struct container *next; /* hash chain */
	char *id;
	pid_t init_pid;
	struct ocitap_lifecycle lc;
	char policy_name[OCITAP_POLICY_NAME_MAX];
	const struct ocitap_policy *policy;
	struct notify_fd *fds;
	int n_fds;
	struct pid_watch *pidw;
	struct counter *counts;
	size_t n_counts, cap_counts;
	uint64_t notifications;
	bool prestart_seen; /* tells an ambiguous report's stage (stage.h) */
	uint64_t identity;  /* hash of the bundle, pid and annotations last queued */
	pid_t stored_pid;   /* restored from the store: the init, if it is still that process */
	int64_t stored_created_wall_ns;
	uint64_t bpf_cookie;		      /* the BPF programs' name for it; 0: never tracked */
	bool bpf_tracked;		      /* in the BPF maps now */
	bool trace_checked;		      /* its io.containers.trace-syscall annotation was looked at */
	struct ocitap_trace_spec *trace_spec; /* the profile to write when it stops (annotation) */
};

static struct {
	const char *socket_path, *state_dir, *http, *http_token_file, *policy_path;
	const char *keeper_path; /* NULL: --keeper off */
	bool bpf;
	enum { TRACE_OFF, TRACE_ANNOTATED, TRACE_ALL } trace;
	bool replace;
	const char *push[MAX_PUSH], *push_token_file, *push_ca_file;
	size_t n_push;
	int64_t push_backlog;
	uid_t allow[MAX_ALLOW_UIDS];
	size_t n_allow;
	enum log_level level;
	int64_t retention_s;
	int timeout_ms, sync_interval_ms;
} opt = { .push_backlog = 100000,
	  .bpf = true,
	  .trace = TRACE_ANNOTATED,
	  .level = LOG_INFO,
	  .retention_s = 86400,
	  .timeout_ms = CONN_TIMEOUT_MS,
	  .sync_interval_ms = 1000 };

static struct {
	int epfd;
	struct watch listen, signal, writer_w;
	int listen_fd, signal_fd;
	struct ocitap_policy_set *policies;
	struct container *buckets[BUCKETS];
	uint64_t n_containers; /* read by the HTTP threads (atomically) */
	uint64_t n_notify_fds; /* likewise */
	struct conn *conns;
	size_t n_conns;
	struct writer writer;
	int sync_wakeup; /* -1 unknown, 0 no, 1 yes */
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	bool journal;
	struct pid_watch *reaping; /* exited, exit status not yet published */
	struct watch keeper_w;
	int keeper_fd;			  /* -1: not connected */
	int64_t keeper_retry_ms;	  /* when to reconnect (and hand everything over again) */
	uint64_t next_serial;		  /* of keeper keys */
	struct inflight *inflight;	  /* NULL without a keeper */
	struct notify_fd *inflight_owner; /* whose key inflight->key holds */
	enum { FAULT_NONE, FAULT_AFTER_RECV, FAULT_AFTER_DECIDE } fault;
	uint64_t fault_at; /* OCITAP_FAULT: kill ourselves at the Nth notification */
	uint64_t adopted, recovered;
	bool fdstore;		  /* systemd's fd store: $NOTIFY_SOCKET with $FDSTORE > 0 */
	char self_path[PATH_MAX]; /* our binary's path at start: SIGUSR2 runs what is there now */
	char **argv;
	struct watch successor_w;
	int successor_pidfd; /* -1: no replacement under way */
	pid_t successor;
	bool replaced;	    /* a successor took over: leave the socket file in place */
	pid_t takeover_pid; /* the daemon we replaced, and when we stopped it */
	int64_t takeover_ms;
	struct notify_fd *hot; /* the notify fd answered last: waited on directly, see wait_events() */
	struct watch bpf_w;    /* the BPF ring buffer */
	uint64_t next_cookie;
	uint64_t dropped_peers, notifications, unknown_policy;
	bool http_on, push_on;
} d = { .sync_wakeup = -1, .keeper_fd = -1, .next_serial = 1, .successor_pidfd = -1, .next_cookie = 1 };

/* A file next to the socket: ocitapd.pid (the successor's pid for
 * `ocitapd --replace`), ocitapd.replace (why a successor failed), ocitapd.inflight,
 * keeper.sock (the default --keeper). */
static void run_file_path(char *buf, size_t size, const char *name)
{
	const char *slash = strrchr(opt.socket_path, '/');

	if (slash)
		snprintf(buf, size, "%.*s/%s", (int)(slash - opt.socket_path), opt.socket_path, name);
	else
		snprintf(buf, size, "%s", name);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > opt.level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d.journal)
		fprintf(stderr, "<%d>%s\n", level, buf);
	else
		fprintf(stderr, "ocitapd: %s%s\n",
			level == LOG_ERR    ? "error: "
			: level == LOG_WARN ? "warning: "
					    : "",
			buf);
}

/* On the store thread, after each commit: the readers of new events wake. */
static void committed(void)
{
	if (d.http_on)
		http_events_committed();
	if (d.push_on)
		push_wake();
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p) {
		log_msg(LOG_ERR, "out of memory");
		abort();
	}
	return p;
}

static struct wop *wop_new(enum wop_kind kind, const char *id)
{
	struct wop *op = calloc(1, sizeof(*op));

	if (!op) {
		log_msg(LOG_ERR, "out of memory");
		abort();
	}
	op->kind = kind;
	op->id = xstrdup(id);
	op->wall_ns = now_ns(CLOCK_REALTIME);
	return op;
}

/* ---- containers ------------------------------------------------------ */

static unsigned hash_id(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % BUCKETS;
}

static struct container *container_get(const char *id, bool create)
{
	unsigned h = hash_id(id);
	struct container *c;

	for (c = d.buckets[h]; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	if (!create)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_msg(LOG_ERR, "out of memory");
		abort();
	}
	c->id = xstrdup(id);
	ocitap_lifecycle_init(&c->lc);
	c->policy = ocitap_policy_set_default(d.policies);
	snprintf(c->policy_name, sizeof(c->policy_name), "%s", ocitap_policy_name(c->policy));
	c->next = d.buckets[h];
	d.buckets[h] = c;
	__atomic_fetch_add(&d.n_containers, 1, __ATOMIC_RELAXED);
	return c;
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

/* The container's identity, when it differs from what was last queued:
 * the six stages of one container mostly repeat it. */
static void queue_container(struct container *c, const struct ocitap_state *st, pid_t pid)
{
	uint64_t h = identity_hash(st, pid);
	struct wop *op;

	if (h == c->identity)
		return;
	c->identity = h;
	op = wop_new(WOP_CONTAINER, st->id);

	op->bundle = xstrdup(st->bundle);
	op->pid = pid;
	if (st->has_annotations) {
		op->has_annotations = true;
		op->annotations = calloc(st->n_annotations + 1, sizeof(*op->annotations));
		if (!op->annotations)
			abort();
		for (size_t i = 0; i < st->n_annotations; i++) {
			op->annotations[i].key = xstrdup(st->annotations[i].key);
			op->annotations[i].value = xstrdup(st->annotations[i].value);
		}
		op->n_annotations = st->n_annotations;
	}
	writer_push(&d.writer, op);
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

static void count_exit(const struct container *c, bool had_exit, bool had_oom)
{
	char v[32];

	if (c->lc.has_exit && !had_exit) {
		if (c->lc.signal) {
			const char *name = sigabbrev_np(c->lc.signal);

			snprintf(v, sizeof(v), "%s%s", name ? "SIG" : "", name ? name : "");
			if (!name)
				snprintf(v, sizeof(v), "%d", c->lc.signal);
			metric_add("ocitap_container_signals_total", 1, "signal", v, NULL);
		} else {
			snprintf(v, sizeof(v), "%d", c->lc.exit_code);
			metric_add("ocitap_container_exits_total", 1, "code", v, NULL);
		}
	}
	if (c->lc.oom && !had_oom)
		metric_add("ocitap_oom_kills_total", 1, NULL);
}

/* ---- BPF: registration, events, profiles ---- */

static const char *annotation(const struct ocitap_state *st, const char *key)
{
	for (size_t i = 0; st->has_annotations && i < st->n_annotations; i++)
		if (strcmp(st->annotations[i].key, key) == 0)
			return st->annotations[i].value;
	return NULL;
}

/* The io.containers.trace-syscall annotation: checked when the container is
 * registered, so that a bad value is reported when it starts. A bad one
 * never stops the container: it runs, untraced, and the log says why. */
static bool want_profile(struct container *c, const struct ocitap_state *st)
{
	const char *value = annotation(st, OCITAP_TRACE_ANNOTATION);
	struct ocitap_trace_spec spec;
	struct ocitap_error err = { 0 };
	char line[512];

	if (!value || c->trace_checked)
		return c->trace_spec != NULL;
	c->trace_checked = true; /* once: the hooks and the listener bring it again */
	if (opt.trace == TRACE_OFF) {
		log_msg(LOG_WARN, "container %s: %s ignored: ocitapd runs with --trace-syscalls=off", c->id,
			OCITAP_TRACE_ANNOTATION);
		return false;
	}
	if (ocitap_trace_spec_parse(value, &spec, &err) < 0) {
		log_msg(LOG_WARN, "container %s: %s: %s; no profile will be written", c->id, OCITAP_TRACE_ANNOTATION,
			ocitap_error_format(&err, line, sizeof(line)));
		metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
		return false;
	}
	/* that IN can be read, now (it is read and merged when the container stops) */
	if (spec.in[0] && ocitap_profile_input_check(spec.in, &err) < 0) {
		log_msg(LOG_WARN, "container %s: %s: if: %s; no profile will be written", c->id,
			OCITAP_TRACE_ANNOTATION, ocitap_error_format(&err, line, sizeof(line)));
		metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
		return false;
	}
	c->trace_spec = malloc(sizeof(*c->trace_spec));
	if (!c->trace_spec)
		abort();
	*c->trace_spec = spec;
	return true;
}

/* Start tracking the container's init (from the listener message or the
 * prestart/createRuntime hook): done before the hook is acknowledged, so
 * nothing the container does after the hook returns is missed. */
static void bpf_register(struct container *c, pid_t pid, const struct ocitap_state *st)
{
	bool profile = want_profile(c, st);
	char why[512];
	int r;

	if (pid <= 0 || c->lc.phase >= OCITAP_PHASE_STOPPED)
		return;
	if (!bpf_enabled(why, sizeof(why))) {
		if (profile)
			log_msg(LOG_WARN, "container %s: no profile can be written: BPF is off (%s)", c->id, why);
		return;
	}
	if (!c->bpf_cookie)
		c->bpf_cookie = d.next_cookie++;
	r = bpf_track(c->id, c->bpf_cookie, pid, profile || opt.trace == TRACE_ALL, why, sizeof(why));
	c->bpf_tracked = true; /* bpf_untrack() of an id it does not hold does nothing */
	if (r < 0)
		log_msg(r == -EXDEV ? LOG_INFO : LOG_WARN, "container %s: bpf: %s", c->id, why);
	else
		log_msg(LOG_DEBUG, "container %s: bpf: tracking init %d%s", c->id, (int)pid,
			profile || opt.trace == TRACE_ALL ? " and its syscalls" : "");
}

/* Stopped: the syscall set is complete (the init's exit_group was its last
 * syscall, and its pid namespace died with it). The profile goes out
 * through the store thread, ahead of whatever this stop acknowledges. */
static void bpf_container_stopped(struct container *c)
{
	if (!c->bpf_tracked)
		return;
	if (c->trace_spec) {
		char **names = NULL, why[512];
		int n = bpf_syscall_names(c->id, &names, why, sizeof(why));

		if (n < 0) {
			log_msg(LOG_ERR, "container %s: no profile written to %s: %s", c->id, c->trace_spec->out, why);
			metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
		} else {
			struct wop *op = wop_new(WOP_PROFILE, c->id);

			op->path = xstrdup(c->trace_spec->out);
			op->profile_in = c->trace_spec->in[0] ? xstrdup(c->trace_spec->in) : NULL;
			op->profile_names = names;
			log_msg(LOG_DEBUG, "container %s: %d syscalls observed", c->id, n);
			writer_push(&d.writer, op);
		}
		free(c->trace_spec);
		c->trace_spec = NULL;
	}
	/* out of the maps; the cookie stays, for the events already in the ring
	 * (the init's exit code, when the hang-up was seen first) */
	bpf_untrack(c->id);
	c->bpf_tracked = false;
}

static struct container *container_by_cookie(uint64_t cookie)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container *c = d.buckets[b]; c; c = c->next)
			if (c->bpf_cookie == cookie)
				return c;
	return NULL;
}

static void observe(struct container *c, const struct ocitap_observation *obs, struct conn *ack);
static void container_settle(struct container *c);

static void bpf_event(const struct ocitap_bpf_event *e)
{
	static const char *const kinds[] = {
		[OCITAP_BPF_EV_EXEC] = "exec", [OCITAP_BPF_EV_EXIT] = "exit", [OCITAP_BPF_EV_OOM] = "oom"
	};
	struct container *c = container_by_cookie(e->cookie);
	int64_t mono = now_ns(CLOCK_MONOTONIC);
	struct ocitap_observation obs = { .source = OCITAP_SOURCE_BPF,
					  .mono_ns = (int64_t)e->mono_ns,
					  .wall_ns = now_ns(CLOCK_REALTIME) - (mono - (int64_t)e->mono_ns) };
	char comm[sizeof(e->comm) + 1];

	if (e->kind < 1 || e->kind > OCITAP_BPF_EV_OOM)
		return;
	metric_add("ocitap_bpf_events_total", 1, "kind", kinds[e->kind], NULL);
	if (!c)
		return; /* untracked since (the event was already in the ring) */
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	switch (e->kind) {
	case OCITAP_BPF_EV_EXEC:
		obs.phase = OCITAP_PHASE_RUNNING;
		log_msg(LOG_DEBUG, "container %s: bpf: init %u exec'd %s", c->id, e->pid, comm);
		break;
	case OCITAP_BPF_EV_EXIT:
		obs.phase = OCITAP_PHASE_STOPPED;
		obs.has_exit = true;
		obs.exit_code = WIFEXITED(e->status) ? WEXITSTATUS(e->status) : 0;
		obs.signal = WIFSIGNALED(e->status) ? WTERMSIG(e->status) : 0;
		break;
	case OCITAP_BPF_EV_OOM:
		obs.phase = OCITAP_PHASE_UNKNOWN;
		obs.oom = true;
		log_msg(LOG_WARN, "container %s: the OOM killer chose pid %u (%s)", c->id, e->pid, comm);
		break;
	}
	observe(c, &obs, NULL);
	container_settle(c);
}

/*
 * Feed an observation to the container's state machine and queue what it
 * produced. ack (may be NULL) is acknowledged once this is durable.
 */
static void observe(struct container *c, const struct ocitap_observation *obs, struct conn *ack)
{
	struct ocitap_transition_rec t;
	bool had_exit = c->lc.has_exit, had_oom = c->lc.oom;
	int r = ocitap_lifecycle_apply(&c->lc, obs, &t);
	struct wop *op = NULL;

	if (r == OCITAP_APPLY_TRANSITION) {
		op = wop_new(WOP_EVENT, c->id);
		op->kind_text = xstrdup(OCITAP_EVENT_TRANSITION);
		op->ev.from = t.from;
		op->ev.to = t.to;
		count_transition(c, &t);
		log_msg(LOG_INFO, "container %s: %s -> %s (%s)", c->id, ocitap_phase_to_string(t.from),
			ocitap_phase_to_string(t.to), obs->source);
		if (t.to == OCITAP_PHASE_STOPPED)
			bpf_container_stopped(c);
	} else if (r == OCITAP_APPLY_LATE) {
		op = wop_new(WOP_EVENT, c->id);
		op->kind_text = xstrdup(OCITAP_EVENT_LATE);
		op->ev.from = c->lc.phase;
		op->ev.to = obs->phase;
		log_msg(LOG_DEBUG, "container %s: late %s from %s (already %s)", c->id,
			ocitap_phase_to_string(obs->phase), obs->source, ocitap_phase_to_string(c->lc.phase));
	}
	if ((c->lc.has_exit && !had_exit) || (c->lc.oom && !had_oom)) {
		struct wop *ex = wop_new(WOP_EVENT, c->id);

		ex->kind_text = xstrdup(OCITAP_EVENT_EXIT);
		ex->ev.from = ex->ev.to = c->lc.phase;
		ex->ev.has_exit = c->lc.has_exit;
		ex->ev.exit_code = c->lc.exit_code;
		ex->ev.signal = c->lc.signal;
		ex->ev.oom = c->lc.oom;
		ex->source = xstrdup(obs->source);
		ex->ev.mono_ns = obs->mono_ns;
		ex->ev.wall_ns = obs->wall_ns;
		count_exit(c, had_exit, had_oom);
		if (c->lc.signal)
			log_msg(LOG_INFO, "container %s: init killed by signal %d", c->id, c->lc.signal);
		else
			log_msg(LOG_INFO, "container %s: init exited with %d", c->id, c->lc.exit_code);
		writer_push(&d.writer, ex);
	}
	if (!op && ack)
		op = wop_new(WOP_NOP, c->id);
	if (op) {
		op->source = op->source ? op->source : xstrdup(obs->source);
		op->ev.mono_ns = obs->mono_ns;
		op->ev.wall_ns = obs->wall_ns;
		op->ack = ack;
		writer_push(&d.writer, op);
	}
}

static void flush_counts(struct container *c)
{
	for (size_t i = 0; i < c->n_counts; i++) {
		struct counter *k = &c->counts[i];
		char action[48];
		char *name;
		struct wop *op;

		if (k->count == k->flushed)
			continue;
		name = seccomp_syscall_resolve_num_arch(k->arch, k->nr);
		op = wop_new(WOP_NOTIFICATIONS, c->id);
		if (name) {
			op->syscall = name;
		} else {
			char num[32];

			snprintf(num, sizeof(num), "%d", k->nr);
			op->syscall = xstrdup(num);
		}
		op->action = xstrdup(ocitap_action_format(&k->action, action, sizeof(action)));
		op->count = (int64_t)(k->count - k->flushed);
		k->flushed = k->count;
		metric_add("ocitap_notifications_total", (double)op->count, "syscall", op->syscall, "action",
			   op->action, NULL);
		writer_push(&d.writer, op);
	}
}

/*
 * A stopped container whose fds and pidfd are all gone can learn nothing
 * more but late events: keep only what the state machine needs (a few
 * hundred bytes) until retention evicts it.
 */
static void container_settle(struct container *c)
{
	if (c->lc.phase != OCITAP_PHASE_STOPPED || c->fds || c->pidw)
		return;
	flush_counts(c);
	free(c->counts);
	c->counts = NULL;
	c->n_counts = c->cap_counts = 0;
}

static void container_free(struct container *c)
{
	while (c->fds) {
		struct notify_fd *n = c->fds;

		epoll_ctl(d.epfd, EPOLL_CTL_DEL, n->fd, NULL);
		close(n->fd);
		c->fds = n->next;
		if (d.inflight_owner == n)
			d.inflight_owner = NULL;
		free(n->key);
		free(n);
	}
	if (c->pidw) {
		close(c->pidw->fd);
		free(c->pidw);
	}
	if (c->bpf_tracked)
		bpf_untrack(c->id);
	free(c->trace_spec);
	free(c->counts);
	free(c->id);
	free(c);
}

/* Forget stopped containers past retention (the store prunes them too). */
static void evict_stopped(int64_t before_wall_ns)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container **p = &d.buckets[b]; *p;) {
			struct container *c = *p;

			if (c->lc.phase == OCITAP_PHASE_STOPPED && !c->fds && !c->pidw &&
			    c->lc.at[OCITAP_PHASE_STOPPED].wall_ns < before_wall_ns) {
				*p = c->next;
				__atomic_fetch_sub(&d.n_containers, 1, __ATOMIC_RELAXED);
				container_free(c);
			} else {
				p = &c->next;
			}
		}
}

static void flush_all_counts(void)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container *c = d.buckets[b]; c; c = c->next)
			flush_counts(c);
}

/* ---- seccomp notifications ---------------------------------------------- */

static void count_notification(struct container *c, uint32_t arch, int nr, const struct ocitap_action *a)
{
	for (size_t i = 0; i < c->n_counts; i++) {
		struct counter *k = &c->counts[i];

		if (k->nr == nr && k->arch == arch && k->action.kind == a->kind &&
		    k->action.errno_value == a->errno_value) {
			k->count++;
			return;
		}
	}
	if (c->n_counts == c->cap_counts) {
		size_t ncap = c->cap_counts ? c->cap_counts * 2 : 8;
		struct counter *n = realloc(c->counts, ncap * sizeof(*n));

		if (!n)
			return; /* counting is best effort; the answer was sent */
		c->counts = n;
		c->cap_counts = ncap;
	}
	c->counts[c->n_counts++] = (struct counter){ arch, nr, *a, 1, 0 };
}

static void kill_target(int notify_fd, const struct seccomp_notif *req)
{
	int pidfd = ocitap_pidfd_open((pid_t)req->pid);

	if (pidfd < 0)
		return;
	/* the pid could have been reused between the notification and the open */
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
}

/*
 * The in-flight record (ocitapd.h): plain stores to a shared page, ordered
 * for the compiler only (a killed process's stores are not lost, and its
 * successor reads them after the kill). Before RECV: which fd, and the
 * last id answered there (the kernel numbers a filter's notifications one
 * by one); after it: the notification itself; after SEND: idle.
 */
static void inflight_receiving(struct notify_fd *n)
{
	struct inflight *f = d.inflight;

	if (!f)
		return;
	if (d.inflight_owner != n) {
		f->state = INFLIGHT_IDLE;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		snprintf(f->key, sizeof(f->key), "%s", n->key ? n->key : "");
		d.inflight_owner = n;
	}
	f->prev_id = n->last_id;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	f->state = INFLIGHT_RECEIVING;
}

static void inflight_decided(const struct seccomp_notif *req)
{
	struct inflight *f = d.inflight;

	if (!f)
		return;
	f->id = req->id;
	f->arch = req->data.arch;
	f->nr = req->data.nr;
	f->pid = (int32_t)req->pid;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	f->state = INFLIGHT_DECIDED;
}

static void inflight_idle(void)
{
	if (d.inflight) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		d.inflight->state = INFLIGHT_IDLE;
	}
}

/* OCITAP_FAULT (tests only): die by SIGKILL at the chosen point of the Nth notification */
static void fault_point(unsigned where)
{
	static uint64_t seen;

	if ((unsigned)d.fault == where && ++seen == d.fault_at)
		raise(SIGKILL);
}

static void send_answer(struct notify_fd *n, const struct seccomp_notif *req, const struct ocitap_action *a)
{
	memset(d.resp, 0, d.sizes.seccomp_notif_resp);
	d.resp->id = req->id;
	switch (a->kind) {
	case OCITAP_ACTION_CONTINUE:
		d.resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		break;
	case OCITAP_ACTION_ERRNO:
		d.resp->error = -a->errno_value;
		break;
	case OCITAP_ACTION_KILL:
		d.resp->error = -EPERM;
		kill_target(n->fd, req);
		break;
	}
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, d.resp) < 0 && errno != ENOENT)
		log_msg(LOG_WARN, "container %s: cannot answer a notification: %m", n->c->id);
}

static void answer_notification(struct notify_fd *n)
{
	struct container *c = n->c;
	struct ocitap_action a;

	memset(d.req, 0, d.sizes.seccomp_notif);
	inflight_receiving(n);
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, d.req) < 0) {
		inflight_idle();
		return; /* ENOENT: the target died before we looked; EINTR: try again on the next wake-up */
	}
	fault_point(FAULT_AFTER_RECV);
	inflight_decided(d.req);
	fault_point(FAULT_AFTER_DECIDE);
	a = ocitap_policy_decide(c->policy, d.req->data.arch, d.req->data.nr);
	send_answer(n, d.req, &a);
	n->last_id = d.req->id;
	inflight_idle();
	count_notification(c, d.req->data.arch, d.req->data.nr, &a);
	c->notifications++;
	d.notifications++;
}

/* ---- systemd's fd store (sd_notify(3) FDSTORE=1), the keeper's alternative ---- */

/* One datagram to $NOTIFY_SOCKET ("@..." is abstract), with fd when >= 0. */
static int sd_notify_fd(const char *text, int fd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)text, strlen(text) };
	struct msghdr mh = { .msg_name = &addr, .msg_iov = &iov, .msg_iovlen = 1 };
	size_t len;
	int sock, r;

	if (!path || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) >= sizeof(addr.sun_path))
		return -EINVAL;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	mh.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof(ctl);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
	}
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	r = sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
	close(sock);
	return r;
}

/* FDNAME of a notify fd: "<keeper key>/<container id>" (printable, no ':', <= 255) */
static bool fdstore_name(const struct notify_fd *n, char *buf, size_t size)
{
	int len;

	if (!n->key)
		return false;
	len = snprintf(buf, size, "%s/%s", n->key, n->c->id);
	if (len < 0 || (size_t)len >= size || len > 255)
		return false;
	for (const char *p = buf; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ':')
			return false;
	return true;
}

static void fdstore_keep(const struct notify_fd *n)
{
	char name[300], msg[400];
	int r;

	if (!d.fdstore)
		return;
	if (!fdstore_name(n, name, sizeof(name))) {
		log_msg(LOG_WARN, "container %s: its id cannot name a fd in systemd's fd store", n->c->id);
		return;
	}
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	r = sd_notify_fd(msg, n->fd);
	if (r < 0)
		log_msg(LOG_WARN, "container %s: systemd's fd store: %s", n->c->id, strerror(-r));
}

static void fdstore_remove(const struct notify_fd *n)
{
	char name[300], msg[400];

	if (!d.fdstore || !fdstore_name(n, name, sizeof(name)))
		return;
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	sd_notify_fd(msg, -1);
}

/* ---- the fd keeper (ocitap-fdkeeper, lib/keeper.h) ------------------------- */

static void keeper_lost(const char *why)
{
	if (d.keeper_fd >= 0) {
		epoll_ctl(d.epfd, EPOLL_CTL_DEL, d.keeper_fd, NULL);
		close(d.keeper_fd);
		d.keeper_fd = -1;
		log_msg(LOG_WARN, "%s; until one is back, a restart of ocitapd would fail notified syscalls", why);
	}
	metric_set("ocitap_keeper_up", 0, NULL);
	/* one that answers nothing (stopped, stuck) would stall the event
	 * loop on every request: try it again much later */
	d.keeper_retry_ms = ocitap_now_ms() + (strstr(why, "no answer") ? 30000 : 1000);
}

/* Hand the keeper its copy of n; false when it has none. */
static bool keeper_keep_fd(struct notify_fd *n)
{
	char why[256];
	int r;

	if (d.keeper_fd < 0)
		return false;
	r = keeper_keep(d.keeper_fd, n->key, n->c->id, n->fd, why, sizeof(why));
	if (r == -EREMOTEIO) /* it answered: the connection is fine */
		log_msg(LOG_WARN, "container %s: %s", n->c->id, why);
	else if (r < 0)
		keeper_lost(why);
	return r == 0;
}

static void keeper_drop_fd(struct notify_fd *n)
{
	char why[256];
	int r;

	if (d.keeper_fd < 0)
		return;
	/* "no such key": it saw the hang-up first and dropped its copy itself */
	r = keeper_drop(d.keeper_fd, n->key, why, sizeof(why));
	if (r < 0 && r != -EREMOTEIO)
		keeper_lost(why);
}

/* Connect (starting a keeper when none listens) and hand it every fd held. */
static void keeper_reconnect(void)
{
	static bool said;
	char why[512];
	size_t handed = 0, held = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d.keeper_w };
	int fd = keeper_connect(opt.keeper_path, true, why, sizeof(why));

	if (fd < 0) {
		if (!said)
			log_msg(LOG_WARN, "%s; trying again every 5 s", why);
		said = true;
		d.keeper_retry_ms = ocitap_now_ms() + 5000;
		return;
	}
	said = false;
	d.keeper_fd = fd;
	if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		keeper_lost("keeper: cannot watch its connection");
		return;
	}
	for (size_t b = 0; b < BUCKETS && d.keeper_fd >= 0; b++)
		for (struct container *c = d.buckets[b]; c && d.keeper_fd >= 0; c = c->next)
			for (struct notify_fd *n = c->fds; n && d.keeper_fd >= 0; n = n->next) {
				held++;
				handed += keeper_keep_fd(n);
			}
	if (d.keeper_fd >= 0) {
		metric_set("ocitap_keeper_up", 1, NULL);
		log_msg(LOG_INFO, "keeper %s: connected, holds %zu of %zu notify fd%s", opt.keeper_path, handed, held,
			held == 1 ? "" : "s");
	}
}

static void remove_notify_fd(struct notify_fd *n)
{
	struct container *c = n->c;

	if (d.hot == n)
		d.hot = NULL;
	if (d.inflight_owner == n)
		d.inflight_owner = NULL;
	keeper_drop_fd(n);
	fdstore_remove(n);
	epoll_ctl(d.epfd, EPOLL_CTL_DEL, n->fd, NULL);
	close(n->fd);
	for (struct notify_fd **p = &c->fds; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			break;
		}
	c->n_fds--;
	__atomic_fetch_sub(&d.n_notify_fds, 1, __ATOMIC_RELAXED);
	http_set_notify_fds(c->id, c->n_fds);
	free(n->key);
	free(n);
}

/*
 * While a fd is hot it is waited on directly (wait_events()), so it is masked
 * in the epoll set (no EPOLLIN; hang-ups are always reported) lest every
 * notification also wake the epoll fd.
 */
static void set_hot(struct notify_fd *n)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (d.hot == n)
		return;
	if (d.hot) {
		ev.data.ptr = d.hot;
		epoll_ctl(d.epfd, EPOLL_CTL_MOD, d.hot->fd, &ev);
	}
	if (n) {
		ev.events = 0;
		ev.data.ptr = n;
		epoll_ctl(d.epfd, EPOLL_CTL_MOD, n->fd, &ev);
	}
	d.hot = n;
}

static void notify_event(struct notify_fd *n, uint32_t events)
{
	if (events & EPOLLIN) {
		answer_notification(n);
		set_hot(n);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		struct container *c = n->c;
		bool init = n->init;

		log_msg(LOG_DEBUG, "container %s: notify fd hung up (%s)", c->id, init ? "init" : "exec");
		remove_notify_fd(n);
		if (init) {
			struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
							  .source = OCITAP_SOURCE_HANGUP,
							  .mono_ns = now_ns(CLOCK_MONOTONIC),
							  .wall_ns = now_ns(CLOCK_REALTIME) };

			observe(c, &obs, NULL);
		}
		container_settle(c);
	}
}

static void pidfd_finish(struct pid_watch *pw, const struct ocitap_exit *ex)
{
	struct container *c = pw->c;
	struct ocitap_observation obs = { .phase = OCITAP_PHASE_STOPPED,
					  .source = OCITAP_SOURCE_PIDFD,
					  .mono_ns = now_ns(CLOCK_MONOTONIC),
					  .wall_ns = now_ns(CLOCK_REALTIME) };

	if (ex) {
		obs.has_exit = true;
		obs.exit_code = ex->exited ? ex->code : 0;
		obs.signal = ex->signaled ? ex->signal : 0;
	} else {
		log_msg(LOG_DEBUG, "container %s: the kernel gave no exit status", c->id);
	}
	close(pw->fd);
	c->pidw = NULL;
	free(pw);
	observe(c, &obs, NULL);
	container_settle(c);
}

/*
 * The pidfd polls readable when the init exits, but the kernel publishes the
 * exit status (PIDFD_INFO_EXIT) only once the parent (the runtime) has
 * reaped it. Until then: stop watching the level-triggered fd and ask again
 * on the loop's next ticks, for a few seconds at most.
 */
static void pidfd_event(struct pid_watch *pw)
{
	struct ocitap_exit ex;
	int r = ocitap_pidfd_exit(pw->fd, &ex);

	epoll_ctl(d.epfd, EPOLL_CTL_DEL, pw->fd, NULL);
	if (r == -EAGAIN) {
		pw->give_up_ms = ocitap_now_ms() + 3000;
		pw->next_reaping = d.reaping;
		d.reaping = pw;
		return;
	}
	pidfd_finish(pw, r == 0 ? &ex : NULL);
}

static void retry_reaping(void)
{
	int64_t now = ocitap_now_ms();

	for (struct pid_watch **p = &d.reaping; *p;) {
		struct pid_watch *pw = *p;
		struct ocitap_exit ex;
		int r = ocitap_pidfd_exit(pw->fd, &ex);

		if (r == -EAGAIN && now < pw->give_up_ms) {
			p = &pw->next_reaping;
			continue;
		}
		*p = pw->next_reaping;
		pidfd_finish(pw, r == 0 ? &ex : NULL);
	}
}

static void watch_init_pid(struct container *c, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pid_watch *pw;
	int fd;

	if (c->pidw || pid <= 0)
		return;
	fd = ocitap_pidfd_open(pid);
	if (fd < 0) {
		log_msg(LOG_DEBUG, "container %s: no pidfd for pid %d: %s", c->id, pid, strerror(-fd));
		return;
	}
	pw = calloc(1, sizeof(*pw));
	if (!pw) {
		close(fd);
		return;
	}
	*pw = (struct pid_watch){ .kind = W_PIDFD, .fd = fd, .c = c };
	ev.data.ptr = pw;
	if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(pw);
		return;
	}
	c->pidw = pw;
	c->init_pid = pid;
}

static void use_sync_wakeup(int fd)
{
	if (d.sync_wakeup == 0)
		return;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0) {
		if (d.sync_wakeup < 0)
			log_msg(LOG_INFO, "seccomp: synchronous wake-up in use");
		d.sync_wakeup = 1;
	} else if (d.sync_wakeup < 0) {
		log_msg(LOG_INFO, "seccomp: this kernel has no synchronous wake-up (%m); using the plain one");
		d.sync_wakeup = 0;
	}
}

/* ---- connections ----------------------------------------------------- */

static void conn_close(struct conn *cn)
{
	epoll_ctl(d.epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	ocitap_scm_reader_release(&cn->reader);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		d.conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	d.n_conns--;
	free(cn);
}

static void drop_peer(struct conn *cn, const char *why)
{
	d.dropped_peers++;
	metric_add("ocitap_dropped_peers_total", 1, NULL);
	log_msg(LOG_WARN, "dropped peer pid %d uid %u: %s", cn->peer_pid, cn->peer_uid, why);
	conn_close(cn);
}

/*
 * Watch a notify fd of c (taking ownership of fd). key: its name at the
 * keeper when it came from there; NULL for a new one, which is named here
 * and handed to the keeper.
 */
static struct notify_fd *add_notify_fd(struct container *c, int fd, bool init, const char *key)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct notify_fd *n = calloc(1, sizeof(*n));
	char name[OCITAP_KEEPER_NAME_MAX + 1];

	if (!n) {
		close(fd);
		return NULL;
	}
	*n = (struct notify_fd){ .kind = W_NOTIFY, .fd = fd, .init = init, .c = c };
	if (!key && ocitap_keeper_key_format(name, sizeof(name), d.next_serial++, init, c->policy_name) == 0)
		key = name;
	n->key = key ? xstrdup(key) : NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	use_sync_wakeup(fd);
	ev.data.ptr = n;
	if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_msg(LOG_ERR, "container %s: cannot watch its notify fd: %m", c->id);
		close(fd);
		free(n->key);
		free(n);
		return NULL;
	}
	n->next = c->fds;
	c->fds = n;
	c->n_fds++;
	__atomic_fetch_add(&d.n_notify_fds, 1, __ATOMIC_RELAXED);
	http_set_notify_fds(c->id, c->n_fds);
	if (key == name) {
		keeper_keep_fd(n);
		fdstore_keep(n);
	}
	return n;
}

/* c's policy by name; false (counted as unknown, c's kept) when there is none */
static bool use_policy(struct container *c, const char *name)
{
	const struct ocitap_policy *p = ocitap_policy_set_find(d.policies, name);

	if (!p) {
		d.unknown_policy++;
		metric_add("ocitap_unknown_policy_total", 1, NULL);
		return false;
	}
	c->policy = p;
	snprintf(c->policy_name, sizeof(c->policy_name), "%s", name);
	return true;
}

static void handle_listener_message(struct conn *cn)
{
	struct ocitap_process_state ps;
	struct ocitap_error err = { 0 };
	char name[OCITAP_POLICY_NAME_MAX], line[512];
	struct container *c;
	struct notify_fd *n;
	int sfd, r;

	r = ocitap_scm_reader_finish(&cn->reader, 0, NULL, &ps, &sfd, &err);
	if (r < 0) {
		drop_peer(cn, ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	c = container_get(ps.state.id, true);
	r = ocitap_metadata_policy(ps.metadata, name, sizeof(name));
	if (r == 1) {
		if (!use_policy(c, name))
			log_msg(LOG_WARN, "container %s: unknown policy \"%s\"; using %s", c->id, name,
				ocitap_policy_name(c->policy));
	} else if (r < 0) {
		d.unknown_policy++;
		metric_add("ocitap_unknown_policy_total", 1, NULL);
		log_msg(LOG_WARN, "container %s: bad policy= in listenerMetadata; using %s", c->id,
			ocitap_policy_name(c->policy));
	}
	/* the init's filter comes with status creating; exec brings later ones */
	n = add_notify_fd(c, sfd, ps.state.status == OCITAP_STATUS_CREATING, NULL);
	if (n)
		log_msg(LOG_INFO, "container %s: seccomp fd from pid %d (%s, policy %s, %d fd%s)", c->id, ps.pid,
			n->init ? "init" : "exec", ocitap_policy_name(c->policy), c->n_fds, c->n_fds == 1 ? "" : "s");
	queue_container(c, &ps.state, n && n->init ? ps.pid : 0);
	if (ps.state.status == OCITAP_STATUS_CREATING) {
		watch_init_pid(c, ps.pid);
		bpf_register(c, ps.pid, &ps.state);
	}
	{
		struct ocitap_observation obs = { .phase = ocitap_phase_from_status(ps.state.status),
						  .source = OCITAP_SOURCE_SECCOMP,
						  .mono_ns = now_ns(CLOCK_MONOTONIC),
						  .wall_ns = now_ns(CLOCK_REALTIME) };

		observe(c, &obs, NULL);
	}
	ocitap_process_state_release(&ps);
	conn_close(cn);
}

/*
 * Record a hook report; ack (may be NULL) is answered once it is durable.
 * Only a live report (not one replayed from the spool, whose pid may have
 * been reused since) starts watching the init's pidfd.
 */
static void apply_report(const struct ocitap_hook_report *rep, bool live, struct conn *ack)
{
	bool creates = rep->stage == OCITAP_STAGE_CREATE_RUNTIME || rep->stage == OCITAP_STAGE_PRESTART;
	struct container *c = container_get(rep->state.id, true);
	enum ocitap_stage stage = rep->stage;
	struct ocitap_observation obs;

	/* a hook that could only tell "prestart or createRuntime": the runtime
	 * runs prestart first, so the second such report is createRuntime */
	if (rep->stage_ambiguous && c->prestart_seen)
		stage = OCITAP_STAGE_CREATE_RUNTIME;
	if (stage == OCITAP_STAGE_PRESTART)
		c->prestart_seen = true;
	metric_add("ocitap_hook_reports_total", 1, "stage", ocitap_stage_to_string(stage), NULL);

	queue_container(c, &rep->state, creates ? rep->state.pid : 0);
	if (live && creates && c->lc.phase < OCITAP_PHASE_STOPPED) {
		watch_init_pid(c, rep->state.pid);
		bpf_register(c, rep->state.pid, &rep->state);
	}
	obs = (struct ocitap_observation){ .phase = ocitap_phase_from_stage(stage),
					   .source = ocitap_stage_to_string(stage),
					   .mono_ns = rep->mono_ns ? rep->mono_ns : now_ns(CLOCK_MONOTONIC),
					   .wall_ns = rep->wall_ns ? rep->wall_ns : now_ns(CLOCK_REALTIME) };
	{
		/* every report is kept, with the stage's own time: the timeline of stages */
		struct wop *op = wop_new(WOP_EVENT, c->id);

		op->kind_text = xstrdup(OCITAP_EVENT_HOOK);
		op->source = xstrdup(obs.source);
		op->ev.from = c->lc.phase;
		op->ev.to = obs.phase;
		op->ev.mono_ns = obs.mono_ns;
		op->ev.wall_ns = obs.wall_ns;
		writer_push(&d.writer, op);
	}
	observe(c, &obs, ack);
}

static void handle_hook_report(struct conn *cn)
{
	struct ocitap_hook_report rep;
	struct ocitap_error err = { 0 };
	char line[512];

	if (ocitap_hook_report_parse(cn->reader.buf ? cn->reader.buf : "", cn->reader.len, NULL, &rep, &err) < 0) {
		char reply[600];

		snprintf(reply, sizeof(reply), "error: %s\n", ocitap_error_format(&err, line, sizeof(line)));
		(void)send(cn->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
		drop_peer(cn, line);
		return;
	}
	ocitap_scm_reader_release(&cn->reader);
	cn->waiting_ack = true;
	epoll_ctl(d.epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	apply_report(&rep, true, cn);
	ocitap_hook_report_release(&rep);
}

/*
 * Reports the hooks spooled while ocitapd was away, oldest first. Runs before
 * the store thread starts, so all of them and their "applied" marks go into
 * one transaction: each is applied once, even if ocitapd dies halfway. A
 * file that does not parse is renamed *.bad and reported.
 */
static void replay_spool(struct ocitap_store *store)
{
	struct ocitap_error err = { 0 };
	char dir[PATH_MAX], path[PATH_MAX * 2], line[512];
	char **names;
	size_t n, replayed = 0;

	snprintf(dir, sizeof(dir), "%s/spool", opt.state_dir);
	if (ocitap_spool_list(dir, &names, &n, &err) < 0) {
		log_msg(LOG_ERR, "spool: %s", err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ocitap_hook_report rep;
		struct wop *op;
		char *buf = NULL;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (ocitap_store_spool_seen(store, names[i], &err) == 1) {
			unlink(path); /* applied before a crash took the daemon down: only the file was left */
			continue;
		}
		if (ocitap_read_file(path, 1024 * 1024, -1, &buf, &len, &err) < 0 ||
		    ocitap_hook_report_parse(buf, len, NULL, &rep, &err) < 0) {
			char bad[PATH_MAX * 2 + 8];

			snprintf(bad, sizeof(bad), "%s.bad", path);
			log_msg(LOG_ERR, "spool: %s: %s; set aside as %s", names[i],
				ocitap_error_format(&err, line, sizeof(line)), bad);
			rename(path, bad);
			free(buf);
			continue;
		}
		apply_report(&rep, false, NULL);
		ocitap_hook_report_release(&rep);
		free(buf);
		op = wop_new(WOP_SPOOL, names[i]);
		op->path = xstrdup(path);
		writer_push(&d.writer, op);
		replayed++;
		metric_add("ocitap_spool_replays_total", 1, NULL);
	}
	if (replayed)
		log_msg(LOG_INFO, "spool: replaying %zu report%s from %s", replayed, replayed == 1 ? "" : "s", dir);
	ocitap_spool_list_free(names, n);
}

static void conn_event(struct conn *cn)
{
	struct ocitap_error err = { 0 };
	char line[512];
	int r = ocitap_scm_reader_read(&cn->reader, cn->fd, &err);

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		drop_peer(cn, ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	if (cn->reader.n_fds > 0)
		handle_listener_message(cn);
	else
		handle_hook_report(cn);
}

static bool peer_allowed(uid_t uid)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < opt.n_allow; i++)
		if (opt.allow[i] == uid)
			return true;
	return false;
}

static void accept_peers(void)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *cn;
		int fd = accept4(d.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_msg(LOG_WARN, "accept: %m");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		if (!peer_allowed(cred.uid)) {
			d.dropped_peers++;
			metric_add("ocitap_dropped_peers_total", 1, NULL);
			log_msg(LOG_WARN, "refused peer pid %d uid %u: not root and not --allow-uid", cred.pid,
				cred.uid);
			close(fd);
			continue;
		}
		if (d.n_conns >= MAX_CONNS) {
			d.dropped_peers++;
			metric_add("ocitap_dropped_peers_total", 1, NULL);
			log_msg(LOG_WARN, "refused peer pid %d: %d connections already open", cred.pid, MAX_CONNS);
			close(fd);
			continue;
		}
		cn = calloc(1, sizeof(*cn));
		if (!cn) {
			close(fd);
			continue;
		}
		cn->kind = W_CONN;
		cn->fd = fd;
		cn->peer_pid = cred.pid;
		cn->peer_uid = cred.uid;
		cn->deadline_ms = ocitap_now_ms() + opt.timeout_ms;
		ocitap_scm_reader_init(&cn->reader, NULL);
		ev.data.ptr = cn;
		if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cn);
			continue;
		}
		cn->next = d.conns;
		if (d.conns)
			d.conns->prev = cn;
		d.conns = cn;
		d.n_conns++;
		/* a hook sends its report right after connect: it is often here
		 * already, and reading it now saves a trip through epoll_wait */
		conn_event(cn);
	}
}

static void expire_conns(void)
{
	int64_t now = ocitap_now_ms();

	for (struct conn *cn = d.conns, *next; cn; cn = next) {
		next = cn->next;
		if (!cn->waiting_ack && now >= cn->deadline_ms) {
			char why[128];

			snprintf(why, sizeof(why), "no complete message within %d ms (%zu bytes)", opt.timeout_ms,
				 cn->reader.len);
			drop_peer(cn, why);
		}
	}
}

/* The connections the store thread has answered (or must be answered
 * here, with an error) are closed. */
static void collect_acked(void)
{
	struct conn *acked;

	pthread_mutex_lock(&d.writer.lock);
	acked = d.writer.acked;
	__atomic_store_n(&d.writer.acked, NULL, __ATOMIC_RELAXED); /* also read without the lock, as a hint */
	pthread_mutex_unlock(&d.writer.lock);
	while (acked) {
		struct conn *next = acked->next_acked;
		char reply[128];

		if (acked->ack_error)
			snprintf(reply, sizeof(reply), "error: store: %s\n", strerror(-acked->ack_error));
		else
			snprintf(reply, sizeof(reply), "%s", OCITAP_REPORT_ACK);
		if (!acked->ack_sent)
			(void)send(acked->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(acked);
		acked = next;
	}
}

static void writer_done(void)
{
	uint64_t n;

	(void)read(d.writer.done_fd, &n, sizeof(n));
	collect_acked();
}

/*
 * At start, what the store knows: each retained container's phase and exit,
 * so that the state machine goes on from there (a report replayed or
 * arriving late after a restart is a late event, never a step back).
 */
static int restore_container(const struct ocitap_store_container *sc, int64_t stopped_wall_ns, void *userdata)
{
	struct container *c = container_get(sc->id, true);
	size_t *n = userdata;

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
	c->stored_pid = sc->pid;
	c->stored_created_wall_ns = sc->created_wall_ns;
	(*n)++;
	return 0;
}

/* ---- taking over from a previous ocitapd --------------------------------- */

/*
 * The init of an adopted container, if the stored pid is still that
 * process: one that started after the container was first seen is a
 * reused pid (btime has a one-second granularity; two seconds of slack).
 */
static void watch_stored_init(struct container *c)
{
	uint64_t ticks;
	int64_t start_ns;

	if (c->pidw || c->stored_pid <= 0 || c->lc.phase == OCITAP_PHASE_STOPPED)
		return;
	if (ocitap_proc_start_ticks("/proc", c->stored_pid, &ticks) < 0 ||
	    ocitap_proc_start_wall_ns("/proc", ticks, &start_ns) < 0)
		return;
	if (c->stored_created_wall_ns && start_ns > c->stored_created_wall_ns + 2000000000LL) {
		log_msg(LOG_DEBUG, "container %s: pid %d is no longer its init", c->id, c->stored_pid);
		return;
	}
	watch_init_pid(c, c->stored_pid);
	if (bpf_enabled(NULL, 0)) {
		/* its exit and OOM kills from now on; a syscall set begun by a
		 * previous daemon is not complete, so none is recorded */
		char why[512];
		int r;

		if (!c->bpf_cookie)
			c->bpf_cookie = d.next_cookie++;
		r = bpf_track(c->id, c->bpf_cookie, c->stored_pid, false, why, sizeof(why));
		c->bpf_tracked = true; /* bpf_untrack() of an id it does not hold does nothing */
		if (r < 0 && r != -EXDEV)
			log_msg(LOG_DEBUG, "container %s: bpf: %s", c->id, why);
	}
}

static struct notify_fd *find_notify_fd(const char *key)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container *c = d.buckets[b]; c; c = c->next)
			for (struct notify_fd *n = c->fds; n; n = n->next)
				if (n->key && strcmp(n->key, key) == 0)
					return n;
	return NULL;
}

static void adopt_fd(const char *key, const char *id, int fd, void *userdata)
{
	struct container *c = container_get(id, true);
	char name[OCITAP_POLICY_NAME_MAX];
	uint64_t serial;
	bool init;
	struct notify_fd *n;

	(void)userdata;
	if (find_notify_fd(key)) { /* both the keeper and systemd's fd store had it */
		close(fd);
		return;
	}
	if (ocitap_keeper_key_parse(key, &serial, &init, name, sizeof(name)) < 0) {
		log_msg(LOG_WARN, "container %s: keeper key \"%s\" is not one of ours; its fd gets the default policy",
			id, key);
		init = false;
		name[0] = '\0';
	} else if (serial >= d.next_serial) {
		d.next_serial = serial + 1;
	}
	if (name[0] && !use_policy(c, name))
		log_msg(LOG_WARN, "container %s: its policy \"%s\" is gone from the policy file; using %s", id, name,
			ocitap_policy_name(c->policy));
	n = add_notify_fd(c, fd, init, key);
	if (!n)
		return;
	d.adopted++;
	metric_add("ocitap_adopted_notify_fds_total", 1, NULL);
	if (init)
		watch_stored_init(c);
}

static bool id_valid(int fd, uint64_t id)
{
	return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/*
 * What the previous daemon had taken and not answered (ocitapd.h: struct
 * inflight). Taken and decided: answer it as it would have. Killed inside
 * RECV: the kernel gave it the next id after the last one answered, but
 * what syscall it was is lost: answer it by ocitap_policy_blind().
 */
static void recover_inflight(void)
{
	struct inflight *f = d.inflight;
	struct notify_fd *n = f->state != INFLIGHT_IDLE ? find_notify_fd(f->key) : NULL;

	if (n && f->state == INFLIGHT_DECIDED && id_valid(n->fd, f->id)) {
		struct seccomp_notif *req = d.req;
		struct ocitap_action a = ocitap_policy_decide(n->c->policy, f->arch, f->nr);
		char *name = seccomp_syscall_resolve_num_arch(f->arch, f->nr);

		memset(req, 0, d.sizes.seccomp_notif);
		req->id = f->id;
		req->pid = (uint32_t)f->pid;
		req->data.arch = f->arch;
		req->data.nr = f->nr;
		send_answer(n, req, &a);
		count_notification(n->c, f->arch, f->nr, &a);
		n->last_id = f->id;
		d.recovered++;
		metric_add("ocitap_recovered_notifications_total", 1, "exact", "true", NULL);
		log_msg(LOG_INFO, "container %s: answered %s, taken by the previous ocitapd but not answered", n->c->id,
			name ? name : "a syscall");
		free(name);
	} else if (n && f->state == INFLIGHT_RECEIVING && f->prev_id) {
		for (uint64_t id = f->prev_id + 1; id <= f->prev_id + 16; id++) {
			struct seccomp_notif *req = d.req;
			struct ocitap_action a;
			bool exact;
			char text[64];

			if (!id_valid(n->fd, id))
				continue;
			a = ocitap_policy_blind(n->c->policy, &exact);
			memset(req, 0, d.sizes.seccomp_notif);
			req->id = id;
			send_answer(n, req, &a);
			n->last_id = id;
			d.recovered++;
			metric_add("ocitap_recovered_notifications_total", 1, "exact", exact ? "true" : "false", NULL);
			log_msg(exact ? LOG_INFO : LOG_WARN,
				"container %s: answered a notification the previous ocitapd was killed while taking "
				"(syscall unknown): %s%s",
				n->c->id, ocitap_action_format(&a, text, sizeof(text)),
				exact ? ", the policy's answer to every syscall" : ", the policy's refusal");
			break;
		}
	}
	f->state = INFLIGHT_IDLE;
}

/*
 * The notify fds systemd's fd store gave back ($LISTEN_FDS, named by
 * $LISTEN_FDNAMES, for us only if $LISTEN_PID is our pid): ours are those
 * named "<key>/<container id>" that are seccomp notify fds.
 */
static bool parse_number(const char *s, long long min, long long max, long long *ret);

static int fdstore_take_back(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
	const char *next = names ? names : "";
	long long v, n;
	int taken = 0;

	if (!pid || !fds || !parse_number(pid, 1, INT32_MAX, &v) || (pid_t)v != getpid() ||
	    !parse_number(fds, 0, 65536, &n))
		return 0;
	for (int i = 0; i < n; i++) {
		char name[300] = "", link[64], target[64], *slash;
		size_t w = strcspn(next, ":");
		int fd = 3 + i;
		ssize_t len;

		/* names are colon-separated, in fd order */
		if (w < sizeof(name)) {
			memcpy(name, next, w);
			name[w] = '\0';
		}
		next += w + (next[w] == ':');
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		slash = strrchr(name, '/'); /* a policy name may hold one; a container id may not */
		if (!slash || strcmp(target, "anon_inode:seccomp notify") != 0)
			continue; /* not ours: left alone */
		*slash = '\0';
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		adopt_fd(name, slash + 1, fd, NULL);
		taken++;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return taken;
}

/* At start: every notify fd the keeper (or systemd) holds becomes ours again. */
static void take_back_fds(void)
{
	char why[512], path[PATH_MAX];
	int n = 0, from_store = fdstore_take_back();

	if (from_store)
		log_msg(LOG_INFO, "systemd's fd store: took back %d notify fd%s", from_store,
			from_store == 1 ? "" : "s");
	run_file_path(path, sizeof(path), "ocitapd.inflight");
	d.inflight = inflight_map(path, why, sizeof(why));
	if (!d.inflight)
		log_msg(LOG_WARN,
			"in-flight record: %s (a notification taken when ocitapd is killed may then "
			"wait until its container stops)",
			why);
	if (opt.keeper_path) {
		d.keeper_fd = keeper_connect(opt.keeper_path, true, why, sizeof(why));
		if (d.keeper_fd < 0) {
			log_msg(LOG_WARN, "%s; trying again every 5 s", why);
			metric_set("ocitap_keeper_up", 0, NULL);
			d.keeper_retry_ms = ocitap_now_ms() + 5000;
		} else if ((n = keeper_give(d.keeper_fd, adopt_fd, NULL, why, sizeof(why))) < 0) {
			keeper_lost(why);
			n = 0;
		} else if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.keeper_fd,
				     &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &d.keeper_w }) < 0) {
			keeper_lost("keeper: cannot watch its connection");
		} else {
			metric_set("ocitap_keeper_up", 1, NULL);
			if (n)
				log_msg(LOG_INFO, "keeper %s: took back %d notify fd%s of a previous ocitapd",
					opt.keeper_path, n, n == 1 ? "" : "s");
			else
				log_msg(LOG_INFO, "keeper %s: connected", opt.keeper_path);
		}
	}
	if (d.inflight)
		recover_inflight(); /* every fd is back: whichever held the one it names */
}

/* ---- setup and the loop ------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int add_watch(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void reload_policies(void)
{
	struct ocitap_policy_set *set;
	struct ocitap_error err = { 0 };

	if (ocitap_policy_set_load(opt.policy_path, &set, &err) < 0) {
		char line[512];

		log_msg(LOG_ERR, "policy %s: %s; keeping the policies in use", opt.policy_path,
			ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container *c = d.buckets[b]; c; c = c->next) {
			const struct ocitap_policy *p = ocitap_policy_set_find(set, c->policy_name);

			c->policy = p ? p : ocitap_policy_set_default(set);
		}
	ocitap_policy_set_free(d.policies);
	d.policies = set;
	log_msg(LOG_INFO, "policies reloaded from %s (%zu)", opt.policy_path, ocitap_policy_set_count(set));
}

static void drain_notifications(void)
{
	/* answer whatever is pending before the fds close (SIGTERM) */
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct container *c = d.buckets[b]; c; c = c->next)
			for (struct notify_fd *n = c->fds; n; n = n->next)
				for (int i = 0; i < 64; i++) {
					struct pollfd p = { .fd = n->fd, .events = POLLIN };

					if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
						break;
					answer_notification(n);
				}
}

/*
 * epoll_wait, except right after a notification was answered. Then the
 * container that made it is likely to make the next one at once, and we
 * sleep in poll() on that fd itself and on the epoll fd: a direct waiter on
 * the notify fd is what lets the kernel's synchronous wake-up
 * (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) hand the CPU straight to us, which an
 * epoll wait-queue callback cannot. Anything else that becomes ready wakes
 * the poll through the epoll fd (where the hot fd is masked, see set_hot()).
 * After 50 ms without a notification on it, the fd is no longer hot.
 */
static int wait_events(struct epoll_event *events, int max, int timeout_ms)
{
	struct notify_fd *hot = d.hot;
	struct pollfd p[2];
	int r;

	if (!hot)
		return epoll_wait(d.epfd, events, max, timeout_ms);
	p[0] = (struct pollfd){ .fd = hot->fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = d.epfd, .events = POLLIN };
	r = poll(p, 2, timeout_ms < 50 ? timeout_ms : 50);
	if (r <= 0) {
		set_hot(NULL);
		return r;
	}
	if (p[0].revents & POLLIN)
		answer_notification(hot);
	else if (p[0].revents)
		set_hot(NULL); /* hung up: epoll reports it, and the fd is removed there */
	if (!(p[1].revents & POLLIN))
		return 0;
	return epoll_wait(d.epfd, events, max, 0);
}

/* ---- upgrades: SIGUSR2 runs the binary now at our path, which takes over ---- */

/*
 * Start the successor with the listening socket (so that no connection is
 * refused meanwhile) and OCITAP_REPLACE_PID: once it has loaded its
 * configuration it stops us (SIGTERM), waits for us to exit, and takes the
 * store, the keeper's fds and the HTTP address. If it fails before, we go
 * on serving (successor_exited()).
 */
static void start_successor(void)
{
	char fdbuf[32], pidbuf[32];
	pid_t pid;
	int pidfd;

	if (d.successor_pidfd >= 0) {
		log_msg(LOG_WARN, "SIGUSR2: a replacement (pid %d) is already starting", (int)d.successor);
		return;
	}
	if (!d.self_path[0]) {
		log_msg(LOG_ERR, "SIGUSR2: our binary's path is unknown; cannot replace ourselves");
		return;
	}
	snprintf(fdbuf, sizeof(fdbuf), "%d", d.listen_fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "SIGUSR2: fork: %m");
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fcntl(d.listen_fd, F_SETFD, 0); /* the one fd it inherits */
		setenv("OCITAP_LISTEN_FD", fdbuf, 1);
		setenv("OCITAP_REPLACE_PID", pidbuf, 1);
		execv(d.self_path, d.argv);
		fprintf(stderr, "ocitapd: SIGUSR2: cannot run %s: %s\n", d.self_path, strerror(errno));
		_exit(127);
	}
	pidfd = ocitap_pidfd_open(pid);
	if (pidfd < 0 || epoll_ctl(d.epfd, EPOLL_CTL_ADD, pidfd,
				   &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &d.successor_w }) < 0) {
		log_msg(LOG_ERR, "SIGUSR2: cannot watch the replacement (pid %d): %m", (int)pid);
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	d.successor_pidfd = pidfd;
	d.successor = pid;
	log_msg(LOG_INFO, "SIGUSR2: starting %s (pid %d) to take over", d.self_path, (int)pid);
}

static void successor_exited(void)
{
	int status = 0;

	waitpid(d.successor, &status, WNOHANG);
	epoll_ctl(d.epfd, EPOLL_CTL_DEL, d.successor_pidfd, NULL);
	close(d.successor_pidfd);
	d.successor_pidfd = -1;
	{
		char why[256], path[PATH_MAX];
		struct ocitap_error err = { 0 };

		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "the replacement (pid %d) exited with status %d before taking over",
				 (int)d.successor, WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "the replacement (pid %d) died (%s) before taking over",
				 (int)d.successor, strsignal(WTERMSIG(status)));
		log_msg(LOG_ERR, "SIGUSR2: %s; still serving", why);
		/* for `ocitapd --replace`, which waits */
		run_file_path(path, sizeof(path), "ocitapd.replace");
		strcat(why, "\n");
		ocitap_write_file_atomic(path, why, strlen(why), 0644, &err);
	}
}

static int run(void)
{
	struct epoll_event events[64];
	/* pruning runs once a minute, or once per --retention when that is shorter */
	int64_t prune_every = opt.retention_s < 60 ? (opt.retention_s > 0 ? opt.retention_s : 1) * 1000 : 60000;
	int64_t next_flush = ocitap_now_ms() + 1000, next_prune = ocitap_now_ms() + prune_every;
	bool stop = false;
	int64_t stop_by = 0;

	/* stopping, the connections already accepted are finished (a runtime's
	 * listener message carries a container's only notify fd): 2 s at most */
	while (!stop || (d.n_conns && (!stop_by || ocitap_now_ms() < stop_by))) {
		int n;

		if (stop && !stop_by) {
			epoll_ctl(d.epfd, EPOLL_CTL_DEL, d.listen_fd, NULL);
			stop_by = ocitap_now_ms() + 2000;
		}
		n = wait_events(events, 64, d.reaping ? 10 : d.n_conns ? 100 : 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "epoll_wait: %m");
			return 1;
		}
		if (d.n_conns && __atomic_load_n(&d.writer.acked, __ATOMIC_ACQUIRE))
			collect_acked();
		for (int i = 0; i < n; i++) {
			struct watch *w = events[i].data.ptr;

			switch (w->kind) {
			case W_NOTIFY:
				notify_event((struct notify_fd *)w, events[i].events);
				break;
			case W_LISTEN:
				accept_peers();
				break;
			case W_CONN:
				conn_event((struct conn *)w);
				break;
			case W_PIDFD:
				pidfd_event((struct pid_watch *)w);
				break;
			case W_WRITER:
				writer_done();
				break;
			case W_KEEPER: /* it never speaks unasked: it is gone */
				keeper_lost("keeper: gone");
				break;
			case W_SUCCESSOR:
				successor_exited();
				break;
			case W_BPF:
				bpf_poll();
				break;
			case W_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(d.signal_fd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					reload_policies();
				} else if (si.ssi_signo == SIGUSR2) {
					start_successor();
				} else if (d.successor_pidfd >= 0 && (pid_t)si.ssi_pid == d.successor) {
					log_msg(LOG_INFO, "handing over to pid %d", (int)d.successor);
					d.replaced = true;
					stop = true;
				} else {
					log_msg(LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
					stop = true;
				}
				break;
			}
			}
		}
		if (d.n_conns)
			expire_conns();
		if (d.reaping)
			retry_reaping();
		if (opt.keeper_path && d.keeper_fd < 0 && ocitap_now_ms() >= d.keeper_retry_ms)
			keeper_reconnect();
		if (ocitap_now_ms() >= next_flush) {
			flush_all_counts();
			metric_set("ocitap_bpf_lost_events_total", (double)bpf_lost_events(), NULL);
			next_flush = ocitap_now_ms() + 1000;
		}
		if (ocitap_now_ms() >= next_prune) {
			struct wop *op = wop_new(WOP_PRUNE, "");

			op->before_wall_ns = now_ns(CLOCK_REALTIME) - opt.retention_s * 1000000000LL;
			evict_stopped(op->before_wall_ns);
			writer_push(&d.writer, op);
			next_prune = ocitap_now_ms() + prune_every;
		}
		writer_kick(&d.writer); /* what this round queued, in one commit */
	}
	drain_notifications();
	flush_all_counts();
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitapd [OPTIONS]\n"
		"\n"
		"The ocitap daemon: the seccomp notify listener runtimes point\n"
		"linux.seccomp.listenerPath at, and the recorder the ocitap hooks report to.\n"
		"\n"
		"  -s, --socket PATH       listener and hook socket (default %s; $OCITAP_SOCKET)\n"
		"  -d, --state-dir DIR     database and hook spool (default %s; $OCITAP_STATE_DIR)\n"
		"      --http ADDR         HTTP export address (default %s; $OCITAP_HTTP; \"off\")\n"
		"      --push URL          POST every event there as CloudEvents (repeatable)\n"
		"      --push-token-file F bearer token for the --push receivers\n"
		"      --push-ca-file F    CA certificates for https receivers (default: the system's)\n"
		"      --push-backlog N    events a receiver may fall behind before the oldest are skipped (100000)\n"
		"      --http-token-file F bearer token every HTTP request must carry (required off loopback)\n"
		"  -p, --policy FILE       policy file (JSON, ocitapd-policy(5)); SIGHUP reloads it\n"
		"      --keeper PATH       ocitap-fdkeeper's socket, started there when absent (default: keeper.sock\n"
		"                          next to --socket; $OCITAP_KEEPER); \"off\": a restart fails notified "
		"syscalls\n"
		"      --replace           have the ocitapd serving --socket hand over to the binary now at its\n"
		"                          path (as SIGUSR2 does), wait until it has, print the new pid\n"
		"      --bpf on|off        load the BPF programs: the init's exec and exit, OOM kills, syscall\n"
		"                          sets (default on; $OCITAP_BPF); off, or not permitted: the rest runs on\n"
		"      --trace-syscalls WHICH  whose syscall sets to record: annotated (default: containers with\n"
		"                          io.containers.trace-syscall), all, or off ($OCITAP_TRACE_SYSCALLS)\n"
		"      --allow-uid UID     also accept peers with this uid (repeatable; default root only)\n"
		"      --retention SECONDS keep stopped containers this long (default 86400)\n"
		"      --peer-timeout MS   drop a peer whose message is not complete by then (default %d)\n"
		"      --sync-interval MS  a recorded event is on disk within MS (default 1000); 0: before\n"
		"                          a hook is acknowledged (slower hooks; survives power loss)\n"
		"      --log-level LEVEL   error, warning, info (default) or debug\n"
		"  -h, --help              show this help\n"
		"  -V, --version           show the version\n"
		"\n"
		"A flag wins over the environment. Logs go to stderr, one line per event.\n",
		DEFAULT_SOCKET, DEFAULT_STATE_DIR, DEFAULT_HTTP, CONN_TIMEOUT_MS);
}

static bool parse_number(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

static bool parse_bpf(const char *v, const char *what)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
		opt.bpf = strcmp(v, "on") == 0;
		return true;
	}
	fprintf(stderr, "ocitapd: %s: \"%s\" is neither on nor off\n", what, v);
	return false;
}

static bool parse_trace(const char *v, const char *what)
{
	if (strcmp(v, "annotated") == 0)
		opt.trace = TRACE_ANNOTATED;
	else if (strcmp(v, "all") == 0)
		opt.trace = TRACE_ALL;
	else if (strcmp(v, "off") == 0)
		opt.trace = TRACE_OFF;
	else {
		fprintf(stderr, "ocitapd: %s: \"%s\" is not annotated, all or off\n", what, v);
		return false;
	}
	return true;
}

static int parse_args(int argc, char **argv)
{
	enum {
		OPT_HTTP = 256,
		OPT_HTTP_TOKEN,
		OPT_PUSH,
		OPT_PUSH_TOKEN,
		OPT_PUSH_CA,
		OPT_PUSH_BACKLOG,
		OPT_ALLOW,
		OPT_RETENTION,
		OPT_LOG,
		OPT_PEER_TIMEOUT,
		OPT_SYNC,
		OPT_KEEPER,
		OPT_REPLACE,
		OPT_BPF,
		OPT_TRACE
	};
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "http-token-file", required_argument, NULL, OPT_HTTP_TOKEN },
		{ "push", required_argument, NULL, OPT_PUSH },
		{ "push-token-file", required_argument, NULL, OPT_PUSH_TOKEN },
		{ "push-backlog", required_argument, NULL, OPT_PUSH_BACKLOG },
		{ "push-ca-file", required_argument, NULL, OPT_PUSH_CA },
		{ "policy", required_argument, NULL, 'p' },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "peer-timeout", required_argument, NULL, OPT_PEER_TIMEOUT },
		{ "sync-interval", required_argument, NULL, OPT_SYNC },
		{ "keeper", required_argument, NULL, OPT_KEEPER },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "bpf", required_argument, NULL, OPT_BPF },
		{ "trace-syscalls", required_argument, NULL, OPT_TRACE },
		{ "log-level", required_argument, NULL, OPT_LOG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	long long v;
	int c;

	opt.socket_path = getenv("OCITAP_SOCKET") ? getenv("OCITAP_SOCKET") : DEFAULT_SOCKET;
	opt.state_dir = getenv("OCITAP_STATE_DIR") ? getenv("OCITAP_STATE_DIR") : DEFAULT_STATE_DIR;
	opt.http = getenv("OCITAP_HTTP") ? getenv("OCITAP_HTTP") : DEFAULT_HTTP;
	opt.keeper_path = getenv("OCITAP_KEEPER");
	if (getenv("OCITAP_BPF") && !parse_bpf(getenv("OCITAP_BPF"), "OCITAP_BPF"))
		return 2;
	if (getenv("OCITAP_TRACE_SYSCALLS") && !parse_trace(getenv("OCITAP_TRACE_SYSCALLS"), "OCITAP_TRACE_SYSCALLS"))
		return 2;
	while ((c = getopt_long(argc, argv, "s:d:p:hV", options, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.socket_path = optarg;
			break;
		case 'd':
			opt.state_dir = optarg;
			break;
		case OPT_HTTP:
			opt.http = optarg;
			break;
		case OPT_HTTP_TOKEN:
			opt.http_token_file = optarg;
			break;
		case OPT_PUSH:
			if (opt.n_push == MAX_PUSH) {
				fprintf(stderr, "ocitapd: --push: at most %d receivers\n", MAX_PUSH);
				return 2;
			}
			opt.push[opt.n_push++] = optarg;
			break;
		case OPT_PUSH_TOKEN:
			opt.push_token_file = optarg;
			break;
		case OPT_PUSH_CA:
			opt.push_ca_file = optarg;
			break;
		case OPT_PUSH_BACKLOG:
			if (!parse_number(optarg, 1, INT64_MAX / 2, &v)) {
				fprintf(stderr, "ocitapd: --push-backlog: expected a number of events, got '%s'\n",
					optarg);
				return 2;
			}
			opt.push_backlog = v;
			break;
		case 'p':
			opt.policy_path = optarg;
			break;
		case OPT_BPF:
			if (!parse_bpf(optarg, "--bpf"))
				return 2;
			break;
		case OPT_TRACE:
			if (!parse_trace(optarg, "--trace-syscalls"))
				return 2;
			break;
		case OPT_KEEPER:
			opt.keeper_path = optarg;
			break;
		case OPT_REPLACE:
			opt.replace = true;
			break;
		case OPT_ALLOW:
			if (!parse_number(optarg, 0, UINT32_MAX - 1, &v) || opt.n_allow == MAX_ALLOW_UIDS) {
				fprintf(stderr, "ocitapd: --allow-uid: expected a uid (at most %d), got '%s'\n",
					MAX_ALLOW_UIDS, optarg);
				return 2;
			}
			opt.allow[opt.n_allow++] = (uid_t)v;
			break;
		case OPT_RETENTION:
			if (!parse_number(optarg, 0, INT32_MAX, &v)) {
				fprintf(stderr, "ocitapd: --retention: expected seconds, got '%s'\n", optarg);
				return 2;
			}
			opt.retention_s = v;
			break;
		case OPT_PEER_TIMEOUT:
			if (!parse_number(optarg, 1, 600000, &v)) {
				fprintf(stderr, "ocitapd: --peer-timeout: expected milliseconds, got '%s'\n", optarg);
				return 2;
			}
			opt.timeout_ms = (int)v;
			break;
		case OPT_SYNC:
			if (!parse_number(optarg, 0, 3600000, &v)) {
				fprintf(stderr,
					"ocitapd: --sync-interval: expected milliseconds (0 to 3600000), got '%s'\n",
					optarg);
				return 2;
			}
			opt.sync_interval_ms = (int)v;
			break;
		case OPT_LOG:
			if (strcmp(optarg, "error") == 0)
				opt.level = LOG_ERR;
			else if (strcmp(optarg, "warning") == 0)
				opt.level = LOG_WARN;
			else if (strcmp(optarg, "info") == 0)
				opt.level = LOG_INFO;
			else if (strcmp(optarg, "debug") == 0)
				opt.level = LOG_DEBUG;
			else {
				fprintf(stderr,
					"ocitapd: --log-level: expected error, warning, info or debug, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("ocitapd %s\n", OCITAP_VERSION);
			exit(0);
		default:
			fprintf(stderr, "ocitapd: see 'ocitapd --help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ocitapd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!opt.keeper_path || !*opt.keeper_path) {
		/* next to the socket: daemons side by side (tests) get a keeper each */
		static char path[PATH_MAX];

		run_file_path(path, sizeof(path), "keeper.sock");
		opt.keeper_path = path;
	} else if (strcmp(opt.keeper_path, "off") == 0) {
		opt.keeper_path = NULL;
	} else if (strlen(opt.keeper_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "ocitapd: --keeper: a socket path is at most %zu bytes\n",
			sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return 2;
	}
	{
		/* tests only: OCITAP_FAULT=after-recv:N or after-decide:N kills the daemon there */
		const char *f = getenv("OCITAP_FAULT");

		if (f && *f) {
			const char *colon = strchr(f, ':');
			long long n;

			if (colon && strncmp(f, "after-recv:", 11) == 0)
				d.fault = FAULT_AFTER_RECV;
			else if (colon && strncmp(f, "after-decide:", 13) == 0)
				d.fault = FAULT_AFTER_DECIDE;
			if (!d.fault || !parse_number(colon + 1, 1, INT64_MAX, &n)) {
				fprintf(stderr,
					"ocitapd: OCITAP_FAULT: expected after-recv:N or after-decide:N, got '%s'\n",
					f);
				return 2;
			}
			d.fault_at = (uint64_t)n;
		}
	}
	return 0;
}

static void pid_file_path(char *buf, size_t size)
{
	run_file_path(buf, size, "ocitapd.pid");
}

static pid_t read_pid_file(const char *path)
{
	char *text = NULL, *nl;
	size_t n;
	long long v = 0;

	if (ocitap_read_file(path, 64, 1000, &text, &n, NULL) < 0)
		return 0;
	if ((nl = strchr(text, '\n')))
		*nl = '\0';
	if (!parse_number(text, 1, INT32_MAX, &v))
		v = 0;
	free(text);
	return (pid_t)v;
}

/* Wait (bounded) for the process behind pidfd to exit; true if it did. */
static bool wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int64_t until = ocitap_now_ms() + timeout_ms;
	int r;

	do
		r = poll(&p, 1, (int)(until - ocitap_now_ms() > 0 ? until - ocitap_now_ms() : 0));
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/*
 * Started by SIGUSR2 (OCITAP_REPLACE_PID): our configuration is loaded, so
 * stop the daemon we replace and wait for it to be gone (it answers what
 * is pending and writes its last records) before the store is opened.
 */
static int take_over_from(const char *pid_text)
{
	long long v;
	pid_t old;
	int pidfd;

	if (!parse_number(pid_text, 1, INT32_MAX, &v)) {
		log_msg(LOG_ERR, "OCITAP_REPLACE_PID: not a pid: '%s'", pid_text);
		return -EINVAL;
	}
	old = (pid_t)v;
	pidfd = ocitap_pidfd_open(old);
	if (pidfd < 0)
		return 0; /* gone already */
	log_msg(LOG_INFO, "taking over from pid %d", (int)old);
	d.takeover_pid = old;
	d.takeover_ms = ocitap_now_ms();
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH) {
		log_msg(LOG_ERR, "cannot stop pid %d: %m", (int)old);
		close(pidfd);
		return -errno;
	}
	if (!wait_exit(pidfd, 10000)) {
		log_msg(LOG_WARN, "pid %d still runs after 10 s: killing it", (int)old);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		wait_exit(pidfd, 2000);
	}
	close(pidfd);
	return 0;
}

/* The listening socket a predecessor handed over (OCITAP_LISTEN_FD). */
static int inherited_listen_fd(const char *text)
{
	long long v;
	int on = 0, domain = 0;
	socklen_t len = sizeof(on);

	if (!parse_number(text, 3, INT32_MAX, &v) || getsockopt((int)v, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 ||
	    !on || (len = sizeof(domain), getsockopt((int)v, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) ||
	    domain != AF_UNIX) {
		log_msg(LOG_ERR, "OCITAP_LISTEN_FD=%s: not a listening unix socket", text);
		return -EBADF;
	}
	fcntl((int)v, F_SETFD, FD_CLOEXEC);
	return (int)v;
}

/*
 * ocitapd --replace: ask the daemon serving --socket (found by the
 * socket's peer credentials) to hand over to the binary now at its path,
 * and wait until it has.
 */
static int replace_running(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ocitap_error err = { 0 };
	char line[512], path[PATH_MAX];
	int fd = ocitap_unix_connect(opt.socket_path, &err), pidfd;
	pid_t pid;

	if (fd < 0) {
		fprintf(stderr, "ocitapd: --replace: no daemon at %s: %s\n", opt.socket_path,
			ocitap_error_format(&err, line, sizeof(line)));
		return 1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		fprintf(stderr, "ocitapd: --replace: %s: %s\n", opt.socket_path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	/* the socket's credentials are those of whoever called listen(): a
	 * daemon that was itself started by SIGUSR2 is found by the pid file */
	pid_file_path(path, sizeof(path));
	pid = read_pid_file(path);
	if (pid > 0 && kill(pid, 0) == 0)
		cred.pid = pid;
	run_file_path(path, sizeof(path), "ocitapd.replace");
	unlink(path);
	pidfd = ocitap_pidfd_open(cred.pid);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGUSR2, NULL, 0) < 0) {
		fprintf(stderr, "ocitapd: --replace: cannot signal pid %d: %s\n", (int)cred.pid,
			strerror(pidfd < 0 ? -pidfd : errno));
		return 1;
	}
	for (int i = 0; !wait_exit(pidfd, 100); i++) {
		char *why = NULL;
		size_t n;

		if (ocitap_read_file(path, 512, 1000, &why, &n, NULL) == 0) {
			fprintf(stderr, "ocitapd: --replace: %s", why);
			fprintf(stderr, "ocitapd: --replace: pid %d goes on serving\n", (int)cred.pid);
			free(why);
			unlink(path);
			return 1;
		}
		if (i == 300) {
			fprintf(stderr,
				"ocitapd: --replace: pid %d is still serving after 30 s: its successor did not take "
				"over (the daemon's log says why)\n",
				(int)cred.pid);
			return 1;
		}
	}
	close(pidfd);
	pid_file_path(path, sizeof(path));
	/* the successor writes its pid once it serves */
	for (int i = 0; i < 100; i++) {
		pid = read_pid_file(path);
		if (pid > 0 && pid != cred.pid && kill(pid, 0) == 0) {
			printf("ocitapd: pid %d replaced by pid %d\n", (int)cred.pid, (int)pid);
			return 0;
		}
		usleep(100000);
	}
	fprintf(stderr, "ocitapd: --replace: pid %d stopped, but no successor wrote %s\n", (int)cred.pid, path);
	return 1;
}

int main(int argc, char **argv)
{
	struct ocitap_error err = { 0 };
	struct ocitap_store *store = NULL;
	char db[PATH_MAX], sockdir[PATH_MAX], line[512];
	sigset_t mask;
	int r, status;

	r = parse_args(argc, argv);
	if (r)
		return r;
	if (opt.replace)
		return replace_running();
	d.argv = argv;
	{
		ssize_t n = readlink("/proc/self/exe", d.self_path, sizeof(d.self_path) - 1);

		d.self_path[n > 0 ? n : 0] = '\0';
		/* replaced on disk since: the path is what SIGUSR2 runs */
		if (n > 10 && strcmp(d.self_path + n - 10, " (deleted)") == 0)
			d.self_path[n - 10] = '\0';
	}
	d.journal = getenv("JOURNAL_STREAM") != NULL;
	signal(SIGPIPE, SIG_IGN);
	{
		/* two fds per live container (notify fd, pidfd): use all the hard limit allows */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	if (ocitap_policy_set_load(opt.policy_path, &d.policies, &err) < 0) {
		log_msg(LOG_ERR, "policy %s: %s", opt.policy_path, ocitap_error_format(&err, line, sizeof(line)));
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &d.sizes) < 0) {
		log_msg(LOG_ERR, "this kernel has no seccomp user notification: %m");
		return 1;
	}
	d.req = calloc(1, d.sizes.seccomp_notif > sizeof(*d.req) ? d.sizes.seccomp_notif : sizeof(*d.req));
	d.resp = calloc(1, d.sizes.seccomp_notif_resp > sizeof(*d.resp) ? d.sizes.seccomp_notif_resp : sizeof(*d.resp));
	if (!d.req || !d.resp)
		return 1;
	d.listen_fd = -1;
	if (getenv("OCITAP_LISTEN_FD")) {
		d.listen_fd = inherited_listen_fd(getenv("OCITAP_LISTEN_FD"));
		unsetenv("OCITAP_LISTEN_FD");
		if (d.listen_fd < 0)
			return 1;
	}
	if (getenv("OCITAP_REPLACE_PID")) {
		r = take_over_from(getenv("OCITAP_REPLACE_PID"));
		unsetenv("OCITAP_REPLACE_PID");
		if (r < 0)
			return 1;
	}

	r = mkdir_p(opt.state_dir, 0700);
	if (r < 0) {
		log_msg(LOG_ERR, "state directory %s: %s", opt.state_dir, strerror(-r));
		return 1;
	}
	snprintf(db, sizeof(db), "%s/ocitap.db", opt.state_dir);
	if (ocitap_store_open(db, opt.sync_interval_ms ? OCITAP_STORE_SYNC_LATER : 0, &store, &err) < 0) {
		log_msg(LOG_ERR, "store: %s", ocitap_error_format(&err, line, sizeof(line)));
		return 1;
	}
	{
		size_t restored = 0;

		if (ocitap_store_foreach_container(store, restore_container, &restored, &err) < 0) {
			log_msg(LOG_ERR, "store: %s", ocitap_error_format(&err, line, sizeof(line)));
			ocitap_store_close(store);
			return 1;
		}
		if (restored)
			log_msg(LOG_INFO, "store: %zu container%s known from before", restored,
				restored == 1 ? "" : "s");
	}
	snprintf(sockdir, sizeof(sockdir), "%s", opt.socket_path);
	if (strrchr(sockdir, '/') && strrchr(sockdir, '/') != sockdir) {
		*strrchr(sockdir, '/') = '\0';
		mkdir_p(sockdir, 0755);
	}
	if (d.listen_fd < 0)
		d.listen_fd = ocitap_unix_listen(opt.socket_path, 0600, 128, &err);
	if (d.listen_fd < 0) {
		log_msg(LOG_ERR, "socket: %s", ocitap_error_format(&err, line, sizeof(line)));
		ocitap_store_close(store);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL); /* before the store thread starts: it inherits the mask */
	d.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.signal_fd < 0 || d.epfd < 0 || writer_init(&d.writer, store) < 0) {
		log_msg(LOG_ERR, "setup: %m");
		return 1;
	}
	d.writer.sync_interval_ms = opt.sync_interval_ms;
	replay_spool(store);
	if (writer_start(&d.writer) < 0) {
		log_msg(LOG_ERR, "setup: %m");
		return 1;
	}
	d.listen.kind = W_LISTEN;
	d.signal.kind = W_SIGNAL;
	d.writer_w.kind = W_WRITER;
	d.keeper_w.kind = W_KEEPER;
	d.successor_w.kind = W_SUCCESSOR;
	if (add_watch(d.listen_fd, &d.listen) < 0 || add_watch(d.signal_fd, &d.signal) < 0 ||
	    add_watch(d.writer.done_fd, &d.writer_w) < 0) {
		log_msg(LOG_ERR, "epoll: %m");
		return 1;
	}
	d.bpf_w.kind = W_BPF;
	metric_set("ocitap_bpf_up", 0, NULL);
	metric_set("ocitap_bpf_lost_events_total", 0, NULL);
	metric_set("ocitap_bpf_traced_containers", 0, NULL);
	if (opt.bpf) {
		char why[512];
		int fd = bpf_start(bpf_event, why, sizeof(why));

		if (fd < 0) {
			log_msg(LOG_WARN,
				"bpf: off: %s; exec, exit codes from BPF, OOM kills and syscall profiles are "
				"not recorded",
				why);
		} else if (add_watch(fd, &d.bpf_w) < 0) {
			log_msg(LOG_WARN, "bpf: off: epoll: %m");
			bpf_stop();
		} else {
			metric_set("ocitap_bpf_up", 1, NULL);
			log_msg(LOG_INFO, "bpf: programs loaded in %.1f ms (syscall sets: %s)", bpf_load_ms(),
				opt.trace == TRACE_ALL	 ? "every container"
				: opt.trace == TRACE_OFF ? "off"
							 : "containers with the " OCITAP_TRACE_ANNOTATION
							   " annotation");
		}
	} else {
		bpf_start(NULL, NULL, 0); /* records why it is off */
	}
	if (strcmp(opt.http, "off") != 0) {
		static struct http_config hc;
		char why[512];

		hc = (struct http_config){ .addr = opt.http,
					   .token_file = opt.http_token_file,
					   .db_path = db,
					   .socket_path = opt.socket_path,
					   .writer = &d.writer,
					   .tracked_containers = &d.n_containers,
					   .notify_fds = &d.n_notify_fds };
		if (http_start(&hc, why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "%s (--http off serves nothing)", why);
			close(d.listen_fd);
			unlink(opt.socket_path);
			writer_stop(&d.writer);
			ocitap_store_close(store);
			return 1;
		}
		d.http_on = true;
	}
	if (opt.n_push) {
		static struct push_config pc;
		char why[512];

		pc = (struct push_config){ .urls = opt.push,
					   .n_urls = opt.n_push,
					   .token_file = opt.push_token_file,
					   .ca_file = opt.push_ca_file,
					   .db_path = db,
					   .writer = &d.writer,
					   .max_backlog = opt.push_backlog };
		if (push_start(&pc, why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "%s", why);
			http_stop();
			push_stop();
			close(d.listen_fd);
			unlink(opt.socket_path);
			writer_stop(&d.writer);
			ocitap_store_close(store);
			return 1;
		}
		d.push_on = true;
	}
	{
		const char *fdstore = getenv("FDSTORE");

		d.fdstore = getenv("NOTIFY_SOCKET") && fdstore && atoi(fdstore) > 0;
	}
	if (opt.keeper_path || d.fdstore || getenv("LISTEN_FDS"))
		take_back_fds();
	__atomic_store_n(&d.writer.committed, committed, __ATOMIC_RELEASE);
	{
		char path[PATH_MAX], pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

		pid_file_path(path, sizeof(path));
		if (ocitap_write_file_atomic(path, pid, (size_t)n, 0644, &err) < 0)
			log_msg(LOG_WARN, "pid file: %s", ocitap_error_format(&err, line, sizeof(line)));
	}
	log_msg(LOG_INFO, "listening on %s, store %s, %zu policies, peers: root%s", opt.socket_path, db,
		ocitap_policy_set_count(d.policies), opt.n_allow ? " and --allow-uid" : " only");
	if (d.takeover_pid)
		log_msg(LOG_INFO, "took over from pid %d in %lld ms (containers' notified syscalls waited that long)",
			(int)d.takeover_pid, (long long)(ocitap_now_ms() - d.takeover_ms));

	status = run();
	if (d.keeper_fd >= 0) {
		uint64_t held = __atomic_load_n(&d.n_notify_fds, __ATOMIC_RELAXED);

		if (held)
			log_msg(LOG_INFO,
				"the keeper holds %llu notify fd%s: those containers' notified syscalls wait for the "
				"next ocitapd (stop ocitap-fdkeeper to fail them instead)",
				(unsigned long long)held, held == 1 ? "" : "s");
		close(d.keeper_fd);
	}

	http_stop();
	bpf_stop();
	push_stop(); /* before the store thread: its last cursors get written */
	close(d.listen_fd);
	if (!d.replaced) { /* else they are the successor's now */
		char path[PATH_MAX];

		unlink(opt.socket_path);
		pid_file_path(path, sizeof(path));
		if (read_pid_file(path) == getpid())
			unlink(path);
	}
	writer_stop(&d.writer);
	while (d.conns)
		conn_close(d.conns);
	for (size_t b = 0; b < BUCKETS; b++)
		while (d.buckets[b]) {
			struct container *c = d.buckets[b];

			d.buckets[b] = c->next;
			container_free(c);
		}
	ocitap_store_close(store);
	ocitap_policy_set_free(d.policies);
	free(d.req);
	free(d.resp);
	close(d.epfd);
	close(d.signal_fd);
	log_msg(LOG_INFO, "stopped (%llu notifications answered, %llu peers dropped)",
		(unsigned long long)d.notifications, (unsigned long long)d.dropped_peers);
	return status;
}
