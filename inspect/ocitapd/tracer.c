/*
 * tracer.c: the BPF side of the daemon (the programs in bpf/, CO-RE, loaded
 * from the skeletons built with the daemon). The lifecycle programs are
 * attached for as long as the daemon runs and cost nothing per syscall; the
 * syscall-set program runs on every syscall of every process while
 * attached, so it is attached only while at least one container is being
 * traced. The ring buffer is read in the daemon's own event loop.
 *
 * Without the privileges or the kernel support (no BTF, no tp_btf), the
 * daemon runs on without BPF: tracer_load() says why, once. The daemon
 * holds one struct tracer (in struct ocitapd); the HTTP threads read it for
 * /healthz and the profile endpoint.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ocitap-bpf.h"
#include "lifecycle.skel.h"
#include "syscalls.skel.h"
#include "log.h"
#include "metrics.h"
#include "ocitap-private.h"
#include "tracer.h"

struct tracked {
	char *id;
	uint32_t mntns; /* 0: the container shares our mount namespace: not traced by it */
	pid_t init;
	bool traced;
	char *note; /* why its annotation's profile was refused; NULL: it was not */
};

struct tracer {
	struct lifecycle_bpf *lc;
	struct syscalls_bpf *sc;
	struct ring_buffer *rb;
	struct bpf_link *sys_enter; /* attached while n_traced > 0 */
	int n_traced;
	uint32_t own_mntns;
	tracer_event_fn on_event;
	void *on_event_userdata;
	bool on;
	char why_off[256];
	double load_ms;
	pthread_mutex_t lock; /* tracked: also read by the HTTP threads */
	struct tracked *tracked;
	size_t n_tracked, cap_tracked;
};

/*
 * libbpf's last warning, for the reason a load failed. libbpf_set_print()
 * takes a function and no user pointer, so the callback cannot reach a
 * struct tracer: the buffer is per thread instead (the thread that runs
 * tracer_load() reads what its own calls into libbpf said).
 */
static __thread char libbpf_last[256];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, copy);
		va_end(copy);
	}
	if (level == LIBBPF_WARN && getenv("OCITAP_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int ring_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size >= sizeof(struct ocitap_bpf_event) && t->on_event)
		t->on_event(data, t->on_event_userdata);
	return 0;
}

static uint32_t mntns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/mnt");
	return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

/* "what: strerror; libbpf: its last warning", on one line. */
static int load_failed(struct ocitap_error *err, const char *what, int r)
{
	char why[512], *nl;
	int code = -(r < 0 ? -r : r);

	snprintf(why, sizeof(why), "%s: %s%s%s", what, strerror(-code), libbpf_last[0] ? "; libbpf: " : "",
		 libbpf_last);
	nl = strchr(why, '\n');
	if (nl)
		*nl = '\0';
	return ocitap_error_set(err, code ? code : -EIO, NULL, "%s", why);
}

struct tracer *tracer_new(void)
{
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	snprintf(t->why_off, sizeof(t->why_off), "not started");
	return t;
}

/* The lifecycle programs; older kernels' oom:mark_victim took a pid, not
 * the task: without it there are no OOM events there. */
static int load_lifecycle(struct tracer *t, struct ocitap_error *err)
{
	int r;

	t->lc = lifecycle_bpf__open();
	if (!t->lc)
		return load_failed(err, "cannot open the lifecycle programs", errno);
	r = lifecycle_bpf__load(t->lc);
	if (r < 0) {
		lifecycle_bpf__destroy(t->lc);
		t->lc = lifecycle_bpf__open();
		if (t->lc) {
			bpf_program__set_autoload(t->lc->progs.mark_victim, false);
			r = lifecycle_bpf__load(t->lc);
			if (r == 0)
				log_msg(LOG_WARN, "bpf: oom:mark_victim does not load here; OOM kills are not seen");
		}
	}
	if (r < 0 || !t->lc)
		return load_failed(err, "cannot load the lifecycle programs (CAP_BPF and CAP_PERFMON needed)", r);
	r = lifecycle_bpf__attach(t->lc);
	if (r < 0)
		return load_failed(err, "cannot attach the lifecycle programs", r);
	return 0;
}

static int load_programs(struct tracer *t, struct ocitap_error *err)
{
	int r;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return ocitap_error_set(err, -ENOTSUP, NULL,
					"the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load");
	if ((r = load_lifecycle(t, err)) < 0)
		return r;
	t->sc = syscalls_bpf__open();
	if (!t->sc)
		return load_failed(err, "cannot open the syscall-set program", errno);
	/* one containers map, shared */
	r = bpf_map__reuse_fd(t->sc->maps.containers, bpf_map__fd(t->lc->maps.containers));
	if (r == 0)
		r = syscalls_bpf__load(t->sc);
	if (r < 0)
		return load_failed(err, "cannot load the syscall-set program", r);
	t->rb = ring_buffer__new(bpf_map__fd(t->lc->maps.events), ring_event, t, NULL);
	if (!t->rb)
		return load_failed(err, "cannot map the ring buffer", errno);
	return 0;
}

int tracer_load(struct tracer *t, tracer_event_fn fn, void *userdata, struct ocitap_error *err)
{
	int64_t t0 = ocitap_mono_ns();
	int r;

	libbpf_set_print(libbpf_log);
	r = load_programs(t, err);
	if (r < 0) {
		char line[512];

		tracer_stop(t, ocitap_error_format(err, line, sizeof(line)));
		return r;
	}
	t->own_mntns = mntns_of(0);
	t->on_event = fn;
	t->on_event_userdata = userdata;
	t->on = true;
	t->why_off[0] = '\0';
	t->load_ms = (double)(ocitap_mono_ns() - t0) / 1e6;
	return ring_buffer__epoll_fd(t->rb);
}

double tracer_load_ms(const struct tracer *t)
{
	return t ? t->load_ms : 0;
}

uint64_t tracer_lost_events(const struct tracer *t)
{
	uint32_t zero = 0;
	uint64_t n = 0;

	if (t && t->on)
		bpf_map__lookup_elem(t->lc->maps.lost, &zero, sizeof(zero), &n, sizeof(n), 0);
	return n;
}

void tracer_poll(struct tracer *t)
{
	if (t && t->rb)
		ring_buffer__consume(t->rb);
}

bool tracer_is_on(const struct tracer *t, struct ocitap_error *why_off)
{
	if (t && t->on)
		return true;
	ocitap_error_set(why_off, -ENOTSUP, NULL, "%s", t ? t->why_off : "not started");
	return false;
}

bool tracer_tracing_syscalls(const struct tracer *t)
{
	return t && t->sys_enter != NULL;
}

static void sys_enter_update(struct tracer *t)
{
	metric_set("ocitap_bpf_traced_containers", t->n_traced, NULL);
	if (t->n_traced > 0 && !t->sys_enter) {
		t->sys_enter = bpf_program__attach(t->sc->progs.sys_enter);
		if (!t->sys_enter)
			log_msg(LOG_ERR, "bpf: cannot attach the syscall-set program: %m; syscalls are not recorded");
	} else if (t->n_traced == 0 && t->sys_enter) {
		bpf_link__destroy(t->sys_enter);
		t->sys_enter = NULL;
	}
}

/* Under t->lock. */
static struct tracked *tracked_find(struct tracer *t, const char *id)
{
	for (size_t i = 0; i < t->n_tracked; i++)
		if (strcmp(t->tracked[i].id, id) == 0)
			return &t->tracked[i];
	return NULL;
}

static bool tracked_same_init(struct tracer *t, const char *id, pid_t init)
{
	struct tracked *k;
	bool same;

	pthread_mutex_lock(&t->lock);
	k = tracked_find(t, id);
	same = k && k->init == init;
	pthread_mutex_unlock(&t->lock);
	return same;
}

/* The container's entry in the maps, by its init's mount namespace;
 * *mntns becomes 0 when it cannot have one. */
static int map_container(struct tracer *t, uint32_t *mntns, uint64_t cookie, bool trace, struct ocitap_error *err)
{
	struct ocitap_bpf_container *val = calloc(1, sizeof(*val));
	int r = 0;

	if (!val)
		abort();
	val->cookie = cookie;
	val->flags = trace ? OCITAP_BPF_TRACE_SYSCALLS : 0;
	if (bpf_map__update_elem(t->lc->maps.containers, mntns, sizeof(*mntns), val, sizeof(*val), BPF_NOEXIST) < 0 &&
	    errno != EEXIST) {
		r = ocitap_error_set(err, -errno, NULL, "cannot track mount namespace %u: %m", *mntns);
		*mntns = 0;
	}
	free(val);
	return r;
}

static void tracked_set(struct tracer *t, const char *id, pid_t init, uint32_t mntns, bool trace)
{
	struct tracked *k;

	pthread_mutex_lock(&t->lock);
	k = tracked_find(t, id);
	if (!k) {
		if (t->n_tracked == t->cap_tracked) {
			size_t cap = t->cap_tracked ? t->cap_tracked * 2 : 64;
			struct tracked *v = realloc(t->tracked, cap * sizeof(*v));

			if (!v)
				abort();
			t->tracked = v;
			t->cap_tracked = cap;
		}
		k = &t->tracked[t->n_tracked++];
		*k = (struct tracked){ .id = strdup(id) };
		if (!k->id)
			abort();
	}
	if (k->traced)
		t->n_traced--;
	k->init = init;
	k->mntns = mntns;
	k->traced = trace && mntns;
	if (k->traced)
		t->n_traced++;
	pthread_mutex_unlock(&t->lock);
}

int tracer_track(struct tracer *t, const char *id, uint64_t cookie, pid_t init, bool trace, struct ocitap_error *err)
{
	struct ocitap_bpf_init in = { .cookie = cookie };
	uint32_t mntns, tgid = (uint32_t)init;
	int r = 0;

	if (!t || !t->on)
		return ocitap_error_set(err, -ENOTSUP, NULL, "BPF is off: %s", t ? t->why_off : "not started");
	if (tracked_same_init(t, id, init))
		return 0; /* the same registration again (prestart, then createRuntime) */
	mntns = mntns_of(init);
	if (!mntns)
		return ocitap_error_set(err, -ESRCH, NULL, "pid %d: no mount namespace (gone?)", (int)init);
	if (mntns == t->own_mntns) {
		/* a container without its own mount namespace: the exec and
		 * exit of its init are still seen, its syscalls are not */
		r = ocitap_error_set(err, -EXDEV, NULL,
				     "pid %d shares the host's mount namespace: its syscalls cannot be told apart",
				     (int)init);
		mntns = 0;
	}
	if (bpf_map__update_elem(t->lc->maps.inits, &tgid, sizeof(tgid), &in, sizeof(in), BPF_ANY) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot track pid %d: %m", (int)init);
	if (mntns) {
		int mr = map_container(t, &mntns, cookie, trace, err);

		if (mr < 0)
			r = mr;
	}
	tracked_set(t, id, init, mntns, trace);
	sys_enter_update(t);
	return r;
}

void tracer_untrack(struct tracer *t, const char *id)
{
	struct tracked *k;

	if (!t || !t->on)
		return;
	pthread_mutex_lock(&t->lock);
	k = tracked_find(t, id);
	if (k) {
		uint32_t tgid = (uint32_t)k->init;

		bpf_map__delete_elem(t->lc->maps.inits, &tgid, sizeof(tgid), 0);
		if (k->mntns)
			bpf_map__delete_elem(t->lc->maps.containers, &k->mntns, sizeof(k->mntns), 0);
		if (k->traced)
			t->n_traced--;
		free(k->id);
		free(k->note);
		*k = t->tracked[--t->n_tracked];
	}
	pthread_mutex_unlock(&t->lock);
	sys_enter_update(t);
}

void tracer_note(struct tracer *t, const char *id, const char *note)
{
	struct tracked *k;

	if (!t || !t->on)
		return;
	pthread_mutex_lock(&t->lock);
	k = tracked_find(t, id);
	if (k) {
		free(k->note);
		k->note = note ? strdup(note) : NULL;
	}
	pthread_mutex_unlock(&t->lock);
}

int tracer_syscall_names(struct tracer *t, const char *id, char ***ret_names, struct ocitap_error *err)
{
	struct ocitap_bpf_container val;
	struct tracked *k;
	uint32_t mntns = 0;
	bool found, traced = false;
	char note[512] = "";
	int r;

	if (!t || !t->on)
		return ocitap_error_set(err, -ENOTSUP, NULL, "BPF is off: %s", t ? t->why_off : "not started");
	pthread_mutex_lock(&t->lock);
	k = tracked_find(t, id);
	found = k != NULL;
	if (k) {
		mntns = k->mntns;
		traced = k->traced;
		if (k->note)
			snprintf(note, sizeof(note), "%s", k->note);
	}
	pthread_mutex_unlock(&t->lock);
	if (!found)
		return ocitap_error_set(err, -ENOENT, NULL,
					"container %s is not tracked (stopped, or registered before ocitapd started)",
					id);
	if (!traced && note[0])
		return ocitap_error_set(err, -ENODATA, NULL,
					"container %s is not traced: its %s annotation was refused: %s", id,
					OCITAP_TRACE_ANNOTATION, note);
	if (!traced)
		return ocitap_error_set(err, -ENODATA, NULL,
					"container %s was not started with the %s annotation (or ocitapd "
					"--trace-syscalls=all)",
					id, OCITAP_TRACE_ANNOTATION);
	if (bpf_map__lookup_elem(t->lc->maps.containers, &mntns, sizeof(mntns), &val, sizeof(val), 0) < 0)
		return ocitap_error_set(err, -errno, NULL, "container %s: its syscall set is gone: %m", id);
	r = ocitap_profile_names((const uint64_t *)val.syscalls[OCITAP_BPF_ABI_NATIVE],
				 (const uint64_t *)val.syscalls[OCITAP_BPF_ABI_COMPAT], OCITAP_BPF_WORDS, ret_names,
				 NULL);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "%s", strerror(-r));
	return r;
}

int tracer_profile(struct tracer *t, const char *id, const char *in_json, size_t in_len, char **ret_json,
		   size_t *ret_count, struct ocitap_error *err)
{
	char **names = NULL;
	int r = tracer_syscall_names(t, id, &names, err);

	if (r < 0)
		return r;
	if (ret_count)
		*ret_count = (size_t)r;
	r = ocitap_profile_build(names, in_json, in_len, ret_json, err);
	ocitap_profile_names_free(names);
	return r;
}

void tracer_stop(struct tracer *t, const char *reason)
{
	if (!t)
		return;
	t->on = false;
	snprintf(t->why_off, sizeof(t->why_off), "%s", reason ? reason : "");
	bpf_link__destroy(t->sys_enter);
	t->sys_enter = NULL;
	ring_buffer__free(t->rb);
	t->rb = NULL;
	syscalls_bpf__destroy(t->sc);
	t->sc = NULL;
	lifecycle_bpf__destroy(t->lc);
	t->lc = NULL;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n_tracked; i++) {
		free(t->tracked[i].id);
		free(t->tracked[i].note);
	}
	free(t->tracked);
	t->tracked = NULL;
	t->n_tracked = t->cap_tracked = 0;
	t->n_traced = 0;
	pthread_mutex_unlock(&t->lock);
}

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	tracer_stop(t, "stopped");
	pthread_mutex_destroy(&t->lock);
	free(t);
}
