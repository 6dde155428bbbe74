/* api/h_deploy: deployment targets of the caller's tenant (defined by the
 * installation's admins: a target writes files and runs commands on this
 * host) and deployments: a certificate or a lineage's current one to
 * targets, as a "deploy" job; the last result per target. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "deploy/deploy.h"
#include "sched/sched.h"
#include "store/store_deploy.h"

#define TARGETS_MAX 64
#define VERIFY_MAX 16

static json_t *target_json(const struct store_target *t)
{
	json_t *o = json_pack("{s:s, s:s, s:O, s:O}", "name", t->name, "type", t->type, "options",
			      t->options != NULL ? t->options : json_null(), "verify",
			      t->verify != NULL ? t->verify : json_null());

	if (o != NULL && (api__json_time(o, "created_at", t->created_at) != 0 ||
			  api__json_time(o, "updated_at", t->updated_at) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static aclm_status target_row(const struct store_target *t, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, t->id, target_json(t));
}

/* In id order; the cursor is the last target's id (rows show no id). */
void api__h_target_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_target_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1, target_row,
			       &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}

/* type, options and verify, checked by the type as `aclm target add` does. */
static bool target_body(json_t *body, struct store_target *t, struct aclm_err *err)
{
	const struct deploy_type_ops *ops = deploy_type_find(aclm_json_str(body, "type"));
	json_t *opt = json_object_get(body, "options"), *ver = json_object_get(body, "verify"), *v;
	const char *k;
	size_t i;

	if (ops == NULL) {
		aclm_err_set(err, ACLM_ERR_INVALID, "type: one of %s", deploy_type_names);
		return false;
	}
	if (!json_is_object(opt)) {
		aclm_err_set(err, ACLM_ERR_INVALID, "options: an object");
		return false;
	}
	json_object_foreach(opt, k, v)
		if (api__secret_inline(k)) {
			aclm_err_set(err, ACLM_ERR_INVALID,
				     "options: %s: secrets are given as files, never inline", k);
			return false;
		}
	if (ver != NULL && (!json_is_array(ver) || json_array_size(ver) > VERIFY_MAX)) {
		aclm_err_set(err, ACLM_ERR_INVALID, "verify: an array of at most %d HOST:PORT[/SNI]",
			     VERIFY_MAX);
		return false;
	}
	json_array_foreach(ver, i, v)
		if (json_string_value(v) == NULL ||
		    deploy_verify_check(json_string_value(v), err) != ACLM_OK) {
			if (err->code == ACLM_OK)
				aclm_err_set(err, ACLM_ERR_INVALID, "verify[%zu]: HOST:PORT[/SNI]", i);
			err->code = ACLM_ERR_INVALID;
			return false;
		}
	if (ops->check != NULL && ops->check(opt, err) != ACLM_OK) {
		err->code = ACLM_ERR_INVALID;
		return false;
	}
	t->type = (char *)ops->name;
	t->options = opt;
	t->verify = ver;
	return true;
}

void api__h_target_create(struct api__req *r)
{
	struct store_target t = { .tenant_id = r->p.tenant_id };
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r), *empty = json_array();
	const char *name = aclm_json_str(body, "name");
	int64_t id = 0;

	if (body == NULL)
		goto out;
	if (!api__name_ok(name)) {
		api__problem(r, 400, "invalid", "name: 1 to %d of A-Z a-z 0-9 . _ - @", API__NAME_MAX);
		goto out;
	}
	t.name = (char *)name;
	if (!target_body(body, &t, &err))
		goto fail;
	if (t.verify == NULL)
		t.verify = empty;
	t.created_at = t.updated_at = r->now;
	if (store_target_put(r->w->store, &t, &id, &err) != ACLM_OK ||
	    api__audit(r, "target.add", name, NULL, &err) != ACLM_OK)
		goto fail;
	api__reply_json(r, 201, target_json(&t));
	goto out;
fail:
	api__problem_err(r, &err);
out:
	json_decref(empty);
	json_decref(body);
}

void api__h_target_get(struct api__req *r)
{
	struct store_target *t = NULL;
	struct aclm_err err = { 0 };

	if (!api__name_ok(r->params[0])) {
		api__problem(r, 404, "not-found", "no such target");
		return;
	}
	if (store_target_get(r->w->store, r->p.tenant_id, r->params[0], &t, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "target");
		return;
	}
	api__reply_json(r, 200, target_json(t));
	store_target_free(t);
}

void api__h_target_delete(struct api__req *r)
{
	struct aclm_err err = { 0 };

	if (!api__name_ok(r->params[0])) {
		api__problem(r, 404, "not-found", "no such target");
		return;
	}
	if (store_target_delete(r->w->store, r->p.tenant_id, r->params[0], &err) != ACLM_OK ||
	    api__audit(r, "target.rm", r->params[0], NULL, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "target");
		return;
	}
	api__reply_empty(r, 204);
}

/* The certificate to deploy: "cert" (an id or fingerprint prefix) or
 * "lineage"; absent and another tenant's alike. *ref is what the job gets. */
static bool deploy_ref(struct api__req *r, json_t *body, char *ref, size_t reflen)
{
	const char *cert = aclm_json_str(body, "cert"), *lineage = aclm_json_str(body, "lineage");
	struct store_lineage *l = NULL;
	struct aclm_err err = { 0 };
	int64_t id = 0;

	if ((cert == NULL) == (lineage == NULL)) {
		api__problem(r, 400, "invalid", "give one of cert (an id) and lineage");
		return false;
	}
	if (cert != NULL && inventory_resolve(&r->inv, cert, &id, &err) == ACLM_OK) {
		snprintf(ref, reflen, "%lld", (long long)id);
		return true;
	}
	if (lineage != NULL && strlen(lineage) < API__PARAM_MAX &&
	    store_lineage_get(r->w->store, r->p.tenant_id, lineage, &l, &err) == ACLM_OK) {
		snprintf(ref, reflen, "%s", l->name);
		store_lineage_free(l);
		return true;
	}
	if (err.code == ACLM_ERR_NOTFOUND || err.code == ACLM_ERR_INVALID ||
	    err.code == ACLM_ERR_PARSE || err.code == ACLM_ERR_AMBIGUOUS || err.code == ACLM_OK)
		api__problem(r, 404, "not-found", "no such %s", cert != NULL ? "certificate" : "lineage");
	else
		api__problem_err(r, &err);
	return false;
}

void api__h_deploy_create(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r), *targets, *v, *payload = NULL;
	char ref[API__PARAM_MAX];
	bool created = false;
	int64_t job = 0;
	size_t i;

	if (body == NULL)
		return;
	targets = json_object_get(body, "targets");
	if (!json_is_array(targets) || json_array_size(targets) == 0 ||
	    json_array_size(targets) > TARGETS_MAX) {
		api__problem(r, 400, "invalid", "targets: an array of 1 to %d target names",
			     TARGETS_MAX);
		goto out;
	}
	if (!deploy_ref(r, body, ref, sizeof(ref)))
		goto out;
	json_array_foreach(targets, i, v) {
		struct store_target *t = NULL;

		if (!api__name_ok(json_string_value(v))) {
			api__problem(r, 404, "not-found", "no such target");
			goto out;
		}
		if (store_target_get(r->w->store, r->p.tenant_id, json_string_value(v), &t, &err) !=
		    ACLM_OK) {
			api__problem_absent(r, &err, "target");
			goto out;
		}
		store_target_free(t);
	}
	payload = json_pack("{s:s, s:O}", "ref", ref, "targets", targets);
	if (payload == NULL)
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
	else if (sched_enqueue(r->w->store, r->p.tenant_id, "deploy", NULL, payload, r->now, 0, &job,
			       &created, &err) == ACLM_OK &&
		 api__audit(r, "deploy.queue", ref, payload, &err) == ACLM_OK)
		api__reply_job(r, job, created);
	if (err.code != ACLM_OK)
		api__problem_err(r, &err);
out:
	json_decref(payload);
	json_decref(body);
}

static aclm_status deployment_row(const struct store_deployment *d, void *arg)
{
	struct api__idpage *pg = arg;
	char id[24];
	json_t *o;

	if (api__idpage_full(pg))
		return ACLM_OK;
	snprintf(id, sizeof(id), "%lld", (long long)d->cert_id);
	o = json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:s?, s:s?, s:O}", "target", d->target_name,
		      "cert_id", d->cert_id != 0 ? id : NULL, "lineage", d->lineage, "fingerprint",
		      d->fingerprint, "state", d->state, "served_fingerprint", d->served_fingerprint,
		      "error", d->error, "detail", d->detail != NULL ? d->detail : json_null());
	if (o != NULL && (api__json_time(o, "started_at", d->started_at) != 0 ||
			  api__json_time(o, "finished_at", d->finished_at) != 0)) {
		json_decref(o);
		o = NULL;
	}
	return api__idpage_add(pg, d->target_id, o);
}

/* The last deployment per target (of ?lineage= when given), in target id
 * order; the cursor is the last target's id. */
void api__h_deploy_list(struct api__req *r)
{
	const char *lineage = api__query(r, "lineage");
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (lineage != NULL && strlen(lineage) > 200) {
		api__problem(r, 400, "invalid-parameter", "lineage: at most 200 characters");
		return;
	}
	if (!api__idpage_begin(r, &pg))
		return;
	st = store_deployment_latest_page(r->w->store, r->p.tenant_id, lineage, pg.after_id,
					  pg.limit + 1, deployment_row, &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}
