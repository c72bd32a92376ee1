/*
 * cmd_completion.c: `ocitap completion bash`: a bash completion script made
 * from the command table (ocitap.c) and each command's options, so that it
 * never lists a command or an option the binary does not take. `make
 * install` installs its output as the bash-completion file of ocitap.
 * --json gives the same table as JSON, for other shells and tools.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "commands.h"

const struct option cmd_completion_options[] = {
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
const char *const cmd_completion_subcommands[] = { "bash", NULL };

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap completion bash\n"
		     "       ocitap completion --json\n"
		     "\n"
		     "A bash completion script for ocitap, made from its command table: load it with\n"
		     "  source <(ocitap completion bash)\n"
		     "or let make install put it in bash-completion's directory.\n"
		     "\n"
		     "      --json             the table instead: each command, its sub-commands and\n"
		     "                         options (and whether each takes a value)\n"
		     "  -h, --help             this text\n");
}

/* The words of c's options: " --a --b" (those taking a value only, or all). */
static void print_options(const struct cli_command *c, bool with_value_only)
{
	for (const struct option *o = c->options; o && o->name; o++)
		if (!with_value_only || o->has_arg == required_argument)
			printf(" --%s", o->name);
}

static void print_bash(void)
{
	printf("# bash completion for ocitap(1), made by 'ocitap completion bash' (ocitap %s)\n"
	       "# from its command table: regenerate it rather than edit it.\n"
	       "_ocitap() {\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= sub= i\n"
	       "\tlocal subs= opts= valued=\n"
	       "\t((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	       "\tCOMPREPLY=()\n"
	       "\t# the command, and the word after it (a sub-command, for those that have them)\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tcase ${COMP_WORDS[i]} in\n"
	       "\t\t-*) ;;\n"
	       "\t\t*) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ -z $sub ]]; then sub=${COMP_WORDS[i]}; fi "
	       ";;\n"
	       "\t\tesac\n"
	       "\tdone\n"
	       "\tcase $cmd in\n"
	       "\t'')\n"
	       "\t\tif [[ $cur == -* ]]; then\n"
	       "\t\t\tCOMPREPLY=($(compgen -W '--help --version -h -V' -- \"$cur\"))\n"
	       "\t\telse\n"
	       "\t\t\tCOMPREPLY=($(compgen -W 'help",
	       OCITAP_VERSION);
	for (size_t i = 0; i < cli_n_commands; i++)
		printf(" %s", cli_commands[i].name);
	printf("' -- \"$cur\"))\n"
	       "\t\tfi\n"
	       "\t\treturn ;;\n"
	       "\thelp)\n"
	       "\t\t[[ -z $sub ]] && COMPREPLY=($(compgen -W '");
	for (size_t i = 0; i < cli_n_commands; i++)
		printf("%s%s", i ? " " : "", cli_commands[i].name);
	printf("' -- \"$cur\"))\n"
	       "\t\treturn ;;\n");
	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = &cli_commands[i];

		printf("\t%s)\n\t\tsubs='", c->name);
		for (size_t j = 0; c->subcommands && c->subcommands[j]; j++)
			printf("%s%s", j ? " " : "", c->subcommands[j]);
		printf("'\n\t\topts='");
		print_options(c, false);
		printf(" '\n\t\tvalued='");
		print_options(c, true);
		printf(" ' ;;\n");
	}
	printf("\t*) return ;;\n"
	       "\tesac\n"
	       "\tif [[ -n $subs && -z $sub ]]; then\n"
	       "\t\t[[ $cur != -* ]] && COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\t# the value of an option that takes one: a file name is the usual kind\n"
	       "\tif [[ $valued == *\" $prev \"* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\tif [[ $cur == -* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	       "\telse\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\tfi\n"
	       "}\n"
	       "complete -o filenames -F _ocitap ocitap\n");
}

static struct json_object *table_json(void)
{
	struct json_object *cmds = json_object_new_array();

	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = &cli_commands[i];
		struct json_object *o = json_object_new_object(), *opts = json_object_new_array(), *subs = NULL;

		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "summary", json_object_new_string(c->summary));
		if (c->subcommands) {
			subs = json_object_new_array();
			for (size_t j = 0; c->subcommands[j]; j++)
				json_object_array_add(subs, json_object_new_string(c->subcommands[j]));
		}
		json_object_object_add(o, "subcommands", subs);
		for (const struct option *p = c->options; p && p->name; p++) {
			struct json_object *opt = json_object_new_object();

			json_object_object_add(opt, "name", json_object_new_string(p->name));
			json_object_object_add(opt, "value", json_object_new_boolean(p->has_arg == required_argument));
			json_object_array_add(opts, opt);
		}
		json_object_object_add(o, "options", opts);
		json_object_array_add(cmds, o);
	}
	return cmds;
}

int cmd_completion(int argc, char **argv)
{
	int opt;

	cli.command = "completion";
	while ((opt = cli_getopt(argc, argv, "h", cmd_completion_options)) != -1) {
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
	if (cli.json) {
		_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

		if (optind < argc && strcmp(argv[optind], "bash") != 0)
			return cli_fail(EXIT_USAGE, "unknown shell '%s' (bash)", argv[optind]);
		json_object_object_add(o, "commands", table_json());
		cli_print_json(o);
		return EXIT_OK;
	}
	if (optind == argc)
		return cli_fail(EXIT_USAGE, "expected a shell: bash");
	if (strcmp(argv[optind], "bash") != 0)
		return cli_fail(EXIT_USAGE, "unknown shell '%s' (bash)", argv[optind]);
	if (optind + 1 != argc)
		return cli_fail(EXIT_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	print_bash();
	return EXIT_OK;
}
