/*
 * inspect-process.c: `ocitap inspect`'s view of the init process as /proc
 * shows it (procinfo.h): as JSON and for people, each part that could not
 * be read said so with its reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect-process.h"
#include "ocitap-private.h"

struct json_object *inspect_strv_json(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *caps_json(uint64_t mask)
{
	struct json_object *a = json_object_new_array();

	for (unsigned bit = 0; bit < 64; bit++)
		if (mask & (UINT64_C(1) << bit)) {
			char name[16];

			if (!ocitap_cap_name(bit))
				snprintf(name, sizeof(name), "CAP_%u", bit);
			json_object_array_add(
				a, json_object_new_string(ocitap_cap_name(bit) ? ocitap_cap_name(bit) : name));
		}
	return a;
}

static struct json_object *unreadable(int error)
{
	return json_object_new_string(strerror(-error));
}

struct json_object *inspect_process_json(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host)
{
	struct json_object *o = json_object_new_object(), *ns = json_object_new_object(),
			   *errs = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	if (!p->stat_error) {
		char state[2] = { p->state, 0 };

		json_object_object_add(o, "comm", json_object_new_string(p->comm));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "ppid", json_object_new_int(p->ppid));
		json_object_object_add(o, "startTicks", json_object_new_int64((int64_t)p->start_ticks));
	} else {
		json_object_object_add(errs, "stat", unreadable(p->stat_error));
	}
	if (!p->cmdline_error)
		json_object_object_add(o, "cmdline", inspect_strv_json(p->argv, p->argc));
	else
		json_object_object_add(errs, "cmdline", unreadable(p->cmdline_error));
	if (!p->status_error) {
		struct json_object *caps = json_object_new_object(), *ids = json_object_new_object();

		json_object_object_add(o, "seccomp", json_object_new_string(ocitap_seccomp_mode_name(p->seccomp)));
		json_object_object_add(o, "seccompFilters",
				       p->seccomp_filters >= 0 ? json_object_new_int(p->seccomp_filters) : NULL);
		json_object_object_add(o, "noNewPrivileges",
				       p->no_new_privs >= 0 ? json_object_new_boolean(p->no_new_privs) : NULL);
		if (p->has_caps) {
			json_object_object_add(caps, "effective", caps_json(p->cap_eff));
			json_object_object_add(caps, "permitted", caps_json(p->cap_prm));
			json_object_object_add(caps, "inheritable", caps_json(p->cap_inh));
			json_object_object_add(caps, "bounding", caps_json(p->cap_bnd));
			json_object_object_add(caps, "ambient", caps_json(p->cap_amb));
		}
		json_object_object_add(o, "capabilities", caps);
		if (p->has_ids) {
			struct json_object *u = json_object_new_array(), *g = json_object_new_array();

			for (int i = 0; i < 4; i++) {
				json_object_array_add(u, json_object_new_int64(p->uid[i]));
				json_object_array_add(g, json_object_new_int64(p->gid[i]));
			}
			json_object_object_add(ids, "uid", u); /* real, effective, saved, filesystem */
			json_object_object_add(ids, "gid", g);
		}
		json_object_object_add(o, "ids", ids);
	} else {
		json_object_object_add(errs, "status", unreadable(p->status_error));
	}
	for (int i = 0; i < OCITAP_PROC_N_NS; i++) {
		struct json_object *n = json_object_new_object();

		if (p->ns[i].error) {
			json_object_object_add(errs, p->ns[i].name, unreadable(p->ns[i].error));
			json_object_put(n);
			continue;
		}
		json_object_object_add(n, "inode", json_object_new_int64((int64_t)p->ns[i].inode));
		json_object_object_add(n, "host",
				       host && !host->ns[i].error
					       ? json_object_new_boolean(host->ns[i].inode == p->ns[i].inode)
					       : NULL);
		json_object_object_add(ns, p->ns[i].name, n);
	}
	json_object_object_add(o, "namespaces", ns);
	if (!p->cgroup_error)
		json_object_object_add(o, "cgroup", json_object_new_string(p->cgroup));
	else
		json_object_object_add(errs, "cgroup", unreadable(p->cgroup_error));
	if (!p->maps_error) {
		json_object_object_add(o, "uidMap", json_object_new_string(p->uid_map));
		json_object_object_add(o, "gidMap", json_object_new_string(p->gid_map));
	} else {
		json_object_object_add(errs, "maps", unreadable(p->maps_error));
	}
	json_object_object_add(o, "unreadable", errs);
	return o;
}

static void print_caps(const char *label, uint64_t mask)
{
	char buf[2048];

	ocitap_caps_format(mask, " ", buf, sizeof(buf));
	printf("  %-11s %s\n", label, mask == 0 ? "(none)" : buf);
}

/* "         0          0 4294967295\n" -> "0 0 4294967295"; lines joined with "; " */
static void squeeze(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (; *in && n + 3 < size; in++) {
		if (*in == '\n') {
			if (in[1] && n + 3 < size) {
				out[n++] = ';';
				out[n++] = ' ';
			}
			space = false;
		} else if (*in == ' ' || *in == '\t') {
			space = n > 0 && out[n - 1] != ' ';
		} else {
			if (space)
				out[n++] = ' ';
			space = false;
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

void inspect_print_process(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host)
{
	if (!p->cmdline_error) {
		printf("  %-11s", "cmdline");
		for (size_t i = 0; i < p->argc; i++)
			printf(" %s", p->argv[i]);
		putchar('\n');
	}
	if (!p->stat_error)
		printf("  %-11s %c (%s), parent %d\n", "state", p->state, p->comm, p->ppid);
	if (!p->cgroup_error)
		printf("  %-11s %s\n", "cgroup", p->cgroup);
	if (!p->status_error) {
		printf("  %-11s %s", "seccomp", ocitap_seccomp_mode_name(p->seccomp));
		if (p->seccomp_filters >= 0)
			printf(" (%d filter%s)", p->seccomp_filters, p->seccomp_filters == 1 ? "" : "s");
		printf(", NoNewPrivs %s\n", p->no_new_privs < 0 ? "unknown" : p->no_new_privs ? "yes" : "no");
		if (p->has_caps) {
			print_caps("effective", p->cap_eff);
			if (p->cap_prm != p->cap_eff)
				print_caps("permitted", p->cap_prm);
			print_caps("bounding", p->cap_bnd);
			if (p->cap_inh)
				print_caps("inheritable", p->cap_inh);
			if (p->cap_amb)
				print_caps("ambient", p->cap_amb);
		}
		if (p->has_ids)
			printf("  %-11s uid %ld/%ld/%ld/%ld gid %ld/%ld/%ld/%ld (real/effective/saved/fs)\n", "ids",
			       p->uid[0], p->uid[1], p->uid[2], p->uid[3], p->gid[0], p->gid[1], p->gid[2], p->gid[3]);
	}
	if (!p->maps_error) {
		char u[128], g[128];

		squeeze(p->uid_map, u, sizeof(u));
		squeeze(p->gid_map, g, sizeof(g));
		printf("  %-11s uid %s, gid %s%s\n", "id maps", u, g,
		       strcmp(u, "0 0 4294967295") == 0 ? " (no user namespace)" : "");
	}
	printf("  %-11s", "namespaces");
	for (int i = 0; i < OCITAP_PROC_N_NS; i++) {
		if (p->ns[i].error)
			continue;
		if (host && !host->ns[i].error && host->ns[i].inode == p->ns[i].inode)
			printf(" %s%s:host%s", cli_sgr(CLI_DIM), p->ns[i].name, CLI_RESET); /* ocitap's own */
		else
			printf(" %s:%" PRIu64, p->ns[i].name, p->ns[i].inode);
	}
	putchar('\n');
	{
		const char *parts[] = { "stat", "status", "cgroup", "id maps", "cmdline" };
		int errs[] = { p->stat_error, p->status_error, p->cgroup_error, p->maps_error, p->cmdline_error };

		for (size_t i = 0; i < 5; i++)
			if (errs[i])
				printf("  %-11s %sunreadable: %s%s\n", parts[i], cli_sgr(CLI_YELLOW),
				       strerror(-errs[i]), CLI_RESET);
	}
}
