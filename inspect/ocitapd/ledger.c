/*
 * ledger.c: see ledger.h. The mapping is written by the loop (a slot's
 * answered count) and, after each commit, by the store thread (a slot
 * freed); each field has one writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"
#include "macro.h"

int ledger_map(const char *path, struct ledger **ret, struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct ledger *l;
	struct stat st;

	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return ocitap_error_set(err, -EPERM, NULL, "%s: not a regular file of uid %u: refusing it", path,
					(unsigned)geteuid());
	if (st.st_size != (off_t)sizeof(*l) && ftruncate(fd, sizeof(*l)) < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (l == MAP_FAILED)
		return ocitap_error_set(err, -errno, NULL, "%s: %m", path);
	if (l->magic != LEDGER_MAGIC || l->n != LEDGER_SLOTS) { /* new, or not ours: nothing to recover */
		memset(l, 0, sizeof(*l));
		l->magic = LEDGER_MAGIC;
		l->n = LEDGER_SLOTS;
	}
	if (!l->next_gen && getrandom(&l->next_gen, sizeof(l->next_gen), 0) != sizeof(l->next_gen))
		l->next_gen = 1;
	l->next_gen |= 1;
	*ret = l;
	return 0;
}

struct ledger_slot *ledger_take(struct ledger *l, const char *id, int64_t run, uint32_t arch, int nr,
				const char *action)
{
	static size_t cursor;

	if (!l || strlen(id) > OCITAP_KEEPER_NAME_MAX || strlen(action) >= LEDGER_ACTION)
		return NULL;
	for (size_t i = 0; i < LEDGER_SLOTS; i++) {
		struct ledger_slot *s = &l->slot[(cursor + i) % LEDGER_SLOTS];

		if (__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
			continue;
		cursor = (cursor + i + 1) % LEDGER_SLOTS;
		s->arch = arch;
		s->nr = nr;
		s->run = run;
		s->gen = l->next_gen++;
		s->answered = 0;
		strcpy(s->action, action);
		strcpy(s->id, id);
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}
