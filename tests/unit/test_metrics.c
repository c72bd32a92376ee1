/*
 * test_metrics.c: ocitapd's metrics table (inspect/ocitapd/metrics.c):
 * label values escaped as the Prometheus text format wants, counters
 * added per label set, gauges set, histograms bucketed cumulatively, and
 * every family with its HELP and TYPE once.
 */
#include <pthread.h>

#include "../../inspect/ocitapd/log.h"
#include "../../inspect/ocitapd/metrics.h"
#include "testutil.h"

static char *text;
static size_t text_size;

/* metrics_render into a string (caller frees) */
static char *render(void)
{
	FILE *out = open_memstream(&text, &text_size);

	assert_non_null(out);
	metrics_render(out);
	fclose(out);
	return text;
}

static void test_counters_and_escaping(void **unused)
{
	char *t;

	metric_add("ocitap_notifications_total", 3, "syscall", "mkdir", "action", "continue", NULL);
	metric_add("ocitap_notifications_total", 2, "syscall", "mkdir", "action", "continue", NULL);
	metric_add("ocitap_notifications_total", 1, "syscall", "chmod", "action", "errno:EPERM", NULL);
	metric_add("ocitap_transitions_total", 1, "to", "running", "source", "we\"ird\\src\nx", NULL);
	metric_set("ocitap_push_backlog_events", 7, "receiver", "http://r/", NULL);
	metric_set("ocitap_push_backlog_events", 4, "receiver", "http://r/", NULL);
	t = render();
	assert_non_null(strstr(t, "ocitap_notifications_total{syscall=\"mkdir\",action=\"continue\"} 5\n"));
	assert_non_null(strstr(t, "ocitap_notifications_total{syscall=\"chmod\",action=\"errno:EPERM\"} 1\n"));
	assert_non_null(strstr(t, "ocitap_transitions_total{to=\"running\",source=\"we\\\"ird\\\\src\\nx\"} 1\n"));
	assert_non_null(strstr(t, "ocitap_push_backlog_events{receiver=\"http://r/\"} 4\n"));
	assert_non_null(strstr(t, "# TYPE ocitap_push_backlog_events gauge\n"));
	/* one HELP/TYPE per family */
	assert_non_null(strstr(t, "# TYPE ocitap_notifications_total counter"));
	assert_null(strstr(strstr(t, "# TYPE ocitap_notifications_total counter") + 1,
			   "# TYPE ocitap_notifications_total counter"));
	/* unlabelled counters show at zero before their first event */
	assert_non_null(strstr(t, "\nocitap_oom_kills_total 0\n"));
	free(t);
	metrics_release();
}

static void test_histogram(void **unused)
{
	char *t;

	metric_observe("ocitap_container_start_to_running_seconds", 0.004, NULL);
	metric_observe("ocitap_container_start_to_running_seconds", 0.2, NULL);
	metric_observe("ocitap_container_start_to_running_seconds", 100, NULL);
	metric_observe("ocitap_container_start_to_running_seconds", -1, NULL); /* ignored */
	t = render();
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_bucket{le=\"0.25\"} 2\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_bucket{le=\"30\"} 2\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_count 3\n"));
	assert_non_null(strstr(t, "ocitap_container_start_to_running_seconds_sum 100.204\n"));
	/* a histogram without observations still has its buckets */
	assert_non_null(strstr(t, "ocitap_container_create_to_start_seconds_bucket{le=\"+Inf\"} 0\n"));
	free(t);
	metrics_release();
}

/* A long label value is cut, never overflows. */
static void test_long_label(void **unused)
{
	char big[2000];
	char *t;

	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	metric_add("ocitap_hook_reports_total", 1, "stage", big, NULL);
	t = render();
	assert_non_null(strstr(t, "ocitap_hook_reports_total{stage=\"\\\"\\\""));
	free(t);
	metrics_release();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_long_label),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
