/*
 * commands.h: the ocitap CLI's sub-commands. Each lives in its own
 * cmd_<name>.c and is listed in the table in ocitap.c.
 *
 * A command gets argv with argv[0] set to its own name, returns the process
 * exit status (see EXIT STATUS in ocitap(1)) and prints its own errors.
 */
#ifndef OCITAP_COMMANDS_H
#define OCITAP_COMMANDS_H

enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1,   /* the input was read and is not valid, or the operation failed */
	EXIT_USAGE = 2,	    /* bad command line */
	EXIT_NOT_FOUND = 3, /* no such container (inspect) */
};

#include <getopt.h>
#include <stddef.h>

/* One row of the command table (ocitap.c): what dispatch, --help and the
 * completion script (cmd_completion.c) are made from. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const struct option *options;	/* its long options, { 0 }-terminated */
	const char *const *subcommands; /* NULL-terminated words it takes first, or NULL */
};

/* The table, in the order --help lists it. */
extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;

int cmd_validate(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_hooks(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_completion(int argc, char **argv);

/* Each command's options, beside its code. */
extern const struct option cmd_validate_options[], cmd_events_options[], cmd_hooks_options[], cmd_ps_options[],
	cmd_inspect_options[], cmd_profile_options[], cmd_version_options[], cmd_completion_options[];
extern const char *const cmd_hooks_subcommands[], *const cmd_completion_subcommands[];

#endif
