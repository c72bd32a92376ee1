/*
 * report.c: the hook report wire format (see report.h).
 */
#include <errno.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "report.h"

int ocitap_hook_report_parse(const char *buf, size_t len, const struct ocitap_limits *lim,
			     struct ocitap_hook_report *ret, struct ocitap_error *err)
{
	_cleanup_(jpool_freep) struct jpool *pool = NULL;
	struct ocitap_hook_report rep = { 0 };
	struct ocitap_limits dflt;
	const char *stage;
	json_object *root, *state;
	bool has;
	int64_t v;
	int r;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	r = ocitap_json_parse_pool(buf, len, lim, "a hook report", &pool, err);
	if (r < 0)
		return r;
	root = pool->root;
	r = ocitap_json_get_int(root, "ocitapReport", 1, 1000, &has, &v, err);
	if (r < 0)
		return r;
	if (!has)
		return ocitap_error_set(err, -EINVAL, "ocitapReport", "missing: not a hook report");
	if (v != OCITAP_REPORT_VERSION)
		return ocitap_error_set(err, -EPROTONOSUPPORT, "ocitapReport",
					"version %d is not supported (this is %d)", (int)v, OCITAP_REPORT_VERSION);
	rep.version = (int)v;
	r = ocitap_json_get_string(root, "stage", true, lim, &stage, err);
	if (r < 0)
		return r;
	r = ocitap_stage_from_string(stage);
	if (r < 0)
		return ocitap_error_set(err, -EINVAL, "stage", "unknown stage \"%s\"", stage);
	rep.stage = (enum ocitap_stage)r;
	r = ocitap_json_get_int(root, "hookPid", 0, OCITAP_PID_MAX, &has, &v, err);
	if (r < 0)
		return r;
	rep.hook_pid = (pid_t)v;
	r = ocitap_json_get_int(root, "monoNs", 0, INT64_MAX, &has, &rep.mono_ns, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_int(root, "wallNs", 0, INT64_MAX, &has, &rep.wall_ns, err);
	if (r < 0)
		return r;
	r = ocitap_json_get_bool(root, "stageAmbiguous", &has, &rep.stage_ambiguous, err);
	if (r < 0)
		return r;
	if (rep.stage_ambiguous && rep.stage != OCITAP_STAGE_PRESTART)
		return ocitap_error_set(err, -EINVAL, "stageAmbiguous", "only a prestart report can be ambiguous");
	if (!json_object_object_get_ex(root, "state", &state) || !state)
		return ocitap_error_set(err, -EINVAL, "state", "missing");
	r = ocitap_state_from_json(state, 0, lim, pool, &rep.state, err);
	if (r < 0)
		return ocitap_error_nest(err, "state");
	rep.priv_ = TAKE_PTR(pool);
	*ret = rep;
	return 0;
}

int ocitap_hook_report_to_json(const struct ocitap_hook_report *rep, char **ret_json, struct ocitap_error *err)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *st;
	const char *s;

	if (!o || json_object_object_add(o, "ocitapReport", json_object_new_int(OCITAP_REPORT_VERSION)) < 0 ||
	    ocitap_json_add_string(o, "stage", ocitap_stage_to_string(rep->stage)) < 0 ||
	    json_object_object_add(o, "hookPid", json_object_new_int(rep->hook_pid)) < 0 ||
	    json_object_object_add(o, "monoNs", json_object_new_int64(rep->mono_ns)) < 0 ||
	    json_object_object_add(o, "wallNs", json_object_new_int64(rep->wall_ns)) < 0 ||
	    (rep->stage_ambiguous && json_object_object_add(o, "stageAmbiguous", json_object_new_boolean(1)) < 0))
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	st = ocitap_state_to_object(&rep->state);
	if (!st || json_object_object_add(o, "state", st) < 0) {
		json_object_put(st);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*ret_json = s ? strdup(s) : NULL;
	if (!*ret_json)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	return 0;
}

void ocitap_hook_report_release(struct ocitap_hook_report *rep)
{
	if (!rep)
		return;
	ocitap_jpool_free(rep->priv_);
	memset(rep, 0, sizeof(*rep));
}
