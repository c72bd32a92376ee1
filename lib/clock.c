/*
 * clock.c: reading the clocks, and RFC 3339 text for wall-clock times.
 *
 * Dates are converted with the proleptic Gregorian day-count algorithms of
 * Howard Hinnant's "chrono-compatible low-level date algorithms", not with
 * timegm()/gmtime_r(): no dependency on the width of time_t or on TZ, and
 * every year from 0000 to 9999 works the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define NS_PER_SEC  INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t ocitap_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t ocitap_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t ocitap_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t ocitap_wall_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000;
}

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = y + (*ret_m <= 2);
}

const char *ocitap_rfc3339_format(int64_t wall_ns, unsigned frac_digits, char *buf, size_t size)
{
	char fraction[16] = "";
	/* floor division: -1 ns is 1969-12-31T23:59:59.999999999Z */
	int64_t secs = wall_ns / NS_PER_SEC, frac = wall_ns % NS_PER_SEC, days, sod, y;
	int m, d;

	if (frac < 0) {
		frac += NS_PER_SEC;
		secs--;
	}
	days = secs / SEC_PER_DAY;
	sod = secs % SEC_PER_DAY;
	if (sod < 0) {
		sod += SEC_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (frac_digits > 0) {
		snprintf(fraction, sizeof(fraction), ".%09" PRId64, frac);
		fraction[1 + (frac_digits > 9 ? 9 : frac_digits)] = '\0';
	}
	if (size > 0)
		snprintf(buf, size, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, (int)(sod / 3600),
			 (int)(sod / 60 % 60), (int)(sod % 60), fraction);
	return buf;
}

void ocitap_time_format(int64_t wall_ns, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (wall_ns <= 0)
		buf[0] = '\0';
	else
		ocitap_rfc3339_format(wall_ns, 9, buf, size);
}

/* Exactly n decimal digits at *p; advances p. */
static bool digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int bad(struct ocitap_error *err, const char *s, const char *why)
{
	return ocitap_error_set(err, -EINVAL, NULL, "'%.64s%s' is not an RFC 3339 time (%s): %s", s,
				strlen(s) > 64 ? "..." : "", "like 2026-11-23T05:47:57.458Z", why);
}

int ocitap_rfc3339_parse(const char *s, int64_t *ret_ns, struct ocitap_error *err)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, secs, ns;

	if (!s)
		return ocitap_error_set(err, -EINVAL, NULL, "no time given");
	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') || !digits(&p, 2, &d))
		return bad(err, s, "the date is not YYYY-MM-DD");
	if (!expect(&p, 'T') && !expect(&p, 't'))
		return bad(err, s, "no 'T' between the date and the time");
	if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') || !digits(&p, 2, &sec))
		return bad(err, s, "the time of day is not HH:MM:SS");
	if (*p == '.') {
		int64_t scale = NS_PER_SEC / 10;

		if (*++p < '0' || *p > '9')
			return bad(err, s, "no digit after the '.'");
		for (; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
			return bad(err, s, "the offset is not +HH:MM or -HH:MM");
	} else {
		return bad(err, s, "no 'Z' or offset after the time");
	}
	if (*p)
		return bad(err, s, "text after the time");
	if (mo < 1 || mo > 12)
		return bad(err, s, "no such month");
	if (d < 1 || d > days_in_month(y, mo))
		return bad(err, s, "no such day in that month");
	if (h > 23 || mi > 59 || sec > 60)
		return bad(err, s, "no such time of day");
	if (oh > 23 || om > 59)
		return bad(err, s, "no such offset");

	/* a year of at most 4 digits: the seconds cannot overflow, the nanoseconds can */
	secs = days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (secs < 0 && frac > 0) { /* so that the earliest time, INT64_MIN, does not overflow on the way */
		secs++;
		frac -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return ocitap_error_set(
			err, -ERANGE, NULL,
			"'%.64s' is out of range: nanoseconds since 1970 reach from 1677-09-21 to 2262-04-11", s);
	*ret_ns = ns;
	return 0;
}
