/*
 * journal.c: see journal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "journal.h"
#include "macro.h"

static int held_fd = -1; /* the mapping's file, locked */

static void read_boot_id(char *buf, size_t size)
{
	char *text = NULL;
	size_t len = 0;

	memset(buf, 0, size);
	if (ocitap_read_file("/proc/sys/kernel/random/boot_id", 64, -1, &text, &len, NULL) == 0) {
		memcpy(buf, text, len < size - 1 ? len : size - 1);
		buf[strcspn(buf, "\n")] = '\0';
	}
	free(text);
}

_Static_assert(sizeof(struct journal_slot) == JOURNAL_SLOT_BYTES, "a slot is one page");
_Static_assert(offsetof(struct journal, slot) == JOURNAL_SLOT_BYTES, "the header is one page");

int journal_map(const char *path, struct journal **ret, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct journal *j;
	char boot[sizeof(j->boot)];
	struct stat st;
	int r;

	if (held_fd >= 0)
		return ocitap_error_set(err, -EBUSY, NULL, "%s: a journal is mapped already", path);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077) || st.st_nlink != 1)
		return ocitap_error_set(err, -EPERM, NULL,
					"%s: not a regular file of uid %u, mode 0600, one link: refusing it", path,
					(unsigned)geteuid());
	/* the lock lives as long as the descriptor, kept open (and not
	 * inherited: O_CLOEXEC) for the life of the process */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return ocitap_error_set(err, errno == EWOULDBLOCK ? -EBUSY : -errno, NULL, "%s: %s", path,
					errno == EWOULDBLOCK ? "in use by another ocitapd" : strerror(errno));
	if ((r = posix_fallocate(fd, 0, sizeof(*j))) != 0)
		return ocitap_error_set(err, -r, NULL, "%s: %s", path, strerror(r));
	j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j == MAP_FAILED)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (j->magic != JOURNAL_MAGIC || j->n != JOURNAL_SLOTS || j->slot_bytes != JOURNAL_SLOT_BYTES) {
		/* new, or not ours: nothing to apply */
		memset(j, 0, sizeof(*j));
		j->magic = JOURNAL_MAGIC;
		j->n = JOURNAL_SLOTS;
		j->slot_bytes = JOURNAL_SLOT_BYTES;
	}
	read_boot_id(boot, sizeof(boot));
	if (!boot[0] || strncmp(boot, j->boot, sizeof(boot)) != 0)
		for (size_t i = 0; i < JOURNAL_SLOTS; i++) /* marked before the header says this boot */
			if (j->slot[i].used)
				j->slot[i].older_boot = 1;
	memcpy(j->boot, boot, sizeof(boot));
	held_fd = TAKE_FD(fd);
	for (size_t i = 0; i < JOURNAL_SLOTS; i++) /* a slot cut by a kill while it was taken says nothing */
		if (j->slot[i].used && j->slot[i].len > JOURNAL_REPORT_MAX)
			j->slot[i].used = 0;
	*ret = j;
	return 0;
}

struct journal_slot *journal_take(struct journal *j, const char *report, size_t len, uid_t uid)
{
	static size_t cursor;

	if (!j || len == 0 || len > JOURNAL_REPORT_MAX)
		return NULL;
	for (size_t i = 0; i < JOURNAL_SLOTS; i++) {
		struct journal_slot *s = &j->slot[(cursor + i) % JOURNAL_SLOTS];

		if (__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
			continue;
		cursor = (cursor + i + 1) % JOURNAL_SLOTS;
		memcpy(s->report, report, len);
		s->len = (uint32_t)len;
		s->uid = (uint32_t)uid;
		s->older_boot = 0;
		s->seq = ++j->next_seq;
		/* the report before the mark: a kill between them leaves a free slot */
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}

void journal_release(struct journal_slot *slot)
{
	if (slot)
		__atomic_store_n(&slot->used, 0, __ATOMIC_RELEASE);
}

void journal_unmap(struct journal *j)
{
	if (j)
		munmap(j, sizeof(*j));
	if (held_fd >= 0)
		close(held_fd);
	held_fd = -1;
}

bool journal_slot_this_boot(const struct journal_slot *slot)
{
	return slot && !slot->older_boot;
}

size_t journal_pending(const struct journal *j)
{
	size_t n = 0;

	for (size_t i = 0; j && i < JOURNAL_SLOTS; i++)
		n += __atomic_load_n(&j->slot[i].used, __ATOMIC_RELAXED) != 0;
	return n;
}

static int by_seq(const void *a, const void *b)
{
	const struct journal_slot *x = *(struct journal_slot *const *)a, *y = *(struct journal_slot *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t journal_left(struct journal *j, struct journal_slot **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; j && i < JOURNAL_SLOTS && n < max; i++)
		if (j->slot[i].used)
			ret[n++] = &j->slot[i];
	qsort(ret, n, sizeof(*ret), by_seq);
	return n;
}
