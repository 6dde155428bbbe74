/* Time helpers: RFC 3339 (UTC, "Z") formatting and parsing. */
#ifndef ACLM_CORE_TIME_H
#define ACLM_CORE_TIME_H

#include <stdint.h>
#include <time.h>

#include "core/status.h"

#define ACLM_TIME_RFC3339_LEN 32

int64_t aclm_time_now(void);

/* Formats t as "2026-11-28T13:54:26Z" into out; returns out. */
const char *aclm_time_fmt(int64_t t, char out[ACLM_TIME_RFC3339_LEN]);

/* Parses RFC 3339 (with "Z" or a numeric offset, optional fraction). */
aclm_status aclm_time_parse(const char *s, int64_t *out);

/* A duration "90d", "160h", "30m", "45s" or plain seconds, > 0 and at
 * most 100 years; anything else -> ACLM_ERR_INVALID. */
aclm_status aclm_duration_parse(const char *s, int64_t *out);

/* Whole days from `now` to `t`, rounded towards negative infinity, so a
 * certificate that expired one second ago has -1 days left. */
int64_t aclm_time_days_between(int64_t now, int64_t t);

#endif
