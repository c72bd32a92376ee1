/*
 * musl-compat.c: what the hook's musl build needs of glibc's fortified ABI.
 *
 * Debian's libjson-c.a is compiled against glibc with _FORTIFY_SOURCE, so
 * its objects call glibc's checked entry points (__snprintf_chk and the
 * like). musl has no such symbols. These are the same checks in our own
 * words: a size the compiler knew (the object's) smaller than the size
 * passed is an overflow, and the process aborts as glibc's would; else
 * the call goes to musl's own function. The flag (glibc's %n policy) is
 * not used.
 *
 * Linked only into the musl build of ocitap-hook (Makefile, MUSL_CC).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
int __vasprintf_chk(char **strp, int flag, const char *fmt, va_list ap);
char *__strcat_chk(char *dest, const char *src, size_t destlen);
void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap);

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	if (maxlen > slen)
		abort();
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return n;
}

int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	return vfprintf(fp, fmt, ap);
}

int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(fp, fmt, ap);
	va_end(ap);
	return n;
}

int __vasprintf_chk(char **strp, int flag, const char *fmt, va_list ap)
{
	return vasprintf(strp, fmt, ap);
}

char *__strcat_chk(char *dest, const char *src, size_t destlen)
{
	size_t have = strlen(dest), add = strlen(src);

	if (have >= destlen || add >= destlen - have)
		abort();
	memcpy(dest + have, src, add + 1);
	return dest;
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
	vsyslog(priority, fmt, ap);
}
