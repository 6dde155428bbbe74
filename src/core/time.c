/* RFC 3339 time helpers; all times are UTC seconds since the epoch. */
#include "core/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int64_t aclm_time_now(void)
{
	return (int64_t)time(NULL);
}

const char *aclm_time_fmt(int64_t t, char out[ACLM_TIME_RFC3339_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, ACLM_TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, ACLM_TIME_RFC3339_LEN, "invalid");
	return out;
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

aclm_status aclm_time_parse(const char *s, int64_t *out)
{
	const char *p = s;
	struct tm tm = { 0 };
	int year, mon, mday, hour, min, sec, oh = 0, om = 0, sign = 0;

	if (parse_digits(&p, 4, &year) || expect(&p, "-") || parse_digits(&p, 2, &mon) ||
	    expect(&p, "-") || parse_digits(&p, 2, &mday) || expect(&p, "Tt ") ||
	    parse_digits(&p, 2, &hour) || expect(&p, ":") || parse_digits(&p, 2, &min) ||
	    expect(&p, ":") || parse_digits(&p, 2, &sec))
		return ACLM_ERR_PARSE;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return ACLM_ERR_PARSE;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (parse_digits(&p, 2, &oh) || expect(&p, ":") || parse_digits(&p, 2, &om))
			return ACLM_ERR_PARSE;
	} else {
		return ACLM_ERR_PARSE;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 ||
	    min > 59 || sec > 60 || oh > 23 || om > 59)
		return ACLM_ERR_PARSE;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return ACLM_OK;
}

int64_t aclm_time_days_between(int64_t now, int64_t t)
{
	int64_t d = t - now;

	if (d >= 0)
		return d / 86400;
	return -((-d + 86399) / 86400);
}

aclm_status aclm_duration_parse(const char *s, int64_t *out)
{
	int64_t v = 0, unit = 1;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return ACLM_ERR_INVALID;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 100LL * 366 * 86400)
			return ACLM_ERR_INVALID;
	}
	switch (*p) {
	case 'd': unit = 86400; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'm': unit = 60; p++; break;
	case 's': p++; break;
	case '\0': break;
	default: return ACLM_ERR_INVALID;
	}
	if (*p != '\0' || v == 0 || v > 100LL * 366 * 86400 / unit)
		return ACLM_ERR_INVALID;
	*out = v * unit;
	return ACLM_OK;
}
