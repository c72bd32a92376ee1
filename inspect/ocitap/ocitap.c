/*
 * ocitap.c: the ocitap command line. The table of sub-commands (what
 * dispatch, --help and the completion script are made from), the global
 * --help/--version, and dispatch; the commands live in cmd_*.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

const struct cli_command cli_commands[] = {
	{ "events", cmd_events, "the event log of every container, from ocitapd or its store; --follow",
	  cmd_events_options, NULL },
	{ "hooks", cmd_hooks, "explain which hooks.d files apply to a bundle and why; lint hooks.d", cmd_hooks_options,
	  cmd_hooks_subcommands },
	{ "inspect", cmd_inspect, "one container: state, bundle, timeline, exit, and its init process from /proc",
	  cmd_inspect_options, NULL },
	{ "profile", cmd_profile, "the seccomp profile of a traced container's syscalls so far (needs ocitapd)",
	  cmd_profile_options, NULL },
	{ "ps", cmd_ps, "containers: ocitap's record merged with what runc and crun report", cmd_ps_options, NULL },
	{ "validate", cmd_validate, "parse and validate an OCI State, ContainerProcessState or config.json",
	  cmd_validate_options, NULL },
	{ "version", cmd_version, "this ocitap's version and how it was built; --json", cmd_version_options, NULL },
	{ "completion", cmd_completion, "a bash completion script made from this table: ocitap completion bash",
	  cmd_completion_options, cmd_completion_subcommands },
};
const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap [-V|--version] [-h|--help] COMMAND [ARGS...]\n"
		     "\n"
		     "Inspect OCI containers and what runtimes send to hooks and seccomp agents.\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < cli_n_commands; i++)
		fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(out, "\nEvery command takes --json, and its options before or after its operands ('--'\n"
		     "ends them). 'ocitap COMMAND --help' describes a command; man ocitap(1) has examples.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (strcmp(name, cli_commands[i].name) == 0)
			return &cli_commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	cli.json = cli_wants_json(argc, argv, 2);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (strcmp(name, "help") == 0 && argc > 2) {
			char *help_argv[] = { argv[2], "--help", NULL };

			if ((c = find_command(argv[2])))
				return c->run(2, help_argv);
			fprintf(stderr, "ocitap: unknown command '%s' (see 'ocitap --help')\n", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	/* the line every ocitap program prints; `ocitap version` says more */
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("ocitap %s\n", OCITAP_VERSION);
		return EXIT_OK;
	}
	if ((c = find_command(name)))
		return c->run(argc - 1, argv + 1);
	if (name[0] == '-')
		fprintf(stderr, "ocitap: unknown option '%s'; see 'ocitap --help'\n", name);
	else
		fprintf(stderr, "ocitap: unknown command '%s'; see 'ocitap --help'\n", name);
	return EXIT_USAGE;
}
