/*
 * peers.c: the daemon's socket. Every peer is checked (SO_PEERCRED: root,
 * or an --allow-uid), bounded in time and size, and read without blocking;
 * a message with fds is a runtime's seccomp listener message
 * (ContainerProcessState + seccompFd: the fd is watched, the container
 * registered), one without is a hook's stage report, answered "ok" once
 * it is durable (writer.h: struct writer_ack). The reports the hooks
 * spooled meanwhile are replay.c's, applied here as a live one is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "macro.h"
#include "exit.h"
#include "handover.h"
#include "journal.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"
#include "tracking.h"

/*
 * Connections open at once: 256 in all, of which peers other than root
 * (--allow-uid) hold at most 192 together and 16 per uid, so that slow
 * peers of one user never keep a runtime (root) from handing over a
 * container's notify fd, nor another user from reporting.
 */
#define OCITAPD_MAX_CONNS	  256
#define OCITAPD_ROOT_RESERVED	  64
#define OCITAPD_MAX_CONNS_PER_UID 16

void peers_close(struct ocitapd *d, struct conn *cn)
{
	handover_drop_conn(d, cn);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	ocitap_scm_reader_release(&cn->reader);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		d->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	d->n_conns--;
	d->n_conns_unprivileged -= cn->peer_uid != 0 || cn->report_only;
	free(cn);
}

static void drop_peer(struct ocitapd *d, struct conn *cn, const char *why)
{
	d->dropped_peers++;
	metric_add("ocitap_dropped_peers_total", 1, NULL);
	log_msg(LOG_WARN, "dropped peer pid %d uid %u: %s", cn->peer_pid, cn->peer_uid, why);
	peers_close(d, cn);
}

/* A message the peer may not send: answered, logged with why, counted by
 * reason, and nothing changes. */
static void refuse(struct ocitapd *d, struct conn *cn, const char *reason, const char *what)
{
	char reply[600];

	metric_add("ocitap_refused_reports_total", 1, "reason", reason, NULL);
	snprintf(reply, sizeof(reply), "error: refused: %s\n", what);
	(void)send(cn->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
	drop_peer(d, cn, what);
}

/*
 * A peer inside a container (docs/design/trust.md) may report only the
 * stages that run there (createContainer, startContainer), each once, for
 * the live container whose init shares its namespaces. NULL when rep may
 * be applied; else the reason (a metric label) and in why what it was.
 */
static const char *inside_report_refused(struct ocitapd *d, const struct conn *cn, const struct ocitap_hook_report *rep,
					 char *why, size_t size)
{
	struct container *c;
	unsigned bit;

	if (!cn->inside && !cn->report_only)
		return NULL;
	if (rep->stage != OCITAP_STAGE_CREATE_CONTAINER && rep->stage != OCITAP_STAGE_START_CONTAINER) {
		snprintf(why, size, "a %s report %s (only createContainer and startContainer run there)",
			 ocitap_stage_to_string(rep->stage),
			 cn->inside ? "from inside a container" : "on the report-only socket");
		return "stage";
	}
	c = container_get(d, rep->state.id, false);
	if (!c || !c->has_init_ns || c->lc.phase >= OCITAP_PHASE_STOPPED) {
		snprintf(why, size, "a %s report from inside a container for %s, which has no live init",
			 ocitap_stage_to_string(rep->stage), rep->state.id);
		return "unknown";
	}
	if (!ocitap_ns_ids_equal(&cn->peer_ns, &c->init_ns)) {
		snprintf(why, size, "a %s report for %s from a process outside it (its %s namespace differs)",
			 ocitap_stage_to_string(rep->stage), c->id, ocitap_ns_ids_differ(&cn->peer_ns, &c->init_ns));
		return "namespaces";
	}
	bit = 1u << rep->stage;
	if (c->inside_stages & bit) {
		snprintf(why, size, "a second %s report for %s from inside it", ocitap_stage_to_string(rep->stage),
			 c->id);
		return "repeated";
	}
	return NULL;
}

/* c's init is known and has not exited (its pidfd is not readable yet). */
static bool init_alive(const struct container *c)
{
	struct pollfd p = { .fd = c->pidw ? c->pidw->fd : -1, .events = POLLIN };

	return c->pidw && c->lc.phase < OCITAP_PHASE_STOPPED && poll(&p, 1, 0) == 0;
}

/*
 * A creation message (a prestart or createRuntime report, a listener
 * message with status creating) names pid as c's init. It begins the next
 * run when the current one has begun and is over (stopped, or its init is
 * gone) and pid is another process than that run's init: another pid, or
 * the same pid started at another time (reused). A live init with another
 * pid never gets here (the refusal rules); a run that never named its init
 * takes this one.
 */
static void maybe_next_run(struct ocitapd *d, struct container *c, pid_t pid, uid_t uid, int64_t wall_ns)
{
	pid_t known = c->init_pid ? c->init_pid : c->stored_pid;
	uint64_t ticks;

	if (pid <= 0 || c->lc.phase == OCITAP_PHASE_UNKNOWN || init_alive(c))
		return;
	if (pid == known) {
		if (!c->init_start_ticks || ocitap_proc_start_ticks("/proc", pid, &ticks) < 0 ||
		    ticks == c->init_start_ticks)
			return; /* the same process: a report of this run, maybe late */
	} else if (!known && c->lc.phase < OCITAP_PHASE_STOPPED) {
		return;
	}
	container_begin_run(d, c, uid, wall_ns);
}

const char *peers_owner_refused(struct ocitapd *d, uid_t uid, const char *id, char *why, size_t size)
{
	struct container *c;

	if (uid == 0)
		return NULL;
	c = container_get(d, id, false);
	if (!c || c->owner == uid)
		return NULL;
	snprintf(why, size, "uid %u speaks for %s, whose run %lld uid %u began", (unsigned)uid, id, (long long)c->run,
		 (unsigned)c->owner);
	return "owner";
}

/* The owner rule for a host peer (one inside a container, or on the
 * report-only socket, is held to its own rules). */
static const char *owner_refused(struct ocitapd *d, const struct conn *cn, const char *id, char *why, size_t size)
{
	if (cn->inside || cn->report_only)
		return NULL;
	return peers_owner_refused(d, cn->peer_uid, id, why, size);
}

/*
 * A peer in the host's namespaces (a runtime, its hooks) speaks for the
 * container it names only consistently with what is known of its live init:
 * another init pid, or a stop while the init still runs, contradicts it.
 */
static const char *host_report_refused(struct ocitapd *d, const struct conn *cn, const struct ocitap_hook_report *rep,
				       char *why, size_t size)
{
	bool creates = rep->stage == OCITAP_STAGE_CREATE_RUNTIME || rep->stage == OCITAP_STAGE_PRESTART;
	struct container *c = container_get(d, rep->state.id, false);

	if (cn->inside || !c || !init_alive(c))
		return NULL;
	if (creates && rep->state.pid > 0 && rep->state.pid != c->init_pid) {
		snprintf(why, size, "a %s report for %s names pid %d, but its init is pid %d and still runs",
			 ocitap_stage_to_string(rep->stage), c->id, (int)rep->state.pid, (int)c->init_pid);
		return "pid";
	}
	if (rep->stage == OCITAP_STAGE_POSTSTOP) {
		snprintf(why, size, "a poststop report for %s while its init (pid %d) still runs", c->id,
			 (int)c->init_pid);
		return "alive";
	}
	return NULL;
}

/* A listener message: only from the host (the runtime), and for a live
 * container only for a process inside it (an exec). */
static const char *listener_refused(struct ocitapd *d, const struct conn *cn, const struct ocitap_process_state *ps,
				    char *why, size_t size)
{
	struct container *c = container_get(d, ps->state.id, false);
	struct ocitap_ns_ids ns;

	if (cn->report_only) {
		snprintf(why, size, "a seccomp listener message for %s on the report-only socket", ps->state.id);
		return "listener";
	}
	if (cn->inside) {
		snprintf(why, size, "a seccomp listener message for %s from inside a container", ps->state.id);
		return "listener";
	}
	if (!c || !c->has_init_ns || !init_alive(c))
		return NULL;
	if (ps->pid <= 0 || ocitap_ns_ids_read("/proc", ps->pid, &ns, NULL) < 0) {
		snprintf(why, size,
			 "a seccomp listener message for the running %s whose process (pid %d) cannot be seen", c->id,
			 (int)ps->pid);
		return "namespaces";
	}
	if (!ocitap_ns_ids_equal(&ns, &c->init_ns)) {
		snprintf(why, size,
			 "a seccomp listener message for the running %s from pid %d, outside it (%s namespace)", c->id,
			 (int)ps->pid, ocitap_ns_ids_differ(&ns, &c->init_ns));
		return "namespaces";
	}
	return NULL;
}

/*
 * --unknown-policy refuse: the runtime cannot be told (it reads no answer),
 * so the process its message named is killed, which fails its start. Only
 * a process under a seccomp filter, and for a peer other than root only
 * one of the peer's own uid (nothing it could not kill itself).
 */
static void kill_refused_process(const struct conn *cn, pid_t pid)
{
	char path[64], row[128];
	bool filtered = false, own = cn->peer_uid == 0;
	FILE *f;
	int pidfd;

	if (pid <= 1 || (pidfd = ocitap_pidfd_open(pid)) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(row, sizeof(row), f)) {
			unsigned v;

			if (sscanf(row, "Seccomp: %u", &v) == 1)
				filtered = v == 2;
			else if (sscanf(row, "Uid: %u", &v) == 1 && v == cn->peer_uid)
				own = true;
		}
		fclose(f);
	}
	if (filtered && own)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
}

static void handle_listener_message(struct ocitapd *d, struct conn *cn)
{
	struct ocitap_process_state ps;
	struct ocitap_error err = { 0 };
	char name[OCITAP_POLICY_NAME_MAX], line[512];
	const struct ocitap_policy *policy = NULL;
	bool unknown = false;
	const char *reason;
	struct container *c;
	struct notify_fd *n;
	int sfd, r;

	r = ocitap_scm_reader_finish(&cn->reader, 0, NULL, &ps, &sfd, &err);
	if (r < 0) {
		drop_peer(d, cn, ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	/* a pipe, an eventfd, a socket... would be held and polled forever */
	if (notify_check_fd(sfd, &err) < 0) {
		close(sfd);
		ocitap_process_state_release(&ps);
		drop_peer(d, cn, ocitap_error_format(&err, line, sizeof(line)));
		return;
	}
	if ((reason = owner_refused(d, cn, ps.state.id, line, sizeof(line))) ||
	    (reason = listener_refused(d, cn, &ps, line, sizeof(line)))) {
		close(sfd); /* its filter's notifications fail (ENOSYS): it is not ours to answer */
		ocitap_process_state_release(&ps);
		refuse(d, cn, reason, line);
		return;
	}
	r = ocitap_metadata_policy(ps.metadata, name, sizeof(name));
	if (r == 1) {
		unknown = !(policy = notify_find_policy(d, name));
	} else if (r < 0) {
		unknown = true;
		d->unknown_policy++;
		metric_add("ocitap_unknown_policy_total", 1, NULL);
		snprintf(name, sizeof(name), "%s", r == -ENAMETOOLONG ? "(too long)" : "");
	}
	if (unknown && d->opt.unknown_policy == UNKNOWN_POLICY_REFUSE) {
		snprintf(line, sizeof(line),
			 "the listenerMetadata of %s names policy \"%s\", which there is not (--unknown-policy refuse)",
			 ps.state.id, name);
		close(sfd); /* its notified syscalls fail (ENOSYS); the kill fails the runtime's start */
		kill_refused_process(cn, ps.pid);
		ocitap_process_state_release(&ps);
		refuse(d, cn, "policy", line);
		return;
	}
	c = container_get_owned(d, ps.state.id, cn->peer_uid, ocitap_wall_ns());
	if (ps.state.status == OCITAP_STATUS_CREATING)
		maybe_next_run(d, c, ps.pid, cn->peer_uid, ocitap_wall_ns());
	if (unknown) {
		policy = notify_fallback_policy(d, c);
		log_msg(LOG_WARN,
			"container %s: %s policy \"%s\" in listenerMetadata; answered by %s (--unknown-policy)", c->id,
			r < 0 ? "bad" : "unknown", name, ocitap_policy_name(policy));
	}
	/* the init's filter comes with status creating; exec brings later ones */
	n = notify_add_fd(d, c, sfd, ps.state.status == OCITAP_STATUS_CREATING, NULL, policy, unknown ? name : NULL);
	if (n)
		log_msg(LOG_DEBUG, "container %s: seccomp fd from pid %d (%s, policy %s, %d fd%s)", c->id, ps.pid,
			n->init ? "init" : "exec", n->policy_name, c->n_fds, c->n_fds == 1 ? "" : "s");
	container_queue_identity(d, c, &ps.state, n && n->init ? ps.pid : 0);
	container_queue_names(d, c, &ps.state); /* a listener message comes from the runtime */
	if (ps.state.status == OCITAP_STATUS_CREATING) {
		exit_watch_init(d, c, ps.pid);
		tracking_register(d, c, ps.pid, &ps.state, false);
	}
	{
		struct ocitap_observation obs = { .phase = ocitap_phase_from_status(ps.state.status),
						  .source = OCITAP_SOURCE_SECCOMP,
						  .mono_ns = ocitap_mono_ns(),
						  .wall_ns = ocitap_wall_ns() };

		container_observe(d, c, &obs, NULL);
	}
	ocitap_process_state_release(&ps);
	peers_close(d, cn);
}

/* The store, if the loop may read it now: only before the store thread
 * runs (the spool replayed at start); NULL after. */
static struct ocitap_store *loop_store(struct ocitapd *d)
{
	return d->writer.started ? NULL : d->store;
}

/*
 * A hook that sent its report and got no answer in time spools the same
 * report (the same monoNs); the daemon may then read both: the one sent
 * (held for it in the backlog, or by the keeper) and the spooled one, in
 * either order, across a restart too. The second is answered and dropped.
 * Remembered here for the last few reports of c, and asked of the store
 * for a replayed one (the first may have been taken by an earlier daemon).
 */
static bool already_taken(struct ocitapd *d, struct container *c, const struct ocitap_hook_report *rep, bool live)
{
	unsigned n = c->n_recent < 8 ? c->n_recent : 8;

	if (!rep->mono_ns)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (c->recent[i].stage == (int)rep->stage && c->recent[i].mono_ns == rep->mono_ns)
			return true;
	if (!live && loop_store(d) &&
	    ocitap_store_has_hook_report(loop_store(d), c->id, ocitap_stage_to_string(rep->stage), rep->mono_ns) == 1)
		return true;
	c->recent[c->n_recent % 8].stage = (int)rep->stage;
	c->recent[c->n_recent % 8].mono_ns = rep->mono_ns;
	c->n_recent++;
	return false;
}

/*
 * A report replayed from the spool that was sent before the current run of
 * its id began (a hook that gave up on a running daemon spooled it, and the
 * id ran again before this restart) belongs to the run that was current
 * then: it is kept there as the hook event it is, and changes nothing of
 * the current run. True when it was so kept.
 */
static bool spooled_for_earlier_run(struct ocitapd *d, const struct container *c, const struct ocitap_hook_report *rep)
{
	int64_t run;
	struct wop *op;

	if (!rep->wall_ns || c->run <= 1 || !c->run_start_wall_ns || rep->wall_ns >= c->run_start_wall_ns ||
	    !loop_store(d))
		return false;
	run = ocitap_store_run_at(loop_store(d), c->id, rep->wall_ns);
	if (run <= 0 || run >= c->run)
		return false;
	op = container_wop(c, WOP_EVENT);
	op->run = run;
	op->kind_text = ocitapd_xstrdup(OCITAP_EVENT_HOOK);
	op->source = ocitapd_xstrdup(ocitap_stage_to_string(rep->stage));
	op->ev.from = op->ev.to = ocitap_phase_from_stage(rep->stage);
	op->ev.mono_ns = rep->mono_ns;
	op->ev.wall_ns = rep->wall_ns;
	writer_push(&d->writer, op);
	metric_add("ocitap_hook_reports_total", 1, "stage", ocitap_stage_to_string(rep->stage), NULL);
	log_msg(LOG_INFO, "container %s: a spooled %s report sent before run %lld began: kept on run %lld", c->id,
		ocitap_stage_to_string(rep->stage), (long long)c->run, (long long)run);
	return true;
}

void peers_apply_report(struct ocitapd *d, const struct ocitap_hook_report *rep, bool live, uid_t uid,
			struct writer_ack *ack, int pidfd)
{
	bool creates = rep->stage == OCITAP_STAGE_CREATE_RUNTIME || rep->stage == OCITAP_STAGE_PRESTART;
	int64_t sent = rep->wall_ns ? rep->wall_ns : ocitap_wall_ns();
	struct container *c = container_get_owned(d, rep->state.id, uid, sent);
	enum ocitap_stage stage = rep->stage;
	struct ocitap_observation obs;

	if (already_taken(d, c, rep, live)) {
		/* the spooled copy came first; this one brings the init's pidfd */
		if (pidfd >= 0 && creates && (c->lc.phase < OCITAP_PHASE_STOPPED || !c->lc.has_exit))
			exit_watch_init_fd(d, c, rep->state.pid, pidfd);
		else if (pidfd >= 0)
			close(pidfd);
		log_msg(LOG_DEBUG, "container %s: a %s report taken already (sent, and spooled too): once", c->id,
			ocitap_stage_to_string(rep->stage));
		if (ack) { /* answered once durable, as the first was */
			struct wop *op = container_wop(c, WOP_NOP);

			op->ack = ack;
			writer_push(&d->writer, op);
		}
		return;
	}
	if (!live && spooled_for_earlier_run(d, c, rep)) {
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	if (creates)
		maybe_next_run(d, c, rep->state.pid, uid, sent);
	/* a hook that could only tell "prestart or createRuntime": the runtime
	 * runs prestart first, so the second such report is createRuntime */
	if (rep->stage_ambiguous && c->prestart_seen)
		stage = OCITAP_STAGE_CREATE_RUNTIME;
	if (stage == OCITAP_STAGE_PRESTART)
		c->prestart_seen = true;
	metric_add("ocitap_hook_reports_total", 1, "stage", ocitap_stage_to_string(stage), NULL);

	container_queue_identity(d, c, &rep->state, creates ? rep->state.pid : 0);
	/* the stages that run in the runtime's namespaces: the runtime's word,
	 * never a process's inside the container (createContainer, startContainer) */
	if (stage != OCITAP_STAGE_CREATE_CONTAINER && stage != OCITAP_STAGE_START_CONTAINER)
		container_queue_names(d, c, &rep->state);
	if (live && creates && c->lc.phase < OCITAP_PHASE_STOPPED) {
		if (pidfd >= 0)
			exit_watch_init_fd(d, c, rep->state.pid, TAKE_FD(pidfd));
		else
			exit_watch_init(d, c, rep->state.pid);
		tracking_register(d, c, rep->state.pid, &rep->state, true);
	} else if (live && creates && pidfd >= 0 && !c->lc.has_exit) {
		/* read late (the spooled copies of its later stages came first):
		 * its pidfd still says how the init ended */
		exit_watch_init_fd(d, c, rep->state.pid, TAKE_FD(pidfd));
	}
	if (pidfd >= 0)
		close(pidfd); /* not this report's to use */
	obs = (struct ocitap_observation){ .phase = ocitap_phase_from_stage(stage),
					   .source = ocitap_stage_to_string(stage),
					   .mono_ns = rep->mono_ns ? rep->mono_ns : ocitap_mono_ns(),
					   .wall_ns = rep->wall_ns ? rep->wall_ns : ocitap_wall_ns() };
	{
		/* every report is kept, with the stage's own time: the timeline of stages */
		struct wop *op = container_wop(c, WOP_EVENT);

		op->kind_text = ocitapd_xstrdup(OCITAP_EVENT_HOOK);
		op->source = ocitapd_xstrdup(obs.source);
		op->once = !live; /* the store thread asks the store: the loop cannot, while running */
		op->ev.from = c->lc.phase;
		op->ev.to = obs.phase;
		op->ev.mono_ns = obs.mono_ns;
		op->ev.wall_ns = obs.wall_ns;
		writer_push(&d->writer, op);
	}
	container_observe(d, c, &obs, ack);
}

/* The one fd a host peer's report may carry: the pidfd of the init it
 * names (ocitap-hook sends it, so that the init's end is known even when
 * this report is read after it). Anything else is closed. */
static int report_pidfd(const struct conn *cn, struct ocitap_scm_reader *r)
{
	char path[64], target[64];
	int fd = -1;
	ssize_t n;

	if (r->n_fds == 1 && !cn->inside && !cn->report_only) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fds[0]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', strcmp(target, "anon_inode:[pidfd]") == 0)) {
			fd = r->fds[0];
			r->n_fds = 0;
		}
	}
	for (size_t i = 0; i < r->n_fds; i++)
		close(r->fds[i]);
	r->n_fds = 0;
	return fd;
}

/*
 * The report (raw, as read) into the journal, so that it may be answered
 * now rather than once committed; NULL when it must wait for the commit:
 * no journal, --sync-interval 0 (on disk before the answer), no monoNs (a
 * second copy could not be told from it), or no room.
 */
static struct journal_slot *journal_report(struct ocitapd *d, const struct conn *cn,
					   const struct ocitap_hook_report *rep, uid_t uid)
{
	if (!d->journal || d->opt.sync_interval_ms == 0 || !rep->mono_ns || !cn->reader.buf)
		return NULL;
	return journal_take(d->journal, cn->reader.buf, cn->reader.len, uid);
}

static void handle_hook_report(struct ocitapd *d, struct conn *cn)
{
	struct ocitap_hook_report rep;
	struct ocitap_error err = { 0 };
	char line[512], why[512];
	const char *reason;
	struct journal_slot *slot;
	uid_t uid;
	int pidfd;

	if (ocitap_hook_report_parse(cn->reader.buf ? cn->reader.buf : "", cn->reader.len, NULL, &rep, &err) < 0) {
		char reply[600];

		snprintf(reply, sizeof(reply), "error: %s\n", ocitap_error_format(&err, line, sizeof(line)));
		(void)send(cn->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
		drop_peer(d, cn, line);
		return;
	}
	if ((reason = inside_report_refused(d, cn, &rep, why, sizeof(why))) ||
	    (reason = owner_refused(d, cn, rep.state.id, why, sizeof(why))) ||
	    (reason = host_report_refused(d, cn, &rep, why, sizeof(why)))) {
		refuse(d, cn, reason, why);
		ocitap_hook_report_release(&rep);
		return;
	}
	if (cn->inside || cn->report_only)
		container_get(d, rep.state.id, false)->inside_stages |= 1u << rep.stage;
	pidfd = report_pidfd(cn, &cn->reader);
	/* a report from inside a container is the run's, whoever sent it */
	uid = cn->inside || cn->report_only ? 0 : cn->peer_uid;
	if ((slot = journal_report(d, cn, &rep, uid))) {
		/* durable against a kill now: answered before anything else,
		 * counted first, so that a reader the hook asks next waits for it */
		uint64_t seq = writer_note_early(&d->writer);

		(void)send(cn->fd, OCITAP_REPORT_ACK, strlen(OCITAP_REPORT_ACK), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (d->opt.fault == FAULT_AFTER_EARLY_OK && ++d->fault_seen == d->opt.fault_at)
			raise(SIGKILL);
		peers_close(d, cn);
		peers_apply_report(d, &rep, true, uid, NULL, pidfd);
		writer_push_journal_release(&d->writer, rep.state.id, slot, seq);
		ocitap_hook_report_release(&rep);
		return;
	}
	ocitap_scm_reader_release(&cn->reader);
	cn->waiting_ack = true;
	cn->ack = (struct writer_ack){ .fd = cn->fd };
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	peers_apply_report(d, &rep, true, uid, &cn->ack, pidfd);
	ocitap_hook_report_release(&rep);
}

/* Read what cn sent and act on it once whole. true: cn waits for more
 * (still open); false: cn may be gone. */
static bool conn_event(struct ocitapd *d, struct conn *cn)
{
	struct ocitap_error err = { 0 };
	char line[512];
	int r = ocitap_scm_reader_read(&cn->reader, cn->fd, &err);

	if (r == -EAGAIN)
		return true;
	if (r < 0) {
		drop_peer(d, cn, ocitap_error_format(&err, line, sizeof(line)));
		return false;
	}
	/* fds come with a listener message, or (one pidfd) with a hook's report */
	if (cn->reader.n_fds > 0 && !memmem(cn->reader.buf, cn->reader.len, "\"ocitapReport\"", 14)) {
		handle_listener_message(d, cn); /* closes cn, once its notify fd is the keeper's too */
		return false;
	}
	/* a report is here: the keeper's copy goes, so that a hook whose
	 * daemon is killed before the answer sees its connection end (and
	 * spools) rather than wait on a successor that can read nothing; once
	 * the report is with the store thread, so that its commit and the
	 * keeper's answer overlap (cn may be gone by then) */
	{
		struct conn held = { .wait_key = TAKE_PTR(cn->wait_key) };

		handle_hook_report(d, cn);
		if (held.wait_key) /* the store thread commits while the keeper answers */
			writer_kick(&d->writer);
		handover_drop_conn(d, &held);
	}
	return false;
}

static void conn_ready(struct ocitapd *d, struct watch *w, uint32_t events)
{
	(void)conn_event(d, container_of(w, struct conn, watch));
}

/*
 * A peer the socket's group or mode let connect, but not root and not an
 * --allow-uid: told why before it is closed, so that its hook says so
 * (and does not spool what would be refused again).
 */
static void refuse_unallowed(struct ocitapd *d, int fd, pid_t pid, uid_t uid, const char *how)
{
	char reply[160];

	d->dropped_peers++;
	metric_add("ocitap_dropped_peers_total", 1, NULL);
	log_msg(LOG_WARN, "refused peer pid %d uid %u%s: not root and not --allow-uid", (int)pid, (unsigned)uid, how);
	snprintf(reply, sizeof(reply), "error: refused: uid %u is not root and not --allow-uid\n", (unsigned)uid);
	(void)send(fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

bool peers_uid_allowed(struct ocitapd *d, uid_t uid)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < d->opt.n_allow; i++)
		if (d->opt.allow[i] == uid)
			return true;
	return false;
}

/* Why a peer allowed to speak is not served now (in buf), or NULL when it is. */
static const char *peer_refused(struct ocitapd *d, const struct ucred *cred, bool report_only, char *buf, size_t size)
{
	size_t same_uid = 0;

	if (d->n_conns >= OCITAPD_MAX_CONNS) {
		snprintf(buf, size, "%d connections already open", OCITAPD_MAX_CONNS);
		return buf;
	}
	if (cred->uid == 0 && !report_only)
		return NULL;
	if (d->n_conns_unprivileged >= OCITAPD_MAX_CONNS - OCITAPD_ROOT_RESERVED) {
		snprintf(buf, size, "%d connections of --allow-uid peers already open (the rest are kept for root)",
			 OCITAPD_MAX_CONNS - OCITAPD_ROOT_RESERVED);
		return buf;
	}
	for (struct conn *cn = d->conns; cn; cn = cn->next)
		same_uid += cn->peer_uid == cred->uid;
	if (same_uid >= OCITAPD_MAX_CONNS_PER_UID) {
		snprintf(buf, size, "%d connections of uid %u already open", OCITAPD_MAX_CONNS_PER_UID,
			 (unsigned)cred->uid);
		return buf;
	}
	return NULL;
}

/*
 * The first read of a connection accepted now; conn_event()'s result. A
 * hook or a runtime sends its message right after connect, but the wake-up
 * of its connect often hands this CPU to us before it has sent (here: 7
 * reports in 8), and the read gets EAGAIN. Then, once, the CPU goes back to
 * the peer (sched_yield(): it returns at once when nothing else waits for
 * this CPU) and the read is tried again: the message is usually here by
 * then, and is served in this round rather than after another epoll_wait
 * and the keeper's round trips (handover_keep_conn()). Not while a
 * container's notifications are being answered (d->hot): whatever ran
 * instead would delay the next answer. Still nothing: cn stays armed
 * (EPOLLIN) and what comes, whole or in parts, is read as it comes.
 */
static bool first_read(struct ocitapd *d, struct conn *cn)
{
	if (!conn_event(d, cn))
		return false;
	if (cn->reader.len > 0 || d->hot)
		return true;
	sched_yield();
	return conn_event(d, cn);
}

/*
 * A connection to serve: accepted now (ns NULL: the peer's namespaces are
 * read now), or by the keeper while no daemon ran (ns: as it read them
 * then, or a zeroed set when it could not). Inside a container: another pid
 * namespace than the daemon's (a runtime may well have a mount namespace
 * of its own, crun here does); a peer whose namespaces could not be read
 * (gone already) counts as inside. A host peer on the runtime's socket
 * has its pid namespace alone read (an exited one not yet reaped shows
 * that one still, and is taken as the host peer it was).
 */
static void add_conn(struct ocitapd *d, int fd, const struct ucred *cred, bool report_only,
		     const struct ocitap_ns_ids *ns)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *cn = ocitapd_xcalloc(1, sizeof(*cn));
	bool have_ns;

	cn->watch.fn = conn_ready;
	cn->fd = fd;
	cn->peer_pid = cred->pid;
	cn->peer_uid = cred->uid;
	cn->report_only = report_only;
	if (ns) {
		cn->peer_ns = *ns;
		have_ns = ns->ns[OCITAP_NS_PID].ino != 0;
	} else if (cred->pid > 0 && !report_only &&
		   ocitap_ns_id_read("/proc", cred->pid, OCITAP_NS_PID, &cn->peer_ns.ns[OCITAP_NS_PID], NULL) == 0 &&
		   cn->peer_ns.ns[OCITAP_NS_PID].ino == d->own_ns.ns[OCITAP_NS_PID].ino &&
		   cn->peer_ns.ns[OCITAP_NS_PID].dev == d->own_ns.ns[OCITAP_NS_PID].dev) {
		/* a host peer on the runtime's socket: its pid namespace is all
		 * that is asked of it (the rest is compared for a peer inside a
		 * container, or on the report-only socket), three lookups in
		 * /proc saved on every report */
		have_ns = true;
	} else {
		cn->peer_ns = (struct ocitap_ns_ids){ 0 }; /* not half of a set */
		have_ns = cred->pid > 0 && ocitap_ns_ids_read("/proc", cred->pid, &cn->peer_ns, NULL) == 0;
	}
	cn->inside = !have_ns || cn->peer_ns.ns[OCITAP_NS_PID].ino != d->own_ns.ns[OCITAP_NS_PID].ino ||
		     cn->peer_ns.ns[OCITAP_NS_PID].dev != d->own_ns.ns[OCITAP_NS_PID].dev;
	cn->deadline_ms = ocitap_now_ms() + d->opt.timeout_ms;
	ocitap_scm_reader_init(&cn->reader, NULL);
	ev.data.ptr = &cn->watch;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(cn);
		return;
	}
	cn->next = d->conns;
	if (d->conns)
		d->conns->prev = cn;
	d->conns = cn;
	d->n_conns++;
	d->n_conns_unprivileged += cn->peer_uid != 0 || cn->report_only;
	/* Nothing sent yet: the keeper holds it too until it is read, lest a
	 * kill of ocitapd in between lose a listener message's notify fd. */
	if ((ns ? conn_event(d, cn) : first_read(d, cn)) && cn->reader.len == 0)
		handover_keep_conn(d, cn);
}

void peers_adopt_conn(struct ocitapd *d, int fd, const struct ocitap_keeper_peer *peer)
{
	struct ucred cred = { .pid = peer->pid, .uid = peer->uid };
	struct ocitap_ns_ids none = { 0 };

	/* the keeper accepted it for us (bounded by its --max-fds): only who
	 * may speak is checked again, not how many are open */
	if (!peers_uid_allowed(d, peer->uid)) {
		refuse_unallowed(d, fd, peer->pid, peer->uid, " (kept by the keeper)");
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	add_conn(d, fd, &cred, false, peer->has_ns ? &peer->ns : &none);
}

void peers_accept(struct ocitapd *d, struct watch *w, uint32_t events)
{
	bool report_only = w == &d->report_w;
	int listen_fd = report_only ? d->report_fd : d->listen_fd;

	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		const char *why;
		char line[128];
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_msg(LOG_WARN, "accept: %m");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		/* on the report-only socket anyone may ask, within the unprivileged limits */
		if (!report_only && !peers_uid_allowed(d, cred.uid)) {
			refuse_unallowed(d, fd, cred.pid, cred.uid, "");
			continue;
		}
		if ((why = peer_refused(d, &cred, report_only, line, sizeof(line)))) {
			d->dropped_peers++;
			metric_add("ocitap_dropped_peers_total", 1, NULL);
			log_msg(LOG_WARN, "refused peer pid %d uid %u: %s", cred.pid, cred.uid, why);
			close(fd);
			continue;
		}
		add_conn(d, fd, &cred, report_only, NULL);
	}
}

void peers_expire(struct ocitapd *d)
{
	int64_t now = ocitap_now_ms();

	for (struct conn *cn = d->conns, *next; cn; cn = next) {
		next = cn->next;
		if (!cn->waiting_ack && now >= cn->deadline_ms) {
			char why[128];

			snprintf(why, sizeof(why), "no complete message within %d ms (%zu bytes)", d->opt.timeout_ms,
				 cn->reader.len);
			drop_peer(d, cn, why);
		}
	}
}

/* The connections the store thread has answered (or must be answered
 * here, with an error) are closed. */
void peers_collect_acked(struct ocitapd *d)
{
	struct writer_ack *ack = writer_take_acked(&d->writer);

	while (ack) {
		struct writer_ack *next = ack->next;
		struct conn *cn = container_of(ack, struct conn, ack);
		char reply[128];

		if (ack->error)
			snprintf(reply, sizeof(reply), "error: store: %s\n", strerror(-ack->error));
		else
			snprintf(reply, sizeof(reply), "%s", OCITAP_REPORT_ACK);
		if (!ack->sent)
			(void)send(cn->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
		peers_close(d, cn);
		ack = next;
	}
}

/* The store thread's eventfd: acks are back. */
void peers_writer_done(struct ocitapd *d, struct watch *w, uint32_t events)
{
	peers_collect_acked(d);
}
