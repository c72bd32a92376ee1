/*
 * cli.h: what the ocitap sub-commands share: reporting errors once (also as
 * JSON with --json), colour only on a terminal, a table that fits the
 * terminal, and a small client for ocitapd's HTTP API.
 *
 * Errors travel as in the library (docs/design/errors.md): helpers return a
 * negative errno and fill a struct ocitap_error; the command reports once,
 * with cli_fail, and returns the exit status.
 */
#ifndef OCITAP_CLI_H
#define OCITAP_CLI_H

#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "defaults.h"
#include "error.h"
#include "http-addr.h"
#include "json-util.h"
#include "macro.h"

/* Owned locals: `_cleanup_(json_object_putp) struct json_object *o = NULL;` (json-util.h) */
DEFINE_TRIVIAL_CLEANUP_FUNC(char *, curl_free);

#define CLI_DEFAULT_RUNC_ROOT "/run/runc"
#define CLI_DEFAULT_CRUN_ROOT "/run/crun"

/* Set by each command before it reports anything. */
extern struct cli_context {
	const char *command; /* "ps", "hooks explain": prefixes messages */
	bool json;	     /* errors go to stdout as {"error", "exitCode"} too */
	bool degraded;	     /* ocitapd said its store cannot be written: its answers may lack the latest */
} cli;

/* A message on stderr ("ocitap: COMMAND: ..."), and the JSON error object
 * with --json. Returns status. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note on stderr that does not change the outcome ("ocitap: COMMAND: ..."). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One JSON document on stdout (pretty when stdout is a terminal). */
void cli_print_json(struct json_object *o);

/* Colour: only when stdout is a terminal and NO_COLOR is unset or empty. */
bool cli_color(void);
#define CLI_BOLD   "1"
#define CLI_DIM	   "2"
#define CLI_RED	   "31"
#define CLI_GREEN  "32"
#define CLI_YELLOW "33"
#define CLI_CYAN   "36"
/* "\033[<code>m" when colour is on, else "" (CLI_RESET ends it). */
const char *cli_sgr(const char *code);
#define CLI_RESET cli_sgr("0")

/* Columns of the terminal on stdout; 0 when stdout is not a terminal
 * ($COLUMNS wins when set). */
int cli_term_width(void);

/*
 * A table for people: columns sized to their widest cell; when the terminal
 * is narrower, the column marked `shrink` gives up width first (cut with
 * "~"). Not on a terminal, nothing is cut.
 */
struct cli_table {
	size_t n_cols, n_rows, cap;
	const char *const *headers;
	int shrink;	     /* column index that may be cut, -1 for none */
	char **cells;	     /* n_rows * n_cols, owned */
	const char **colour; /* per cell SGR code or NULL, borrowed */
};
void cli_table_init(struct cli_table *t, const char *const *headers, size_t n_cols, int shrink);
/* Add a row of n_cols cells (copied; NULL prints "-"). */
int cli_table_add(struct cli_table *t, const char *const *cells);
/* Colour for the last added row's cell col. */
void cli_table_colour(struct cli_table *t, size_t col, const char *sgr_code);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_release(struct cli_table *t);

/* ---- ocitapd's HTTP API ---- */

struct cli_http {
	const char *addr;		/* HOST:PORT, [V6]:PORT, unix:/PATH or "off" (points into found) */
	struct ocitap_http_found found; /* where addr came from */
	char where[OCITAP_HTTP_ADDR_MAX + PATH_MAX + 32]; /* "ADDR (from SOURCE)", for messages */
	char *token;					  /* bearer token, or NULL */
	char base[OCITAP_HTTP_ADDR_MAX + 16];		  /* http://HOST:PORT */
	char unix_path[256];
	void *curl;
};

/* From --http (addr, or NULL: the daemon found as http-addr.h says: from
 * $OCITAP_HTTP, ocitapd's configuration file, the http.addr beside its
 * socket, or the default) and --http-token-file. A source skipped because
 * it is broken is said in a note. Returns 0, or a negative errno with err:
 * -EDOM when --http or $OCITAP_HTTP is not an address (a usage error), else
 * the token file cannot be read or libcurl does not start. cli_http_release(h)
 * is safe either way. */
int cli_http_init(struct cli_http *h, const char *addr, const char *token_file, struct ocitap_error *err);
/* The exit status for cli_http_init's r: EXIT_USAGE for -EDOM, else EXIT_INVALID. */
int cli_http_init_status(int r);
void cli_http_release(struct cli_http *h);
bool cli_http_off(const struct cli_http *h);

/*
 * GET path and parse the JSON answer: 0 with *ret the body of a 200 answer
 * (the caller owns it); else a negative errno with err saying what happened:
 *   -ENOENT       the daemon answered 404 (callers tell "unknown id" from it)
 *   -EREMOTEIO    it answered another error status (err has its "error")
 *   -EBADMSG      it answered 200 with something that is not JSON
 *   -EHOSTUNREACH it did not answer (cli_http_unreachable)
 *   -ENOTCONN     --http off (cli_http_unreachable)
 */
int cli_http_get_json(struct cli_http *h, const char *path, struct json_object **ret, struct ocitap_error *err);

/* r from cli_http_get_json says the daemon is not there (down, or --http
 * off), rather than that it answered badly: time to read its store. */
bool cli_http_unreachable(int r);

/* Prepare h->curl for a request to path (URL, unix socket, timeouts, token,
 * extra header line or NULL). Returns the header list to free after the
 * request (curl_slist_free_all). */
struct curl_slist *cli_http_setup(struct cli_http *h, const char *path, const char *extra_header, char *errbuf);

/* An error answer: err says the "error" member of a JSON body, else the
 * status. Returns -ENOENT for 404, else -EREMOTEIO. */
int cli_http_error(const char *body, long status, struct ocitap_error *err);

/* The one container ID left on the command line after the options: 0 with
 * *ret_id set, or -EINVAL with err saying what is wrong (a usage error). */
int cli_container_id(int argc, char **argv, int first, const char **ret_id, struct ocitap_error *err);

/* ---- options shared by ps, inspect and events ---- */

struct cli_sources {
	const char *http, *token_file, *state_dir, *runc_root, *crun_root;
};

enum {
	CLI_OPT_JSON = 1000,
	CLI_OPT_HTTP,
	CLI_OPT_TOKEN,
	CLI_OPT_STATE_DIR,
	CLI_OPT_RUNC_ROOT,
	CLI_OPT_CRUN_ROOT,
};

#define CLI_SOURCE_OPTIONS                                                                              \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, { "http", required_argument, NULL, CLI_OPT_HTTP }, \
		{ "http-token-file", required_argument, NULL, CLI_OPT_TOKEN },                          \
		{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },                            \
		{ "runc-root", required_argument, NULL, CLI_OPT_RUNC_ROOT },                            \
	{                                                                                               \
		"crun-root", required_argument, NULL, CLI_OPT_CRUN_ROOT                                 \
	}

/* Defaults from the environment ($OCITAP_HTTP, $OCITAP_STATE_DIR). */
void cli_sources_init(struct cli_sources *s);
/* Take one of CLI_SOURCE_OPTIONS; false when opt is not one of them. */
bool cli_sources_option(struct cli_sources *s, int opt, const char *arg);

/* The help lines for CLI_SOURCE_OPTIONS. */
#define CLI_JSON_HELP "      --json             JSON on stdout (errors too: {\"error\", \"exitCode\"})\n"
#define CLI_SOURCE_HELP                                                                                   \
	"      --http ADDR        ocitapd's HTTP API (default " OCITAP_DEFAULT_HTTP "; $" OCITAP_ENV_HTTP \
	"; unix:/PATH;\n"                                                                                 \
	"                         off: do not ask the daemon)\n"                                          \
	"      --http-token-file FILE\n"                                                                  \
	"                         a bearer token for the API\n"                                           \
	"      --state-dir DIR    ocitapd's store, read when the daemon is not reachable (default\n"      \
	"                         " OCITAP_DEFAULT_STATE_DIR "; $" OCITAP_ENV_STATE_DIR ")\n"             \
	"      --runc-root DIR    runc's --root (default /run/runc); $OCITAP_RUNC names the binary\n"     \
	"      --crun-root DIR    crun's --root (default /run/crun); $OCITAP_CRUN names the binary\n"

/* ---- the command line ---- */

/* What cli_getopt returns for a bad option, after saying so. */
#define CLI_OPT_BAD '?'

/*
 * getopt_long for a command (cli.command names it): options may follow the
 * operands, "--" ends them. An unknown option, one without its value, or a
 * value given to one that takes none is reported in one line on stderr
 * ("ocitap: unknown option '--x' for 'ps'; see 'ocitap ps --help'"), and
 * with --json as the JSON error object too; then CLI_OPT_BAD is returned and
 * the command exits EXIT_USAGE. The first call of a command starts over.
 */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* "--json" among argv[first..], before any "--": commands report errors as
 * JSON even when the bad option comes first. */
bool cli_wants_json(int argc, char **argv, int first);

/* ---- small helpers ---- */

/* Member key of o when it is a string, else NULL. */
const char *cli_json_string(struct json_object *o, const char *key);

/* "3s", "5m12s", "2h03m", "4d05h" for seconds >= 0 */
void cli_format_age(double seconds, char *buf, size_t size);

#endif
