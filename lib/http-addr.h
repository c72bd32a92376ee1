/*
 * http-addr.h: where ocitapd's HTTP API is, for its clients (the CLI). An
 * address is HOST:PORT, [IPV6]:PORT, unix:/PATH or off (DESIGN.md). A
 * client told nothing looks, in this order, at: the --http flag, then
 * $OCITAP_HTTP, then the `http` key of ocitapd's configuration file
 * ($OCITAP_CONFIG, else /etc/ocitap/ocitapd.conf), then the http.addr file
 * ocitapd writes beside its socket (in the directory of $OCITAP_SOCKET, else
 * of /run/ocitap/ocitap.sock), then 127.0.0.1:9476.
 */
#ifndef OCITAP_HTTP_ADDR_H
#define OCITAP_HTTP_ADDR_H

#include <limits.h>
#include <stddef.h>

#include "error.h"

/* the file ocitapd writes in its socket's directory: the address it serves
 * (one line), written atomically at start and removed at a clean exit */
#define OCITAP_HTTP_ADDR_NAME "http.addr"
/* the longest address taken, and the largest http.addr read */
#define OCITAP_HTTP_ADDR_MAX 512

/*
 * addr made an address a client connects to, in buf: "off", "unix:/PATH",
 * or HOST:PORT where a listening address that means every interface
 * (":PORT", "0.0.0.0:PORT", "[::]:PORT") becomes the loopback one. 0, or
 * -EINVAL with err saying what is wrong (-ENAMETOOLONG: over size).
 */
int ocitap_http_addr_normalize(const char *addr, char *buf, size_t size, struct ocitap_error *err);

/* http.addr's text (len bytes, not NUL-terminated): one address and an
 * optional newline, nothing else; normalized into buf. 0 or -EINVAL. */
int ocitap_http_addr_parse(const char *text, size_t len, char *buf, size_t size, struct ocitap_error *err);

/* The path of http.addr beside socket_path: 0, or -ENAMETOOLONG. */
int ocitap_http_addr_path(const char *socket_path, char *buf, size_t size);

/* Where a client found the address. */
struct ocitap_http_found {
	char addr[OCITAP_HTTP_ADDR_MAX];
	char source[PATH_MAX + 16]; /* "--http", "$OCITAP_HTTP", a file's path, "the default" */
	/* a source below the one used was there but unusable, and skipped
	 * (a broken configuration file, an http.addr that is not one address):
	 * why, for a warning; "" when none was */
	char skipped[PATH_MAX + OCITAP_ERROR_FIELD_MAX + OCITAP_ERROR_MESSAGE_MAX + 16];
};

/*
 * The address of ocitapd's API, from the first of the sources above that
 * says one; flag is --http's value or NULL. 0 with *ret filled, or -EINVAL
 * with err when the flag or $OCITAP_HTTP is not an address (a usage error:
 * what the user typed is not skipped over). The files are read within
 * bounds, only when regular.
 */
int ocitap_http_discover(const char *flag, struct ocitap_http_found *ret, struct ocitap_error *err);

#endif
