/*
 * tracking.c: containers as the BPF programs see them (tracer.c does the
 * loading and the maps): a container is registered when its init is known
 * (listener message, prestart/createRuntime hook, or adopted at restart),
 * its BPF events (exec, exit, OOM) become observations with source "bpf",
 * and at its stop the syscall profile its io.containers.trace-syscall
 * annotation asked for goes to the store thread to be written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "container.h"
#include "metrics.h"
#include "ocitap-bpf.h"
#include "tracer.h"
#include "tracking.h"

static const char *annotation(const struct ocitap_state *st, const char *key)
{
	for (size_t i = 0; st->has_annotations && i < st->n_annotations; i++)
		if (strcmp(st->annotations[i].key, key) == 0)
			return st->annotations[i].value;
	return NULL;
}

/* The container's own trees, which no profile path may enter: its rootfs
 * (root.path of the bundle's config.json, against the bundle when
 * relative; "" when it cannot be read) and the bundle. A small bounded
 * read, on the loop, once per annotated container: the rules must hold
 * before it starts, and the bundle may be gone when it stops. */
static void container_trees(const struct ocitap_state *st, char *rootfs, size_t size)
{
	struct ocitap_config cfg = { 0 };
	struct ocitap_limits lim;

	rootfs[0] = '\0';
	if (!st->bundle || st->bundle[0] != '/')
		return;
	ocitap_limits_init(&lim);
	if (ocitap_bundle_load_config(st->bundle, 0, &lim, &cfg, NULL) < 0)
		return;
	if (cfg.root_path && cfg.root_path[0] == '/')
		snprintf(rootfs, size, "%s", cfg.root_path);
	else if (cfg.root_path && (size_t)snprintf(rootfs, size, "%s/%s", st->bundle, cfg.root_path) >= size)
		rootfs[0] = '\0';
	ocitap_config_release(&cfg);
}

/* What becomes of the run's profile, on its record (store.h:
 * ocitap_store_set_profile()): path may be NULL, error is NULL or why. */
static void queue_profile_status(struct ocitapd *d, const struct container *c, const char *status, const char *path,
				 const char *error)
{
	struct wop *op = container_wop(c, WOP_PROFILE_STATUS);

	op->meta_value = ocitapd_xstrdup(status);
	op->path = ocitapd_xstrdup(path);
	op->syscall = ocitapd_xstrdup(error); /* writer.c: the error of a WOP_PROFILE_STATUS */
	writer_push(&d->writer, op);
}

/* A rule of profile.h refused the annotation: said once, counted, kept
 * for the profile endpoint and on the run. The container runs, untraced. */
static void refuse(struct ocitapd *d, struct container *c, const char *which, const char *path,
		   const struct ocitap_error *err)
{
	char line[512];

	ocitap_error_format(err, line, sizeof(line));
	{
		char error[600];

		snprintf(error, sizeof(error), "%s: %s", which, line);
		queue_profile_status(d, c, OCITAP_PROFILE_REFUSED, path, error);
	}
	log_msg(LOG_WARN, "container %s: %s: %s: %s; no profile will be written", c->id, OCITAP_TRACE_ANNOTATION, which,
		line);
	metric_add("ocitap_profiles_total", 1, "result", "refused", NULL);
	free(c->profile_refused);
	c->profile_refused = ocitapd_xstrdup(line);
}

/* The io.containers.trace-syscall annotation: checked when the container is
 * registered, so that a bad value is reported when it starts. A bad one
 * never stops the container: it runs, untraced, and the log says why. Where
 * OUT and IN may be is profile.h's (ocitap_profile_place()); that IN can be
 * opened by those rules is checked now, the rest when it stops. */
static bool want_profile(struct ocitapd *d, struct container *c, const struct ocitap_state *st)
{
	const char *value = annotation(st, OCITAP_TRACE_ANNOTATION);
	struct ocitap_trace_spec spec;
	struct ocitap_error err = { 0 };
	struct profile_request *req;
	char line[512], rootfs[PATH_MAX];
	struct ocitap_profile_rules rules = { .dir = d->opt.profile_dir,
					      .allow = d->opt.profile_allow,
					      .n_allow = d->opt.n_profile_allow };
	int r;

	if (!value || c->trace_checked)
		return c->profile != NULL;
	c->trace_checked = true; /* once: the hooks and the listener bring it again */
	if (d->opt.trace == TRACE_OFF) {
		log_msg(LOG_WARN, "container %s: %s ignored: ocitapd runs with --trace-syscalls=off", c->id,
			OCITAP_TRACE_ANNOTATION);
		queue_profile_status(d, c, OCITAP_PROFILE_REFUSED, NULL, "ocitapd runs with --trace-syscalls=off");
		return false;
	}
	if (ocitap_trace_spec_parse(value, &spec, &err) < 0) {
		log_msg(LOG_WARN, "container %s: %s: %s; no profile will be written", c->id, OCITAP_TRACE_ANNOTATION,
			ocitap_error_format(&err, line, sizeof(line)));
		metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
		queue_profile_status(d, c, OCITAP_PROFILE_FAILED, NULL, line);
		return false;
	}
	container_trees(st, rootfs, sizeof(rootfs));
	rules.forbidden[0] = rootfs[0] ? rootfs : NULL;
	rules.forbidden[1] = st->bundle;
	req = ocitapd_xcalloc(1, sizeof(*req));
	if ((r = ocitap_profile_place(&rules, spec.out, &req->out, &err)) < 0) {
		refuse(d, c, "of", spec.out, &err);
		free(req);
		return false;
	}
	req->has_in = spec.in[0] != '\0';
	if (req->has_in && ((r = ocitap_profile_place(&rules, spec.in, &req->in, &err)) < 0 ||
			    (r = ocitap_profile_read(&req->in, NULL, NULL, NULL, &err)) == -EPERM)) {
		refuse(d, c, "if", req->out.path, &err);
		free(req);
		return false;
	}
	if (req->has_in && r < 0) {
		log_msg(LOG_WARN, "container %s: %s: if: %s; no profile will be written", c->id,
			OCITAP_TRACE_ANNOTATION, ocitap_error_format(&err, line, sizeof(line)));
		metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
		queue_profile_status(d, c, OCITAP_PROFILE_FAILED, req->out.path, line);
		free(req);
		return false;
	}
	c->profile = req;
	queue_profile_status(d, c, OCITAP_PROFILE_PENDING, req->out.path, NULL);
	return true;
}

/* Start tracking the container's init (from the listener message or the
 * prestart/createRuntime hook): done before the hook is acknowledged, so
 * nothing the container does after the hook returns is missed. A hook
 * holds the runtime until it is answered (held_by_hook): the init cannot
 * have run its program yet. The listener holds nothing: the runtime sends
 * the fd and goes on, and `runc run` may have exec'd the program before
 * this runs, so a missing exec proves nothing then. */
void tracking_register(struct ocitapd *d, struct container *c, pid_t pid, const struct ocitap_state *st,
		       bool held_by_hook)
{
	bool profile = want_profile(d, c, st);
	struct ocitap_error err = { 0 };
	char line[512];
	int r;

	if (pid <= 0 || c->lc.phase >= OCITAP_PHASE_STOPPED)
		return;
	if (!tracer_is_on(d->tracer, &err)) {
		if (profile) { /* said once: the request is dropped */
			char why[600];

			log_msg(LOG_WARN, "container %s: no profile can be written: BPF is off (%s)", c->id,
				ocitap_error_format(&err, line, sizeof(line)));
			snprintf(why, sizeof(why), "BPF is off (%s)", line);
			queue_profile_status(d, c, OCITAP_PROFILE_FAILED, NULL, why);
			free(c->profile);
			c->profile = NULL;
		}
		return;
	}
	if (!c->bpf_cookie)
		c->bpf_cookie = d->next_cookie++;
	r = tracer_track(d->tracer, c->id, c->bpf_cookie, pid, profile || d->opt.trace == TRACE_ALL, &err);
	c->bpf_tracked = true; /* tracer_untrack() of an id it does not hold does nothing */
	if (c->profile_refused)
		tracer_note(d->tracer, c->id, c->profile_refused);
	/* watched before its program could have started: if no exec comes
	 * before the stop, it never started (container.c: failed) */
	if (r == 0 && held_by_hook && c->lc.phase <= OCITAP_PHASE_CREATING && !c->lc.reached[OCITAP_PHASE_RUNNING])
		c->bpf_since_create = true;
	if (r == -ESRCH) {
		/* the State's pid has no process to see (gone, or never one
		 * here): every report of the run names it again, said once */
		log_msg(c->bpf_init_unseen_said ? LOG_DEBUG : LOG_WARN, "container %s: bpf: %s", c->id,
			ocitap_error_format(&err, line, sizeof(line)));
		c->bpf_init_unseen_said = true;
	} else if (r < 0)
		log_msg(r == -EXDEV ? LOG_INFO : LOG_WARN, "container %s: bpf: %s", c->id,
			ocitap_error_format(&err, line, sizeof(line)));
	else
		log_msg(LOG_DEBUG, "container %s: bpf: tracking init %d%s", c->id, (int)pid,
			profile || d->opt.trace == TRACE_ALL ? " and its syscalls" : "");
}

/* Stopped: the syscall set is complete (the init's exit_group was its last
 * syscall, and its pid namespace died with it). The profile goes out
 * through the store thread, ahead of whatever this stop acknowledges. */
void tracking_stopped(struct ocitapd *d, struct container *c)
{
	if (!c->bpf_tracked)
		return;
	if (c->profile) {
		struct ocitap_error err = { 0 };
		char **names = NULL, line[512];
		int n = tracer_syscall_names(d->tracer, c->id, &names, &err);

		if (n < 0) {
			log_msg(LOG_ERR, "container %s: no profile written to %s: %s", c->id, c->profile->out.path,
				ocitap_error_format(&err, line, sizeof(line)));
			metric_add("ocitap_profiles_total", 1, "result", "failed", NULL);
			queue_profile_status(d, c, OCITAP_PROFILE_FAILED, NULL, line);
		} else {
			struct wop *op = container_wop(c, WOP_PROFILE);

			op->profile_out = ocitapd_xcalloc(1, sizeof(*op->profile_out));
			*op->profile_out = c->profile->out;
			if (c->profile->has_in) {
				op->profile_in = ocitapd_xcalloc(1, sizeof(*op->profile_in));
				*op->profile_in = c->profile->in;
			}
			op->profile_names = names;
			log_msg(LOG_DEBUG, "container %s: %d syscalls observed", c->id, n);
			writer_push(&d->writer, op);
		}
		free(c->profile);
		c->profile = NULL;
	}
	/* out of the maps; the cookie stays, for the events already in the ring
	 * (the init's exit code, when the hang-up was seen first) */
	tracer_untrack(d->tracer, c->id);
	c->bpf_tracked = false;
}

void tracking_event(const struct ocitap_bpf_event *e, void *userdata)
{
	struct ocitapd *d = userdata;
	static const char *const kinds[] = {
		[OCITAP_BPF_EV_EXEC] = "exec", [OCITAP_BPF_EV_EXIT] = "exit", [OCITAP_BPF_EV_OOM] = "oom"
	};
	struct container *c = container_by_cookie(d, e->cookie);
	int64_t mono = ocitap_mono_ns();
	struct ocitap_observation obs = { .source = OCITAP_SOURCE_BPF,
					  .mono_ns = (int64_t)e->mono_ns,
					  .wall_ns = ocitap_wall_ns() - (mono - (int64_t)e->mono_ns) };
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
	container_observe(d, c, &obs, NULL);
	container_settle(d, c);
}

/* An adopted container (a restart): its exit and OOM kills from now on; a
 * syscall set begun by a previous daemon is not complete, so none is recorded. */
void tracking_adopt(struct ocitapd *d, struct container *c)
{
	struct ocitap_error err = { 0 };
	char line[512];
	int r;

	if (!tracer_is_on(d->tracer, NULL))
		return;
	if (!c->bpf_cookie)
		c->bpf_cookie = d->next_cookie++;
	r = tracer_track(d->tracer, c->id, c->bpf_cookie, c->stored_pid, false, &err);
	c->bpf_tracked = true; /* tracer_untrack() of an id it does not hold does nothing */
	if (r < 0 && r != -EXDEV)
		log_msg(LOG_DEBUG, "container %s: bpf: %s", c->id, ocitap_error_format(&err, line, sizeof(line)));
}
