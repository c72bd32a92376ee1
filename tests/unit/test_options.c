/*
 * test_options.c: ocitapd's command line and environment
 * (inspect/ocitapd/options.c): the defaults of DESIGN.md, the environment
 * over the defaults, a flag over the environment, every bad value an error
 * naming the flag (or variable) and the value, --help and --version, the
 * keeper's socket next to the daemon's, and the test-only OCITAP_FAULT.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../inspect/ocitapd/ocitapd.h"
#include "testutil.h"

static const char *const env_names[] = { "OCITAP_SOCKET", "OCITAP_STATE_DIR",	 "OCITAP_HTTP",	 "OCITAP_KEEPER",
					 "OCITAP_BPF",	  "OCITAP_TRACE_SYSCALLS", "OCITAP_FAULT", "OCITAP_CONTAINER_SOCKET",
					 "OCITAP_PROFILE_DIR", "OCITAP_PUSH_FORMAT", "OCITAP_DOCKER_ROOT", "OCITAP_SOCKET_GROUP",
					 "OCITAP_SOCKET_MODE", "OCITAP_USER_RUNTIME_DIR", "OCITAP_CONFIG" };

static int clean_env(void **state)
{
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	return 0;
}

/* options_parse() of a NULL-terminated argument list (argv[0] is added) */
static int parse(struct ocitapd_options *o, struct ocitap_error *err, ...)
{
	char *argv[32] = { "ocitapd" };
	int argc = 1;
	va_list ap;
	FILE *out = fopen("/dev/null", "we");
	int r;

	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	ocitap_error_clear(err);
	r = options_parse(o, argc, argv, out, err);
	fclose(out);
	return r;
}

static void test_defaults(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.socket_path, "/run/ocitap/ocitap.sock");
	assert_string_equal(o.state_dir, "/var/lib/ocitap");
	assert_string_equal(o.http, "127.0.0.1:9476");
	assert_string_equal(o.keeper_path, "/run/ocitap/keeper.sock"); /* next to the socket */
	assert_string_equal(o.container_socket, "/run/ocitap/container/ocitap.sock");
	assert_null(o.policy_path);
	assert_true(o.bpf);
	assert_int_equal(o.trace, TRACE_ANNOTATED);
	assert_int_equal(o.level, LOG_INFO);
	assert_int_equal(o.retention_s, 86400);
	assert_int_equal(o.timeout_ms, 2000);
	assert_int_equal(o.sync_interval_ms, 1000);
	assert_int_equal(o.push_backlog, 100000);
	assert_int_equal(o.push_format, PUSH_CLOUDEVENTS_BATCH);
	assert_int_equal(o.n_push, 0);
	assert_int_equal(o.n_allow, 0);
	assert_false(o.replace);
	assert_int_equal(o.fault, FAULT_NONE);
	assert_string_equal(o.profile_dir, "/var/lib/ocitap/profiles");
	assert_int_equal(o.n_profile_allow, 0);
	assert_string_equal(o.docker_root, "/var/lib/docker");
	assert_null(o.socket_group);
	assert_int_equal(o.socket_gid, getegid());
	assert_int_equal(o.socket_mode, 0600);
	assert_false(o.socket_mode_given);
	assert_string_equal(o.user_runtime_dir, "/run/user");
}

static void test_environment_then_flags(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	setenv("OCITAP_SOCKET", "/tmp/env/ocitap.sock", 1);
	setenv("OCITAP_STATE_DIR", "/tmp/env-state", 1);
	setenv("OCITAP_HTTP", "unix:/tmp/env.http", 1);
	setenv("OCITAP_BPF", "off", 1);
	setenv("OCITAP_TRACE_SYSCALLS", "all", 1);
	setenv("OCITAP_PUSH_FORMAT", "ndjson", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.push_format, PUSH_NDJSON);
	assert_string_equal(o.socket_path, "/tmp/env/ocitap.sock");
	assert_string_equal(o.state_dir, "/tmp/env-state");
	assert_string_equal(o.http, "unix:/tmp/env.http");
	assert_string_equal(o.keeper_path, "/tmp/env/keeper.sock");
	assert_false(o.bpf);
	assert_int_equal(o.trace, TRACE_ALL);

	/* a flag wins over the environment */
	assert_int_equal(parse(&o, &err, "--socket", "/tmp/flag/s.sock", "-d", "/tmp/flag-state", "--http", "off",
			       "--bpf", "on", "--trace-syscalls", "off", "--push-format", "json", NULL),
			 OPTIONS_RUN);
	assert_int_equal(o.push_format, PUSH_JSON);
	assert_string_equal(o.socket_path, "/tmp/flag/s.sock");
	assert_string_equal(o.state_dir, "/tmp/flag-state");
	assert_string_equal(o.http, "off");
	assert_string_equal(o.keeper_path, "/tmp/flag/keeper.sock");
	assert_true(o.bpf);
	assert_int_equal(o.trace, TRACE_OFF);

	assert_string_equal(o.container_socket, "/tmp/flag/container/ocitap.sock");
	assert_int_equal(parse(&o, &err, "--container-socket", "off", NULL), OPTIONS_RUN);
	assert_null(o.container_socket);
	setenv("OCITAP_CONTAINER_SOCKET", "/tmp/c/r.sock", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.container_socket, "/tmp/c/r.sock");
	assert_int_equal(parse(&o, &err, "--container-socket", "/tmp/d/r.sock", NULL), OPTIONS_RUN);
	assert_string_equal(o.container_socket, "/tmp/d/r.sock");
	unsetenv("OCITAP_CONTAINER_SOCKET");

	setenv("OCITAP_KEEPER", "/tmp/k.sock", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.keeper_path, "/tmp/k.sock");
	assert_int_equal(parse(&o, &err, "--keeper", "off", NULL), OPTIONS_RUN);
	assert_null(o.keeper_path);

	/* Docker's data root, where its containers' names are */
	setenv("OCITAP_DOCKER_ROOT", "/srv/docker", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.docker_root, "/srv/docker");
	assert_int_equal(parse(&o, &err, "--docker-root", "/data/docker", NULL), OPTIONS_RUN);
	assert_string_equal(o.docker_root, "/data/docker");
	assert_int_equal(parse(&o, &err, "--docker-root", "off", NULL), OPTIONS_RUN);
	assert_null(o.docker_root);
	setenv("OCITAP_DOCKER_ROOT", "docker", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_DOCKER_ROOT");
	unsetenv("OCITAP_DOCKER_ROOT");
}

static void test_every_flag(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	assert_int_equal(parse(&o, &err, "-p", "/etc/p.json", "--allow-uid", "1000", "--allow-uid", "0", "--retention",
			       "60", "--peer-timeout", "500", "--sync-interval", "0", "--log-level", "debug", "--push",
			       "http://127.0.0.1:1/a", "--push", "http://127.0.0.1:1/b", "--push-backlog", "5",
			       "--push-token-file", "/t", "--push-ca-file", "/ca", "--http-token-file", "/ht",
			       "--push-format", "cloudevents", "--replace", NULL),
			 OPTIONS_RUN);
	assert_string_equal(o.policy_path, "/etc/p.json");
	assert_int_equal(o.n_allow, 2);
	assert_int_equal(o.allow[0], 1000);
	assert_int_equal(o.retention_s, 60);
	assert_int_equal(o.timeout_ms, 500);
	assert_int_equal(o.sync_interval_ms, 0);
	assert_int_equal(o.level, LOG_DEBUG);
	assert_int_equal(o.n_push, 2);
	assert_string_equal(o.push[1], "http://127.0.0.1:1/b");
	assert_int_equal(o.push_backlog, 5);
	assert_string_equal(o.push_token_file, "/t");
	assert_string_equal(o.push_ca_file, "/ca");
	assert_string_equal(o.http_token_file, "/ht");
	assert_int_equal(o.push_format, PUSH_CLOUDEVENTS);
	assert_true(o.replace);
	assert_int_equal(parse(&o, &err, "--push-format", "cloudevents-batch", NULL), OPTIONS_RUN);
	assert_int_equal(o.push_format, PUSH_CLOUDEVENTS_BATCH);
}

/* the value is refused, and the error names the flag and the value */
static void refused(const char *flag, const char *value, const char *field, const char *says)
{
	struct ocitapd_options o;
	struct ocitap_error err;
	char line[512];

	assert_int_equal(parse(&o, &err, flag, value, NULL), -EINVAL);
	ocitap_error_format(&err, line, sizeof(line));
	if (field)
		assert_string_equal(err.field, field);
	if (!strstr(line, says))
		fail_msg("%s %s: \"%s\" does not say \"%s\"", flag, value ? value : "", line, says);
}

/* what the socket-access warnings said, one line after another */
struct said {
	char text[2048];
};

static void collect(void *userdata, const char *line)
{
	struct said *s = userdata;

	snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text), "%s\n", line);
}

static size_t warnings(struct said *s, ...)
{
	char *argv[32] = { "ocitapd" };
	struct ocitapd_options o;
	struct ocitap_error err = { 0 };
	FILE *out = fopen("/dev/null", "we");
	int argc = 1;
	va_list ap;

	va_start(ap, s);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	assert_int_equal(options_parse(&o, argc, argv, out, &err), OPTIONS_RUN);
	fclose(out);
	s->text[0] = '\0';
	return options_socket_warnings(&o, collect, s);
}

/* --socket-group and --socket-mode: who may connect, by flag and by the
 * environment; the default mode follows them and --allow-uid */
static void test_socket_access(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;
	struct said s;

	assert_int_equal(parse(&o, &err, "--allow-uid", "1000", NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_mode, 0666); /* as before: SO_PEERCRED decides */
	assert_int_equal(parse(&o, &err, "--socket-group", "daemon", NULL), OPTIONS_RUN);
	assert_string_equal(o.socket_group, "daemon");
	assert_int_equal(o.socket_gid, 1);
	assert_int_equal(o.socket_mode, 0660);
	assert_int_equal(parse(&o, &err, "--socket-group", "daemon", "--allow-uid", "1000", NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_mode, 0660); /* the group, not everyone */
	assert_int_equal(parse(&o, &err, "--socket-group", "4242", "--socket-mode", "620", NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_gid, 4242);
	assert_int_equal(o.socket_mode, 0620);
	assert_true(o.socket_mode_given);
	assert_int_equal(parse(&o, &err, "--socket-mode", "0", NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_mode, 0);

	setenv("OCITAP_SOCKET_GROUP", "daemon", 1);
	setenv("OCITAP_SOCKET_MODE", "0640", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_gid, 1);
	assert_int_equal(o.socket_mode, 0640);
	assert_int_equal(parse(&o, &err, "--socket-group", "root", "--socket-mode", "0660", NULL), OPTIONS_RUN);
	assert_int_equal(o.socket_gid, 0);
	assert_int_equal(o.socket_mode, 0660);
	setenv("OCITAP_SOCKET_MODE", "rw-r-----", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_SOCKET_MODE");
	unsetenv("OCITAP_SOCKET_MODE");
	setenv("OCITAP_SOCKET_GROUP", "no-such-group-here", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_SOCKET_GROUP");
	unsetenv("OCITAP_SOCKET_GROUP");

	/* where the users' spools are */
	setenv("OCITAP_USER_RUNTIME_DIR", "/tmp/rt", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.user_runtime_dir, "/tmp/rt");
	assert_int_equal(parse(&o, &err, "--user-runtime-dir", "off", NULL), OPTIONS_RUN);
	assert_null(o.user_runtime_dir);
	unsetenv("OCITAP_USER_RUNTIME_DIR");
	refused("--user-runtime-dir", "run/user", "--user-runtime-dir", "expected an absolute directory or off");

	refused("--socket-group", "no-such-group-here", "--socket-group", "no group named 'no-such-group-here'");
	refused("--socket-group", "", "--socket-group", "expected a group name or gid");
	refused("--socket-mode", "rw-rw----", "--socket-mode", "expected an octal mode such as 0660, got 'rw-rw----'");
	refused("--socket-mode", "0680", "--socket-mode", "expected an octal mode");
	refused("--socket-mode", "", "--socket-mode", "expected an octal mode");
	refused("--socket-mode", "-660", "--socket-mode", "expected an octal mode");
	refused("--socket-mode", "4660", "--socket-mode", "only permission bits (at most 0777)");
	refused("--socket-mode", "00660", "--socket-mode", "expected an octal mode");

	/* valid, and said at start when they are not what was likely meant */
	assert_int_equal(warnings(&s, NULL), 0);
	assert_int_equal(warnings(&s, "--allow-uid", "65534", NULL), 0);
	assert_int_equal(warnings(&s, "--allow-uid", "65534", "--socket-group", "nogroup", NULL), 0);
	assert_int_equal(warnings(&s, "--allow-uid", "65534", "--socket-group", "daemon", NULL), 1);
	assert_non_null(strstr(s.text, "--allow-uid 65534 cannot connect: the socket is mode 0660, group daemon, and "
				       "uid 65534 is not a member (add it to the group, or see --socket-mode)"));
	assert_int_equal(warnings(&s, "--allow-uid", "3999999", "--socket-group", "daemon", NULL), 1);
	assert_non_null(strstr(s.text, "uid 3999999 is no user of this host"));
	assert_int_equal(warnings(&s, "--allow-uid", "0", "--socket-mode", "0600", NULL), 0); /* root: always */
	assert_int_equal(warnings(&s, "--allow-uid", "65534", "--socket-mode", "0600", NULL), 1);
	assert_non_null(strstr(s.text, "--allow-uid 65534 cannot connect"));
	assert_int_equal(warnings(&s, "--socket-mode", "0666", NULL), 2);
	assert_non_null(strstr(s.text, "--socket-mode 0666: every user of this host may connect to the socket (only "
				       "root is served)\n"));
	assert_non_null(strstr(s.text, "every user may connect to the socket, but without --allow-uid only root is "
				       "served: the others are refused\n"));
	assert_int_equal(warnings(&s, "--socket-mode", "0622", "--allow-uid", "65534", NULL), 1);
	assert_non_null(strstr(s.text, "(only root and --allow-uid are served)"));
	assert_int_equal(warnings(&s, "--socket-group", "daemon", NULL), 1);
	assert_string_equal(s.text, "the members of group daemon may connect to the socket, but without --allow-uid "
				    "only root is served: the others are refused\n");
	assert_int_equal(warnings(&s, "--socket-group", "daemon", "--socket-mode", "0640", "--allow-uid", "0", NULL),
			 1);
	assert_string_equal(s.text, "--socket-group daemon: its members cannot connect: the socket's mode 0640 gives "
				    "the group no write permission (connect needs it)\n");
}

/* the profile directory: in the state directory, unless told; prefixes repeat */
static void test_profile_dir(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	assert_int_equal(parse(&o, &err, "--state-dir", "/srv/state", NULL), OPTIONS_RUN);
	assert_string_equal(o.profile_dir, "/srv/state/profiles");
	assert_int_equal(parse(&o, &err, "--state-dir", "state", NULL), OPTIONS_RUN);
	assert_null(o.profile_dir); /* relative names have nowhere to go: refused, and said */
	setenv("OCITAP_PROFILE_DIR", "/srv/env-profiles", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.profile_dir, "/srv/env-profiles");
	assert_int_equal(parse(&o, &err, "--profile-dir", "/srv/p", "--profile-allow", "/srv/a", "--profile-allow",
			       "/srv/b", NULL),
			 OPTIONS_RUN);
	assert_string_equal(o.profile_dir, "/srv/p");
	assert_int_equal(o.n_profile_allow, 2);
	assert_string_equal(o.profile_allow[1], "/srv/b");
	setenv("OCITAP_PROFILE_DIR", "relative", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	unsetenv("OCITAP_PROFILE_DIR");
	refused("--profile-dir", "profiles", "--profile-dir", "not an absolute path");
	refused("--profile-allow", "/srv/../etc", "--profile-allow", "\"..\" component");
	refused("--profile-allow", "/", "--profile-allow", "names a directory");
}

static void test_bad_values(void **unused)
{
	refused("--retention", "x", "--retention", "expected seconds, got 'x'");
	refused("--retention", "-1", "--retention", "got '-1'");
	refused("--peer-timeout", "0", "--peer-timeout", "expected milliseconds, got '0'");
	refused("--peer-timeout", "600001", "--peer-timeout", "got '600001'");
	refused("--sync-interval", "3600001", "--sync-interval", "0 to 3600000");
	refused("--push-backlog", "0", "--push-backlog", "expected a number of events");
	refused("--allow-uid", "root", "--allow-uid", "expected a uid");
	refused("--allow-uid", "4294967295", "--allow-uid", "expected a uid");
	refused("--log-level", "loud", "--log-level", "expected error, warning, info or debug, got 'loud'");
	refused("--bpf", "maybe", "--bpf", "\"maybe\" is neither on nor off");
	refused("--trace-syscalls", "some", "--trace-syscalls", "is not annotated, all or off");
	refused("--push-format", "JSON", "--push-format",
		"\"JSON\" is not cloudevents-batch (the default), cloudevents, json or ndjson");
	refused("--push-format", "", "--push-format", "\"\" is not cloudevents-batch");
	refused("--docker-root", "var/lib/docker", "--docker-root", "expected an absolute directory or off");
	refused("--retention", "12abc", "--retention", "got '12abc'");
	refused("extra", NULL, NULL, "unexpected argument 'extra'");
	refused("--no-such-flag", NULL, NULL, "see 'ocitapd --help'");
	{
		char path[200];

		memset(path, 'k', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = '\0';
		refused("--keeper", path, "--keeper", "a socket path is at most 107 bytes");
	}
}

static void test_bad_environment(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	setenv("OCITAP_BPF", "yes", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_BPF");
	/* a bad environment is refused even when a flag would set the same thing */
	assert_int_equal(parse(&o, &err, "--bpf", "on", NULL), -EINVAL);
	unsetenv("OCITAP_BPF");
	setenv("OCITAP_TRACE_SYSCALLS", "none", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_TRACE_SYSCALLS");
	unsetenv("OCITAP_TRACE_SYSCALLS");
	setenv("OCITAP_PUSH_FORMAT", "fluentbit", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_PUSH_FORMAT");
	assert_non_null(strstr(err.message, "\"fluentbit\" is not cloudevents-batch (the default), cloudevents, json or ndjson"));
}

static void test_limits(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;
	char *argv[80] = { "ocitapd" };
	int argc = 1;
	FILE *out = fopen("/dev/null", "we");

	for (int i = 0; i < 17; i++) {
		argv[argc++] = "--push";
		argv[argc++] = "http://127.0.0.1:1/";
	}
	assert_int_equal(options_parse(&o, argc, argv, out, &err), -EINVAL);
	assert_non_null(strstr(err.message, "at most 16 receivers"));
	argc = 1;
	for (int i = 0; i < 33; i++) {
		argv[argc++] = "--allow-uid";
		argv[argc++] = "1000";
	}
	assert_int_equal(options_parse(&o, argc, argv, out, &err), -EINVAL);
	assert_non_null(strstr(err.message, "at most 32"));
	fclose(out);
}

static void test_help_version(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char *argv[] = { "ocitapd", "--help" };

	assert_int_equal(options_parse(&o, 2, argv, out, &err), OPTIONS_EXIT);
	fflush(out);
	assert_non_null(strstr(text, "usage: ocitapd [OPTIONS]"));
	assert_non_null(strstr(text, "--socket PATH"));
	assert_non_null(strstr(text, "/run/ocitap/ocitap.sock"));
	fclose(out);
	free(text);
	text = NULL;
	out = open_memstream(&text, &size);
	argv[1] = "-V";
	assert_int_equal(options_parse(&o, 2, argv, out, &err), OPTIONS_EXIT);
	fflush(out);
	assert_string_equal(text, "ocitapd " OCITAP_VERSION "\n");
	fclose(out);
	free(text);
}

static void test_fault(void **unused)
{
	struct ocitapd_options o;
	struct ocitap_error err;

	setenv("OCITAP_FAULT", "after-recv:3", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.fault, FAULT_AFTER_RECV);
	assert_int_equal(o.fault_at, 3);
	setenv("OCITAP_FAULT", "after-decide:1", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.fault, FAULT_AFTER_DECIDE);
	setenv("OCITAP_FAULT", "after-recv-blind:7", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.fault, FAULT_AFTER_RECV_BLIND);
	assert_int_equal(o.fault_at, 7);
	setenv("OCITAP_FAULT", "after-lunch:1", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	assert_string_equal(err.field, "OCITAP_FAULT");
	setenv("OCITAP_FAULT", "after-recv:0", 1);
	assert_int_equal(parse(&o, &err, NULL), -EINVAL);
	setenv("OCITAP_FAULT", "", 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_int_equal(o.fault, FAULT_NONE);
}

static void test_run_file(void **unused)
{
	struct ocitapd_options o = { .socket_path = "/run/x/ocitap.sock" };
	char buf[64];

	options_run_file(&o, "ocitapd.pid", buf, sizeof(buf));
	assert_string_equal(buf, "/run/x/ocitapd.pid");
	o.socket_path = "relative.sock";
	options_run_file(&o, "ocitapd.pid", buf, sizeof(buf));
	assert_string_equal(buf, "ocitapd.pid");
}

/* the config file: under the environment and the flags; a flag's list replaces the file's */
static void test_config_file(void **unused)
{
	char path[] = "/tmp/test-options-XXXXXX";
	const char text[] = "# a comment\n\n  socket = /tmp/f.sock  \nhttp=127.0.0.1:1\nretention = 60\r\n"
			    "push = http://127.0.0.1:2/a\npush = http://127.0.0.1:2/b\nlog-level = debug\n";
	struct ocitapd_options o;
	struct ocitap_error err;
	char line[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(parse(&o, &err, "--config", path, NULL), OPTIONS_RUN);
	assert_string_equal(o.config_path, path);
	assert_string_equal(o.socket_path, "/tmp/f.sock");
	assert_string_equal(o.keeper_path, "/tmp/keeper.sock");
	assert_string_equal(o.http, "127.0.0.1:1");
	assert_int_equal(o.retention_s, 60);
	assert_int_equal(o.level, LOG_DEBUG);
	assert_int_equal(o.n_push, 2);
	assert_string_equal(o.push[1], "http://127.0.0.1:2/b");
	setenv("OCITAP_HTTP", "127.0.0.1:3", 1);
	assert_int_equal(parse(&o, &err, "--retention", "5", "--config", path, "--push", "http://x/c", NULL),
			 OPTIONS_RUN);
	assert_string_equal(o.http, "127.0.0.1:3");
	assert_int_equal(o.retention_s, 5);
	assert_int_equal(o.n_push, 1);
	assert_string_equal(o.push[0], "http://x/c");
	assert_int_equal(parse(&o, &err, "--http", "127.0.0.1:4", "--config", path, NULL), OPTIONS_RUN);
	assert_string_equal(o.http, "127.0.0.1:4");
	assert_int_equal(parse(&o, &err, "--config", "off", NULL), OPTIONS_RUN);
	assert_null(o.config_path);
	setenv("OCITAP_CONFIG", path, 1);
	assert_int_equal(parse(&o, &err, NULL), OPTIONS_RUN);
	assert_string_equal(o.config_path, path);
	assert_int_equal(parse(&o, &err, "--config", "off", NULL), OPTIONS_RUN); /* the flag wins */
	assert_null(o.config_path);
	unsetenv("OCITAP_CONFIG");
	unlink(path);
	assert_int_equal(parse(&o, &err, "--config", path, NULL), -ENOENT);
	assert_non_null(strstr(ocitap_error_format(&err, line, sizeof(line)), path));
}

/* each bad line an error naming the line and the key */
static void test_config_errors(void **unused)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "socket = /a\nsokcet = /b\n", "X:2: unknown key 'sokcet' (see ocitapd.conf(5))" },
		{ "\n\nretention = soon\n", "X:3: --retention: expected seconds, got 'soon'" },
		{ "help = 1\n", "X:1: 'help' is a command-line flag only" },
		{ "config = /x\n", "X:1: 'config' is a command-line flag only" },
		{ "http =\n", "X:1: 'http' has no value" },
		{ "bpf\n", "X:1: expected KEY = VALUE, got 'bpf'" },
	};
	struct ocitapd_options o;
	struct ocitap_error err;
	char line[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = strdup(cases[i].text);

		parse(&o, &err, "--config", "off", NULL);
		ocitap_error_clear(&err);
		assert_int_equal(options_apply_config(&o, text, strlen(text), "X", &err), -EINVAL);
		assert_string_equal(ocitap_error_format(&err, line, sizeof(line)), cases[i].error);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, clean_env),
		cmocka_unit_test_setup(test_environment_then_flags, clean_env),
		cmocka_unit_test_setup(test_every_flag, clean_env),
		cmocka_unit_test_setup(test_bad_values, clean_env),
		cmocka_unit_test_setup(test_profile_dir, clean_env),
		cmocka_unit_test_setup(test_socket_access, clean_env),
		cmocka_unit_test_setup(test_bad_environment, clean_env),
		cmocka_unit_test_setup(test_limits, clean_env),
		cmocka_unit_test_setup(test_help_version, clean_env),
		cmocka_unit_test_setup(test_fault, clean_env),
		cmocka_unit_test_setup(test_run_file, clean_env),
		cmocka_unit_test_setup(test_config_file, clean_env),
		cmocka_unit_test_setup(test_config_errors, clean_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
