/*
 * http-addr.c: how a client finds ocitapd's HTTP API (http-addr.h): the
 * address forms it takes, the http.addr file ocitapd leaves beside its
 * socket, and the order the sources are asked in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "defaults.h"
#include "http-addr.h"
#include "io.h"
#include "macro.h"

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* HOST:PORT or [V6]:PORT, into buf with a wildcard host made the loopback. */
static int normalize_tcp(const char *addr, char *buf, size_t size, struct ocitap_error *err)
{
	const char *colon = strrchr(addr, ':'), *host = addr, *port;
	size_t hl, pl;
	unsigned long n = 0;
	bool v6;

	if (!colon)
		return ocitap_error_set(err, -EINVAL, NULL, "'%s': expected HOST:PORT, [IPV6]:PORT, unix:/PATH or off",
					addr);
	port = colon + 1;
	pl = strlen(port);
	if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl)
		return ocitap_error_set(err, -EINVAL, NULL, "'%s': the port is not a number", addr);
	for (const char *p = port; *p; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (n < 1 || n > 65535)
		return ocitap_error_set(err, -EINVAL, NULL, "'%s': the port is not 1 to 65535", addr);
	hl = (size_t)(colon - addr);
	v6 = hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']';
	if (v6) {
		host++;
		hl -= 2;
		if (hl == 0 || strspn(host, "0123456789abcdefABCDEF:.%") < hl)
			return ocitap_error_set(err, -EINVAL, NULL, "'%s': not an IPv6 address in brackets", addr);
	} else if (strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") < hl) {
		return ocitap_error_set(err, -EINVAL, NULL, "'%s': expected HOST:PORT or [IPV6]:PORT", addr);
	}
	/* a daemon listening on every interface is reached on the loopback */
	if (hl == 0 || (!v6 && hl == 7 && memcmp(host, "0.0.0.0", 7) == 0))
		host = "127.0.0.1", hl = 9;
	else if (v6 && hl == 2 && memcmp(host, "::", 2) == 0)
		host = "::1", hl = 3;
	if ((size_t)snprintf(buf, size, "%s%.*s%s:%s", v6 ? "[" : "", (int)hl, host, v6 ? "]" : "", port) >= size)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "'%.64s...': too long", addr);
	return 0;
}

int ocitap_http_addr_normalize(const char *addr, char *buf, size_t size, struct ocitap_error *err)
{
	size_t len = strlen(addr);

	if (len == 0)
		return ocitap_error_set(err, -EINVAL, NULL, "an empty address");
	if (len >= OCITAP_HTTP_ADDR_MAX || len >= size)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "an address of %zu bytes: too long", len);
	if (has_control(addr, len))
		return ocitap_error_set(err, -EINVAL, NULL, "a control character in the address");
	if (strcmp(addr, "off") == 0 || strncmp(addr, "unix:", 5) == 0) {
		if (addr[0] == 'u' && addr[5] != '/')
			return ocitap_error_set(err, -EINVAL, NULL, "'%s': unix: needs an absolute path", addr);
		memcpy(buf, addr, len + 1);
		return 0;
	}
	return normalize_tcp(addr, buf, size, err);
}

int ocitap_http_addr_parse(const char *text, size_t len, char *buf, size_t size, struct ocitap_error *err)
{
	char line[OCITAP_HTTP_ADDR_MAX];

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len >= sizeof(line))
		return ocitap_error_set(err, -EINVAL, NULL, "%zu bytes: not one address", len);
	if (memchr(text, '\0', len) || memchr(text, '\n', len))
		return ocitap_error_set(err, -EINVAL, NULL, "not one address on one line");
	memcpy(line, text, len);
	line[len] = '\0';
	return ocitap_http_addr_normalize(line, buf, size, err);
}

int ocitap_http_addr_path(const char *socket_path, char *buf, size_t size)
{
	const char *slash = strrchr(socket_path, '/');
	int n;

	if (!slash)
		n = snprintf(buf, size, "%s", OCITAP_HTTP_ADDR_NAME);
	else
		n = snprintf(buf, size, "%.*s/%s", (int)(slash - socket_path), socket_path, OCITAP_HTTP_ADDR_NAME);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void note_skipped(struct ocitap_http_found *f, const char *path, const struct ocitap_error *e)
{
	if (!f->skipped[0])
		snprintf(f->skipped, sizeof(f->skipped), "%s: %s%s%s", path, e->field, e->field[0] ? ": " : "",
			 e->message);
}

/* The configuration file's `http`: 1 with f->addr, 0 when it says none. */
static int from_config(struct ocitap_http_found *f)
{
	const char *path = ocitap_default_path(OCITAP_ENV_CONFIG, OCITAP_DEFAULT_CONFIG), *value;
	struct ocitap_error e = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (strcmp(path, "off") == 0)
		return 0;
	r = ocitap_read_regular_file(path, OCITAP_CONFIG_MAX, 0, &text, &len, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		note_skipped(f, path, &e);
		return 0;
	}
	r = ocitap_conf_lookup(text, len, path, "http", &value, &e);
	if (r < 0) {
		/* the field is "PATH:LINE" already */
		snprintf(f->skipped, sizeof(f->skipped), "%s: %s", e.field, e.message);
		return 0;
	}
	if (r == 0)
		return 0;
	if (ocitap_http_addr_normalize(value, f->addr, sizeof(f->addr), &e) < 0) {
		snprintf(f->skipped, sizeof(f->skipped), "%s: http: %s", path, e.message);
		return 0;
	}
	snprintf(f->source, sizeof(f->source), "%s", path);
	return 1;
}

/* The daemon's http.addr: 1 with f->addr, 0 when there is none. */
static int from_addr_file(struct ocitap_http_found *f)
{
	const char *socket = ocitap_default_path(OCITAP_ENV_SOCKET, OCITAP_DEFAULT_SOCKET);
	struct ocitap_error e = { 0 };
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	if (ocitap_http_addr_path(socket, path, sizeof(path)) < 0)
		return 0;
	r = ocitap_read_regular_file(path, OCITAP_HTTP_ADDR_MAX, 0, &text, &len, &e);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = ocitap_http_addr_parse(text, len, f->addr, sizeof(f->addr), &e);
	if (r < 0) {
		note_skipped(f, path, &e);
		return 0;
	}
	snprintf(f->source, sizeof(f->source), "%s", path);
	return 1;
}

int ocitap_http_discover(const char *flag, struct ocitap_http_found *ret, struct ocitap_error *err)
{
	const char *env = getenv(OCITAP_ENV_HTTP);
	int r;

	memset(ret, 0, sizeof(*ret));
	if (flag) {
		if ((r = ocitap_http_addr_normalize(flag, ret->addr, sizeof(ret->addr), err)) < 0)
			return ocitap_error_prefix(err, "--http");
		snprintf(ret->source, sizeof(ret->source), "--http");
		return 0;
	}
	if (env && *env) {
		if ((r = ocitap_http_addr_normalize(env, ret->addr, sizeof(ret->addr), err)) < 0)
			return ocitap_error_prefix(err, "$" OCITAP_ENV_HTTP);
		snprintf(ret->source, sizeof(ret->source), "$" OCITAP_ENV_HTTP);
		return 0;
	}
	if (from_config(ret) || from_addr_file(ret))
		return 0;
	snprintf(ret->addr, sizeof(ret->addr), "%s", OCITAP_DEFAULT_HTTP);
	snprintf(ret->source, sizeof(ret->source), "the default");
	return 0;
}
