/* Alerts: the rules (overdue past the renewal point without successor;
 * expiry thresholds below 1/3 of the lifetime, daily below 3 days), the
 * planner's pass over a tenant's certificates, and raising one alert:
 * stored once per dedupe key, then one notify job per [alerts] channel. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "sched/sched_int.h"

#define DAY 86400

size_t sched__alert_rules(const struct sched__cert_view *v, const int *thresholds, size_t nthr,
			  int64_t now, struct sched__alert_want out[2])
{
	int64_t left = v->not_after - now, lifetime = v->not_after - v->not_before;
	char t[ACLM_TIME_RFC3339_LEN];
	size_t n = 0;
	int hit = 0;

	if (v->has_successor)
		return 0;
	if (left <= 0) {
		out[n] = (struct sched__alert_want){ .kind = "expiry", .dedupe = "expired",
						     .severity = "critical" };
		snprintf(out[n].message, sizeof(out[n].message), "expired on %s",
			 aclm_time_fmt(v->not_after, t));
		return n + 1;
	}
	/* Overdue is about what aclm (or its operators) renew: leaves. A CA
	 * certificate, a trust store's root above all, has no renewal point. */
	if (now >= v->renew_point && !v->is_ca) {
		out[n] = (struct sched__alert_want){ .kind = "overdue", .dedupe = "overdue",
						     .severity = "high" };
		snprintf(out[n].message, sizeof(out[n].message),
			 "past its renewal point (%s) with no successor, %lld days left",
			 aclm_time_fmt(v->renew_point, t), (long long)(left / DAY));
		n++;
	}
	/* Thresholds only count once under 1/3 of the lifetime is left: a
	 * fresh 6-day certificate is not "expiring in 7 days". */
	if (left * 3 >= lifetime)
		return n;
	if (left < SCHED__DAILY_BELOW) {
		struct tm tm;
		time_t tt = (time_t)now;

		gmtime_r(&tt, &tm);
		out[n] = (struct sched__alert_want){ .kind = "expiry", .severity = "critical" };
		strftime(out[n].dedupe, sizeof(out[n].dedupe), "day:%Y-%m-%d", &tm);
		snprintf(out[n].message, sizeof(out[n].message), "expires in %lld hours (%s)",
			 (long long)(left / 3600), aclm_time_fmt(v->not_after, t));
		return n + 1;
	}
	for (size_t i = 0; i < nthr; i++)
		if (left <= (int64_t)thresholds[i] * DAY)
			hit = thresholds[i];
	if (hit == 0)
		return n;
	out[n] = (struct sched__alert_want){ .kind = "expiry",
					     .severity = hit <= 7 ? "high" : "medium" };
	snprintf(out[n].dedupe, sizeof(out[n].dedupe), "%dd", hit);
	snprintf(out[n].message, sizeof(out[n].message), "expires within %d days (%s)", hit,
		 aclm_time_fmt(v->not_after, t));
	return n + 1;
}

/* Enqueues the notify jobs of a new alert, one per channel. */
static aclm_status notify_channels(struct sched__ctx *c, int64_t alert_id, struct aclm_err *err)
{
	const char *list = aclm_config_get(c->cfg, "alerts", "channels");
	aclm_status st = ACLM_OK;

	for (const char *p = list != NULL ? list : ""; st == ACLM_OK && *p != '\0';) {
		char name[128], key[200];
		size_t len;
		json_t *payload;
		int64_t id;
		bool created;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		if (len == 0)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		p += len;
		snprintf(key, sizeof(key), "alert:%lld:%s", (long long)alert_id, name);
		payload = json_pack("{s:I, s:s}", "alert_id", (json_int_t)alert_id, "channel", name);
		st = payload != NULL ? sched_enqueue(c->store, c->inv.tenant_id, "notify", key, payload,
						     aclm_time_now(), 0, &id, &created, err)
				     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		json_decref(payload);
	}
	return st;
}

aclm_status sched__alert(struct sched__ctx *c, const char *kind, const char *object,
			 const char *dedupe, const char *severity, const json_t *detail,
			 struct aclm_err *err, const char *fmt, ...)
{
	char msg[512];
	struct store_alert a = {
		.tenant_id = c->inv.tenant_id, .kind = (char *)kind, .object = (char *)object,
		.dedupe = (char *)dedupe, .severity = (char *)severity, .message = msg,
		.detail = (json_t *)detail, .created_at = aclm_time_now(),
	};
	int64_t id = 0;
	bool created = false;
	va_list ap;
	aclm_status st;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st = store_alert_raise(c->store, &a, &id, &created, err);
	if (st == ACLM_OK && created) {
		log_warn("alert %s %s: %s", kind, object, msg);
		st = notify_channels(c, id, err);
	}
	return st;
}

/* ---- the planner's pass ---- */

/* What the pass keeps of each certificate. */
struct cert_item {
	int64_t id, not_before, not_after;
	char *names;               /* sorted SANs (or the CN), the successor key */
	char *lineage;             /* tag acme.lineage, or NULL */
	char fp[17];
	char cn[80];
	bool is_ca;
};

struct cert_pass {
	struct cert_item *v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "dns:a,dns:b,ip:c": the identity of what a certificate serves. */
static char *names_key(const json_t *facts)
{
	const json_t *sans = json_object_get(facts, "sans");
	const char *kind, *cn = aclm_json_str(facts, "common_name");
	const char *list[256];
	char *out = NULL;
	size_t n = 0, len = 1, i;
	json_t *arr, *v;

	json_object_foreach((json_t *)sans, kind, arr)
		json_array_foreach(arr, i, v)
			if (n < 256 && json_is_string(v))
				list[n++] = json_string_value(v);
	if (n == 0)
		return strdup(cn != NULL ? cn : "");
	qsort(list, n, sizeof(list[0]), cmp_str);
	for (i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	out = calloc(1, len);
	for (i = 0; out != NULL && i < n; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, list[i]);
	}
	return out;
}

static aclm_status collect_cert(const struct store_cert *c, void *arg)
{
	struct cert_pass *p = arg;
	struct cert_item *it;
	const char *lin = aclm_json_str(c->tags, "acme.lineage");

	if (p->n == p->cap) {
		size_t cap = p->cap > 0 ? p->cap * 2 : 256;
		struct cert_item *v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return ACLM_ERR_NOMEM;
		p->v = v;
		p->cap = cap;
	}
	it = &p->v[p->n];
	memset(it, 0, sizeof(*it));
	it->id = c->id;
	it->not_before = c->not_before;
	it->not_after = c->not_after;
	it->names = names_key(c->facts);
	it->is_ca = aclm_json_bool(c->facts, "is_ca");
	it->lineage = lin != NULL ? strdup(lin) : NULL;
	snprintf(it->fp, sizeof(it->fp), "%.16s", c->fingerprint);
	snprintf(it->cn, sizeof(it->cn), "%s", aclm_json_str(c->facts, "common_name") ?: "");
	if (it->names == NULL) {
		free(it->lineage);
		return ACLM_ERR_NOMEM;
	}
	p->n++;
	return ACLM_OK;
}

static void pass_free(struct cert_pass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].names);
		free(p->v[i].lineage);
	}
	free(p->v);
}

static int cmp_names(const void *a, const void *b)
{
	const struct cert_item *x = a, *y = b;
	int r = strcmp(x->names, y->names);

	return r != 0 ? r : (x->not_after > y->not_after) - (x->not_after < y->not_after);
}

/* A newer certificate of its lineage (the lineage points elsewhere) or
 * one with the same names that lasts longer. p is sorted by (names,
 * not_after), so the latter is the next item with the same names. */
static bool has_successor(struct sched__ctx *c, const struct cert_pass *p, size_t i)
{
	const struct cert_item *it = &p->v[i];
	struct store_lineage *l = NULL;
	bool newer = false;

	for (size_t k = i + 1; k < p->n && strcmp(p->v[k].names, it->names) == 0; k++)
		if (p->v[k].not_after > it->not_after)
			return true;
	if (it->lineage != NULL &&
	    store_lineage_get(c->store, c->inv.tenant_id, it->lineage, &l, NULL) == ACLM_OK)
		newer = l->cert_id != 0 && l->cert_id != it->id;
	store_lineage_free(l);
	return newer;
}

/* The renewal point: the CA's window end when its lineage keeps one for
 * this certificate (and ARI is on), else the lifetime fraction. */
static int64_t renew_point(struct sched__ctx *c, const struct sched__renew_cfg *rc,
			   const struct cert_item *it)
{
	struct store_lineage *l = NULL;
	int64_t end = 0;

	if (rc->ari && it->lineage != NULL &&
	    store_lineage_get(c->store, c->inv.tenant_id, it->lineage, &l, NULL) == ACLM_OK &&
	    l->cert_id == it->id && l->ari_id != NULL)
		end = aclm_json_int(json_object_get(l->options, "ari"), "end", 0);
	store_lineage_free(l);
	return end > 0 && end < it->not_after ? end : sched__renew_point(rc, it->not_before,
									 it->not_after);
}

static aclm_status alert_cert(struct sched__ctx *c, const struct sched__renew_cfg *rc,
			      const int *thr, size_t nthr, const struct cert_pass *p, size_t i,
			      int64_t now, struct aclm_err *err)
{
	const struct cert_item *it = &p->v[i];
	struct sched__cert_view v = { .not_before = it->not_before, .not_after = it->not_after,
				      .is_ca = it->is_ca };
	struct sched__alert_want want[2];
	char object[40];
	size_t n;
	aclm_status st = ACLM_OK;

	/* Cheap test first: most certificates are fresh. */
	v.renew_point = renew_point(c, rc, it);
	if (now < v.renew_point && (it->not_after - now) * 3 >= it->not_after - it->not_before)
		return ACLM_OK;
	v.has_successor = has_successor(c, p, i);
	n = sched__alert_rules(&v, thr, nthr, now, want);
	snprintf(object, sizeof(object), "cert:%lld", (long long)it->id);
	for (size_t k = 0; st == ACLM_OK && k < n; k++) {
		json_t *detail = json_pack("{s:I, s:s, s:s, s:I, s:s?}", "cert_id", (json_int_t)it->id,
					   "fingerprint", it->fp, "common_name", it->cn, "not_after",
					   (json_int_t)it->not_after, "lineage", it->lineage);

		st = sched__alert(c, want[k].kind, object, want[k].dedupe, want[k].severity, detail,
				  err, "certificate %s (%s): %s", it->cn[0] != '\0' ? it->cn : it->fp,
				  it->fp, want[k].message);
		json_decref(detail);
	}
	return st;
}

aclm_status sched__alerts_plan(struct sched__ctx *c, int64_t now, struct aclm_err *err)
{
	struct store_cert_filter f = { .tenant_id = c->inv.tenant_id, .now = now };
	struct sched__renew_cfg rc;
	struct cert_pass p = { 0 };
	int thr[SCHED__MAX_THRESHOLDS];
	size_t nthr = 0;
	aclm_status st = sched__renew_cfg(c->cfg, &rc, err);

	if (st == ACLM_OK)
		st = sched__thresholds_parse(aclm_config_get(c->cfg, "alerts", "thresholds"), thr,
					     &nthr, err);
	if (st == ACLM_OK)
		st = store_cert_list(c->store, &f, collect_cert, &p, err);
	if (st == ACLM_ERR_NOMEM && err->msg[0] == '\0')
		aclm_err_set(err, st, "out of memory");
	if (st == ACLM_OK && p.n > 1)
		qsort(p.v, p.n, sizeof(p.v[0]), cmp_names);
	for (size_t i = 0; st == ACLM_OK && i < p.n; i++)
		st = alert_cert(c, &rc, thr, nthr, &p, i, now, err);
	pass_free(&p);
	return st;
}
