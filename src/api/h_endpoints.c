/* api/h_endpoints: /api/v1/endpoints: what the scanner saw, in the
 * caller's tenant: a cursor list of endpoints with their last observation,
 * and one endpoint with its newest observations. The inventory status of an
 * observation is judged when read (scan_save.c judges it when saving but
 * does not store it): none, drift, unknown or known. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/store_scan.h"

#define OBSERVATIONS_MAX 100

static json_t *endpoint_json(const struct store_scan_endpoint *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:i, s:s?}", "id", "", "host", e->host, "ip",
			      e->ip[0] != '\0' ? e->ip : NULL, "port", e->port, "sni",
			      e->sni[0] != '\0' ? e->sni : NULL);
	char id[24];

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long)e->id);
	if (aclm_json_set_str(o, "id", id) != 0 || api__json_time(o, "first_seen", e->first_seen) != 0 ||
	    api__json_time(o, "last_seen", e->last_seen) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* unknown: the inventory holds the leaf only because scans put it there
 * (as scan_save.c's "ghost"). */
static aclm_status leaf_known(struct api__req *r, int64_t cert_id, bool *known,
			      struct aclm_err *err)
{
	struct store_cert *c = NULL;
	aclm_status st = store_cert_get(r->w->store, r->p.tenant_id, cert_id, &c, err);
	size_t i;
	json_t *v;

	*known = false;
	if (st != ACLM_OK)
		return st;
	json_array_foreach(c->sources, i, v)
		if (json_string_value(v) != NULL && strcmp(json_string_value(v), "scan") != 0)
			*known = true;
	store_cert_free(c);
	return ACLM_OK;
}

/* The observation as JSON; prev (may be NULL) is the one before it from the
 * same address, for drift. */
static json_t *observation_json(struct api__req *r, const struct store_scan_observation *o,
				const struct store_scan_observation *prev, struct aclm_err *err)
{
	json_t *j = json_object();
	const char *status = "none";
	bool known = false;
	char id[24];

	if (j == NULL)
		return NULL;
	if (o->cert_id > 0 && prev != NULL && prev->fingerprint[0] != '\0' &&
	    strcmp(prev->fingerprint, o->fingerprint) != 0)
		status = "drift";
	else if (o->cert_id > 0 && leaf_known(r, o->cert_id, &known, err) != ACLM_OK)
		goto fail;
	else if (o->cert_id > 0)
		status = known ? "known" : "unknown";
	snprintf(id, sizeof(id), "%lld", (long long)o->cert_id);
	if (api__json_time(j, "observed_at", o->observed_at) != 0 ||
	    json_object_set_new(j, "ip", o->ip[0] != '\0' ? json_string(o->ip) : json_null()) != 0 ||
	    json_object_set_new(j, "cert_id", o->cert_id > 0 ? json_string(id) : json_null()) != 0 ||
	    json_object_set_new(j, "fingerprint_sha256", o->fingerprint[0] != '\0'
							     ? json_string(o->fingerprint)
							     : json_null()) != 0 ||
	    aclm_json_set_str(j, "inventory_status", status) != 0) {
		aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}

/* The latest observation and the one before it from the same address. */
static aclm_status last_observation(struct api__req *r, int64_t endpoint_id, json_t **out,
				    struct aclm_err *err)
{
	struct store_scan_observation last, prev;
	bool found = false, has_prev = false;
	aclm_status st;

	*out = json_null();
	st = store_scan_observation_last(r->w->store, r->p.tenant_id, endpoint_id, NULL, &last,
					 &found, err);
	if (st != ACLM_OK || !found)
		return st;
	st = store_scan_observation_prev(r->w->store, r->p.tenant_id, endpoint_id, last.ip, last.id,
					 &prev, &has_prev, err);
	if (st != ACLM_OK)
		return st;
	*out = observation_json(r, &last, has_prev ? &prev : NULL, err);
	return *out != NULL ? ACLM_OK : err->code != ACLM_OK ? err->code : ACLM_ERR_NOMEM;
}

static aclm_status page_row(const struct store_scan_endpoint *e, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, e->id, endpoint_json(e));
}

/* Each endpoint with its last observation, read after the page (one
 * statement at a time). */
static aclm_status add_observations(struct api__req *r, json_t *items, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	size_t i;
	json_t *e;

	json_array_foreach(items, i, e) {
		json_t *last = NULL;
		int64_t id = strtoll(aclm_json_str(e, "id"), NULL, 10);

		st = last_observation(r, id, &last, err);
		if (st != ACLM_OK)
			break;
		json_object_set_new(e, "last_observation", last);
	}
	return st;
}

void api__h_endpoint_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_scan_endpoint_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1,
				      page_row, &pg, &err);
	if (st == ACLM_OK && pg.items != NULL)
		st = add_observations(r, pg.items, &err);
	api__idpage_reply(r, &pg, st, &err);
}

struct obs_list {
	struct api__req *r;
	struct store_scan_observation *rows;
	size_t n;
};

static aclm_status obs_row(const struct store_scan_observation *o, void *arg)
{
	struct obs_list *l = arg;

	if (l->n < OBSERVATIONS_MAX + 1)
		l->rows[l->n++] = *o;
	return ACLM_OK;
}

/* The drift of each observation compares with the next older one from the
 * same address among those read (the oldest read has none to compare). */
static json_t *observations_json(struct obs_list *l, size_t shown, struct aclm_err *err)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < shown; i++) {
		const struct store_scan_observation *prev = NULL;
		json_t *o;

		for (size_t k = i + 1; k < l->n && prev == NULL; k++)
			if (strcmp(l->rows[k].ip, l->rows[i].ip) == 0)
				prev = &l->rows[k];
		o = observation_json(l->r, &l->rows[i], prev, err);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

void api__h_endpoint_get(struct api__req *r)
{
	struct store_scan_endpoint e;
	struct obs_list l = { .r = r };
	struct aclm_err err = { 0 };
	json_t *o = NULL, *obs = NULL;
	int64_t id;

	if (!api__param_id(r, 0, "endpoint", &id))
		return;
	if (store_scan_endpoint_get(r->w->store, r->p.tenant_id, id, &e, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "endpoint");
		return;
	}
	l.rows = calloc(OBSERVATIONS_MAX + 1, sizeof(*l.rows));
	if (l.rows == NULL) {
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* One more than shown: the last one shown still gets its drift. */
	if (store_scan_observation_recent(r->w->store, r->p.tenant_id, id, OBSERVATIONS_MAX + 1,
					  obs_row, &l, &err) != ACLM_OK)
		goto fail;
	o = endpoint_json(&e);
	obs = observations_json(&l, l.n < OBSERVATIONS_MAX ? l.n : OBSERVATIONS_MAX, &err);
	if (o == NULL || obs == NULL)
		goto fail;
	json_object_set(o, "last_observation",
			json_array_size(obs) > 0 ? json_array_get(obs, 0) : json_null());
	json_object_set_new(o, "observations", obs);
	obs = NULL;
	api__reply_json(r, 200, o);
	o = NULL;
	goto out;
fail:
	if (err.code == ACLM_OK)
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
	api__problem_err(r, &err);
out:
	json_decref(o);
	json_decref(obs);
	free(l.rows);
}
