/*
 * conf.h: ocitap's configuration files (ocitapd.conf(5)): one KEY = VALUE a
 * line, blanks around both ignored, '#' starts a comment line, and where
 * they are. The daemon reads every key (inspect/ocitapd/options.c); the CLI
 * reads only `http`, to find the daemon (lib/http-addr.c). What a key means
 * is the reader's business: here is only the syntax.
 */
#ifndef OCITAP_CONF_H
#define OCITAP_CONF_H

#include <stddef.h>

#include "error.h"

/* ocitapd's configuration: read when present; $OCITAP_CONFIG names another
 * (or "off": none) */
#define OCITAP_DEFAULT_CONFIG "/etc/ocitap/ocitapd.conf"
#define OCITAP_ENV_CONFIG     "OCITAP_CONFIG"
/* a configuration file larger than this is refused */
#define OCITAP_CONFIG_MAX (1 << 20)

/* The lines of a configuration text, one at a time. */
struct ocitap_conf_reader {
	char *pos, *end;
	unsigned lineno; /* of the line last returned */
};

/* Read text (size bytes, NUL-terminated after them), which the reader cuts
 * in place: the keys and values it returns point into it. */
void ocitap_conf_reader_init(struct ocitap_conf_reader *r, char *text, size_t size);

/*
 * The next KEY = VALUE line: 1 with *ret_key and *ret_value (trimmed; the
 * value may be empty), 0 at the end, or -EINVAL with err (field "PATH:LINE")
 * for a line that is not KEY = VALUE, has no key, or holds a NUL byte.
 */
int ocitap_conf_next(struct ocitap_conf_reader *r, const char *path, const char **ret_key, const char **ret_value,
		     struct ocitap_error *err);

/*
 * The value of key in text (the last line naming it wins, as for the
 * daemon): 1 with *ret_value pointing into text, 0 when no line names it,
 * or -EINVAL with err when a line is broken (the daemon would refuse the
 * file). Other keys are not checked.
 */
int ocitap_conf_lookup(char *text, size_t size, const char *path, const char *key, const char **ret_value,
		       struct ocitap_error *err);

#endif
