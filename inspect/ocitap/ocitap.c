/*
 * ocitap.c: the ocitap command line. A table of sub-commands, global
 * --help/--version, and dispatch; the commands live in cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "events", cmd_events, "the event log of every container, from ocitapd or its store; --follow" },
	{ "hooks", cmd_hooks, "explain which hooks.d files apply to a bundle and why; lint hooks.d" },
	{ "inspect", cmd_inspect, "one container: state, bundle, timeline, exit, and its init process from /proc" },
	{ "profile", cmd_profile, "the seccomp profile of a traced container's syscalls so far (needs ocitapd)" },
	{ "ps", cmd_ps, "containers: ocitap's record merged with what runc and crun report" },
	{ "validate", cmd_validate, "parse and validate an OCI State, ContainerProcessState or config.json" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap [--version] [--help] COMMAND [ARGS...]\n"
		     "\n"
		     "Inspect OCI containers and what runtimes send to hooks and seccomp agents.\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'ocitap COMMAND --help' describes a command; man ocitap(1) has examples.\n");
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (strcmp(name, "help") == 0 && argc > 2) {
			char *help_argv[] = { argv[2], "--help", NULL };

			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return commands[i].run(2, help_argv);
			fprintf(stderr, "ocitap: unknown command '%s'\n", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("ocitap %s\n", OCITAP_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ocitap: unknown command '%s' (see 'ocitap --help')\n", name);
	return EXIT_USAGE;
}
