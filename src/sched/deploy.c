/* The "deploy" job: one certificate (an inventory id, a fingerprint prefix
 * or a lineage's current one) to the named targets, through deploy_run
 * (stage, activate, verify, roll back on failure). A target that failed is
 * a result, not a reason to deploy again: the job is done with each
 * target's state, and a "deploy_failed" alert tells. */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "deploy/deploy.h"
#include "sched/sched_int.h"

#define DEPLOY_TARGETS_MAX 64

static void alert_failed(struct sched__ctx *c, const struct store_job *j, const char *ref,
			 json_t *results, const char *why)
{
	struct aclm_err e = { 0 };
	char object[200], dedupe[40];
	json_t *detail = json_pack("{s:s, s:I, s:O}", "ref", ref, "job", (json_int_t)j->id,
				   "deployments", results);

	snprintf(object, sizeof(object), "deploy:%s", ref);
	snprintf(dedupe, sizeof(dedupe), "job:%lld", (long long)j->id);
	if (sched__alert(c, "deploy_failed", object, dedupe, "high", detail, &e,
			 "deploying %s failed: %s", ref, why) != ACLM_OK)
		log_error("deploy %s: %s", ref, e.msg);
	json_decref(detail);
}

aclm_status sched__deploy_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			      struct aclm_err *err)
{
	const char *ref = aclm_json_str(j->payload, "ref");
	const json_t *jt = json_object_get(j->payload, "targets");
	const char *targets[DEPLOY_TARGETS_MAX];
	struct deploy_opts o = { 0 };
	json_t *results = NULL;
	size_t n = json_array_size(jt);
	aclm_status st;

	*result = NULL;
	if (ref == NULL || n == 0 || n > DEPLOY_TARGETS_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "deploy job without a certificate or targets");
	for (size_t i = 0; i < n; i++)
		if ((targets[i] = json_string_value(json_array_get(jt, i))) == NULL)
			return aclm_err_set(err, ACLM_ERR_INVALID, "deploy job: targets are names");
	st = deploy_run(&c->inv, ref, targets, n, &o, &results, err);
	if (st == ACLM_ERR_VERIFY && results != NULL) {
		/* Rolled back or failed per target: recorded, alerted, done. */
		alert_failed(c, j, ref, results, err->msg);
		st = ACLM_OK;
	}
	if (st == ACLM_OK)
		*result = json_pack("{s:s, s:o}", "ref", ref, "deployments",
				    results != NULL ? json_incref(results) : json_array());
	json_decref(results);
	return st;
}
