/* The scheduler's configuration: [sched], [renew], [alerts], [scan.NAME]
 * and, through notify_check, [notify.NAME]; parsed into what the planner
 * uses, and checked with errors that name the file, line and reason. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "notify/notify.h"
#include "sched/sched_int.h"

bool sched__fraction_parse(const char *s, double *out)
{
	char *end = NULL;
	double num, den = 1;

	if (s == NULL || *s == '\0')
		return false;
	num = strtod(s, &end);
	if (end == s)
		return false;
	if (*end == '/') {
		const char *d = end + 1;

		den = strtod(d, &end);
		if (end == d || den <= 0)
			return false;
	}
	if (*end != '\0')
		return false;
	*out = num / den;
	return *out > 0 && *out < 1;
}

static aclm_status bad(const struct aclm_config *cfg, const char *section, const char *key,
		       const char *value, const char *why, struct aclm_err *err)
{
	char where[300];

	aclm_config_where(cfg, section, key, where, sizeof(where));
	return aclm_err_set(err, ACLM_ERR_CONFIG, "%s: [%s] %s = \"%s\": %s", where, section, key,
			    value, why);
}

aclm_status sched__renew_cfg(const struct aclm_config *cfg, struct sched__renew_cfg *out,
			     struct aclm_err *err)
{
	const char *ari = aclm_config_get(cfg, "renew", "ari");
	const char *frac = aclm_config_get(cfg, "renew", "remaining_fraction");
	const char *jit = aclm_config_get(cfg, "renew", "jitter");
	size_t n;

	memset(out, 0, sizeof(*out));
	out->ari = ari == NULL || strcmp(ari, "off") != 0;
	if (frac != NULL && frac[0] != '\0') {
		if (!sched__fraction_parse(frac, &out->fraction))
			return bad(cfg, "renew", "remaining_fraction", frac,
				   "a share of the lifetime between 0 and 1 exclusive, e.g. 1/3 or 0.25",
				   err);
		out->fraction_set = true;
	}
	if (jit == NULL || jit[0] == '\0' || strcmp(jit, "0") == 0)
		return ACLM_OK;
	n = strlen(jit);
	if (jit[n - 1] == '%') {
		char *end = NULL;
		double pct = strtod(jit, &end);

		if (end != jit + n - 1 || pct < 0 || pct > 100)
			return bad(cfg, "renew", "jitter", jit, "a percentage must be 0% to 100%", err);
		out->jitter_pct = true;
		out->jitter_share = pct / 100;
		return ACLM_OK;
	}
	if (aclm_duration_parse(jit, &out->jitter_max) != ACLM_OK)
		return bad(cfg, "renew", "jitter", jit,
			   "give N% of the time left, a duration (30m, 1h) or 0", err);
	return ACLM_OK;
}

/* Days, strictly descending and positive: thresholds are checked in order. */
aclm_status sched__thresholds_parse(const char *s, int *out, size_t *n, struct aclm_err *err)
{
	const char *p = s != NULL ? s : "";

	*n = 0;
	while (*p != '\0') {
		char *end = NULL;
		long v;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		v = strtol(p, &end, 10);
		if (end == p || v <= 0 || v > 3650)
			return aclm_err_set(err, ACLM_ERR_CONFIG,
					    "thresholds: \"%.20s\" is not a number of days (1 to 3650)", p);
		if (*n == SCHED__MAX_THRESHOLDS)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "thresholds: more than %d",
					    SCHED__MAX_THRESHOLDS);
		out[(*n)++] = (int)v;
		p = end;
		while (*p == ' ')
			p++;
		if (*p != '\0' && *p != ',')
			return aclm_err_set(err, ACLM_ERR_CONFIG,
					    "thresholds: comma-separated days expected at \"%.20s\"", p);
	}
	/* Sorted descending so that the tightest crossed one is the last hit. */
	for (size_t i = 1; i < *n; i++)
		for (size_t k = i; k > 0 && out[k - 1] < out[k]; k--) {
			int t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return ACLM_OK;
}

/* True when name is an existing [notify.NAME] section. */
static bool channel_exists(const struct aclm_config *cfg, const char *name, size_t len)
{
	const char *inst;

	for (size_t i = 0; (inst = aclm_config_instance(cfg, "notify", i)) != NULL; i++)
		if (strlen(inst) == len && strncmp(inst, name, len) == 0)
			return true;
	return false;
}

/* The spelling of channel names the API accepts (api__name_ok). */
static bool channel_name_ok(const char *p, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '_' && p[i] != '-' &&
		    p[i] != '@')
			return false;
	return true;
}

static aclm_status check_alerts(const struct aclm_config *cfg, struct aclm_err *err)
{
	const char *thr = aclm_config_get(cfg, "alerts", "thresholds");
	const char *ch = aclm_config_get(cfg, "alerts", "channels");
	int days[SCHED__MAX_THRESHOLDS];
	size_t n;

	if (sched__thresholds_parse(thr, days, &n, err) != ACLM_OK) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return bad(cfg, "alerts", "thresholds", thr, why, err);
	}
	for (const char *p = ch != NULL ? ch : ""; *p != '\0';) {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		/* A name without a [notify.NAME] section is a channel stored
		 * through the API: the store is not at hand here, so only its
		 * spelling is checked (the notify job says when it is absent). */
		if (len > 0 && !channel_exists(cfg, p, len) && !channel_name_ok(p, len)) {
			char why[200];

			snprintf(why, sizeof(why), "\"%.*s\": neither a [notify.NAME] section nor a "
				 "channel name (A-Z a-z 0-9 . _ - @)", (int)len, p);
			return bad(cfg, "alerts", "channels", ch, why, err);
		}
		p += len;
	}
	return ACLM_OK;
}

static aclm_status check_scan(const struct aclm_config *cfg, const char *name,
			      struct aclm_err *err)
{
	char section[160];
	const char *targets, *interval, *ports;
	int64_t secs;

	snprintf(section, sizeof(section), "scan.%s", name);
	targets = aclm_config_get(cfg, section, "targets");
	interval = aclm_config_get(cfg, section, "interval");
	ports = aclm_config_get(cfg, section, "ports");
	if (targets == NULL || targets[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "[%s]: targets is required (hosts, addresses or CIDR ranges)",
				    section);
	if (interval != NULL && interval[0] != '\0' && aclm_duration_parse(interval, &secs) != ACLM_OK)
		return bad(cfg, section, "interval", interval, "a duration such as 6h or 1d", err);
	for (const char *p = ports != NULL ? ports : ""; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != ',' && *p != ' ' && *p != '-')
			return bad(cfg, section, "ports", ports, "port numbers, e.g. 443,8443", err);
	return ACLM_OK;
}

aclm_status sched_config_check(const struct aclm_config *cfg, struct aclm_err *err)
{
	struct sched__renew_cfg rc;
	const char *name;
	aclm_status st = sched__renew_cfg(cfg, &rc, err);

	if (st == ACLM_OK)
		st = check_alerts(cfg, err);
	for (size_t i = 0; st == ACLM_OK && (name = aclm_config_instance(cfg, "scan", i)) != NULL; i++)
		st = check_scan(cfg, name, err);
	if (st == ACLM_OK)
		st = notify_config_check(cfg, err);
	return st;
}
