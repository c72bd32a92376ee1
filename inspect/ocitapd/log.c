/*
 * log.c: the daemon's log (log.h), and what the daemon does when it runs
 * out of memory for its own bookkeeping: says so and aborts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocitapd.h"

static struct {
	enum log_level level;
	bool journal;
} log_config = { .level = LOG_INFO };

void log_setup(enum log_level level, bool journal)
{
	log_config.level = level;
	log_config.journal = journal;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > log_config.level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_config.journal)
		fprintf(stderr, "<%d>%s\n", level, buf);
	else
		fprintf(stderr, "ocitapd: %s%s\n",
			level == LOG_ERR    ? "error: "
			: level == LOG_WARN ? "warning: "
					    : "",
			buf);
}

void log_oom(void)
{
	log_msg(LOG_ERR, "out of memory");
	abort();
}

void *ocitapd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		log_oom();
	return p;
}

char *ocitapd_xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p)
		log_oom();
	return p;
}
