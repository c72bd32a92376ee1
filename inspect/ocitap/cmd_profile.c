/*
 * cmd_profile.c: `ocitap profile ID [-o FILE]`: the seccomp profile of a
 * running container's syscalls so far, as ocitapd's BPF program recorded
 * them (the container must be traced: the io.containers.trace-syscall
 * annotation, or ocitapd --trace-syscalls=all). The same profile the daemon
 * writes when the container stops, asked for while it runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ocitap-private.h"
#include "commands.h"
#include "records.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap profile ID [-o FILE] [--json] [--http ADDR] [--http-token-file FILE]\n"
		     "                      [--state-dir DIR]\n"
		     "\n"
		     "ID is a container's id, its name, or a unique prefix of its id (3 characters or more).\n"
		     "The seccomp profile (OCI format: defaultAction SCMP_ACT_ERRNO, every syscall the\n"
		     "container made so far allowed) of a running container whose syscalls ocitapd\n"
		     "records: started with the io.containers.trace-syscall annotation, or under\n"
		     "ocitapd --trace-syscalls=all. Printed on stdout, or written to FILE atomically.\n"
		     "\n"
		     "  -o, --output FILE      write the profile to FILE (replaced atomically)\n"
		     "      --json             {\"id\", \"profile\"} on stdout; with -o {\"id\", \"output\",\n"
		     "                         \"syscalls\"} (errors too: {\"error\", \"exitCode\"})\n"
		     "      --http ADDR        ocitapd's HTTP API (default " OCITAP_DEFAULT_HTTP "; $" OCITAP_ENV_HTTP
		     "; unix:/PATH)\n"
		     "      --http-token-file FILE\n"
		     "                         a bearer token for the API\n"
		     "      --state-dir DIR    ocitapd's store, for a stopped container's record (default\n"
		     "                         " OCITAP_DEFAULT_STATE_DIR "; $" OCITAP_ENV_STATE_DIR ")\n"
		     "  -h, --help             this text\n"
		     "\n"
		     "A container that has stopped: where ocitapd wrote its profile, or why it wrote none.\n"
		     "\n"
		     "Exit status: 0; 1 when ocitapd cannot give the profile (not reachable, BPF off, the\n"
		     "container not traced, or stopped) or ID means several containers, or FILE cannot be\n"
		     "written; 2 on a bad command line (a prefix under 3 characters too); 3 when neither\n"
		     "ocitapd nor its record knows ID.\n");
}

/* With --json: {"id", "profile"} on stdout, or {"id", "output", "syscalls"}
 * once the profile is in FILE. */
static void print_json(const char *id, struct json_object *profile, const char *output, size_t n)
{
	_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	if (output) {
		json_object_object_add(o, "output", json_object_new_string(output));
		json_object_object_add(o, "syscalls", json_object_new_int64((int64_t)n));
	} else {
		json_object_object_add(o, "profile", json_object_get(profile));
	}
	cli_print_json(o);
}

/* The profile as text, to FILE (atomically) or stdout. */
static int write_profile(struct json_object *profile, const char *id, const char *output)
{
	const char *text = json_object_to_json_string_ext(profile, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
									   JSON_C_TO_STRING_NOSLASHESCAPE);
	struct ocitap_error err = { 0 };
	struct json_object *names;
	_cleanup_free_ char *copy = NULL;
	char line[512];
	size_t n = 0;

	if (!output || strcmp(output, "-") == 0) {
		if (cli.json)
			print_json(id, profile, NULL, 0);
		else
			printf("%s\n", text);
		return EXIT_OK;
	}
	if (json_object_object_get_ex(profile, "syscalls", &names) && json_object_array_length(names) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(names, 0), "names", &names))
		n = json_object_array_length(names);
	if (asprintf(&copy, "%s\n", text) < 0) {
		copy = NULL;
		return cli_fail(EXIT_INVALID, "out of memory");
	}
	if (ocitap_write_file_atomic(output, copy, strlen(copy), 0644, &err) < 0)
		return cli_fail(EXIT_INVALID, "cannot write %s: %s", output,
				ocitap_error_format(&err, line, sizeof(line)));
	if (cli.json)
		print_json(id, profile, output, n);
	else
		cli_note("profile of %s: %zu syscall%s allowed, written to %s", id, n, n == 1 ? "" : "s", output);
	return EXIT_OK;
}

/*
 * ocitapd tracks no live container id: if its record has a run that ended,
 * say what became of that run's profile (written where, or why not) and
 * return the exit status; -ENOENT when the record does not know it either.
 */
static int explain_ended_run(struct cli_http *http, const char *state_dir, const char *id)
{
	_cleanup_(json_object_putp) struct json_object *record = NULL;
	struct ocitap_error err = { 0 };
	struct json_object *p;
	const char *status, *pstatus, *path, *error;
	char how[1024];

	if (records_get(http, state_dir, id, 0, &record, how, sizeof(how), &err) < 0)
		return -ENOENT;
	status = cli_json_string(record, "status");
	if (!status || (strcmp(status, "stopped") != 0 && strcmp(status, "failed") != 0))
		return -ENOENT; /* not ended: the daemon's own answer says it best */
	p = json_object_object_get(record, "profile");
	pstatus = p ? cli_json_string(p, "status") : NULL;
	path = p ? cli_json_string(p, "path") : NULL;
	error = p ? cli_json_string(p, "error") : NULL;
	if (!pstatus)
		return cli_fail(EXIT_INVALID,
				"container '%s' has %s and was not traced (no %s annotation, and ocitapd not "
				"--trace-syscalls=all): no profile was written",
				id, status, OCITAP_TRACE_ANNOTATION);
	if (strcmp(pstatus, "written") == 0)
		return cli_fail(EXIT_INVALID,
				"container '%s' has %s: its profile was written to %s when it stopped (this "
				"command gives a running container's)",
				id, status, path ? path : "?");
	if (strcmp(pstatus, "pending") == 0)
		return cli_fail(EXIT_INVALID, "container '%s' has %s: its profile is being written to %s", id, status,
				path ? path : "?");
	return cli_fail(EXIT_INVALID, "container '%s' has %s: no profile was written%s%s (%s)%s%s", id, status,
			path ? " to " : "", path ? path : "", pstatus, error ? ": " : "", error ? error : "");
}

const struct option cmd_profile_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "http", required_argument, NULL, CLI_OPT_HTTP },
	{ "http-token-file", required_argument, NULL, CLI_OPT_TOKEN },
	{ "state-dir", required_argument, NULL, CLI_OPT_STATE_DIR },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

int cmd_profile(int argc, char **argv)
{
	_cleanup_(cli_http_release) struct cli_http http = { 0 };
	_cleanup_(json_object_putp) struct json_object *profile = NULL;
	_cleanup_(curl_freep) char *esc = NULL;
	_cleanup_(records_refs_release) struct records_refs refs = { 0 };
	struct ocitap_error err = { 0 };
	struct cli_sources src;
	const char *output = NULL, *id;
	char path[2048];
	int opt, r;

	cli.command = "profile";
	cli_sources_init(&src);
	while ((opt = cli_getopt(argc, argv, "o:h", cmd_profile_options)) != -1) {
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			if (cli_sources_option(&src, opt, optarg))
				break;
			return EXIT_USAGE; /* CLI_OPT_BAD: said */
		}
	}
	if (cli_container_id(argc, argv, optind, &id, &err) < 0)
		return cli_fail(EXIT_USAGE, "%s", err.message);
	if ((r = cli_http_init(&http, src.http, src.token_file, &err)) < 0)
		return cli_fail(cli_http_init_status(r), "%s", err.message);
	if (cli_http_off(&http))
		return cli_fail(EXIT_USAGE, "--http off: only ocitapd knows a container's syscalls");
	/* a name or an id prefix: the id it means on ocitap's record */
	if (records_refs_load(&refs, &http, src.state_dir) < 0)
		return cli_fail(EXIT_INVALID, "out of memory");
	r = records_refs_resolve(&refs, id, &id, &err);
	if (r < 0 && r != -ENOENT)
		return cli_fail(records_refs_exit_status(r), "%s", err.message);
	esc = curl_easy_escape(http.curl, id, 0);
	if (!esc)
		return cli_fail(EXIT_INVALID, "out of memory");
	snprintf(path, sizeof(path), "/v1/containers/%s/profile", esc);
	r = cli_http_get_json(&http, path, &profile, &err);
	if (cli_http_unreachable(r))
		return cli_fail(EXIT_INVALID, "ocitapd at %s is not reachable: %s", http.where, err.message);
	if (r == -ENOENT && (r = explain_ended_run(&http, src.state_dir, id)) != -ENOENT)
		return r;
	if (r < 0)
		return cli_fail(r == -ENOENT ? EXIT_NOT_FOUND : EXIT_INVALID, "container '%s': %s", id, err.message);
	return write_profile(profile, id, output);
}
