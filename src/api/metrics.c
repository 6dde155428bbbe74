/* api/metrics: the HTTP counters every request updates (atomics, no lock)
 * and their Prometheus text (format 0.0.4). The inventory and job series
 * are read per scrape in h_metrics.c. */
#include "api/api_int.h"

#include <stdio.h>

const int api__status_codes[API__STATUS_SLOTS] = { 200, 201, 204, 400, 401, 403, 404, 405,
						   409, 413, 415, 429, 500, 503, 304, 0 };
const double api__latency_bounds[API__LATENCY_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01,
							   0.025, 0.05,	  0.1,	 0.25,
							   0.5,	  1.0,	  5.0 };

static const char *const class_names[API__C_COUNT] = {
	"health", "metrics", "openapi", "auth", "certificates", "tenants",
	"users",  "tokens",  "audit",	"reports", "endpoints", "scans",
	"acme",   "jobs",    "channels", "alerts", "deployments", "other",
};

const char *api__class_name(enum api__class c)
{
	return c >= 0 && c < API__C_COUNT ? class_names[c] : "other";
}

void api__metrics_observe(struct api__http_metrics *m, enum api__class c, int status,
			  int64_t micros)
{
	size_t s = API__STATUS_SLOTS - 1, b = API__LATENCY_BUCKETS;

	if (c < 0 || c >= API__C_COUNT)
		c = API__C_OTHER;
	for (size_t i = 0; i + 1 < API__STATUS_SLOTS; i++)
		if (api__status_codes[i] == status)
			s = i;
	/* Cumulative buckets are summed at render time: count the first only. */
	for (size_t i = API__LATENCY_BUCKETS; i-- > 0;)
		if ((double)micros / 1e6 <= api__latency_bounds[i])
			b = i;
	atomic_fetch_add(&m->requests[c][s], 1);
	atomic_fetch_add(&m->latency[c][b], 1);
	atomic_fetch_add(&m->latency_sum_us[c], (uint_fast64_t)(micros > 0 ? micros : 0));
}

aclm_status api__metrics_label(struct aclm_buf *out, const char *v)
{
	aclm_status st = ACLM_OK;

	for (const char *p = v != NULL ? v : ""; *p != '\0' && st == ACLM_OK; p++) {
		if (*p == '\\')
			st = aclm_buf_puts(out, "\\\\");
		else if (*p == '"')
			st = aclm_buf_puts(out, "\\\"");
		else if (*p == '\n')
			st = aclm_buf_puts(out, "\\n");
		else
			st = aclm_buf_append(out, p, 1);
	}
	return st;
}

static aclm_status requests_text(const struct api__http_metrics *m, struct aclm_buf *out)
{
	aclm_status st = aclm_buf_puts(out,
				       "# HELP aclm_http_requests_total HTTP requests answered, by "
				       "route class and status.\n"
				       "# TYPE aclm_http_requests_total counter\n");

	for (int c = 0; c < API__C_COUNT && st == ACLM_OK; c++)
		for (int s = 0; s < API__STATUS_SLOTS && st == ACLM_OK; s++) {
			uint_fast64_t n = atomic_load(&m->requests[c][s]);
			char code[8];

			if (n == 0)
				continue;
			if (api__status_codes[s] != 0)
				snprintf(code, sizeof(code), "%d", api__status_codes[s]);
			else
				snprintf(code, sizeof(code), "other");
			st = aclm_buf_printf(out,
					     "aclm_http_requests_total{class=\"%s\",status=\"%s\"} "
					     "%llu\n",
					     class_names[c], code, (unsigned long long)n);
		}
	return st;
}

static aclm_status latency_text(const struct api__http_metrics *m, struct aclm_buf *out)
{
	aclm_status st = aclm_buf_puts(out,
				       "# HELP aclm_http_request_duration_seconds Time to answer, by "
				       "route class.\n"
				       "# TYPE aclm_http_request_duration_seconds histogram\n");

	for (int c = 0; c < API__C_COUNT && st == ACLM_OK; c++) {
		uint_fast64_t cum = 0, total = 0;

		for (int b = 0; b <= API__LATENCY_BUCKETS; b++)
			total += atomic_load(&m->latency[c][b]);
		if (total == 0)
			continue;
		for (int b = 0; b < API__LATENCY_BUCKETS && st == ACLM_OK; b++) {
			cum += atomic_load(&m->latency[c][b]);
			st = aclm_buf_printf(out,
					     "aclm_http_request_duration_seconds_bucket{class=\"%s\","
					     "le=\"%g\"} %llu\n",
					     class_names[c], api__latency_bounds[b],
					     (unsigned long long)cum);
		}
		if (st == ACLM_OK)
			st = aclm_buf_printf(
				out,
				"aclm_http_request_duration_seconds_bucket{class=\"%s\",le=\"+Inf\"} "
				"%llu\n"
				"aclm_http_request_duration_seconds_sum{class=\"%s\"} %.6f\n"
				"aclm_http_request_duration_seconds_count{class=\"%s\"} %llu\n",
				class_names[c], (unsigned long long)total, class_names[c],
				(double)atomic_load(&m->latency_sum_us[c]) / 1e6, class_names[c],
				(unsigned long long)total);
	}
	return st;
}

aclm_status api__metrics_http_text(const struct api__http_metrics *m, struct aclm_buf *out)
{
	aclm_status st = requests_text(m, out);

	if (st == ACLM_OK)
		st = latency_text(m, out);
	return st;
}
