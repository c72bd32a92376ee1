/*
 * main.c: ocitapd's start and its one way out. main() reads the options,
 * daemon_start() brings the parts up in order (policies, the kernel's
 * notification sizes, the directories' owners and modes, a predecessor's socket, the store, the socket, the
 * signals, the store thread after the spool, BPF, HTTP, push, the fds a
 * previous daemon left), loop_run() serves, and daemon_stop() takes down
 * whatever was brought up, whether the start finished or not.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "handover.h"
#include "http-addr.h"
#include "http.h"
#include "journal.h"
#include "loop.h"
#include "macro.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"
#include "push.h"
#include "replay.h"
#include "tracer.h"
#include "tracking.h"
#include "upgrade.h"

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

/*
 * A directory the daemon keeps its files in (the state directory, the
 * socket's) must be the daemon's alone: it and every directory above it
 * owned by root or the daemon's uid, and none writable by another user,
 * but for a root-owned sticky directory above it (/tmp: no one else can
 * rename or remove what is in it). Otherwise another user could put a
 * link where the database, the socket or the pid file is about to be.
 * 0, or logs what is wrong with which directory and returns -EPERM.
 */
static int check_private_dir(const char *what, const char *dir)
{
	char real[PATH_MAX], *slash;
	uid_t self = geteuid();
	bool first = true;

	if (!realpath(dir, real)) {
		log_msg(LOG_ERR, "%s %s: %s", what, dir, strerror(errno));
		return -errno;
	}
	for (;;) {
		struct stat st;

		if (stat(real, &st) < 0) {
			log_msg(LOG_ERR, "%s %s: %s: %s", what, dir, real, strerror(errno));
			return -errno;
		}
		if (st.st_uid != 0 && st.st_uid != self) {
			log_msg(LOG_ERR, "%s %s: %s is owned by uid %u, not root or the daemon's uid %u: refusing it",
				what, dir, real, (unsigned)st.st_uid, (unsigned)self);
			return -EPERM;
		}
		if ((st.st_mode & 0022) && (first || !(st.st_mode & S_ISVTX) || st.st_uid != 0)) {
			log_msg(LOG_ERR, "%s %s: %s is writable by %s (mode %04o): refusing it", what, dir, real,
				(st.st_mode & 0002) ? "every user" : "its group", (unsigned)(st.st_mode & 07777));
			return -EPERM;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		first = false;
	}
}

static void warn_line(void *userdata, const char *line)
{
	log_msg(LOG_WARN, "%s", line);
}

/*
 * The socket's directory must let the socket's audience through: others
 * (the socket's mode gives them write), or its group. A directory the
 * daemon makes is made so; one that is there keeps its mode, and is said
 * when it keeps them out.
 */
static void check_socket_dir_search(const struct ocitapd_options *o, const char *sockdir)
{
	struct stat st;

	if (stat(sockdir, &st) < 0)
		return;
	if ((o->socket_mode & 0002) && !(st.st_mode & 0001))
		log_msg(LOG_WARN,
			"socket directory %s (mode %04o) keeps other users from the socket its mode %04o opens to "
			"them: chmod o+x it",
			sockdir, (unsigned)(st.st_mode & 07777), (unsigned)o->socket_mode);
	else if ((o->socket_mode & 0020) && o->socket_group && !(st.st_mode & 0001) &&
		 !(st.st_gid == o->socket_gid && (st.st_mode & 0010)))
		log_msg(LOG_WARN,
			"socket directory %s (mode %04o, gid %u) keeps group %s from the socket: give that group "
			"search permission (chgrp and chmod g+x)",
			sockdir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid, o->socket_group);
}

/* The socket's directory (made 0700 if it is not there; 0755 when the
 * socket's mode opens it to others, 0750 and the socket's group with
 * --socket-group), and the state directory: both the daemon's alone,
 * before anything is opened in them or a predecessor is stopped. */
static int start_paths(struct ocitapd *d)
{
	mode_t m = d->opt.socket_mode, dir_mode = (m & 0002) ? 0755 : (m & 0020) && d->opt.socket_group ? 0750 : 0700;
	char sockdir[PATH_MAX];
	struct stat st;
	bool made;
	char *slash;
	int r;

	snprintf(sockdir, sizeof(sockdir), "%s", d->opt.socket_path);
	slash = strrchr(sockdir, '/');
	if (!slash)
		snprintf(sockdir, sizeof(sockdir), ".");
	else if (slash == sockdir)
		slash[1] = '\0';
	else
		*slash = '\0';
	made = stat(sockdir, &st) < 0 && errno == ENOENT;
	if ((r = mkdir_p(sockdir, dir_mode)) < 0) {
		log_msg(LOG_ERR, "socket directory %s: %s", sockdir, strerror(-r));
		return r;
	}
	if (made && dir_mode == 0750 && (chown(sockdir, (uid_t)-1, d->opt.socket_gid) < 0 || chmod(sockdir, 0750) < 0))
		log_msg(LOG_WARN, "socket directory %s: cannot give it to group %s: %m", sockdir, d->opt.socket_group);
	if ((r = mkdir_p(d->opt.state_dir, 0700)) < 0) {
		log_msg(LOG_ERR, "state directory %s: %s", d->opt.state_dir, strerror(-r));
		return r;
	}
	if ((r = check_private_dir("socket directory", sockdir)) < 0 ||
	    (r = check_private_dir("state directory", d->opt.state_dir)) < 0)
		return r;
	check_socket_dir_search(&d->opt, sockdir);
	options_socket_warnings(&d->opt, warn_line, NULL);
	return 0;
}

/*
 * The socket's group and mode, as the options say, whether it was bound
 * now or handed over (by the keeper, a predecessor) with a predecessor's:
 * group first, so that nothing is opened wider than asked for meanwhile.
 */
static int set_socket_access(struct ocitapd *d)
{
	const char *path = d->opt.socket_path;
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0; /* not ours to change (a systemd socket unit's, gone) */
	if (st.st_gid != d->opt.socket_gid && lchown(path, (uid_t)-1, d->opt.socket_gid) < 0) {
		log_msg(LOG_ERR, "socket %s: cannot give it to group %s: %m", path,
			d->opt.socket_group ? d->opt.socket_group : "of the daemon");
		return -errno;
	}
	if ((st.st_mode & 07777) != d->opt.socket_mode && chmod(path, d->opt.socket_mode) < 0) {
		log_msg(LOG_ERR, "socket %s: cannot make it mode %04o: %m", path, (unsigned)d->opt.socket_mode);
		return -errno;
	}
	return 0;
}

/*
 * On the store thread, after each commit: the readers of new events wake.
 * Under readers_lock, which daemon_stop() holds to take them away: an
 * atomic read alone would not keep one from being freed while it is woken.
 */
static void committed(void *userdata)
{
	struct ocitapd *d = userdata;

	pthread_mutex_lock(&d->readers_lock);
	http_events_committed(d->http);
	push_wake(d->push);
	pthread_mutex_unlock(&d->readers_lock);
}

/* SIGHUP reloads the policies, SIGUSR2 starts a successor; SIGTERM from
 * that successor is the hand-over, any other SIGTERM or SIGINT the end. */
static void on_signal(struct ocitapd *d, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	if (read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		notify_reload_policies(d);
	} else if (si.ssi_signo == SIGUSR2) {
		upgrade_start_successor(d);
	} else if (d->successor_pidfd >= 0 && (pid_t)si.ssi_pid == d->successor) {
		log_msg(LOG_INFO, "handing over to pid %d", (int)d->successor);
		d->replaced = true;
		d->stopping = true;
	} else {
		log_msg(LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
		d->stopping = true;
	}
}

static void bpf_ready(struct ocitapd *d, struct watch *w, uint32_t events)
{
	tracer_poll(d->tracer);
}

static struct ocitapd *ocitapd_new(char **argv)
{
	struct ocitapd *d = ocitapd_xcalloc(1, sizeof(*d));
	ssize_t n;

	d->epfd = d->listen_fd = d->report_fd = d->signal_fd = d->keeper_fd = d->successor_pidfd = d->spool_fd = -1;
	d->writer.done_fd = -1;
	d->sync_wakeup = -1;
	d->next_serial = d->next_cookie = 1;
	d->argv = argv;
	pthread_mutex_init(&d->readers_lock, NULL);
	n = readlink("/proc/self/exe", d->self_path, sizeof(d->self_path) - 1);
	d->self_path[n > 0 ? n : 0] = '\0';
	/* replaced on disk since: the path is what SIGUSR2 runs */
	if (n > 10 && strcmp(d->self_path + n - 10, " (deleted)") == 0)
		d->self_path[n - 10] = '\0';
	return d;
}

/* The parts that read no configuration: the kernel's, the process's. */
static int start_process(struct ocitapd *d)
{
	struct rlimit rl;

	signal(SIGPIPE, SIG_IGN);
	/* two fds per live container (notify fd, pidfd): use all the hard limit allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &d->sizes) < 0) {
		log_msg(LOG_ERR, "this kernel has no seccomp user notification: %m");
		return -errno;
	}
	d->req =
		ocitapd_xcalloc(1, d->sizes.seccomp_notif > sizeof(*d->req) ? d->sizes.seccomp_notif : sizeof(*d->req));
	d->resp = ocitapd_xcalloc(1, d->sizes.seccomp_notif_resp > sizeof(*d->resp) ? d->sizes.seccomp_notif_resp
										    : sizeof(*d->resp));
	return 0;
}

/* The store, and every container it retains. */
static int start_store(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char line[512];
	size_t restored = 0;
	int r = mkdir_p(d->opt.state_dir, 0700);

	if (r < 0) {
		log_msg(LOG_ERR, "state directory %s: %s", d->opt.state_dir, strerror(-r));
		return r;
	}
	snprintf(d->db_path, sizeof(d->db_path), "%s/" OCITAP_STATE_DB_NAME, d->opt.state_dir);
	r = ocitap_store_open(d->db_path, d->opt.sync_interval_ms ? OCITAP_STORE_SYNC_LATER : 0, &d->store, &err);
	if (r < 0 || (r = container_restore(d, d->store, &restored, &err)) < 0) {
		log_msg(LOG_ERR, "store: %s", ocitap_error_format(&err, line, sizeof(line)));
		return r;
	}
	if (restored)
		log_msg(LOG_INFO, "store: %zu container%s known from before", restored, restored == 1 ? "" : "s");
	return 0;
}

/*
 * The report-only socket (--container-socket): the one thing meant to be
 * mounted into containers, for the hooks that run inside them. Anyone may
 * connect (its directory holds nothing else); what it may say is checked
 * per report (peers.c).
 */
static int start_report_socket(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char dir[PATH_MAX], line[512];

	if (!d->opt.container_socket)
		return 0;
	snprintf(dir, sizeof(dir), "%s", d->opt.container_socket);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = '\0';
		mkdir_p(dir, 0755);
	}
	d->report_fd = ocitap_unix_listen(d->opt.container_socket, 0666, 128, &err);
	if (d->report_fd < 0) {
		log_msg(LOG_ERR, "container socket: %s", ocitap_error_format(&err, line, sizeof(line)));
		return d->report_fd;
	}
	return 0;
}

/* The socket (unless a predecessor handed it over), the signals, the loop. */
static int start_loop(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char line[512];
	sigset_t mask;
	int r;

	if (d->listen_fd < 0) {
		/* its mode says who may connect (SO_PEERCRED still decides who is served) */
		d->listen_fd = ocitap_unix_listen(d->opt.socket_path, d->opt.socket_mode, 128, &err);
		if (d->listen_fd < 0) {
			log_msg(LOG_ERR, "socket: %s", ocitap_error_format(&err, line, sizeof(line)));
			return d->listen_fd;
		}
	}
	d->serving = true;
	if ((r = set_socket_access(d)) < 0)
		return r;
	if ((r = start_report_socket(d)) < 0)
		return r;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL); /* before the store thread starts: it inherits the mask */
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->signal_fd < 0 || loop_init(d) < 0 ||
	    writer_init(&d->writer, d->store, d->opt.sync_interval_ms, committed, d) < 0) {
		log_msg(LOG_ERR, "setup: %m");
		return -errno;
	}
	/* before the store thread takes the store: the spool in one transaction */
	{
		struct ocitap_error lerr = { 0 };
		char path[PATH_MAX], why[512];

		/* next to the socket, on its tmpfs: it outlives a kill -9 of the daemon */
		options_run_file(&d->opt, "ocitapd.counts", path, sizeof(path));
		/* the benchmark of the ledger's own cost (docs/benchmarks.md), nothing else */
		if (getenv("OCITAP_BENCH_NO_LEDGER") && strcmp(getenv("OCITAP_BENCH_NO_LEDGER"), "1") == 0)
			log_msg(LOG_WARN, "ledger: off (OCITAP_BENCH_NO_LEDGER=1, for benchmarks only): counts of the "
					  "last second are lost to a kill");
		else if (ledger_map(path, &d->ledger, &lerr) < 0)
			log_msg(LOG_WARN, "ledger: %s (notification counts of the last second may be lost to a kill)",
				ocitap_error_format(&lerr, why, sizeof(why)));
		container_recover_counts(d, d->store);
		options_run_file(&d->opt, "ocitapd.journal", path, sizeof(path));
		/* mapped with --sync-interval 0 too, where no report is answered
		 * from it (peers.c), for what a daemon before this one left */
		if (journal_map(path, &d->journal, &lerr) < 0)
			log_msg(LOG_WARN, "journal: %s (hooks are answered once their report is committed)",
				ocitap_error_format(&lerr, why, sizeof(why)));
		else
			replay_journal(d);
	}
	replay_spools(d, d->store);
	if ((r = writer_start(&d->writer)) < 0) {
		log_msg(LOG_ERR, "setup: %s", strerror(-r));
		return r;
	}
	if ((r = loop_add(d, d->listen_fd, &d->listen_w, peers_accept)) < 0 ||
	    (r = loop_add(d, d->signal_fd, &d->signal_w, on_signal)) < 0 ||
	    (r = loop_add(d, d->writer.done_fd, &d->writer_w, peers_writer_done)) < 0 ||
	    (d->report_fd >= 0 && (r = loop_add(d, d->report_fd, &d->report_w, peers_accept)) < 0)) {
		log_msg(LOG_ERR, "epoll: %s", strerror(-r));
		return r;
	}
	replay_watch(d);
	return 0;
}

/* BPF is optional: without it (or not permitted) the rest runs on. */
static void start_bpf(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char line[512];
	int fd;

	metric_set("ocitap_bpf_up", 0, NULL);
	metric_set("ocitap_bpf_lost_events_total", 0, NULL);
	metric_set("ocitap_bpf_traced_containers", 0, NULL);
	d->tracer = tracer_new();
	if (!d->tracer)
		log_oom();
	if (!d->opt.bpf) {
		tracer_stop(d->tracer, "turned off (--bpf off)");
		return;
	}
	fd = tracer_load(d->tracer, tracking_event, d, &err);
	if (fd < 0) {
		log_msg(LOG_WARN,
			"bpf: off: %s; exec, exit codes from BPF, OOM kills and syscall profiles are not recorded",
			ocitap_error_format(&err, line, sizeof(line)));
	} else if (loop_add(d, fd, &d->bpf_w, bpf_ready) < 0) {
		log_msg(LOG_WARN, "bpf: off: epoll: %m");
		tracer_stop(d->tracer, "epoll: cannot wait on the ring buffer");
	} else {
		metric_set("ocitap_bpf_up", 1, NULL);
		log_msg(LOG_INFO, "bpf: programs loaded in %.1f ms (syscall sets: %s)", tracer_load_ms(d->tracer),
			d->opt.trace == TRACE_ALL   ? "every container"
			: d->opt.trace == TRACE_OFF ? "off"
						    : "containers with the " OCITAP_TRACE_ANNOTATION " annotation");
	}
}

/* The webhook push and the HTTP export, each on its own threads; the push
 * first: /healthz shows its receivers. */
static int start_export(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	struct http_server *http = NULL;
	struct pusher *push = NULL;
	char line[512];

	if (d->opt.n_push) {
		d->push_config = (struct push_config){ .urls = d->opt.push,
						       .n_urls = d->opt.n_push,
						       .token_file = d->opt.push_token_file,
						       .ca_file = d->opt.push_ca_file,
						       .db_path = d->db_path,
						       .writer = &d->writer,
						       .max_backlog = d->opt.push_backlog,
						       .format = d->opt.push_format };
		if (push_start(&d->push_config, &push, &err) < 0) {
			log_msg(LOG_ERR, "%s", ocitap_error_format(&err, line, sizeof(line)));
			return -EINVAL;
		}
		pthread_mutex_lock(&d->readers_lock);
		d->push = push;
		pthread_mutex_unlock(&d->readers_lock);
	}
	if (strcmp(d->opt.http, "off") != 0) {
		d->http_config = (struct http_config){ .addr = d->opt.http,
						       .token_file = d->opt.http_token_file,
						       .db_path = d->db_path,
						       .socket_path = d->opt.socket_path,
						       .spool_dir = d->spool_dir,
						       .writer = &d->writer,
						       .tracer = d->tracer,
						       .push = push,
						       .tracked_containers = &d->n_containers,
						       .notify_fds = &d->n_notify_fds };
		if (http_start(&d->http_config, &http, &err) < 0) {
			log_msg(LOG_ERR, "%s (--http off serves nothing)",
				ocitap_error_format(&err, line, sizeof(line)));
			return -EADDRNOTAVAIL;
		}
		pthread_mutex_lock(&d->readers_lock);
		d->http = http;
		pthread_mutex_unlock(&d->readers_lock);
	}
	return 0;
}

/*
 * http.addr beside the socket: the address ocitapd serves its API on, or
 * "off", so that a client told only the socket finds it (http-addr.h).
 * Removed at a clean exit (upgrade_remove_files).
 */
static void write_http_addr(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	char path[PATH_MAX], addr[OCITAP_HTTP_ADDR_MAX + 1], line[512];
	size_t n;
	int r = 0;

	options_run_file(&d->opt, OCITAP_HTTP_ADDR_NAME, path, sizeof(path));
	if (!d->http)
		snprintf(addr, sizeof(addr), "off");
	else if ((r = http_address(d->http, addr, sizeof(addr) - 1)) < 0)
		snprintf(addr, sizeof(addr) - 1, "%s", d->opt.http);
	if (r < 0)
		log_msg(LOG_WARN, "%s: the HTTP socket's address: %s; writing %s as given", path, strerror(-r), addr);
	n = strlen(addr);
	addr[n++] = '\n'; /* room kept for it */
	if (ocitap_write_file_atomic(path, addr, n, 0644, &err) < 0)
		log_msg(LOG_WARN, "%s: %s (clients told only the socket will not find the HTTP API)", path,
			ocitap_error_format(&err, line, sizeof(line)));
}

static int daemon_start(struct ocitapd *d)
{
	struct ocitap_error err = { 0 };
	const char *env;
	char line[512];
	int r;

	if ((r = ocitap_policy_set_load(d->opt.policy_path, &d->policies, &err)) < 0) {
		log_msg(LOG_ERR, "policy %s: %s", d->opt.policy_path, ocitap_error_format(&err, line, sizeof(line)));
		return r;
	}
	if ((r = start_process(d)) < 0 || (r = start_paths(d)) < 0)
		return r;
	snprintf(d->keeper_key, sizeof(d->keeper_key), "%s/keeper.key", d->opt.state_dir);
	snprintf(d->spool_dir, sizeof(d->spool_dir), "%s/" OCITAP_SPOOL_DIR_NAME, d->opt.state_dir);
	/* a peer in these is the host's (a runtime, its hooks); one in others is inside a container */
	if ((r = ocitap_ns_ids_read("/proc", 0, &d->own_ns, &err)) < 0) {
		log_msg(LOG_ERR, "cannot tell the daemon's own namespaces: %s",
			ocitap_error_format(&err, line, sizeof(line)));
		return r;
	}
	/* one daemon per socket: taking over is --replace's (or SIGUSR2's) */
	if (!getenv("OCITAP_LISTEN_FD") && !getenv("OCITAP_REPLACE_PID") && !getenv("LISTEN_FDS")) {
		pid_t other = upgrade_live_daemon(d);

		if (other > 0) {
			log_msg(LOG_ERR,
				"%s is served by ocitapd pid %d: not starting a second daemon on it (stop that one, or "
				"take over with ocitapd --replace)",
				d->opt.socket_path, (int)other);
			return -EADDRINUSE; /* nothing of its (socket, pid file, keeper) was touched */
		}
		if (other < 0) {
			log_msg(LOG_ERR,
				"%s is served by another process (no pid file names it): not starting a second "
				"daemon on it",
				d->opt.socket_path);
			return -EADDRINUSE; /* nothing of its (socket, pid file, keeper) was touched */
		}
	}
	if ((env = getenv("OCITAP_LISTEN_FD"))) {
		d->listen_fd = upgrade_inherited_listen_fd(env);
		unsetenv("OCITAP_LISTEN_FD");
		if (d->listen_fd < 0)
			return d->listen_fd;
	}
	if ((env = getenv("OCITAP_REPLACE_PID"))) {
		r = upgrade_take_over(d, env);
		unsetenv("OCITAP_REPLACE_PID");
		if (r < 0)
			return r;
	}
	handover_take_listener(d); /* before start_loop(): a kept socket is not made again */
	if ((r = start_store(d)) < 0 || (r = start_loop(d)) < 0)
		return r;
	start_bpf(d);
	if ((r = start_export(d)) < 0)
		return r;
	env = getenv("FDSTORE");
	d->fdstore = getenv("NOTIFY_SOCKET") && env && ocitap_parse_int(env, 1, INT32_MAX, &(int){ 0 }) == 0;
	if (d->opt.keeper_path || d->fdstore || getenv("LISTEN_FDS"))
		handover_take_back(d);
	exit_watch_restored(d); /* the runs none of those kept an init of */
	upgrade_write_pid_file(d);
	write_http_addr(d);
	log_msg(LOG_INFO, "listening on %s (mode %04o, gid %u), store %s, %zu policies, peers: root%s",
		d->opt.socket_path, (unsigned)d->opt.socket_mode, (unsigned)d->opt.socket_gid, d->db_path,
		ocitap_policy_set_count(d->policies), d->opt.n_allow ? " and --allow-uid" : " only");
	if (d->takeover_pid)
		log_msg(LOG_INFO, "took over from pid %d in %lld ms (containers' notified syscalls waited that long)",
			(int)d->takeover_pid, (long long)(ocitap_now_ms() - d->takeover_ms));
	return 0;
}

/* Whatever daemon_start() brought up, in reverse; safe after any failure. */
static void daemon_stop(struct ocitapd *d)
{
	struct http_server *http;
	struct pusher *push;

	if (d->keeper_fd >= 0) {
		uint64_t held = __atomic_load_n(&d->n_notify_fds, __ATOMIC_RELAXED);

		if (held)
			log_msg(LOG_INFO,
				"the keeper holds %llu notify fd%s: those containers' notified syscalls wait for the "
				"next ocitapd (stop ocitap-fdkeeper to fail them instead)",
				(unsigned long long)held, held == 1 ? "" : "s");
		if (d->listener_kept && !d->replaced)
			log_msg(LOG_INFO,
				"the keeper holds the listening socket %s: runtimes and hooks that connect "
				"wait for the next ocitapd (stop ocitap-fdkeeper to refuse them instead)",
				d->opt.socket_path);
		close(d->keeper_fd);
	}
	/* from here on the store thread wakes neither (committed()) */
	pthread_mutex_lock(&d->readers_lock);
	http = TAKE_PTR(d->http);
	push = TAKE_PTR(d->push);
	pthread_mutex_unlock(&d->readers_lock);
	http_stop(http); /* before the push: /healthz reads it */
	tracer_free(d->tracer);
	d->tracer = NULL; /* the containers freed below untrack nothing */
	push_stop(push);  /* before the store thread: its last cursors get written */
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->report_fd >= 0)
		close(d->report_fd);
	if (d->spool_fd >= 0)
		close(d->spool_fd);
	if (d->serving)
		upgrade_remove_files(d);
	writer_stop(&d->writer);
	while (d->conns)
		peers_close(d, d->conns);
	for (size_t b = 0; b < OCITAPD_BUCKETS; b++)
		while (d->buckets[b]) {
			struct container *c = d->buckets[b];

			d->buckets[b] = c->next;
			container_free(d, c);
		}
	ocitap_store_close(d->store);
	ocitap_policy_set_free(d->policies);
	free(d->req);
	free(d->resp);
	loop_release(d);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
}

int main(int argc, char **argv)
{
	struct ocitap_error err = { 0 };
	struct ocitapd *d = ocitapd_new(argv);
	char line[512];
	int r, status;

	r = options_parse(&d->opt, argc, argv, stdout, &err);
	if (r != OPTIONS_RUN) {
		if (r < 0)
			fprintf(stderr, "ocitapd: %s\n", ocitap_error_format(&err, line, sizeof(line)));
		free(d);
		return r < 0 ? 2 : 0;
	}
	log_setup(d->opt.level, getenv("JOURNAL_STREAM") != NULL);
	if (d->opt.config_path)
		log_msg(LOG_INFO, "config file %s read", d->opt.config_path);
	if (d->opt.replace) {
		status = upgrade_replace_running(d);
		free(d);
		return status;
	}
	if (daemon_start(d) < 0) {
		status = 1;
	} else {
		d->ran = true;
		status = loop_run(d);
	}
	daemon_stop(d);
	if (d->ran)
		log_msg(LOG_INFO, "stopped (%llu notifications answered, %llu peers dropped)",
			(unsigned long long)d->notifications, (unsigned long long)d->dropped_peers);
	free(d);
	return status;
}
