/*
 * metrics.c: the counters and histograms behind /metrics. The event
 * loop adds to them at events that are rare next to notifications (a
 * transition, a hook report, an exit, the per-second flush of notification
 * counts); the HTTP thread renders them. One mutex, held for a table lookup
 * or a copy, never for I/O: a scrape cannot hold the loop back.
 *
 * Counters count since the daemon started (Prometheus expects resets at
 * restarts); what is durable is in the store and in /v1.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

struct family {
	const char *name, *type, *help;
};

/* Every family, in the order rendered; histograms use the buckets below. */
static const struct family families[] = {
	{ "ocitap_transitions_total", "counter",
	  "Container status transitions, by the status reached and the source that saw it first." },
	{ "ocitap_hook_reports_total", "counter", "Reports received from ocitap-hook, by stage." },
	{ "ocitap_notifications_total", "counter",
	  "Seccomp notifications answered, by syscall and action (added to once a second)." },
	{ "ocitap_container_exits_total", "counter", "Container init processes that exited, by exit code." },
	{ "ocitap_container_signals_total", "counter", "Container init processes killed by a signal, by signal." },
	{ "ocitap_oom_kills_total", "counter", "Containers with a process killed by the OOM killer." },
	{ "ocitap_container_failures_total", "counter",
	  "Containers that stopped before their program started (a runtime error; needs BPF to tell)." },
	{ "ocitap_container_runs_total", "counter",
	  "Runs begun under an id that had run before (a new init under a used container id)." },
	{ "ocitap_container_create_to_start_seconds", "histogram",
	  "Time from the first sign of a container's creation to its start (status created, or running when created "
	  "was not seen first)." },
	{ "ocitap_container_start_to_running_seconds", "histogram",
	  "Time from a container's start (status created) to its user program running, when both were seen in that "
	  "order." },
	{ "ocitap_spool_replays_total", "counter", "Spooled hook reports replayed into the store." },
	{ "ocitap_dropped_peers_total", "counter",
	  "Connections to the daemon socket refused or dropped (not allowed, too many, malformed, too slow)." },
	{ "ocitap_refused_reports_total", "counter",
	  "Hook reports and listener messages refused because their peer may not say that (docs/design/trust.md), "
	  "by reason." },
	{ "ocitap_unknown_policy_total", "counter",
	  "Notify fds whose listenerMetadata named a policy the daemon does not have (answered as --unknown-policy "
	  "says: deny by default)." },
	{ "ocitap_http_requests_total", "counter", "HTTP requests answered, by status code." },
	{ "ocitap_push_events_total", "counter", "Events delivered to a --push receiver (acknowledged with 2xx)." },
	{ "ocitap_push_failures_total", "counter", "Failed deliveries to a --push receiver (retried with backoff)." },
	{ "ocitap_push_rejected_total", "counter",
	  "Deliveries a --push receiver refused with a 4xx answer, by HTTP status (also failures; retried with a "
	  "longer backoff, nothing dropped; the reason is in the log and /healthz)." },
	{ "ocitap_push_skipped_events_total", "counter",
	  "Events a --push receiver never got: it fell more than --push-backlog events behind." },
	{ "ocitap_push_backlog_events", "gauge", "Events stored and not yet delivered to a --push receiver." },
	{ "ocitap_bpf_up", "gauge", "1 when the BPF programs are loaded (0: off, see /healthz)." },
	{ "ocitap_bpf_events_total", "counter",
	  "Ring buffer events from the BPF programs, by kind (exec, exit, oom)." },
	{ "ocitap_bpf_lost_events_total", "counter",
	  "BPF events the ring buffer had no room for (ocitapd stalled); exits are still seen by the pidfd." },
	{ "ocitap_bpf_traced_containers", "gauge", "Containers whose syscall set is being recorded." },
	{ "ocitap_profiles_total", "counter",
	  "Seccomp profiles asked for by the io.containers.trace-syscall annotation, by result (written; refused: a "
	  "path outside the profile directory and the --profile-allow prefixes, inside the container, through a "
	  "symbolic link, over a file ocitap did not write; failed: anything else)." },
	{ "ocitap_keeper_up", "gauge",
	  "1 while ocitap-fdkeeper holds a copy of every notify fd (a restart then pauses containers instead of "
	  "failing their notified syscalls), else 0; absent with --keeper off." },
	{ "ocitap_adopted_notify_fds_total", "counter",
	  "Notify fds taken back from ocitap-fdkeeper at start (the containers a previous ocitapd served)." },
	{ "ocitap_recovered_notifications_total", "counter",
	  "Notifications a killed ocitapd had taken but not answered, answered by its successor, by whether the "
	  "answer was the policy's exact one." },
};

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	size_t family;
	char *labels; /* rendered and escaped: k1="v1",k2="v2" (may be empty) */
	double value; /* counter; histogram: sum */
	uint64_t count, in_bucket[N_BUCKETS];
};

/*
 * The process's one registry of series, like a Prometheus client library's
 * default registry: every module on every thread (the loop, the store,
 * HTTP and push threads, the tracer) adds to it by family name without
 * being handed anything, and /metrics renders it all. A family is one
 * series set for the whole process, so there is nothing per object to
 * pass around; the lock makes it safe from any thread.
 */
static struct {
	pthread_mutex_t lock;
	struct series *series; /* every family's series, in the order first seen */
	size_t n, cap;
} registry = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Label values escaped as the text format wants: \\, \" and \n. */
static void append_escaped(char *out, size_t size, size_t *len, const char *s)
{
	for (; *s && *len + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			out[(*len)++] = '\\';
			out[(*len)++] = *s;
		} else if (*s == '\n') {
			out[(*len)++] = '\\';
			out[(*len)++] = 'n';
		} else {
			out[(*len)++] = *s;
		}
	}
	out[*len] = '\0';
}

static void render_labels(char *out, size_t size, va_list ap)
{
	size_t len = 0;
	const char *k;

	out[0] = '\0';
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		len += (size_t)snprintf(out + len, size - len, "%s%s=\"", len ? "," : "", k);
		if (len >= size - 4)
			break;
		append_escaped(out, size, &len, v ? v : "");
		if (len + 2 < size) {
			out[len++] = '"';
			out[len] = '\0';
		}
	}
}

static size_t family_index(const char *name)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(families[i].name, name) == 0)
			return i;
	abort(); /* a name not in the table is a bug in ocitapd */
}

/* The series (family, labels), created at zero; called with the lock held. */
static struct series *series_get(size_t family, const char *labels)
{
	struct series *s;

	for (size_t i = 0; i < registry.n; i++)
		if (registry.series[i].family == family && strcmp(registry.series[i].labels, labels) == 0)
			return &registry.series[i];
	if (registry.n == registry.cap) {
		size_t cap = registry.cap ? registry.cap * 2 : 64;
		struct series *p = realloc(registry.series, cap * sizeof(*p));

		if (!p)
			return NULL;
		registry.series = p;
		registry.cap = cap;
	}
	s = &registry.series[registry.n];
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->labels = strdup(labels);
	if (!s->labels)
		return NULL;
	registry.n++;
	return s;
}

/* The series for (family, the labels in ap), returned with the lock held
 * (NULL when out of memory; the lock is held all the same). */
static struct series *lock_series(const char *family, va_list ap)
{
	size_t f = family_index(family);
	char labels[512];

	render_labels(labels, sizeof(labels), ap);
	pthread_mutex_lock(&registry.lock);
	return series_get(f, labels);
}

void metric_add(const char *family, double by, ...)
{
	struct series *s;
	va_list ap;

	va_start(ap, by);
	s = lock_series(family, ap);
	va_end(ap);
	if (s)
		s->value += by;
	pthread_mutex_unlock(&registry.lock);
}

void metric_set(const char *family, double value, ...)
{
	struct series *s;
	va_list ap;

	va_start(ap, value);
	s = lock_series(family, ap);
	va_end(ap);
	if (s)
		s->value = value;
	pthread_mutex_unlock(&registry.lock);
}

void metric_observe(const char *family, double value, ...)
{
	struct series *s;
	va_list ap;

	if (!isfinite(value) || value < 0)
		return;
	va_start(ap, value);
	s = lock_series(family, ap);
	va_end(ap);
	if (s) {
		s->value += value;
		s->count++;
		for (size_t b = 0; b < N_BUCKETS; b++)
			if (value <= buckets[b])
				s->in_bucket[b]++;
	}
	pthread_mutex_unlock(&registry.lock);
}

static void print_number(FILE *out, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.9g", v);
}

void metrics_render(FILE *out)
{
	struct series *copy;
	size_t n;

	/* copy under the lock, format without it */
	pthread_mutex_lock(&registry.lock);
	n = registry.n;
	copy = malloc((n ? n : 1) * sizeof(*copy));
	if (copy) {
		memcpy(copy, registry.series, n * sizeof(*copy));
		for (size_t i = 0; i < n; i++)
			copy[i].labels = strdup(registry.series[i].labels);
	}
	pthread_mutex_unlock(&registry.lock);
	if (!copy)
		return;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		bool histogram = strcmp(families[f].type, "histogram") == 0;
		bool any = false;

		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help, families[f].name,
			families[f].type);
		for (size_t i = 0; i < n; i++) {
			const struct series *s = &copy[i];
			const char *l = s->labels ? s->labels : "";
			const char *comma = *l ? "," : "";

			if (s->family != f)
				continue;
			any = true;
			if (!histogram) {
				fprintf(out, "%s%s%s%s ", families[f].name, *l ? "{" : "", l, *l ? "}" : "");
				print_number(out, s->value);
				fputc('\n', out);
				continue;
			}
			for (size_t b = 0; b < N_BUCKETS; b++)
				fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", families[f].name, l, comma, buckets[b],
					(unsigned long long)s->in_bucket[b]);
			fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", families[f].name, l, comma,
				(unsigned long long)s->count);
			fprintf(out, "%s_sum%s%s%s ", families[f].name, *l ? "{" : "", l, *l ? "}" : "");
			print_number(out, s->value);
			fprintf(out, "\n%s_count%s%s%s %llu\n", families[f].name, *l ? "{" : "", l, *l ? "}" : "",
				(unsigned long long)s->count);
		}
		/* a family without labels is shown at zero, so that rate() and
		 * absent() work before its first event */
		if (!any && !histogram &&
		    (strcmp(families[f].name, "ocitap_oom_kills_total") == 0 ||
		     strcmp(families[f].name, "ocitap_container_failures_total") == 0 ||
		     strcmp(families[f].name, "ocitap_container_runs_total") == 0 ||
		     strcmp(families[f].name, "ocitap_spool_replays_total") == 0 ||
		     strcmp(families[f].name, "ocitap_dropped_peers_total") == 0 ||
		     strcmp(families[f].name, "ocitap_unknown_policy_total") == 0 ||
		     strcmp(families[f].name, "ocitap_adopted_notify_fds_total") == 0))
			fprintf(out, "%s 0\n", families[f].name);
		if (!any && histogram) {
			for (size_t b = 0; b < N_BUCKETS; b++)
				fprintf(out, "%s_bucket{le=\"%g\"} 0\n", families[f].name, buckets[b]);
			fprintf(out, "%s_bucket{le=\"+Inf\"} 0\n%s_sum 0\n%s_count 0\n", families[f].name,
				families[f].name, families[f].name);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(copy[i].labels);
	free(copy);
}

void metrics_release(void)
{
	pthread_mutex_lock(&registry.lock);
	for (size_t i = 0; i < registry.n; i++)
		free(registry.series[i].labels);
	free(registry.series);
	registry.series = NULL;
	registry.n = registry.cap = 0;
	pthread_mutex_unlock(&registry.lock);
}
