/*
 * cli.c: the parts every ocitap sub-command shares: one way to report an
 * error (a line on stderr and, with --json, a JSON object on stdout),
 * colour that appears only on terminals, a table that fits the terminal,
 * and a libcurl client for ocitapd's HTTP API.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "number.h"

#define MAX_BODY (64u << 20)

struct cli_context cli = { .command = "ocitap" };

/* ---- reporting ---- */

int cli_fail(int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "ocitap: %s: %s\n", cli.command, msg);
	if (cli.json) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "error", json_object_new_string(msg));
		json_object_object_add(e, "exitCode", json_object_new_int(status));
		puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
		json_object_put(e);
	}
	return status;
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ocitap: %s: ", cli.command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_print_json(struct json_object *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	if (cli.degraded && json_object_is_type(o, json_type_object))
		json_object_object_add(o, "degraded", json_object_new_boolean(true));
	flags |= isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	puts(json_object_to_json_string_ext(o, flags));
	fflush(stdout);
}

/* ---- the command line ---- */

/* The bad option as it was typed: "--name" (without "=value") or "-c". */
static void bad_option_word(char **argv, char *buf, size_t size)
{
	const char *w = optind > 0 ? argv[optind - 1] : NULL;

	/* a long option is the word just taken; a short one may sit inside a
	 * cluster ("-ax") whose word is not taken yet */
	if (w && strncmp(w, "--", 2) == 0 && (optopt == 0 || strchr(w, '=') || optopt >= 256))
		snprintf(buf, size, "%.*s", (int)strcspn(w, "="), w);
	else
		snprintf(buf, size, "-%c", optopt > 0 && optopt < 128 && optopt > ' ' ? optopt : '?');
}

static void usage_error(const char *msg)
{
	fflush(stdout);
	fprintf(stderr, "ocitap: %s\n", msg);
	if (cli.json) {
		_cleanup_(json_object_putp) struct json_object *e = json_object_new_object();

		json_object_object_add(e, "error", json_object_new_string(msg));
		json_object_object_add(e, "exitCode", json_object_new_int(EXIT_USAGE));
		puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
	}
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	static char **started; /* the argv being parsed: a new one starts over */
	char spec[64], word[128], msg[512];
	int c;

	if (started != argv) {
		started = argv;
		optind = 0; /* glibc: start over, permuting */
	}
	/* ':' first: a missing value is told apart from an unknown option */
	snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	bad_option_word(argv, word, sizeof(word));
	if (c == ':')
		snprintf(msg, sizeof(msg), "option '%s' for '%s' needs a value; see 'ocitap %s --help'", word,
			 cli.command, cli.command);
	else if (strchr(argv[optind - 1], '=') && strncmp(argv[optind - 1], "--", 2) == 0 && optopt != 0)
		snprintf(msg, sizeof(msg), "option '%s' for '%s' takes no value; see 'ocitap %s --help'", word,
			 cli.command, cli.command);
	else
		snprintf(msg, sizeof(msg), "unknown option '%s' for '%s'; see 'ocitap %s --help'", word, cli.command,
			 cli.command);
	usage_error(msg);
	return CLI_OPT_BAD;
}

bool cli_wants_json(int argc, char **argv, int first)
{
	for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

bool cli_color(void)
{
	static int on = -1;

	if (on < 0) {
		const char *no = getenv("NO_COLOR");
		const char *term = getenv("TERM");

		on = isatty(STDOUT_FILENO) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
	}
	return on;
}

const char *cli_sgr(const char *code)
{
	static char buf[8][16];
	static unsigned next;
	char *b;

	if (!cli_color())
		return "";
	b = buf[next++ % 8];
	snprintf(b, sizeof(buf[0]), "\033[%sm", code);
	return b;
}

int cli_term_width(void)
{
	struct winsize ws;
	int cols;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ocitap_parse_int(getenv("COLUMNS"), 1, INT_MAX, &cols) == 0)
		return cols;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* ---- tables ---- */

void cli_table_init(struct cli_table *t, const char *const *headers, size_t n_cols, int shrink)
{
	memset(t, 0, sizeof(*t));
	t->headers = headers;
	t->n_cols = n_cols;
	t->shrink = shrink;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->n_rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->n_cols * sizeof(char *));
		const char **k;

		if (!c)
			return -ENOMEM;
		t->cells = c;
		k = realloc(t->colour, cap * t->n_cols * sizeof(char *));
		if (!k)
			return -ENOMEM;
		t->colour = k;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		char *s = strdup(cells[i] && *cells[i] ? cells[i] : "-");

		/* one line per row, whatever a container id or path holds */
		for (char *p = s; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->n_rows * t->n_cols + i] = s;
		t->colour[t->n_rows * t->n_cols + i] = NULL;
	}
	t->n_rows++;
	return 0;
}

void cli_table_colour(struct cli_table *t, size_t col, const char *sgr_code)
{
	if (t->n_rows && col < t->n_cols)
		t->colour[(t->n_rows - 1) * t->n_cols + col] = sgr_code;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t width[16] = { 0 }, total = 0, term = (size_t)cli_term_width();

	if (t->n_cols > 16)
		return;
	for (size_t c = 0; c < t->n_cols; c++) {
		width[c] = strlen(t->headers[c]);
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t w = t->cells[r * t->n_cols + c] ? strlen(t->cells[r * t->n_cols + c]) : 0;

			if (w > width[c])
				width[c] = w;
		}
		total += width[c] + (c + 1 < t->n_cols ? 2 : 0);
	}
	if (term && total > term && t->shrink >= 0) {
		size_t over = total - term, min = strlen(t->headers[t->shrink]) > 6 ? strlen(t->headers[t->shrink]) : 6;

		width[t->shrink] = width[t->shrink] > over + min ? width[t->shrink] - over : min;
	}
	fprintf(out, "%s", cli_sgr(CLI_BOLD));
	for (size_t c = 0; c < t->n_cols; c++)
		fprintf(out, "%-*s%s", c + 1 < t->n_cols ? (int)width[c] : 0, t->headers[c],
			c + 1 < t->n_cols ? "  " : "");
	fprintf(out, "%s\n", CLI_RESET);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = t->cells[r * t->n_cols + c], *k = t->colour[r * t->n_cols + c];
			size_t len = strlen(s);
			bool last = c + 1 == t->n_cols;

			if (k)
				fprintf(out, "%s", cli_sgr(k));
			if (len > width[c]) /* only the shrink column, only on a terminal */
				fprintf(out, "%.*s~", (int)width[c] - 1, s);
			else
				fprintf(out, "%-*s", last ? 0 : (int)width[c], s);
			if (k)
				fprintf(out, "%s", CLI_RESET);
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	fflush(out);
}

void cli_table_release(struct cli_table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colour);
	memset(t, 0, sizeof(*t));
}

/* ---- the HTTP API ---- */

static int read_token(struct cli_http *h, const char *path, struct ocitap_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char buf[4097];

	if (!f)
		return ocitap_error_set(err, -errno, NULL, "--http-token-file %s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f))
		return ocitap_error_set(err, -ENODATA, NULL, "--http-token-file %s: empty", path);
	buf[strcspn(buf, "\r\n")] = '\0';
	h->token = strdup(buf);
	return h->token ? 0 : ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
}

int cli_http_init(struct cli_http *h, const char *addr, const char *token_file, struct ocitap_error *err)
{
	int r;

	memset(h, 0, sizeof(*h));
	h->addr = "off"; /* until found: cli_http_release and cli_http_off work on any h */
	if (ocitap_http_discover(addr, &h->found, err) < 0)
		return -EDOM;
	h->addr = h->found.addr;
	snprintf(h->where, sizeof(h->where), "%s (from %s)", h->addr, h->found.source);
	if (h->found.skipped[0])
		cli_note("warning: %s: skipped; ocitapd's API is looked for at %s", h->found.skipped, h->where);
	if (token_file && (r = read_token(h, token_file, err)) < 0)
		return r;
	if (strncmp(h->addr, "unix:", 5) == 0) {
		snprintf(h->unix_path, sizeof(h->unix_path), "%s", h->addr + 5);
		snprintf(h->base, sizeof(h->base), "http://localhost");
	} else {
		snprintf(h->base, sizeof(h->base), "http://%s", h->addr);
	}
	if (cli_http_off(h))
		return 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->curl = curl_easy_init();
	if (!h->curl)
		return ocitap_error_set(err, -ENOMEM, NULL, "libcurl did not start");
	return 0;
}

int cli_http_init_status(int r)
{
	return r == -EDOM ? EXIT_USAGE : EXIT_INVALID;
}

void cli_http_release(struct cli_http *h)
{
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	free(h->token);
	h->token = NULL;
	h->curl = NULL;
}

bool cli_http_off(const struct cli_http *h)
{
	return strcmp(h->addr, "off") == 0;
}

struct curl_slist *cli_http_setup(struct cli_http *h, const char *path, const char *extra_header, char *errbuf)
{
	struct curl_slist *hdr = NULL;
	char url[1200], line[4200];

	snprintf(url, sizeof(url), "%s%s", h->base, path);
	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (h->unix_path[0])
		curl_easy_setopt(h->curl, CURLOPT_UNIX_SOCKET_PATH, h->unix_path);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (h->token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", h->token);
		hdr = curl_slist_append(hdr, line);
	}
	if (extra_header)
		hdr = curl_slist_append(hdr, extra_header);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
	return hdr;
}

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
	struct body *b = userdata;
	size_t add = size * n;
	char *p;

	if (b->len + add > MAX_BODY) {
		b->too_big = true;
		return 0;
	}
	p = realloc(b->data, b->len + add + 1);
	if (!p)
		return 0;
	memcpy(p + b->len, ptr, add);
	b->data = p;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

int cli_http_error(const char *body, long status, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) struct json_object *j = body ? json_tokener_parse(body) : NULL;
	struct json_object *m;
	int code = status == 404 ? -ENOENT : -EREMOTEIO;

	if (json_object_object_get_ex(j, "error", &m) && json_object_is_type(m, json_type_string))
		return ocitap_error_set(err, code, NULL, "ocitapd: %s (HTTP %ld)", json_object_get_string(m), status);
	return ocitap_error_set(err, code, NULL, "ocitapd answered HTTP %ld", status);
}

static void body_release(struct body *b)
{
	free(b->data);
}

int cli_http_get_json(struct cli_http *h, const char *path, struct json_object **ret, struct ocitap_error *err)
{
	_cleanup_(body_release) struct body b = { 0 };
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr;
	struct json_object *o;
	long status = 0;
	CURLcode rc;

	if (cli_http_off(h) || !h->curl)
		return ocitap_error_set(err, -ENOTCONN, NULL, "--http off");
	hdr = cli_http_setup(h, path, NULL, curl_err);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 30000L);
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdr);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	/* curl says only "Couldn't connect to server" */
	if (rc == CURLE_COULDNT_CONNECT && h->unix_path[0] && access(h->unix_path, W_OK) < 0 && errno == EACCES)
		return ocitap_error_set(
			err, -EHOSTUNREACH, NULL,
			"cannot connect to %s: permission denied (ocitapd makes its HTTP socket root's, "
			"mode 0600: run as root, or give ocitapd a TCP --http address such as the "
			"default " OCITAP_DEFAULT_HTTP ")",
			h->unix_path);
	if (rc != CURLE_OK)
		return ocitap_error_set(err, -EHOSTUNREACH, NULL, "%s",
					b.too_big     ? "answer too large"
					: curl_err[0] ? curl_err
						      : curl_easy_strerror(rc));
	if (status != 200)
		return cli_http_error(b.data, status, err);
	o = json_tokener_parse(b.data ? b.data : "");
	if (!o)
		return ocitap_error_set(err, -EBADMSG, NULL, "ocitapd's answer to %s is not JSON", path);
	/* said once per command, on stderr; --json has "degraded": true */
	if (json_object_get_boolean(json_object_object_get(o, "degraded")) && !cli.degraded) {
		cli.degraded = true;
		cli_note("warning: ocitapd cannot write its store (disk full?): what it saw since its last "
			 "commit is held in memory and may be missing here (ocitapd's /healthz says why)");
	}
	*ret = o;
	return 0;
}

bool cli_http_unreachable(int r)
{
	return r == -EHOSTUNREACH || r == -ENOTCONN;
}

void cli_format_age(double seconds, char *buf, size_t size)
{
	long s = seconds < 0 ? 0 : (long)seconds;

	if (s < 60)
		snprintf(buf, size, "%lds", s);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

void cli_sources_init(struct cli_sources *s)
{
	memset(s, 0, sizeof(*s));
	s->state_dir = ocitap_default_path(OCITAP_ENV_STATE_DIR, OCITAP_DEFAULT_STATE_DIR);
}

bool cli_sources_option(struct cli_sources *s, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_JSON:
		cli.json = true;
		return true;
	case CLI_OPT_HTTP:
		s->http = arg;
		return true;
	case CLI_OPT_TOKEN:
		s->token_file = arg;
		return true;
	case CLI_OPT_STATE_DIR:
		s->state_dir = arg;
		return true;
	case CLI_OPT_RUNC_ROOT:
		s->runc_root = arg;
		return true;
	case CLI_OPT_CRUN_ROOT:
		s->crun_root = arg;
		return true;
	default:
		return false;
	}
}

const char *cli_json_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

int cli_container_id(int argc, char **argv, int first, const char **ret_id, struct ocitap_error *err)
{
	if (first >= argc)
		return ocitap_error_set(err, -EINVAL, NULL, "expected a container ID");
	if (first + 1 != argc)
		return ocitap_error_set(err, -EINVAL, NULL, "unexpected argument '%s'", argv[first + 1]);
	if (!*argv[first] || strlen(argv[first]) > 1024)
		return ocitap_error_set(err, -EINVAL, NULL, "a container ID is 1 to 1024 bytes");
	*ret_id = argv[first];
	return 0;
}
