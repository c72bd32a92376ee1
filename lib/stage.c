/*
 * stage.c: telling the hook stage from the State and /proc (see stage.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "stage.h"

/* The first line of a small /proc file, or "" */
static void read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

void ocitap_stage_clues_read(const struct ocitap_state *st, pid_t parent, struct ocitap_stage_clues *ret)
{
	char path[64], a[64], b[64];
	ssize_t n, m;

	*ret = (struct ocitap_stage_clues){ 0 };
	if (!st->has_pid || st->pid <= 1)
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)st->pid);
	n = readlink(path, a, sizeof(a) - 1);
	m = readlink("/proc/self/ns/mnt", b, sizeof(b) - 1);
	ret->inside = n > 0 && n == m && memcmp(a, b, (size_t)n) == 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)st->pid);
	read_small(path, a, sizeof(a));
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)parent);
	read_small(path, b, sizeof(b));
	/* crun's init is a fork of crun until it execs; runc's re-executes
	 * itself as runc:[2:INIT] (and stays so until poststart has run) */
	ret->init_is_runtime = a[0] && strcmp(a, b) == 0;
}

int ocitap_stage_infer(const struct ocitap_state *st, const struct ocitap_stage_clues *clues, bool *ret_ambiguous,
		       struct ocitap_error *err)
{
	bool low_pid = !st->has_pid || st->pid <= 1;

	if (ret_ambiguous)
		*ret_ambiguous = false;
	switch (st->status) {
	case OCITAP_STATUS_STOPPED:
		return OCITAP_STAGE_POSTSTOP;
	case OCITAP_STATUS_RUNNING:
		return OCITAP_STAGE_POSTSTART;
	case OCITAP_STATUS_CREATING:
	case OCITAP_STATUS_CREATED:
		if (low_pid)
			return st->status == OCITAP_STATUS_CREATED && st->has_pid && st->pid == 1
				       ? OCITAP_STAGE_START_CONTAINER
				       : OCITAP_STAGE_CREATE_CONTAINER;
		if (clues && clues->inside)
			return OCITAP_STAGE_CREATE_CONTAINER;
		if (st->status == OCITAP_STATUS_CREATED && clues && !clues->init_is_runtime)
			return OCITAP_STAGE_POSTSTART;
		if (ret_ambiguous)
			*ret_ambiguous = true;
		return OCITAP_STAGE_PRESTART;
	case OCITAP_STATUS_OTHER:
		if (st->status_text && strcmp(st->status_text, "starting") == 0)
			return OCITAP_STAGE_START_CONTAINER;
		break;
	}
	return ocitap_error_set(err, -EINVAL, "status", "no hook stage sends status \"%s\": name the stage",
				st->status_text ? st->status_text : "");
}
