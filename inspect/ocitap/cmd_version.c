/*
 * cmd_version.c: `ocitap version [--json]`: the version line every ocitap
 * program prints with --version, and how this one was built: the commit it
 * was built from (when built from git), the compiler, and the versions of
 * the libraries it runs with (asked of them, not of their headers).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"
#include "commands.h"
#include "commit.h" /* OCITAP_COMMIT, generated: "" outside git */

const struct option cmd_version_options[] = {
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap version [--json]\n"
		     "\n"
		     "The version line every ocitap program prints with --version (ocitap, ocitapd,\n"
		     "ocitap-hook, ocitap-runtime, ocitap-fdkeeper), then the commit this ocitap was\n"
		     "built from, its compiler, and the json-c and libcurl it runs with.\n"
		     "\n"
		     "      --json             {\"version\", \"commit\", \"compiler\", \"libraries\"}\n"
		     "  -h, --help             this text\n");
}

#ifdef __clang__
#define COMPILER "clang " __clang_version__
#else
#define COMPILER "gcc " __VERSION__
#endif

int cmd_version(int argc, char **argv)
{
	const char *curl = curl_version_info(CURLVERSION_NOW)->version;
	int opt;

	cli.command = "version";
	while ((opt = cli_getopt(argc, argv, "h", cmd_version_options)) != -1) {
		switch (opt) {
		case CLI_OPT_JSON:
			cli.json = true;
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
	if (cli.json) {
		_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
		struct json_object *libs = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_string(OCITAP_VERSION));
		json_object_object_add(o, "commit", OCITAP_COMMIT[0] ? json_object_new_string(OCITAP_COMMIT) : NULL);
		json_object_object_add(o, "compiler", json_object_new_string(COMPILER));
		json_object_object_add(libs, "json-c", json_object_new_string(json_c_version()));
		json_object_object_add(libs, "libcurl", json_object_new_string(curl));
		json_object_object_add(o, "libraries", libs);
		cli_print_json(o);
		return EXIT_OK;
	}
	printf("ocitap %s\n", OCITAP_VERSION);
	printf("commit: %s\n", OCITAP_COMMIT[0] ? OCITAP_COMMIT : "unknown (not built from git)");
	printf("compiler: %s\n", COMPILER);
	printf("libraries: json-c %s, libcurl %s\n", json_c_version(), curl);
	return EXIT_OK;
}
