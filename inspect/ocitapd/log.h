/*
 * log.h: the daemon's log. One line per event on stderr, with a syslog
 * priority prefix ("<3>...") under systemd's journal, "ocitapd: error: ..."
 * otherwise. Any thread. The level and the format are set once at start.
 */
#ifndef OCITAPD_LOG_H
#define OCITAPD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* Lines above level are dropped; journal: stderr is the journal's ($JOURNAL_STREAM). */
void log_setup(enum log_level level, bool journal);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Out of memory: logged, then abort(). The daemon's allocations of its own
 * bookkeeping cannot fail halfway through an event. */
_Noreturn void log_oom(void);

#endif
