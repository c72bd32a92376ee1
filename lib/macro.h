/*
 * macro.h: internal helpers shared by libocitap's sources (never installed).
 * Cleanup attributes for owned locals, and TAKE_PTR / TAKE_FD to hand
 * ownership out of a scope.
 */
#ifndef OCITAP_MACRO_H
#define OCITAP_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(const int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) _taken = (p); \
		(p) = NULL;                 \
		_taken;                     \
	})

#define TAKE_FD(fd)                \
	({                         \
		int _taken = (fd); \
		(fd) = -1;         \
		_taken;            \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
