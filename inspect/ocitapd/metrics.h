/*
 * metrics.h: labelled counters, gauges and histograms for /metrics
 * (metrics.c), one table for the whole process, safe from any thread. The
 * variadic arguments are label name/value pairs ended by NULL; values are
 * escaped here. family must be one of the table in metrics.c.
 */
#ifndef OCITAPD_METRICS_H
#define OCITAPD_METRICS_H

#include <stdio.h>

void metric_add(const char *family, double by, ...);
void metric_observe(const char *family, double value, ...);
void metric_set(const char *family, double value, ...); /* gauges */
/* Every family, Prometheus text format (copied under the lock, written without it). */
void metrics_render(FILE *out);
void metrics_release(void);

#endif
