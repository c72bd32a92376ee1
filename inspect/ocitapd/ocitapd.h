/*
 * ocitapd.h: the daemon's shared structures. ocitapd.c is the event loop
 * (socket, connections, seccomp notify fds, pidfds, signals);
 * writer.c the store thread that makes records durable, off the
 * notification path.
 */
#ifndef OCITAPD_H
#define OCITAPD_H

#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocitap.h"

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the store thread is asked to do; strings are owned by the op. */
enum wop_kind {
	WOP_CONTAINER,
	WOP_EVENT,
	WOP_NOTIFICATIONS,
	WOP_PRUNE,
	WOP_SPOOL,
	WOP_NOP /* writes nothing, carries an ack */,
	WOP_META /* id = key, meta_value */,
	WOP_PROFILE /* write a profile to path (outside the store: a failure is logged, not retried) */
};

struct conn;

struct wop {
	struct wop *next;
	enum wop_kind kind;
	char *id;
	/* WOP_CONTAINER */
	char *bundle;
	pid_t pid;
	struct ocitap_annotation *annotations; /* keys and values owned */
	size_t n_annotations;
	bool has_annotations;
	/* WOP_EVENT */
	struct ocitap_event ev;
	char *kind_text, *source;
	/* WOP_NOTIFICATIONS */
	char *syscall, *action;
	int64_t count;
	/* WOP_PRUNE */
	int64_t before_wall_ns;
	/* WOP_META */
	char *meta_value;
	/* WOP_SPOOL: id is the spool file's name, path is unlinked once committed */
	char *path;
	int64_t wall_ns;
	/* WOP_PROFILE: the profile of profile_names (merged with the profile at
	 * profile_in, if any) written to path */
	char **profile_names;
	char *profile_in;
	bool profile_done;
	struct conn *ack; /* answer this hook connection once durable */
};

struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct wop *head, *tail; /* to write */
	struct conn *acked;	 /* connections whose records are durable (or failed) */
	int done_fd;		 /* eventfd: the loop reads acked */
	bool stop;
	struct ocitap_store *store;
	bool degraded; /* last commit failed: retrying */
	uint64_t commits, failures, syncs;
	int sync_interval_ms;	   /* 0: every commit is on disk before its ack */
	int64_t unsynced_since_ms; /* 0: everything committed is on disk */
	void (*committed)(void);   /* after each commit (the HTTP event stream wakes) */
};

/* Set up the queue (ops may be pushed from now on), then start the thread.
 * committed (may be NULL) is called on the store thread after each commit. */
int writer_init(struct writer *w, struct ocitap_store *store);
int writer_start(struct writer *w);
/* Queue op (takes ownership). Never blocks on disk. The thread takes the
 * queue at the next writer_kick(), so one event's records share a commit. */
void writer_push(struct writer *w, struct wop *op);
void writer_kick(struct writer *w);
/* Write everything queued, then stop the thread. */
void writer_stop(struct writer *w);
void wop_free(struct wop *op);

/*
 * metrics.c: labelled counters and histograms for /metrics. The
 * variadic arguments are label name/value pairs ended by NULL; values are
 * escaped here. family must be one of the table in metrics.c.
 */
void metric_add(const char *family, double by, ...);
void metric_observe(const char *family, double value, ...);
void metric_set(const char *family, double value, ...); /* gauges */
/* Every family, Prometheus text format (copied under the lock, written without it). */
void metrics_render(FILE *out);
void metrics_release(void);

/*
 * http.c: the HTTP export on libmicrohttpd's own threads. The
 * gauges are read atomically; the store is read through its own read-only
 * connections.
 */
struct http_config {
	const char *addr;	/* HOST:PORT, [V6]:PORT, unix:/PATH */
	const char *token_file; /* NULL: none (required off loopback) */
	const char *db_path;
	const char *socket_path;
	struct writer *writer;
	const uint64_t *tracked_containers, *notify_fds;
};

/* Listen and serve; -errno with why filled when it cannot. */
int http_start(const struct http_config *cfg, char *why, size_t why_size);
/* Wake the event streams: events were committed. Any thread. */
void http_events_committed(void);
void http_stop(void);
/* The event loop tells how many seccomp notify fds it holds for a container
 * (0: none left), for "notifyFds" in /v1/containers. */
void http_set_notify_fds(const char *id, int n);

/*
 * keeper-client.c: ocitap-fdkeeper's client. Every call waits at most
 * 0.5 s for each of the keeper's answers (-EAGAIN); on failure why says what went wrong.
 */
/* Connect; when nobody listens at path and spawn is set, start
 * ocitap-fdkeeper --exit-when-idle there (detached) first. */
int keeper_connect(const char *path, bool spawn, char *why, size_t why_size);
int keeper_keep(int sock, const char *key, const char *id, int fd, char *why, size_t why_size);
int keeper_drop(int sock, const char *key, char *why, size_t why_size);
/* Take back every held fd: fn owns each. Returns how many, or -errno. */
int keeper_give(int sock, void (*fn)(const char *key, const char *id, int fd, void *userdata), void *userdata,
		char *why, size_t why_size);

/*
 * The notification being answered, in a shared mapping of a small file
 * that outlives the daemon: a notification the kernel handed to a daemon
 * killed before it answered is never handed out again, so its successor
 * finds it here (by id, checked with SECCOMP_IOCTL_NOTIF_ID_VALID).
 */
#define INFLIGHT_MAGIC 0x6f636974u
enum { INFLIGHT_IDLE, INFLIGHT_RECEIVING, INFLIGHT_DECIDED };

struct inflight {
	uint32_t magic;
	uint32_t state;	  /* written last, after the fields it vouches for */
	uint64_t prev_id; /* RECEIVING: the last id answered on this fd; 0 unknown */
	uint64_t id;	  /* DECIDED: the notification taken */
	uint32_t arch;
	int32_t nr;
	int32_t pid;
	char key[OCITAP_KEEPER_NAME_MAX + 1]; /* the fd, by its keeper key */
};

struct inflight *inflight_map(const char *path, char *why, size_t why_size);

/*
 * push.c: every event POSTed to each --push URL as CloudEvents
 * (batched JSON), from the store, with a cursor per URL kept in the store:
 * at least once, in order, retried with backoff, on its own thread.
 */
struct push_config {
	const char *const *urls;
	size_t n_urls;
	const char *token_file; /* NULL: no Authorization header */
	const char *ca_file;	/* NULL: the system's CAs */
	const char *db_path;
	struct writer *writer; /* cursors are written through it */
	int64_t max_backlog;   /* events a receiver may fall behind before the oldest are skipped */
};

int push_start(const struct push_config *cfg, char *why, size_t why_size);
/* Events were committed: send them. Any thread. */
void push_wake(void);
void push_stop(void);

/*
 * tracer.c: the BPF programs of bpf/. bpf_start() loads and attaches
 * them and returns the ring buffer's epoll fd (for the event loop, which
 * then calls bpf_poll()), or -1 with why (BPF is then off: every other
 * call is a no-op or says so). Containers are tracked by id: their init's
 * exec and exit, OOM kills, and with trace their syscall set.
 */
struct ocitap_bpf_event;
typedef void (*bpf_event_fn)(const struct ocitap_bpf_event *e);
int bpf_start(bpf_event_fn fn, char *why, size_t why_size);
void bpf_poll(void);
void bpf_stop(void);
bool bpf_enabled(char *why, size_t why_size); /* why: the reason it is off */
bool bpf_tracing_syscalls(void);	      /* the syscall-set program is attached */
double bpf_load_ms(void);
uint64_t bpf_lost_events(void); /* events the ring buffer had no room for */
/* -EXDEV: tracked, but the init shares our mount namespace (no syscall set, no OOM) */
int bpf_track(const char *id, uint64_t cookie, pid_t init, bool trace, char *why, size_t why_size);
void bpf_untrack(const char *id);
/* The names of the syscalls a traced container made so far (any thread):
 * how many, or -ENOTSUP (BPF off), -ENOENT (not tracked), -ENODATA (not traced). */
int bpf_syscall_names(const char *id, char ***ret_names, char *why, size_t why_size);
/* The traced container's profile from its syscall set so far (any thread);
 * *ret_count: how many syscalls. */
int bpf_profile(const char *id, const char *in_json, size_t in_len, char **ret_json, size_t *ret_count, char *why,
		size_t why_size);

/* The connection the writer hands back: set by the loop, read after done_fd. */
struct conn {
	int kind; /* must be first: the epoll tag */
	int fd;
	struct ocitap_scm_reader reader;
	int64_t deadline_ms;
	pid_t peer_pid;
	uid_t peer_uid;
	bool waiting_ack;
	int ack_error; /* 0, or -errno from the store */
	bool ack_sent; /* the store thread answered "ok" itself */
	struct conn *next_acked;
	struct conn *prev, *next; /* the loop's list of live connections */
};

#endif
