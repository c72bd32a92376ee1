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

int cmd_validate(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_hooks(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_profile(int argc, char **argv);

#endif
