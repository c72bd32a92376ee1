/*
 * ocitapd.h: the daemon's state, in one struct ocitapd that every module of
 * the event loop takes as its first parameter, and the objects it owns
 * (containers, their notify fds and init pidfds, peer connections). Nothing
 * in the daemon is reached through a global: the HTTP server, the pusher
 * and the tracer are objects it holds, and the HTTP, push and store
 * threads get what they read through their own configuration structs. The
 * one exception is the metrics registry (metrics.c), process-wide by
 * design, like a Prometheus client's default registry.
 *
 * docs/design/daemon.md maps which file holds what; in short:
 *   main.c       setup, the one cleanup path        options.c  flags, environment, usage
 *   loop.c       epoll with callback watches        log.c      the log
 *   container.c  the container table, lifecycle     notify.c   seccomp notifications by policy
 *   peers.c      the socket: listener messages, hook reports
 *   replay.c     the hooks' spools, replayed at start and while running
 *   exit.c       the init's pidfd                   tracking.c containers as BPF sees them
 *   handover.c   the keeper, systemd's fd store, the in-flight record, taking back
 *   upgrade.c    --replace, SIGUSR2, the pid file
 *   writer.c     the store thread                   push.c     webhooks (struct pusher)
 *   http.c       the HTTP server (struct http_server): listening, the token, dispatch
 *   http-routes.c  the route table (pure)           http-api.c  the JSON API, /metrics, /healthz
 *   http-stream.c  /v1/events/stream (SSE)          http-internal.h  what the three http files share
 *   metrics.c    the process-wide metrics registry  tracer.c   the BPF programs (struct tracer)
 *   keeper-client.c  ocitap-fdkeeper
 */
#ifndef OCITAPD_H
#define OCITAPD_H

#include <limits.h>
#include <pthread.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocitap-private.h"
#include "log.h"
#include "options.h"
#include "http.h"
#include "push.h"
#include "ledger.h"
#include "writer.h"

#define OCITAPD_BUCKETS 1024 /* container table: hash chains */

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

struct ocitapd;
struct container;
struct tracer;

/*
 * Something the loop waits on: fn runs with the epoll events when its fd is
 * ready. Embedded in the object that owns the fd (container_of gets it).
 */
struct watch {
	void (*fn)(struct ocitapd *d, struct watch *w, uint32_t events);
};

/* A seccomp notify fd of a container (the init's, or one per exec). */
struct notify_fd {
	struct watch watch;
	int fd;
	bool init; /* the filter of the container's init (its hang-up means stopped) */
	struct container *c;
	struct notify_fd *next; /* c->fds */
	char *key;		/* its name at the keeper (ocitap_keeper_key_format()) */
	uint64_t last_id;	/* the last notification answered; 0 none yet */
	/* the policy this fd was registered with: no later message changes it */
	const struct ocitap_policy *policy;
	char policy_name[OCITAP_POLICY_NAME_MAX];
	/* its message named a policy there is not (policy_requested, "" when
	 * malformed): policy is the --unknown-policy answer */
	bool policy_fallback;
	char policy_requested[OCITAP_POLICY_NAME_MAX];
};

/* The init's pidfd: its exit status. */
struct pid_watch {
	struct watch watch;
	int fd;
	struct container *c;
	int64_t give_up_ms; /* waiting for the reap, see exit.c */
	struct pid_watch *next_reaping;
	char *key; /* its name at the keeper ("pid.<serial>.<run>"), once handed there */
	bool kept; /* the keeper holds a copy */
};

/* Notifications answered, per syscall and answer, not yet all in the store. */
struct counter {
	uint32_t arch;
	int nr;
	struct ocitap_action action;
	uint64_t count, flushed;
	struct ledger_slot *slot; /* its durable twin (ledger.h); NULL: memory only */
};

/* The profile a container's io.containers.trace-syscall annotation asked
 * for, placed by the rules (tracking.c, profile.h). */
struct profile_request {
	struct ocitap_profile_place out, in;
	bool has_in;
};

/*
 * A container id and its current run: a record is one run (store.h), and
 * everything below but id, the hash chain and the fds still open describes
 * the current one; container_begin_run() starts the next.
 */
struct container {
	struct container *next; /* hash chain */
	char *id;
	int64_t run;		   /* the current run's number (from 1) */
	uid_t owner;		   /* the uid of the peer that began it (root: 0; with --allow-uid, a user) */
	int64_t run_start_wall_ns; /* when the message that began it was sent (a spooled one's own time) */
	pid_t init_pid;
	uint64_t init_start_ticks; /* the init's start time (/proc/PID/stat), read with its pidfd; 0: unknown */
	struct ocitap_lifecycle lc;
	/* the policy of its first notify fd (the init's): what a later fd that
	 * names none gets, and what the container is shown with */
	char policy_name[OCITAP_POLICY_NAME_MAX];
	const struct ocitap_policy *policy;
	bool policy_fallback; /* as its first fd's */
	char policy_requested[OCITAP_POLICY_NAME_MAX];
	struct notify_fd *fds;
	int n_fds;
	struct pid_watch *pidw;
	struct counter *counts;
	size_t n_counts, cap_counts;
	uint64_t notifications;
	bool prestart_seen; /* tells an ambiguous report's stage (stage.h) */
	uint64_t identity;  /* hash of the bundle, pid and annotations last queued */
	bool names_queued;  /* the run's names were asked of the store thread (container_queue_names) */
	pid_t stored_pid;   /* restored from the store: the init, if it is still that process */
	int64_t stored_created_wall_ns;
	struct ocitap_ns_ids init_ns; /* the init's namespaces, read when its pid was first watched */
	bool has_init_ns;
	unsigned inside_stages; /* bits: the in-container stages a container peer reported (once each) */
	/* the last hook reports taken (stage, the hook's monoNs): one sent, not
	 * answered in time and spooled too is taken once */
	struct {
		int stage;
		int64_t mono_ns;
	} recent[8];
	unsigned n_recent;
	uint64_t bpf_cookie;		 /* the BPF programs' name for it; 0: never tracked */
	bool bpf_tracked;		 /* in the BPF maps now */
	bool trace_checked;		 /* its io.containers.trace-syscall annotation was looked at */
	bool bpf_init_unseen_said;	 /* told once per run that BPF could not see the init it was named */
	bool bpf_since_create;		 /* BPF watched its init from before the exec: a missing exec means something */
	bool failed;			 /* stopped before its program started (container.c) */
	struct profile_request *profile; /* the profile to write when it stops (annotation) */
	char *profile_refused;		 /* why the annotation was refused (the profile endpoint says it) */
};

/* An init's pidfd the keeper handed back: key "pid.<serial>.<run>", id its container. */
struct kept_pidfd {
	int fd;
	char *key, *id;
	struct kept_pidfd *next;
};

/* A connection the keeper accepted while no daemon ran, and its peer then. */
struct kept_conn {
	int fd;
	struct ocitap_keeper_peer peer;
	struct kept_conn *next;
};

/* A peer on the daemon's socket: a runtime's listener message or a hook's report. */
struct conn {
	struct watch watch;
	int fd;
	struct ocitap_scm_reader reader;
	int64_t deadline_ms;
	pid_t peer_pid;
	uid_t peer_uid;
	bool inside;		      /* the peer is not in the daemon's namespaces: a container's process */
	bool report_only;	      /* came through the report-only socket */
	struct ocitap_ns_ids peer_ns; /* read at accept */
	char *wait_key;		      /* held by the keeper too until read (handover_keep_conn()); NULL: not */
	bool waiting_ack;	      /* its report is with the store thread */
	struct writer_ack ack;	      /* what the store thread answers it */
	struct conn *prev, *next;     /* the live connections */
};

enum ocitapd_fault { FAULT_NONE, FAULT_AFTER_RECV, FAULT_AFTER_DECIDE, FAULT_AFTER_RECV_BLIND, FAULT_AFTER_EARLY_OK };

struct ocitapd {
	struct ocitapd_options opt; /* as parsed; never changed after start */

	struct ocitap_ns_ids own_ns; /* the daemon's namespaces: a peer in them is the host's */

	/* the loop (loop.c) */
	int epfd;
	struct watch listen_w, report_w, signal_w, writer_w, keeper_w, successor_w, bpf_w, spool_w;
	int spool_fd;	       /* inotify on the spool directory; -1: not watched */
	struct tracer *tracer; /* the BPF programs (tracer.c); NULL before start_bpf(): off */
	int listen_fd, signal_fd;
	int report_fd;		   /* the report-only socket (--container-socket), -1: off */
	bool serving;		   /* the socket is ours: removed when we stop (unless replaced) */
	bool ran;		   /* the loop ran (the start finished) */
	bool stopping;		   /* a signal asked us to stop */
	struct notify_fd *hot;	   /* the notify fd answered last: waited on directly (loop.c) */
	struct pid_watch *reaping; /* exited, exit status not yet published (exit.c) */

	/* containers (container.c) */
	struct container *buckets[OCITAPD_BUCKETS];
	uint64_t n_containers; /* read by the HTTP threads (atomically) */
	uint64_t n_notify_fds; /* likewise */
	uint64_t next_cookie;  /* the next BPF cookie (tracking.c) */

	/* policies and notifications (notify.c) */
	struct ocitap_policy_set *policies;
	int sync_wakeup; /* -1 unknown, 0 no, 1 yes */
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req; /* sized by the kernel (sizes) */
	struct seccomp_notif_resp *resp;
	enum ocitapd_fault fault; /* OCITAP_FAULT (tests): kill ourselves at the fault_at-th notification (or report) */
	uint64_t fault_at, fault_seen;
	uint64_t notifications, unknown_policy;

	/* peers (peers.c) */
	struct conn *conns;
	size_t n_conns;
	size_t n_conns_unprivileged; /* of peers other than root (peers.c: their limits) */
	uint64_t dropped_peers;

	/* the store thread and the readers it wakes */
	struct writer writer;
	struct ocitap_store *store; /* the loop's until the store thread starts; then the thread's */
	char db_path[PATH_MAX];
	pthread_mutex_t readers_lock; /* the two below: the store thread wakes them (main.c, committed()) */
	struct http_server *http;     /* NULL: --http off */
	struct pusher *push;	      /* NULL: no --push */
	struct http_config http_config;
	struct push_config push_config;

	/* handing fds over to the next daemon (handover.c) */
	int keeper_fd;			  /* -1: not connected */
	bool listener_kept;		  /* the keeper holds our listening socket too */
	uint64_t kept_conns;		  /* connections the keeper accepted for us while no daemon ran */
	struct kept_conn *kept;		  /* those, while the keeper hands fds back (handover.c) */
	struct kept_pidfd *kept_pidfds;	  /* inits' pidfds it handed back, attached after GIVE */
	bool giving;			  /* the keeper is handing fds back: nothing else may be asked */
	char keeper_key[PATH_MAX];	  /* the keeper's secret: keeper.key in the state directory */
	char spool_dir[PATH_MAX];	  /* where the hooks spool (state directory) */
	int64_t keeper_retry_ms;	  /* when to reconnect (and hand everything over again) */
	unsigned keeper_failures;	  /* tries for a keeper failed since one last held everything */
	bool keeper_no_wait;		  /* the keeper holds no connection not yet read (an older one) */
	uint64_t next_wait;		  /* of the keeper keys of those connections */
	bool keeper_said;		  /* the "cannot reach the keeper" warning was logged */
	uint64_t next_serial;		  /* of keeper keys */
	struct inflight *inflight;	  /* NULL without a keeper */
	struct ledger *ledger;		  /* notification counts durable when answered (ledger.h); NULL: off */
	struct journal *journal;	  /* hook reports durable when answered (journal.h); NULL: off */
	struct notify_fd *inflight_owner; /* whose key inflight->key holds */
	uint64_t adopted, recovered;
	bool fdstore; /* systemd's fd store: $NOTIFY_SOCKET with $FDSTORE > 0 */

	/* upgrades (upgrade.c) */
	char self_path[PATH_MAX]; /* our binary's path at start: SIGUSR2 runs what is there now */
	char **argv;
	int successor_pidfd; /* -1: no replacement under way */
	pid_t successor;
	bool replaced;	    /* a successor took over: leave the socket file in place */
	pid_t takeover_pid; /* the daemon we replaced, and when we stopped it */
	int64_t takeover_ms;
};

/* malloc that cannot fail: the daemon aborts on out-of-memory (logged). */
void *ocitapd_xcalloc(size_t n, size_t size);
char *ocitapd_xstrdup(const char *s); /* NULL stays NULL */

#endif
