/*
 * cmd_validate.c: `ocitap validate`: parse and validate what a runtime sends
 * (a hook's State, a seccomp agent's ContainerProcessState) or a bundle's
 * config.json, and print it (a State normalized; a config.json whole, every
 * field as read, so that the output is still the bundle's config); or
 * check an ocitapd policy file. The same parsers the hooks and the daemon
 * use, so what passes here passes there.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "macro.h"
#include "number.h"
#include "json-util.h"
#include "ocitap-private.h"

enum kind { KIND_AUTO = -1, KIND_POLICY = OCITAP_DOC_CONFIG + 1 };

static const char *const kind_names[] = {
	[OCITAP_DOC_STATE] = "state",
	[OCITAP_DOC_PROCESS_STATE] = "process-state",
	[OCITAP_DOC_CONFIG] = "config",
	[KIND_POLICY] = "policy",
};

struct validate_opts {
	int kind;
	unsigned flags;
	bool json;
	bool quiet;
	bool compact;
	int timeout_ms;
	struct ocitap_limits lim;
};

static void help(FILE *out)
{
	fprintf(out, "usage: ocitap validate [OPTIONS] [FILE|-]...\n"
		     "\n"
		     "Parse and validate an OCI State (what a hook reads on stdin), a\n"
		     "ContainerProcessState (what a seccomp agent receives) or a config.json,\n"
		     "and print it: a State normalized, a config.json whole (every field as read,\n"
		     "so it can replace the file); or check an ocitapd policy file\n"
		     "(ocitapd-policy(5)) and print its policies. With no FILE, or FILE -, read\n"
		     "standard input.\n"
		     "\n"
		     "  -k, --kind KIND     state, process-state, config, policy, or auto (default:\n"
		     "                      guessed from the top-level keys; \"policies\" is a policy)\n"
		     "  -s, --strict        also require what the spec requires but runtimes\n"
		     "                      omit (pid while created/running, ociVersion, bundle)\n"
		     "      --json          on failure, also print the error as JSON on stdout\n"
		     "  -c, --compact       print the JSON on one line\n"
		     "  -q, --quiet         print nothing on success\n"
		     "      --max-size N    refuse input over N bytes (default 1048576)\n"
		     "      --timeout MS    give up on input that has not ended after MS ms\n"
		     "                      (default 10000; 0 waits forever)\n"
		     "  -h, --help          show this help\n"
		     "\n"
		     "exit status: 0 valid, 1 invalid or unreadable, 2 usage error\n");
}

static int parse_kind(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return KIND_AUTO;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -2;
}

static void report(const struct validate_opts *o, const char *label, const char *kind, const struct ocitap_error *err)
{
	char line[OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 8];

	fprintf(stderr, "ocitap: %s: %s\n", label, ocitap_error_format(err, line, sizeof(line)));
	if (o->json) {
		json_object *j = json_object_new_object();
		const char *name = strerrorname_np(-err->code);

		json_object_object_add(j, "valid", json_object_new_boolean(0));
		json_object_object_add(j, "file", json_object_new_string(label));
		if (kind)
			json_object_object_add(j, "kind", json_object_new_string(kind));
		json_object_object_add(j, "field", err->field[0] ? json_object_new_string(err->field) : NULL);
		json_object_object_add(j, "error", json_object_new_string(err->message));
		json_object_object_add(j, "errno", name ? json_object_new_string(name) : NULL);
		printf("%s\n",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	}
}

/* A policy file has "policies" at the top (or "default", a policy's key
 * put one level too high), and none of the OCI documents' keys. */
static bool looks_like_policy(const char *buf, size_t len)
{
	static const char *const oci[] = { "ociVersion", "id", "status", "process", "root", "state", "fds" };
	json_tokener *tok = json_tokener_new();
	json_object *root = tok ? json_tokener_parse_ex(tok, buf, (int)(len > INT_MAX ? INT_MAX : len)) : NULL;
	bool yes = json_object_is_type(root, json_type_object) && (json_object_object_get_ex(root, "policies", NULL) ||
								   json_object_object_get_ex(root, "policy", NULL) ||
								   json_object_object_get_ex(root, "default", NULL));

	for (size_t i = 0; yes && i < ELEMENTSOF(oci); i++)
		yes = !json_object_object_get_ex(root, oci[i], NULL);
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return yes;
}

/* Check a policy file as ocitapd would load it; print its policies. */
static int validate_policy(const struct validate_opts *o, const char *label, const char *buf, size_t len)
{
	struct ocitap_policy_set *set = NULL;
	struct ocitap_error err = { 0 };
	json_object *names;

	if (ocitap_policy_set_parse(buf, len, &o->lim, &set, &err) < 0) {
		report(o, label, "policy", &err);
		return EXIT_INVALID;
	}
	names = json_object_new_array();
	for (size_t i = 0; i < ocitap_policy_set_count(set); i++)
		json_object_array_add(names, json_object_new_string(ocitap_policy_name(ocitap_policy_set_get(set, i))));
	if (!o->quiet && o->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "valid", json_object_new_boolean(1));
		json_object_object_add(j, "file", json_object_new_string(label));
		json_object_object_add(j, "kind", json_object_new_string("policy"));
		json_object_object_add(j, "policies", json_object_get(names));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else if (!o->quiet) {
		printf("%s: a valid policy file: %zu policies (built in: audit, deny)", label,
		       ocitap_policy_set_count(set) - 2);
		for (size_t i = 2; i < json_object_array_length(names); i++)
			printf("%s%s", i == 2 ? ": " : ", ",
			       json_object_get_string(json_object_array_get_idx(names, i)));
		printf("\n");
	}
	json_object_put(names);
	ocitap_policy_set_free(set);
	return EXIT_OK;
}

/* The document as it was read, every field kept (json-c keeps the order
 * of the keys; a key given twice is kept once, the last). */
static int config_as_parsed(const char *buf, size_t len, const struct ocitap_limits *lim, bool compact, char **ret,
			    struct ocitap_error *err)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (compact ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	_cleanup_(json_object_putp) json_object *root = NULL;
	char *text;
	int r;

	r = ocitap_json_parse_object(buf, len, lim, "a config.json", &root, err);
	if (r < 0)
		return r;
	text = strdup(json_object_to_json_string_ext(root, flags));
	if (!text)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	*ret = text;
	return 0;
}

static int validate_one(const struct validate_opts *o, const char *path)
{
	const char *label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	unsigned out_flags = o->compact ? 0 : OCITAP_JSON_PRETTY;
	struct ocitap_error err = { 0 };
	_cleanup_free_ char *buf = NULL, *json = NULL;
	size_t len;
	int kind = o->kind, r;

	r = ocitap_read_file(path, o->lim.max_bytes, o->timeout_ms, &buf, &len, &err);
	if (r < 0) {
		report(o, label, kind >= 0 ? kind_names[kind] : NULL, &err);
		return EXIT_INVALID;
	}
	if (kind == KIND_AUTO)
		kind = looks_like_policy(buf, len) ? KIND_POLICY : (int)ocitap_doc_kind_guess(buf, len, &o->lim);
	if (kind == KIND_POLICY)
		return validate_policy(o, label, buf, len);

	switch (kind) {
	case OCITAP_DOC_STATE: {
		struct ocitap_state st;

		r = ocitap_state_parse(buf, len, o->flags, &o->lim, &st, &err);
		if (r >= 0) {
			r = ocitap_state_to_json(&st, out_flags, &json, &err);
			ocitap_state_release(&st);
		}
		break;
	}
	case OCITAP_DOC_PROCESS_STATE: {
		struct ocitap_process_state ps;

		r = ocitap_process_state_parse(buf, len, o->flags, &o->lim, OCITAP_FDS_UNKNOWN, &ps, &err);
		if (r >= 0) {
			r = ocitap_process_state_to_json(&ps, out_flags, &json, &err);
			ocitap_process_state_release(&ps);
		}
		break;
	}
	default: {
		struct ocitap_config cfg;

		/* checked by the parser the hooks use, printed whole: a config.json
		 * is a bundle's, and one with fields dropped would break it */
		r = ocitap_config_parse(buf, len, o->flags, &o->lim, &cfg, &err);
		if (r >= 0) {
			ocitap_config_release(&cfg);
			r = config_as_parsed(buf, len, &o->lim, o->compact, &json, &err);
		}
		break;
	}
	}
	if (r < 0) {
		report(o, label, kind_names[kind], &err);
		return EXIT_INVALID;
	}
	if (!o->quiet)
		printf("%s\n", json);
	return EXIT_OK;
}

enum { OPT_JSON = 256, OPT_MAX_SIZE, OPT_TIMEOUT };
const struct option cmd_validate_options[] = {
	{ "kind", required_argument, NULL, 'k' },
	{ "strict", no_argument, NULL, 's' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "compact", no_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

int cmd_validate(int argc, char **argv)
{
	struct validate_opts o = { .kind = KIND_AUTO, .timeout_ms = 10000 };
	int c, status = EXIT_OK;
	int64_t v;

	ocitap_limits_init(&o.lim);
	cli.command = "validate";
	while ((c = cli_getopt(argc, argv, "k:scqh", cmd_validate_options)) != -1) {
		switch (c) {
		case 'k':
			o.kind = parse_kind(optarg);
			if (o.kind == -2) {
				fprintf(stderr,
					"ocitap validate: unknown kind '%s' (expected state, process-state, config, "
					"policy or auto)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			o.flags |= OCITAP_PARSE_STRICT;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'c':
			o.compact = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case OPT_MAX_SIZE:
			if (ocitap_parse_int64(optarg, 1, INT64_C(1) << 30, &v) < 0) {
				fprintf(stderr,
					"ocitap validate: --max-size: expected bytes from 1 to 1073741824, got '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			o.lim.max_bytes = (size_t)v;
			break;
		case OPT_TIMEOUT:
			if (ocitap_parse_int64(optarg, 0, INT_MAX, &v) < 0) {
				fprintf(stderr, "ocitap validate: --timeout: expected milliseconds, got '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			o.timeout_ms = v == 0 ? -1 : (int)v;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default: /* CLI_OPT_BAD: said */
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return validate_one(&o, "-");
	for (int i = optind; i < argc; i++)
		if (validate_one(&o, argv[i]) != EXIT_OK)
			status = EXIT_INVALID;
	return status;
}
