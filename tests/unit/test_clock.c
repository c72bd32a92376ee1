/*
 * test_clock.c: the clocks, and RFC 3339 both ways: fractions, Z and
 * offsets, before 1970 and as far ahead as nanoseconds reach, and what is
 * refused, named in the error.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "testutil.h"

#define NS INT64_C(1000000000)

static void test_clocks(void **unused)
{
	struct timespec ts;
	int64_t m0 = ocitap_mono_ns(), w = ocitap_wall_ns(), m1;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* the same clock as clock_gettime's, within a second */
	assert_true(w <= (int64_t)ts.tv_sec * NS + ts.tv_nsec);
	assert_true((int64_t)ts.tv_sec * NS + ts.tv_nsec - w < NS);
	assert_true(ocitap_wall_ms() / 1000 - ts.tv_sec <= 1);
	m1 = ocitap_mono_ns();
	assert_true(m1 >= m0);
	assert_true(ocitap_mono_ms() >= m0 / 1000000);
	assert_true(ocitap_now_ms() >= m0 / 1000000);
}

static const struct {
	int64_t ns;
	unsigned digits;
	const char *text;
} formats[] = {
	{ 0, 9, "1970-01-01T00:00:00.000000000Z" },
	{ 1, 9, "1970-01-01T00:00:00.000000001Z" },
	{ 1763876497840161011, 9, "2025-11-23T05:41:37.840161011Z" },
	{ 1763876497840161011, 3, "2025-11-23T05:41:37.840Z" },
	{ 1763876497999999999, 0, "2025-11-23T05:41:37Z" }, /* cut, not rounded */
	{ -1, 9, "1969-12-31T23:59:59.999999999Z" },
	{ -NS, 0, "1969-12-31T23:59:59Z" },
	{ -86400 * NS, 9, "1969-12-31T00:00:00.000000000Z" },
	{ 951782400 * NS, 0, "2000-02-29T00:00:00Z" }, /* leap day of a century year */
	{ INT64_MAX, 9, "2262-04-11T23:47:16.854775807Z" },
	{ INT64_MIN, 9, "1677-09-21T00:12:43.145224192Z" },
	{ 0, 12, "1970-01-01T00:00:00.000000000Z" }, /* more than 9 digits: 9 */
};

static void test_format(void **unused)
{
	char buf[OCITAP_RFC3339_MAX];

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_ptr_equal(ocitap_rfc3339_format(formats[i].ns, formats[i].digits, buf, sizeof(buf)), buf);
		assert_string_equal(buf, formats[i].text);
	}
	/* a short buffer is cut and terminated */
	ocitap_rfc3339_format(0, 9, buf, 5);
	assert_string_equal(buf, "1970");
	/* the JSON form: nothing for a time not set */
	ocitap_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	ocitap_time_format(-5, buf, sizeof(buf));
	assert_string_equal(buf, "");
	ocitap_time_format(1, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000001Z");
}

static const struct {
	const char *text;
	int64_t ns;
} parses[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1970-01-01T00:00:01Z", NS },
	{ "1970-01-01t00:00:01z", NS },
	{ "1970-01-01T01:00:01.5+01:00", NS + NS / 2 },
	{ "1969-12-31T19:00:01.5-05:00", NS + NS / 2 },
	{ "2025-11-23T05:41:37.840161011Z", 1763876497840161011 },
	{ "2025-11-23T05:41:37.840161011999Z", 1763876497840161011 }, /* beyond ns: dropped */
	{ "2025-11-23T05:41:37.8Z", 1763876497800000000 },
	{ "2025-11-23T06:11:37.840161011+00:30", 1763876497840161011 },
	{ "1969-12-31T23:59:59.999999999Z", -1 },
	{ "1900-01-01T00:00:00Z", -2208988800 * NS },
	{ "2000-02-29T00:00:00Z", 951782400 * NS },
	{ "2016-12-31T23:59:60Z", 1483228800 * NS }, /* a leap second is the next second */
	{ "2262-04-11T23:47:16.854775807Z", INT64_MAX },
	{ "1677-09-21T00:12:43.145224192Z", INT64_MIN },
};

static void test_parse(void **unused)
{
	struct ocitap_error err = { 0 };
	char buf[OCITAP_RFC3339_MAX];

	for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
		int64_t ns = 42;

		if (ocitap_rfc3339_parse(parses[i].text, &ns, &err) != 0)
			fail_msg("%s: %s", parses[i].text, err.message);
		if (ns != parses[i].ns)
			fail_msg("%s: %lld, expected %lld", parses[i].text, (long long)ns, (long long)parses[i].ns);
	}
	/* what format writes, parse reads back */
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		int64_t ns;

		if (formats[i].digits < 9)
			continue;
		ocitap_rfc3339_format(formats[i].ns, 9, buf, sizeof(buf));
		assert_int_equal(ocitap_rfc3339_parse(buf, &ns, NULL), 0);
		assert_true(ns == formats[i].ns);
	}
}

static const struct {
	const char *text;
	int code;
	const char *says;
} bad[] = {
	{ "", -EINVAL, "the date" },
	{ "2026-11-23 05:47:57Z", -EINVAL, "no 'T'" },
	{ "2026-11-23T05:47:57", -EINVAL, "no 'Z' or offset" },
	{ "2026-11-23T05:47:57Zjunk", -EINVAL, "text after the time" },
	{ "2026-11-23T05:47:57.Z", -EINVAL, "no digit after the '.'" },
	{ "2026-11-23T05:47:57+0100", -EINVAL, "offset" },
	{ "2026-11-23T05:47:57+24:00", -EINVAL, "no such offset" },
	{ "2026-13-23T05:47:57Z", -EINVAL, "no such month" },
	{ "2026-00-23T05:47:57Z", -EINVAL, "no such month" },
	{ "2025-02-29T05:47:57Z", -EINVAL, "no such day" },
	{ "2026-04-31T05:47:57Z", -EINVAL, "no such day" },
	{ "2026-11-23T24:00:00Z", -EINVAL, "no such time" },
	{ "2026-11-23T23:60:00Z", -EINVAL, "no such time" },
	{ "2026-11-23T23:59:61Z", -EINVAL, "no such time" },
	{ "26-11-23T05:47:57Z", -EINVAL, "YYYY-MM-DD" },
	{ "+2026-11-23T05:47:57Z", -EINVAL, "YYYY-MM-DD" },
	{ "2026-11-23T5:47:57Z", -EINVAL, "HH:MM:SS" },
	{ "2262-04-11T23:47:16.854775808Z", -ERANGE, "out of range" },
	{ "9999-12-31T23:59:59Z", -ERANGE, "out of range" },
	{ "1677-09-21T00:12:43.145224191Z", -ERANGE, "out of range" },
	{ "0000-01-01T00:00:00Z", -ERANGE, "out of range" },
};

static void test_refused(void **unused)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocitap_error err = { 0 };
		int64_t ns = 42;
		int r = ocitap_rfc3339_parse(bad[i].text, &ns, &err);

		if (r != bad[i].code || err.code != r)
			fail_msg("%s: got %d, expected %d", bad[i].text, r, bad[i].code);
		assert_true(ns == 42); /* untouched */
		if (!strstr(err.message, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, err.message, bad[i].says);
		/* the input is named (quoted) in the message */
		assert_non_null(strstr(err.message, "'"));
		if (*bad[i].text)
			assert_non_null(strstr(err.message, bad[i].text));
	}
	assert_int_equal(ocitap_rfc3339_parse(NULL, &(int64_t){ 0 }, NULL), -EINVAL);

	/* a long input is cut in the message, never overflows it */
	{
		char big[4096];
		struct ocitap_error err = { 0 };
		int64_t ns;

		memset(big, '7', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(ocitap_rfc3339_parse(big, &ns, &err), -EINVAL);
		assert_non_null(strstr(err.message, "..."));
		assert_true(strlen(err.message) < 200);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
