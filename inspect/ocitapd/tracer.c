/*
 * tracer.c: the BPF side of the daemon (the programs in bpf/, CO-RE, loaded
 * from the skeletons built with the daemon). The lifecycle programs are
 * attached for as long as the daemon runs and cost nothing per syscall; the
 * syscall-set program runs on every syscall of every process while
 * attached, so it is attached only while at least one container is being
 * traced. The ring buffer is read in the daemon's own event loop.
 *
 * Without the privileges or the kernel support (no BTF, no tp_btf), the
 * daemon runs on without BPF: bpf_start() says why, once.
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
#include "ocitap.h"
#include "tracer.h"

struct tracked {
	char *id;
	uint32_t mntns; /* 0: the container shares our mount namespace: not traced by it */
	pid_t init;
	bool traced;
};

static struct {
	struct lifecycle_bpf *lc;
	struct syscalls_bpf *sc;
	struct ring_buffer *rb;
	struct bpf_link *sys_enter; /* attached while n_traced > 0 */
	int n_traced;
	uint32_t own_mntns;
	bpf_event_fn on_event;
	void *on_event_userdata;
	bool on;
	char why_off[256];
	double load_ms;
	pthread_mutex_t lock; /* tracked: also read by the HTTP threads */
	struct tracked *v;
	size_t n, cap;
} b = { .lock = PTHREAD_MUTEX_INITIALIZER, .why_off = "not started" };

static char libbpf_last[256]; /* libbpf's last warning, for why */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
	if (level == LIBBPF_WARN && getenv("OCITAP_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(struct ocitap_bpf_event) && b.on_event)
		b.on_event(data, b.on_event_userdata);
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

static void set_why(char *why, size_t why_size, const char *what, int r)
{
	char *nl;

	snprintf(why, why_size, "%s: %s%s%s", what, strerror(r < 0 ? -r : r), libbpf_last[0] ? "; libbpf: " : "",
		 libbpf_last);
	nl = strchr(why, '\n');
	if (nl)
		*nl = '\0';
}

int bpf_start(bpf_event_fn fn, void *userdata, char *why, size_t why_size)
{
	struct timespec t0, t1;
	int r;

	if (!fn) {
		snprintf(b.why_off, sizeof(b.why_off), "turned off (--bpf off)");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	libbpf_set_print(libbpf_log);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(why, why_size, "the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load");
		goto fail;
	}
	b.lc = lifecycle_bpf__open();
	if (!b.lc) {
		set_why(why, why_size, "cannot open the lifecycle programs", errno);
		goto fail;
	}
	r = lifecycle_bpf__load(b.lc);
	if (r < 0) {
		/* older kernels' oom:mark_victim took a pid, not the task: no OOM events there */
		lifecycle_bpf__destroy(b.lc);
		b.lc = lifecycle_bpf__open();
		if (b.lc) {
			bpf_program__set_autoload(b.lc->progs.mark_victim, false);
			r = lifecycle_bpf__load(b.lc);
			if (r == 0)
				log_msg(LOG_WARN, "bpf: oom:mark_victim does not load here; OOM kills are not seen");
		}
	}
	if (r < 0 || !b.lc) {
		set_why(why, why_size, "cannot load the lifecycle programs (CAP_BPF and CAP_PERFMON needed)", r);
		goto fail;
	}
	r = lifecycle_bpf__attach(b.lc);
	if (r < 0) {
		set_why(why, why_size, "cannot attach the lifecycle programs", r);
		goto fail;
	}
	b.sc = syscalls_bpf__open();
	if (!b.sc) {
		set_why(why, why_size, "cannot open the syscall-set program", errno);
		goto fail;
	}
	/* one containers map, shared */
	r = bpf_map__reuse_fd(b.sc->maps.containers, bpf_map__fd(b.lc->maps.containers));
	if (r == 0)
		r = syscalls_bpf__load(b.sc);
	if (r < 0) {
		set_why(why, why_size, "cannot load the syscall-set program", r);
		goto fail;
	}
	b.rb = ring_buffer__new(bpf_map__fd(b.lc->maps.events), handle_event, NULL, NULL);
	if (!b.rb) {
		set_why(why, why_size, "cannot map the ring buffer", errno);
		goto fail;
	}
	b.own_mntns = mntns_of(0);
	b.on_event = fn;
	b.on_event_userdata = userdata;
	b.on = true;
	b.why_off[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t1);
	b.load_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return ring_buffer__epoll_fd(b.rb);
fail:
	snprintf(b.why_off, sizeof(b.why_off), "%s", why);
	bpf_stop();
	return -1;
}

double bpf_load_ms(void)
{
	return b.load_ms;
}

uint64_t bpf_lost_events(void)
{
	uint32_t zero = 0;
	uint64_t n = 0;

	if (b.on)
		bpf_map__lookup_elem(b.lc->maps.lost, &zero, sizeof(zero), &n, sizeof(n), 0);
	return n;
}

void bpf_poll(void)
{
	if (b.rb)
		ring_buffer__consume(b.rb);
}

bool bpf_enabled(char *why, size_t why_size)
{
	if (!b.on && why)
		snprintf(why, why_size, "%s", b.why_off);
	return b.on;
}

bool bpf_tracing_syscalls(void)
{
	return b.sys_enter != NULL;
}

static void sys_enter_update(void)
{
	metric_set("ocitap_bpf_traced_containers", b.n_traced, NULL);
	if (b.n_traced > 0 && !b.sys_enter) {
		b.sys_enter = bpf_program__attach(b.sc->progs.sys_enter);
		if (!b.sys_enter)
			log_msg(LOG_ERR, "bpf: cannot attach the syscall-set program: %m; syscalls are not recorded");
	} else if (b.n_traced == 0 && b.sys_enter) {
		bpf_link__destroy(b.sys_enter);
		b.sys_enter = NULL;
	}
}

static struct tracked *find(const char *id)
{
	for (size_t i = 0; i < b.n; i++)
		if (strcmp(b.v[i].id, id) == 0)
			return &b.v[i];
	return NULL;
}

int bpf_track(const char *id, uint64_t cookie, pid_t init, bool trace, char *why, size_t why_size)
{
	struct ocitap_bpf_init in = { .cookie = cookie };
	struct ocitap_bpf_container *val;
	struct tracked *t;
	uint32_t mntns, tgid = (uint32_t)init;
	int r = 0;

	if (!b.on)
		return snprintf(why, why_size, "BPF is off: %s", b.why_off), -ENOTSUP;
	pthread_mutex_lock(&b.lock);
	t = find(id);
	if (t && t->init == init) {
		pthread_mutex_unlock(&b.lock);
		return 0; /* the same registration again (prestart, then createRuntime) */
	}
	pthread_mutex_unlock(&b.lock);

	mntns = mntns_of(init);
	if (!mntns) {
		snprintf(why, why_size, "pid %d: no mount namespace (gone?)", (int)init);
		return -ESRCH;
	}
	if (mntns == b.own_mntns) {
		/* a container without its own mount namespace: the exec and
		 * exit of its init are still seen, its syscalls are not */
		snprintf(why, why_size, "pid %d shares the host's mount namespace: its syscalls cannot be told apart",
			 (int)init);
		mntns = 0;
		r = -EXDEV;
	}
	if (bpf_map__update_elem(b.lc->maps.inits, &tgid, sizeof(tgid), &in, sizeof(in), BPF_ANY) < 0) {
		snprintf(why, why_size, "cannot track pid %d: %m", (int)init);
		return -errno;
	}
	if (mntns) {
		val = calloc(1, sizeof(*val));
		if (!val)
			abort();
		val->cookie = cookie;
		val->flags = trace ? OCITAP_BPF_TRACE_SYSCALLS : 0;
		if (bpf_map__update_elem(b.lc->maps.containers, &mntns, sizeof(mntns), val, sizeof(*val), BPF_NOEXIST) <
			    0 &&
		    errno != EEXIST) {
			snprintf(why, why_size, "cannot track mount namespace %u: %m", mntns);
			r = -errno;
			mntns = 0;
		}
		free(val);
	}
	pthread_mutex_lock(&b.lock);
	t = find(id);
	if (!t) {
		if (b.n == b.cap) {
			size_t cap = b.cap ? b.cap * 2 : 64;
			struct tracked *p = realloc(b.v, cap * sizeof(*p));

			if (!p)
				abort();
			b.v = p;
			b.cap = cap;
		}
		t = &b.v[b.n++];
		*t = (struct tracked){ .id = strdup(id) };
		if (!t->id)
			abort();
	}
	if (t->traced)
		b.n_traced--;
	t->init = init;
	t->mntns = mntns;
	t->traced = trace && mntns;
	if (t->traced)
		b.n_traced++;
	pthread_mutex_unlock(&b.lock);
	sys_enter_update();
	return r;
}

void bpf_untrack(const char *id)
{
	struct tracked *t;

	if (!b.on)
		return;
	pthread_mutex_lock(&b.lock);
	t = find(id);
	if (t) {
		uint32_t tgid = (uint32_t)t->init;

		bpf_map__delete_elem(b.lc->maps.inits, &tgid, sizeof(tgid), 0);
		if (t->mntns)
			bpf_map__delete_elem(b.lc->maps.containers, &t->mntns, sizeof(t->mntns), 0);
		if (t->traced)
			b.n_traced--;
		free(t->id);
		*t = b.v[--b.n];
	}
	pthread_mutex_unlock(&b.lock);
	sys_enter_update();
}

int bpf_syscall_names(const char *id, char ***ret_names, char *why, size_t why_size)
{
	struct ocitap_bpf_container val;
	struct tracked *t;
	uint32_t mntns = 0;
	bool traced = false;
	int r;

	if (!b.on)
		return snprintf(why, why_size, "BPF is off: %s", b.why_off), -ENOTSUP;
	pthread_mutex_lock(&b.lock);
	t = find(id);
	if (t) {
		mntns = t->mntns;
		traced = t->traced;
	}
	pthread_mutex_unlock(&b.lock);
	if (!t)
		return snprintf(why, why_size,
				"container %s is not tracked (stopped, or registered before ocitapd "
				"started)",
				id),
		       -ENOENT;
	if (!traced)
		return snprintf(why, why_size,
				"container %s was not started with the %s annotation (or ocitapd "
				"--trace-syscalls=all)",
				id, OCITAP_TRACE_ANNOTATION),
		       -ENODATA;
	if (bpf_map__lookup_elem(b.lc->maps.containers, &mntns, sizeof(mntns), &val, sizeof(val), 0) < 0)
		return snprintf(why, why_size, "container %s: its syscall set is gone: %m", id), -errno;
	r = ocitap_profile_names((const uint64_t *)val.syscalls[OCITAP_BPF_ABI_NATIVE],
				 (const uint64_t *)val.syscalls[OCITAP_BPF_ABI_COMPAT], OCITAP_BPF_WORDS, ret_names,
				 NULL);
	if (r < 0)
		snprintf(why, why_size, "%s", strerror(-r));
	return r;
}

int bpf_profile(const char *id, const char *in_json, size_t in_len, char **ret_json, size_t *ret_count, char *why,
		size_t why_size)
{
	struct ocitap_error err = { 0 };
	char **names = NULL, line[512];
	int r = bpf_syscall_names(id, &names, why, why_size);

	if (r < 0)
		return r;
	if (ret_count)
		*ret_count = (size_t)r;
	r = ocitap_profile_build(names, in_json, in_len, ret_json, &err);
	ocitap_profile_names_free(names);
	if (r < 0)
		snprintf(why, why_size, "%s", ocitap_error_format(&err, line, sizeof(line)));
	return r;
}

void bpf_stop(void)
{
	b.on = false;
	bpf_link__destroy(b.sys_enter);
	b.sys_enter = NULL;
	ring_buffer__free(b.rb);
	b.rb = NULL;
	syscalls_bpf__destroy(b.sc);
	b.sc = NULL;
	lifecycle_bpf__destroy(b.lc);
	b.lc = NULL;
	pthread_mutex_lock(&b.lock);
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i].id);
	free(b.v);
	b.v = NULL;
	b.n = b.cap = 0;
	b.n_traced = 0;
	pthread_mutex_unlock(&b.lock);
}
