/*
 * bench-parse.c: the cost of a typed parse + validate against json-c's bare
 * json_tokener_parse of the same bytes, measured in the same run.
 *
 * For each message: ROUNDS rounds, each timing ITER parses of ours and ITER
 * of the baseline back to back (alternating which goes first), and the
 * median of the per-round ratios is reported, so a noisy neighbour moves
 * both sides alike. Usage: bench-parse FILE KIND [FILE KIND]...
 * with KIND state or process-state.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocitap.h"

#define ROUNDS 21
#define ITER 20000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double time_baseline(const char *buf)
{
	double t0 = now_ns();

	for (int i = 0; i < ITER; i++) {
		json_object *o = json_tokener_parse(buf);

		if (!o)
			abort();
		json_object_put(o);
	}
	return (now_ns() - t0) / ITER;
}

static double time_ours(const char *buf, size_t len, bool process)
{
	struct ocitap_error err;
	double t0 = now_ns();

	for (int i = 0; i < ITER; i++) {
		if (process) {
			struct ocitap_process_state ps;

			if (ocitap_process_state_parse(buf, len, 0, NULL, 1, &ps, &err) < 0)
				abort();
			ocitap_process_state_release(&ps);
		} else {
			struct ocitap_state st;

			if (ocitap_state_parse(buf, len, 0, NULL, &st, &err) < 0)
				abort();
			ocitap_state_release(&st);
		}
	}
	return (now_ns() - t0) / ITER;
}

int main(int argc, char **argv)
{
	int worst_over = 0;

	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: bench-parse FILE KIND [FILE KIND]...\n");
		return 2;
	}
	for (int a = 1; a + 1 < argc; a += 2) {
		struct ocitap_error err;
		double ratios[ROUNDS], ours_ns[ROUNDS], base_ns[ROUNDS];
		bool process = strcmp(argv[a + 1], "process-state") == 0;
		char *buf;
		size_t len;

		if (ocitap_read_file(argv[a], 1 << 20, -1, &buf, &len, &err) < 0) {
			fprintf(stderr, "bench-parse: %s: %s\n", argv[a], err.message);
			return 1;
		}
		time_ours(buf, len, process); /* warm up */
		time_baseline(buf);
		for (int r = 0; r < ROUNDS; r++) {
			if (r % 2) {
				ours_ns[r] = time_ours(buf, len, process);
				base_ns[r] = time_baseline(buf);
			} else {
				base_ns[r] = time_baseline(buf);
				ours_ns[r] = time_ours(buf, len, process);
			}
			ratios[r] = ours_ns[r] / base_ns[r];
		}
		qsort(ratios, ROUNDS, sizeof(double), cmp_double);
		qsort(ours_ns, ROUNDS, sizeof(double), cmp_double);
		qsort(base_ns, ROUNDS, sizeof(double), cmp_double);
		printf("%-14s %-36s %5zu bytes  ocitap %6.0f ns/msg  json-c tokenize %6.0f ns/msg  ratio %.2fx (target <= 1.50x)\n",
		       argv[a + 1], argv[a], len, ours_ns[ROUNDS / 2], base_ns[ROUNDS / 2], ratios[ROUNDS / 2]);
		if (ratios[ROUNDS / 2] > 1.5)
			worst_over = 1;
		free(buf);
	}
	return worst_over;
}
