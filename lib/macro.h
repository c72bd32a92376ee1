/*
 * macro.h: internal helpers shared by libocitap's sources and ocitap's own
 * programs (never installed). Cleanup attributes for owned locals, and
 * TAKE_PTR / TAKE_FD to hand ownership out of a scope.
 *
 * A struct with a release function taking a pointer (ocitap_config_release,
 * cli_http_release) needs no helper: `_cleanup_(ocitap_config_release)
 * struct ocitap_config cfg = { 0 };`. A pointer to an object with a free
 * function gets one from DEFINE_TRIVIAL_CLEANUP_FUNC.
 */
#ifndef OCITAP_MACRO_H
#define OCITAP_MACRO_H

#include <errno.h>
#include <stdio.h>
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

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/*
 * DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocitap_store *, ocitap_store_close)
 * defines ocitap_store_closep(), for `_cleanup_(ocitap_store_closep)`: it
 * calls the function on the pointer unless it is NULL.
 */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}                                       \
	struct __useless_struct_to_allow_trailing_semicolon__

#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

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
