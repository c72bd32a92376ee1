/*
 * event-json.c: see event-json.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event-json.h"

struct json_object *ocitap_event_json(const struct ocitap_event *ev)
{
	struct json_object *o = json_object_new_object();
	char when[64];

	ocitap_time_format(ev->wall_ns, when, sizeof(when));
	json_object_object_add(o, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(o, "container", json_object_new_string(ev->container_id ? ev->container_id : ""));
	json_object_object_add(o, "run", json_object_new_int64(ev->run > 0 ? ev->run : 1));
	json_object_object_add(o, "kind", json_object_new_string(ev->kind ? ev->kind : ""));
	json_object_object_add(o, "from", json_object_new_string(ocitap_phase_to_string(ev->from)));
	json_object_object_add(o, "to", json_object_new_string(ocitap_phase_to_string(ev->to)));
	if (ev->source)
		json_object_object_add(o, "source", json_object_new_string(ev->source));
	json_object_object_add(o, "time", when[0] ? json_object_new_string(when) : NULL);
	json_object_object_add(o, "wallNs", json_object_new_int64(ev->wall_ns));
	json_object_object_add(o, "monoNs", json_object_new_int64(ev->mono_ns));
	if (ev->has_exit) {
		json_object_object_add(o, "exitCode", json_object_new_int(ev->exit_code));
		json_object_object_add(o, "signal", json_object_new_int(ev->signal));
	}
	if (ev->oom)
		json_object_object_add(o, "oomKilled", json_object_new_boolean(true));
	return o;
}

static struct json_object *json_time(int64_t wall_ns)
{
	char buf[64];

	ocitap_time_format(wall_ns, buf, sizeof(buf));
	return buf[0] ? json_object_new_string(buf) : NULL;
}

static int last_event_json(const struct ocitap_event *ev, void *userdata)
{
	struct json_object *o = ocitap_event_json(ev);

	json_object_object_del(o, "container");
	*(struct json_object **)userdata = o;
	return 0;
}

struct json_object *ocitap_container_json(const struct ocitap_store_container *c, struct ocitap_store *store,
					  int notify_fds)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ann = NULL;

	json_object_object_add(o, "id", json_object_new_string(c->id ? c->id : ""));
	json_object_object_add(o, "run", json_object_new_int64(c->run > 0 ? c->run : 1));
	json_object_object_add(o, "runs", json_object_new_int64(c->runs > 0 ? c->runs : 1));
	json_object_object_add(o, "name", c->name ? json_object_new_string(c->name) : NULL);
	json_object_object_add(o, "pod", c->pod ? json_object_new_string(c->pod) : NULL);
	json_object_object_add(o, "namespace", c->pod_namespace ? json_object_new_string(c->pod_namespace) : NULL);
	json_object_object_add(o, "manager", c->manager ? json_object_new_string(c->manager) : NULL);
	json_object_object_add(o, "owner", c->owner >= 0 ? json_object_new_int64(c->owner) : NULL);
	/* failed: stopped before its program started; the exit, if any, was the runtime's */
	json_object_object_add(o, "status",
			       json_object_new_string(c->failed ? "failed" : ocitap_phase_to_string(c->phase)));
	json_object_object_add(o, "pid", json_object_new_int(c->pid));
	json_object_object_add(o, "bundle", c->bundle ? json_object_new_string(c->bundle) : NULL);
	if (c->annotations_json)
		ann = json_tokener_parse(c->annotations_json);
	if (!json_object_is_type(ann, json_type_object)) {
		json_object_put(ann);
		ann = json_object_new_object();
	}
	json_object_object_add(o, "annotations", ann);
	json_object_object_add(o, "created", json_time(c->created_wall_ns));
	json_object_object_add(o, "updated", json_time(c->updated_wall_ns));
	json_object_object_add(o, "error", c->failed ? json_object_new_string(c->error ? c->error : "") : NULL);
	if (!c->failed && (c->has_exit || c->oom)) {
		struct json_object *e = json_object_new_object();

		if (c->has_exit) {
			json_object_object_add(e, "code", json_object_new_int(c->exit_code));
			json_object_object_add(e, "signal", json_object_new_int(c->signal));
		}
		json_object_object_add(e, "oomKilled", json_object_new_boolean(c->oom));
		json_object_object_add(o, "exit", e);
	} else {
		json_object_object_add(o, "exit", NULL);
	}
	json_object_object_add(o, "notificationCount", json_object_new_int64(c->notifications));
	json_object_object_add(o, "notifyFds", notify_fds >= 0 ? json_object_new_int(notify_fds) : NULL);
	if (c->profile_status) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "status", json_object_new_string(c->profile_status));
		json_object_object_add(p, "path", c->profile_path ? json_object_new_string(c->profile_path) : NULL);
		json_object_object_add(p, "error", c->profile_error ? json_object_new_string(c->profile_error) : NULL);
		json_object_object_add(o, "profile", p);
	} else {
		json_object_object_add(o, "profile", NULL);
	}
	if (store && c->id) {
		struct json_object *last = NULL;

		ocitap_store_last_event(store, c->id, c->run, last_event_json, &last, NULL);
		json_object_object_add(o, "lastEvent", last);
	}
	return o;
}

struct timeline {
	struct json_object *list;
	int64_t prev_transition_ns;
};

static int timeline_one(const struct ocitap_event *ev, void *userdata)
{
	struct timeline *t = userdata;
	struct json_object *o = ocitap_event_json(ev);

	json_object_object_del(o, "container");
	if (strcmp(ev->kind, OCITAP_EVENT_TRANSITION) == 0) {
		if (t->prev_transition_ns && ev->wall_ns)
			json_object_object_add(
				o, "sincePreviousSeconds",
				json_object_new_double((double)(ev->wall_ns - t->prev_transition_ns) / 1e9));
		if (ev->wall_ns)
			t->prev_transition_ns = ev->wall_ns;
	}
	json_object_array_add(t->list, o);
	return 0;
}

static int notification_one(const char *syscall, const char *action, int64_t count, void *userdata)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "syscall", json_object_new_string(syscall));
	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "count", json_object_new_int64(count));
	json_object_array_add(userdata, o);
	return 0;
}

/* The kernel facts the run is bound to (null when none were read). */
static struct json_object *init_json(const struct ocitap_store_container *c)
{
	struct json_object *o;

	if (!c->init_start_ticks && !c->mnt_ns && !c->pid_ns && !c->cgroup)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(c->pid));
	json_object_object_add(o, "startTicks",
			       c->init_start_ticks ? json_object_new_int64((int64_t)c->init_start_ticks) : NULL);
	json_object_object_add(o, "mntNs", c->mnt_ns ? json_object_new_int64((int64_t)c->mnt_ns) : NULL);
	json_object_object_add(o, "pidNs", c->pid_ns ? json_object_new_int64((int64_t)c->pid_ns) : NULL);
	json_object_object_add(o, "cgroup", c->cgroup ? json_object_new_string(c->cgroup) : NULL);
	return o;
}

int ocitap_container_detail_json(struct ocitap_store *store, const char *id, int64_t run, int notify_fds,
				 struct json_object **ret, struct ocitap_error *err)
{
	struct ocitap_store_container c = { 0 };
	struct timeline t = { 0 };
	struct json_object *o, *notes;
	int r;

	r = ocitap_store_get_container(store, id, run, &c, err);
	if (r < 0)
		return r;
	/* the live fds are the latest run's */
	o = ocitap_container_json(&c, store, c.run == c.runs ? notify_fds : 0);
	json_object_object_add(o, "init", init_json(&c));
	t.list = json_object_new_array();
	notes = json_object_new_array();
	if ((r = ocitap_store_foreach_event(store, c.id, c.run, 0, timeline_one, &t, err)) < 0 ||
	    (r = ocitap_store_foreach_notification(store, c.id, c.run, notification_one, notes, err)) < 0) {
		json_object_put(o);
		json_object_put(t.list);
		json_object_put(notes);
		ocitap_store_container_release(&c);
		return r;
	}
	json_object_object_add(o, "timeline", t.list);
	json_object_object_add(o, "notifications", notes);
	ocitap_store_container_release(&c);
	*ret = o;
	return 0;
}

struct run_list {
	struct json_object *list;
	struct ocitap_store *store;
	int notify_fds;
};

static int run_one(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	struct run_list *l = userdata;
	struct json_object *o = ocitap_container_json(c, l->store, c->run == c->runs ? l->notify_fds : 0);

	(void)stopped_wall_ns;
	json_object_object_add(o, "init", init_json(c));
	json_object_array_add(l->list, o);
	return 0;
}

int ocitap_container_runs_json(struct ocitap_store *store, const char *id, int notify_fds, struct json_object **ret,
			       struct ocitap_error *err)
{
	struct run_list l = { .list = json_object_new_array(), .store = store, .notify_fds = notify_fds };
	struct json_object *o;
	int r = ocitap_store_foreach_run(store, id, run_one, &l, err);

	if (r < 0) {
		json_object_put(l.list);
		return r;
	}
	if (json_object_array_length(l.list) == 0) {
		json_object_put(l.list);
		return ocitap_error_set(err, -ENOENT, NULL, "no container \"%s\" in the store", id);
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "runs", l.list);
	*ret = o;
	return 0;
}
