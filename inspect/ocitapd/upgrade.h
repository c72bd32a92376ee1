/*
 * upgrade.h: --replace, SIGUSR2, the pid file (upgrade.c).
 */
#ifndef OCITAPD_UPGRADE_H
#define OCITAPD_UPGRADE_H

#include "ocitapd.h"

/* SIGUSR2: start the binary now at our path to take over. */
void upgrade_start_successor(struct ocitapd *d);
/* Started by SIGUSR2 (pid_text: OCITAP_REPLACE_PID): stop the daemon we
 * replace and wait until it is gone. -errno when it cannot be stopped. */
int upgrade_take_over(struct ocitapd *d, const char *pid_text);
/* The listening socket a predecessor handed over (OCITAP_LISTEN_FD), or -EBADF (logged). */
int upgrade_inherited_listen_fd(const char *text);
/* ocitapd --replace: the exit status for main. */
int upgrade_replace_running(struct ocitapd *d);
void upgrade_write_pid_file(struct ocitapd *d);
/* Another daemon serving our socket (its pid; -1 when it cannot be told),
 * or 0: the socket answers, and the pid file names a live ocitapd, or
 * there is none and the keeper does not hold the socket for us. */
pid_t upgrade_live_daemon(struct ocitapd *d);
void upgrade_remove_files(struct ocitapd *d);

#endif
