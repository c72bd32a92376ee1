/*
 * keeper.c: the ocitapd <-> ocitap-fdkeeper messages (see keeper.h). Kept
 * strict and small: the keeper parses nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keeper.h"
#include "number.h"

static const struct {
	const char *word;
	enum ocitap_keeper_verb verb;
	int n_names; /* KEY [ID] */
} verbs[] = {
	{ "KEEP", OCITAP_KEEPER_KEEP, 2 }, { "DROP", OCITAP_KEEPER_DROP, 1 },	{ "GIVE", OCITAP_KEEPER_GIVE, 0 },
	{ "FD", OCITAP_KEEPER_FD, 2 },	   { "END", OCITAP_KEEPER_END, 0 },	{ "OK", OCITAP_KEEPER_OK, 0 },
	{ "ERR", OCITAP_KEEPER_ERR, 0 },   { "HELLO", OCITAP_KEEPER_HELLO, 1 }, { "GET", OCITAP_KEEPER_GET, 1 },
};

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > OCITAP_KEEPER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Next space-separated word of [*p, end): its start and length. */
static size_t word(const char **p, const char *end, const char **ret)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	for (e = s; e < end && *e != ' '; e++)
		;
	*ret = s;
	*p = e;
	return (size_t)(e - s);
}

int ocitap_keeper_parse(const char *buf, size_t len, struct ocitap_keeper_msg *ret, struct ocitap_error *err)
{
	struct ocitap_keeper_msg m = { 0 };
	const char *p = buf, *end = buf + len, *w;
	size_t n;
	int found = -1;

	if (len == 0 || len > OCITAP_KEEPER_MSG_MAX)
		return ocitap_error_set(err, -EINVAL, NULL, "message of %zu bytes (1 to %d)", len,
					OCITAP_KEEPER_MSG_MAX);
	if (end[-1] == '\n')
		end--;
	if (memchr(buf, '\0', (size_t)(end - buf)) || memchr(buf, '\n', (size_t)(end - buf)))
		return ocitap_error_set(err, -EINVAL, NULL, "a message is one line of text");
	n = word(&p, end, &w);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].word) == n && memcmp(verbs[i].word, w, n) == 0)
			found = (int)i;
	if (found < 0)
		return ocitap_error_set(err, -EINVAL, NULL, "unknown command");
	m.verb = verbs[found].verb;
	for (int k = 0; k < verbs[found].n_names; k++) {
		char *dst = k == 0 ? m.key : m.id;

		n = word(&p, end, &w);
		if (!name_ok(w, n))
			return ocitap_error_set(err, -EINVAL, k == 0 ? "key" : "id",
						"1 to %d bytes without spaces or control characters",
						OCITAP_KEEPER_NAME_MAX);
		memcpy(dst, w, n);
		dst[n] = '\0';
	}
	if (m.verb == OCITAP_KEEPER_END) {
		char num[24];
		int64_t count;

		n = word(&p, end, &w);
		if (n == 0 || n >= sizeof(num))
			return ocitap_error_set(err, -EINVAL, "count", "END needs a count");
		memcpy(num, w, n);
		num[n] = '\0';
		if (ocitap_parse_int64(num, 0, LONG_MAX, &count) < 0)
			return ocitap_error_set(err, -EINVAL, "count", "not a count");
		m.count = (long)count;
	}
	if (m.verb == OCITAP_KEEPER_ERR) {
		while (p < end && *p == ' ')
			p++;
		snprintf(m.reason, sizeof(m.reason), "%.*s", (int)(end - p), p);
		p = end;
	}
	n = word(&p, end, &w);
	if (n)
		return ocitap_error_set(err, -EINVAL, NULL, "unexpected words after the command");
	*ret = m;
	return 0;
}

int ocitap_keeper_format(const struct ocitap_keeper_msg *m, char *buf, size_t size)
{
	int n;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (verbs[i].verb != m->verb)
			continue;
		if (verbs[i].n_names >= 1 && !name_ok(m->key, strlen(m->key)))
			return -EINVAL;
		if (verbs[i].n_names >= 2 && !name_ok(m->id, strlen(m->id)))
			return -EINVAL;
		if (m->verb == OCITAP_KEEPER_END)
			n = snprintf(buf, size, "END %ld", m->count);
		else if (m->verb == OCITAP_KEEPER_ERR)
			n = snprintf(buf, size, "ERR %s", m->reason);
		else if (verbs[i].n_names == 2)
			n = snprintf(buf, size, "%s %s %s", verbs[i].word, m->key, m->id);
		else if (verbs[i].n_names == 1)
			n = snprintf(buf, size, "%s %s", verbs[i].word, m->key);
		else
			n = snprintf(buf, size, "%s", verbs[i].word);
		if (n < 0 || (size_t)n >= size)
			return -ENOBUFS;
		for (char *c = buf; *c; c++) /* an ERR reason stays one line */
			if ((unsigned char)*c < ' ')
				*c = '?';
		return n;
	}
	return -EINVAL;
}

int ocitap_keeper_key_format(char *buf, size_t size, uint64_t serial, bool init, const char *policy)
{
	int head = snprintf(buf, size, "%llu.%c.", (unsigned long long)serial, init ? 'i' : 'e');
	size_t n;

	if (head < 0 || (size_t)head >= size)
		return -ENAMETOOLONG;
	n = (size_t)head;
	for (const unsigned char *p = (const unsigned char *)policy; *p; p++) {
		bool escape = *p <= ' ' || *p >= 0x7f || *p == '%';
		size_t width = escape ? 3 : 1; /* a plain byte needs no room for an escape */

		if (n + width + 1 > size || n + width > OCITAP_KEEPER_NAME_MAX)
			return -ENAMETOOLONG;
		if (escape) {
			snprintf(buf + n, size - n, "%%%02X", *p);
			n += 3;
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n] = '\0';
	return 0;
}

int ocitap_keeper_key_parse(const char *key, uint64_t *serial, bool *init, char *policy, size_t size)
{
	const char *end = strchr(key, '.');
	char digits[24];
	size_t n = 0;

	if (!end || (size_t)(end - key) >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, key, (size_t)(end - key));
	digits[end - key] = '\0';
	if (ocitap_parse_uint64(digits, UINT64_MAX, serial) < 0 || (end[1] != 'i' && end[1] != 'e') || end[2] != '.')
		return -EINVAL;
	*init = end[1] == 'i';
	for (const char *p = end + 3; *p; p++) {
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		if (*p == '%') {
			int hi = ocitap_hex_digit(p[1]), lo = hi < 0 ? -1 : ocitap_hex_digit(p[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			policy[n++] = (char)(hi * 16 + lo);
			p += 2;
		} else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			return -EINVAL;
		} else {
			policy[n++] = *p;
		}
	}
	policy[n] = '\0';
	return n ? 0 : -EINVAL;
}

static int secret_create(const char *path, struct ocitap_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[OCITAP_KEEPER_SECRET_LEN / 2];
	char text[OCITAP_KEEPER_SECRET_LEN + 1];
	int fd, r = 0;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return ocitap_error_set(err, -EIO, NULL, "%s: no random bytes for the keeper's secret: %m", path);
	for (size_t i = 0; i < sizeof(raw); i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 15];
	}
	text[OCITAP_KEEPER_SECRET_LEN] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : ocitap_error_set(err, -errno, NULL, "cannot create %s: %m", path);
	if (write(fd, text, sizeof(text)) != (ssize_t)sizeof(text) || fsync(fd) < 0)
		r = ocitap_error_set(err, -errno ? -errno : -EIO, NULL, "cannot write %s: %m", path);
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

int ocitap_keeper_secret_load(const char *path, bool create, char ret[OCITAP_KEEPER_SECRET_LEN + 1],
			      struct ocitap_error *err)
{
	char buf[OCITAP_KEEPER_SECRET_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, r;

	if (create && (r = secret_create(path, err)) < 0)
		return r;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "%s: %s", path,
					errno == ELOOP ? "a symbolic link: refused" : strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = ocitap_error_set(err, -errno, NULL, "%s: %m", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ocitap_error_set(err, -EINVAL, NULL, "%s: not a regular file: refused", path);
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		r = ocitap_error_set(err, -EPERM, NULL,
				     "%s: owned by uid %u, mode %04o: it must be ours (uid %u) and readable by "
				     "nobody else: refused",
				     path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	r = n == OCITAP_KEEPER_SECRET_LEN ? 0 : -EINVAL;
	for (ssize_t i = 0; r == 0 && i < n; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f')))
			r = -EINVAL;
	if (r < 0) {
		r = ocitap_error_set(err, -EINVAL, NULL, "%s: not a keeper secret (%d lowercase hex digits)", path,
				     OCITAP_KEEPER_SECRET_LEN);
		goto out;
	}
	memcpy(ret, buf, OCITAP_KEEPER_SECRET_LEN);
	ret[OCITAP_KEEPER_SECRET_LEN] = '\0';
out:
	close(fd);
	return r;
}

int ocitap_keeper_peer_format(const struct ocitap_keeper_peer *p, char *buf, size_t size)
{
	size_t used;
	int n = snprintf(buf, size, "p%du%u", (int)p->pid, (unsigned)p->uid);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	used = (size_t)n;
	for (int i = 0; p->has_ns && i < OCITAP_NS_N; i++) {
		n = snprintf(buf + used, size - used, "-%llx:%llx", (unsigned long long)p->ns.ns[i].dev,
			     (unsigned long long)p->ns.ns[i].ino);
		if (n < 0 || (size_t)n >= size - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	return used <= OCITAP_KEEPER_NAME_MAX ? (int)used : -ENAMETOOLONG;
}

int ocitap_keeper_peer_parse(const char *id, struct ocitap_keeper_peer *ret)
{
	struct ocitap_keeper_peer p = { 0 };
	const char *s = id;
	char *end;
	long long v;
	unsigned long long dev, ino;

	if (*s++ != 'p')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || v > INT32_MAX || *end != 'u')
		return -EINVAL;
	p.pid = (pid_t)v;
	s = end + 1;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || v > UINT32_MAX)
		return -EINVAL;
	p.uid = (uid_t)v;
	s = end;
	if (*s) {
		for (int i = 0; i < OCITAP_NS_N; i++) {
			int used = 0;

			if (sscanf(s, "-%llx:%llx%n", &dev, &ino, &used) != 2 || used == 0)
				return -EINVAL;
			p.ns.ns[i].dev = dev;
			p.ns.ns[i].ino = ino;
			s += used;
		}
		if (*s)
			return -EINVAL;
		p.has_ns = true;
	}
	*ret = p;
	return 0;
}
