/* api/h_metrics: GET /metrics, Prometheus text format 0.0.4. An admin of the
 * default tenant sees every tenant and the HTTP series; any other caller
 * (a tenant admin, a metrics-scoped token) sees its own tenant only. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/store_sched.h"

#define METRICS_MAX (256u << 20)

struct tenant_ref {
	int64_t id;
	const char *name;
};

struct cert_gauge_ctx {
	struct aclm_buf *out;
	const char *tenant;
};

static aclm_status label_pair(struct aclm_buf *out, const char *name, const char *v, bool first)
{
	aclm_status st = aclm_buf_printf(out, "%s%s=\"", first ? "" : ",", name);

	if (st == ACLM_OK)
		st = api__metrics_label(out, v);
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, "\"");
	return st;
}

static aclm_status windows_text(struct api__req *r, const struct tenant_ref *t, size_t n,
				struct aclm_buf *out, struct aclm_err *err)
{
	aclm_status st = aclm_buf_puts(out, "# HELP aclm_certificates Certificates in the "
					    "inventory by time left (disjoint windows).\n"
					    "# TYPE aclm_certificates gauge\n");

	for (size_t i = 0; i < n && st == ACLM_OK; i++) {
		struct store_summary s = { 0 };
		const struct {
			const char *w;
			int64_t v;
		} *wp, win[] = { { "expired", 0 }, { "7d", 0 }, { "30d", 0 }, { "90d", 0 },
				 { "later", 0 } };
		int64_t vals[5];

		st = store_cert_summary(r->w->store, t[i].id, r->now, &s, err);
		if (st != ACLM_OK)
			break;
		vals[0] = s.expired;
		vals[1] = s.lt7;
		vals[2] = s.lt30;
		vals[3] = s.lt90;
		vals[4] = s.later;
		store_summary_free(&s);
		for (size_t k = 0; k < 5 && st == ACLM_OK; k++) {
			wp = &win[k];
			st = aclm_buf_puts(out, "aclm_certificates{");
			if (st == ACLM_OK)
				st = label_pair(out, "tenant", t[i].name, true);
			if (st == ACLM_OK)
				st = aclm_buf_printf(out, ",window=\"%s\"} %lld\n", wp->w,
						     (long long)vals[k]);
		}
	}
	return st;
}

struct jobs_ctx {
	struct aclm_buf *out;
	const char *tenant;
};

static aclm_status job_count(const char *kind, const char *state, int64_t n, void *arg)
{
	struct jobs_ctx *c = arg;
	aclm_status st = aclm_buf_puts(c->out, "aclm_jobs{");

	if (st == ACLM_OK)
		st = label_pair(c->out, "tenant", c->tenant, true);
	if (st == ACLM_OK)
		st = label_pair(c->out, "kind", kind, false);
	if (st == ACLM_OK)
		st = label_pair(c->out, "state", state, false);
	if (st == ACLM_OK)
		st = aclm_buf_printf(c->out, "} %lld\n", (long long)n);
	return st;
}

/* Queue depth: the durable job table by kind and state (queued, running,
 * dead, ...). */
static aclm_status jobs_text(struct api__req *r, const struct tenant_ref *t, size_t n,
			     struct aclm_buf *out, struct aclm_err *err)
{
	aclm_status st = aclm_buf_puts(out, "# HELP aclm_jobs Jobs in the durable queue by kind "
					    "and state.\n"
					    "# TYPE aclm_jobs gauge\n");

	for (size_t i = 0; i < n && st == ACLM_OK; i++) {
		struct jobs_ctx c = { .out = out, .tenant = t[i].name };

		st = store_job_counts(r->w->store, t[i].id, job_count, &c, err);
	}
	return st;
}

static aclm_status cert_gauge(const struct store_cert *c, void *arg)
{
	struct cert_gauge_ctx *g = arg;
	char id[24];
	aclm_status st;

	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	st = aclm_buf_puts(g->out, "aclm_cert_not_after_seconds{");
	if (st == ACLM_OK)
		st = label_pair(g->out, "tenant", g->tenant, true);
	if (st == ACLM_OK)
		st = label_pair(g->out, "id", id, false);
	if (st == ACLM_OK)
		st = label_pair(g->out, "common_name", aclm_json_str(c->facts, "common_name"), false);
	if (st == ACLM_OK)
		st = label_pair(g->out, "issuer", aclm_json_str(c->facts, "issuer"), false);
	if (st == ACLM_OK)
		st = aclm_buf_printf(g->out, "} %lld\n", (long long)c->not_after);
	return st;
}

static aclm_status certs_text(struct api__req *r, const struct tenant_ref *t, size_t n,
			      struct aclm_buf *out, struct aclm_err *err)
{
	aclm_status st = aclm_buf_puts(out, "# HELP aclm_cert_not_after_seconds Expiry of each "
					    "certificate (Unix time).\n"
					    "# TYPE aclm_cert_not_after_seconds gauge\n");

	for (size_t i = 0; i < n && st == ACLM_OK; i++) {
		struct store_cert_filter f = { .tenant_id = t[i].id, .now = r->now };
		struct cert_gauge_ctx g = { .out = out, .tenant = t[i].name };

		st = store_cert_list(r->w->store, &f, cert_gauge, &g, err);
		if (st == ACLM_ERR_NOMEM || st == ACLM_ERR_TOOBIG)
			aclm_err_set(err, st, "metrics: output too large");
	}
	return st;
}

/* Which tenants the caller sees; *all holds the list when it is every one. */
static aclm_status scope_tenants(struct api__req *r, struct tenant_ref **t, size_t *n,
				 json_t **all, struct aclm_err *err)
{
	bool global = r->p.scope == AUTH_SCOPE_API && auth_allows(&r->p, AUTH_ADMIN_TENANTS);
	aclm_status st = ACLM_OK;
	json_t *v;
	size_t i;

	*all = NULL;
	if (global)
		st = auth_tenant_list(r->w->store, all, err);
	*n = global && st == ACLM_OK ? json_array_size(*all) : 1;
	*t = st == ACLM_OK ? calloc(*n > 0 ? *n : 1, sizeof(**t)) : NULL;
	if (st == ACLM_OK && *t == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK)
		return st;
	if (!global) {
		(*t)[0].id = r->p.tenant_id;
		(*t)[0].name = r->p.tenant;
		return ACLM_OK;
	}
	json_array_foreach(*all, i, v) {
		(*t)[i].id = aclm_json_int(v, "id", 0);
		(*t)[i].name = aclm_json_str(v, "name");
	}
	return ACLM_OK;
}

void api__h_metrics(struct api__req *r)
{
	struct aclm_err err = { 0 };
	struct aclm_buf out;
	struct tenant_ref *t = NULL;
	json_t *all = NULL;
	size_t n = 0;
	aclm_status st;

	aclm_buf_init(&out, METRICS_MAX);
	st = scope_tenants(r, &t, &n, &all, &err);
	if (st == ACLM_OK)
		st = windows_text(r, t, n, &out, &err);
	if (st == ACLM_OK)
		st = jobs_text(r, t, n, &out, &err);
	if (st == ACLM_OK && r->w->srv->o.per_cert_metrics)
		st = certs_text(r, t, n, &out, &err);
	/* Requests are not a tenant's series: only the global view shows them. */
	if (st == ACLM_OK && all != NULL)
		st = api__metrics_http_text(&r->w->srv->http, &out);
	if (st != ACLM_OK) {
		if (err.code == ACLM_OK)
			aclm_err_set(&err, st, "metrics: cannot render");
		api__problem_err(r, &err);
	} else {
		api__reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data,
			       out.len);
	}
	aclm_buf_free(&out);
	free(t);
	json_decref(all);
}
