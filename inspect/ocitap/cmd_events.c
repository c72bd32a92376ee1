/*
 * cmd_events.c: `ocitap events`: the event log, from ocitapd's HTTP API or,
 * when the daemon is not reachable, from a read-only open of its store.
 * --follow reads /v1/events/stream and, when the stream breaks (the daemon
 * restarted, the network), reconnects with Last-Event-ID: nothing is
 * missed and nothing is printed twice.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "commands.h"
#include "records.h"
#include "exit-text.h"
#include "event-json.h"
#include "number.h"
#include "ocitap-private.h"

#define PAGE	 10000
#define MAX_BODY (64u << 20)

static struct {
	const char *id;
	int64_t since;
	bool follow;
	struct cli_sources src;
	struct cli_http http;
} o;

static volatile sig_atomic_t interrupted;
static int64_t last_printed = -1; /* the newest seq seen: --follow goes on from there */

/* ---- printing ---------------------------------------------------------- */

/* The column names, once, above the first event (not with --json). */
static void print_header(void)
{
	static bool printed;

	if (printed || cli.json)
		return;
	printed = true;
	printf("%s%-6s %-30s %-20s %-10s %-20s %s%s\n", cli_sgr(CLI_BOLD), "SEQ", "TIME", "CONTAINER", "KIND", "CHANGE",
	       "SOURCE", CLI_RESET);
}

static void print_event(struct json_object *ev)
{
	struct json_object *v;
	const char *kind, *source, *when, *id;
	char change[96], ended[64];
	int64_t seq = json_object_get_int64(json_object_object_get(ev, "seq"));

	if (seq <= last_printed)
		return; /* a stream that resumed a little early */
	last_printed = seq;
	if (o.id && (!json_object_object_get_ex(ev, "container", &v) || strcmp(json_object_get_string(v), o.id) != 0))
		return;
	if (cli.json) {
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
		return;
	}
#define STR(k)                                                                                                        \
	(json_object_object_get_ex(ev, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) \
											  : "-")
	kind = STR("kind");
	source = STR("source");
	when = STR("time");
	id = STR("container");
#undef STR
	print_header();
	{
		/* a run after the first says which: ID#2 */
		int64_t run = json_object_get_int64(json_object_object_get(ev, "run"));
		char who[320];

		if (run > 1)
			snprintf(who, sizeof(who), "%.280s#%" PRId64, id, run);
		else
			snprintf(who, sizeof(who), "%s", id);
		printf("%-6" PRId64 " %-30s %-20s %-10s %-20s %s",
		       json_object_get_int64(json_object_object_get(ev, "seq")), when, who, kind,
		       exit_event_change_text(ev, change, sizeof(change)), source);
	}
	if (*exit_event_text(ev, ended, sizeof(ended)))
		printf("  %s", ended);
	putchar('\n');
	fflush(stdout);
}

/* ---- from the daemon ------------------------------------------------------ */

/* 0 printed; a negative errno with err when the daemon is not there
 * (cli_http_unreachable) or answered with an error. */
static int list_from_daemon(struct ocitap_error *err)
{
	int64_t since = o.since < 0 ? 0 : o.since;

	for (;;) {
		_cleanup_(json_object_putp) struct json_object *page = NULL;
		_cleanup_(curl_freep) char *esc = o.id ? curl_easy_escape(o.http.curl, o.id, 0) : NULL;
		struct json_object *events;
		char path[1200];
		size_t n;
		int r;

		snprintf(path, sizeof(path), "/v1/events?since=%" PRId64 "&limit=%d%s%s", since, PAGE,
			 esc ? "&id=" : "", esc ? esc : "");
		if ((r = cli_http_get_json(&o.http, path, &page, err)) != 0)
			return r;
		if (!json_object_object_get_ex(page, "events", &events) ||
		    !json_object_is_type(events, json_type_array))
			return ocitap_error_set(err, -EBADMSG, NULL, "ocitapd's answer has no \"events\" array");
		n = json_object_array_length(events);
		for (size_t i = 0; i < n; i++)
			print_event(json_object_array_get_idx(events, i));
		since = json_object_get_int64(json_object_object_get(page, "next"));
		if (n < PAGE)
			return 0;
	}
}

/* ---- from the store --------------------------------------------------------- */

static int print_stored(const struct ocitap_event *ev, void *userdata)
{
	struct json_object *j = ocitap_event_json(ev); /* the same shape as the API's */

	print_event(j);
	json_object_put(j);
	return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocitap_store *, ocitap_store_close);

static int list_from_store(struct ocitap_error *err)
{
	_cleanup_(ocitap_store_closep) struct ocitap_store *s = NULL;
	int r;

	r = records_store_open(o.src.state_dir, &s, err);
	if (r < 0)
		return r;
	return ocitap_store_foreach_event(s, o.id, 0, o.since, print_stored, NULL, err);
}

/* ---- --follow ------------------------------------------------------------------ */

struct sse {
	char buf[1 << 20];
	size_t len;
	char last_id[32]; /* sent as Last-Event-ID when (re)connecting */
};

static void sse_event(struct sse *s, char *block)
{
	char *id = NULL, *data = NULL;

	for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "id: ", 4) == 0)
			id = line + 4;
		else if (strncmp(line, "data: ", 6) == 0)
			data = line + 6;
	}
	if (data) {
		struct json_object *ev = json_tokener_parse(data);

		if (ev)
			print_event(ev);
		json_object_put(ev);
	}
	(void)id; /* print_event keeps the position */
}

static size_t sse_write(char *ptr, size_t size, size_t n, void *userdata)
{
	struct sse *s = userdata;
	size_t add = size * n;
	char *end;

	if (interrupted)
		return 0;
	if (add > sizeof(s->buf) - 1 - s->len)
		return 0; /* an event over 1 MiB: not ocitapd's */
	memcpy(s->buf + s->len, ptr, add);
	s->len += add;
	s->buf[s->len] = '\0';
	while ((end = strstr(s->buf, "\n\n"))) {
		size_t used = (size_t)(end - s->buf) + 2;

		*end = '\0';
		sse_event(s, s->buf);
		memmove(s->buf, s->buf + used, s->len - used + 1);
		s->len -= used;
	}
	return add;
}

static int follow(void)
{
	static struct sse s;
	int backoff_ms = 250;
	bool said = false;

	while (!interrupted) {
		if (last_printed >= 0)
			snprintf(s.last_id, sizeof(s.last_id), "%" PRId64, last_printed);
		else if (o.since >= 0)
			snprintf(s.last_id, sizeof(s.last_id), "%" PRId64, o.since);
		char err[CURL_ERROR_SIZE] = "", last_id[64];
		struct curl_slist *h;
		CURL *c = o.http.curl;
		long status = 0;
		CURLcode rc;

		snprintf(last_id, sizeof(last_id), "Last-Event-ID: %s", s.last_id);
		s.len = 0;
		h = cli_http_setup(&o.http, "/v1/events/stream", s.last_id[0] ? last_id : NULL, err);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		rc = curl_easy_perform(c);
		curl_slist_free_all(h);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (interrupted)
			break;
		if (status >= 400) {
			return cli_fail(EXIT_INVALID, "ocitapd answered HTTP %ld", status);
		}
		if (status == 200)
			backoff_ms = 250; /* it was up: reconnect soon */
		if (!said || status == 200) {
			fprintf(stderr, "ocitap: events: %s; reconnecting",
				rc == CURLE_OK ? "the stream ended"
				: err[0]       ? err
					       : curl_easy_strerror(rc));
			if (last_printed >= 0)
				fprintf(stderr, " after event %" PRId64, last_printed);
			fputc('\n', stderr);
		}
		said = true;
		usleep((useconds_t)backoff_ms * 1000);
		backoff_ms = backoff_ms < 4000 ? backoff_ms * 2 : 5000;
	}
	return EXIT_OK;
}

/* ---- the command -------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitap events [--follow] [--since SEQ] [--id ID] [--json] [--http ADDR] [--state-dir DIR]\n"
		"                     [--runc-root DIR] [--crun-root DIR]\n"
		"\n"
		"The event log: every status transition, late stage, exit and hook report, with its\n"
		"sequence number. From ocitapd's HTTP API, or from its store when the daemon is not\n"
		"reachable.\n"
		"\n"
		"  -f, --follow           keep printing events as they happen (the daemon's event stream;\n"
		"                         reconnects after the last event seen, nothing missed or repeated)\n"
		"      --since SEQ        only events after SEQ\n"
		"      --id ID            only this container's events (its id, its name, or a unique prefix\n"
		"                         of its id of 3 characters or more)\n"
		"      --json             one JSON object per line (as GET /v1/events gives them)\n" CLI_SOURCE_HELP
		"                         (events are ocitap's own record: the roots change nothing here)\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0, 1 when no source could be read or --id means several containers, 2 on\n"
		"a bad command line (an --id prefix under 3 characters too).\n");
}

/* o.id made the id it means on ocitap's record (borrowed from refs). */
static int resolve_id(struct records_refs *refs, struct ocitap_error *err)
{
	int r = records_refs_load(refs, &o.http, o.src.state_dir);

	if (r < 0)
		return ocitap_error_set(err, r, NULL, "out of memory");
	r = records_refs_resolve(refs, o.id, &o.id, err);
	return r == -ENOENT ? 0 : r;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

enum { OPT_SINCE = 256, OPT_ID };
const struct option cmd_events_options[] = {
	{ "follow", no_argument, NULL, 'f' },	   { "since", required_argument, NULL, OPT_SINCE },
	{ "id", required_argument, NULL, OPT_ID }, CLI_SOURCE_OPTIONS,
	{ "help", no_argument, NULL, 'h' },	   { 0 },
};

int cmd_events(int argc, char **argv)
{
	_cleanup_(records_refs_release) struct records_refs refs = { 0 };
	struct ocitap_error err = { 0 }, store_err = { 0 };
	int opt_c, r;

	cli.command = "events";
	cli_sources_init(&o.src);
	o.since = -1;
	while ((opt_c = cli_getopt(argc, argv, "fh", cmd_events_options)) != -1) {
		if (cli_sources_option(&o.src, opt_c, optarg))
			continue; /* --runc-root/--crun-root: accepted; events are ocitap's own record */
		switch (opt_c) {
		case 'f':
			o.follow = true;
			break;
		case OPT_SINCE:
			if (ocitap_parse_int64(optarg, 0, INT64_MAX, &o.since) < 0)
				return cli_fail(EXIT_USAGE, "--since: expected a sequence number, got '%s'", optarg);
			break;
		case OPT_ID:
			o.id = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default: /* CLI_OPT_BAD: said */
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_http_init(&o.http, o.src.http, o.src.token_file, &err)) < 0)
		return cli_fail(cli_http_init_status(r), "%s", err.message);
	if (cli_http_off(&o.http) && o.follow) {
		cli_http_release(&o.http);
		return cli_fail(EXIT_USAGE, "--follow needs ocitapd's HTTP API (--http is off)");
	}
	/* --id NAME or a prefix: the id it means; an id nothing knows yet is followed as it is */
	if (o.id && (r = resolve_id(&refs, &err)) < 0) {
		cli_http_release(&o.http);
		return cli_fail(r == -ENOMEM ? EXIT_INVALID : records_refs_exit_status(r), "%s", err.message);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (o.follow) {
		print_header();
		/* what is stored first, then the stream from there: no gap */
		if (list_from_daemon(&err) < 0)
			cli_note("%s; following the stream as soon as it is there", err.message);
		r = follow();
		cli_http_release(&o.http);
		return r;
	}
	r = list_from_daemon(&err);
	cli_http_release(&o.http);
	if (r == 0) {
		print_header(); /* no event at all: the header still, as ps prints one */
		return EXIT_OK;
	}
	if (!cli_http_unreachable(r))
		return cli_fail(EXIT_INVALID, "%s", err.message);
	if (list_from_store(&store_err) == 0) {
		print_header();
		cli_note("ocitapd not reachable at %s (%s); read from the store in %s", o.http.where, err.message,
			 o.src.state_dir);
		return EXIT_OK;
	}
	return cli_fail(EXIT_INVALID, "ocitapd not reachable at %s (%s), and the store: %s", o.http.where, err.message,
			store_err.message);
}
