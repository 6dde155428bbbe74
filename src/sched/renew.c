/* The "renew" job: renews one lineage through the ACME client. Safe to run
 * twice: a lineage whose certificate already changed since the job was
 * planned is done, and a crashed order is resumed by the client from the
 * order URL stored with the lineage, so a crash never issues twice. */
#include <string.h>

#include "client/client.h"
#include "core/json.h"
#include "core/log.h"
#include "deploy/deploy.h"
#include "sched/sched_int.h"

/* A failed renewal alerts once per certificate it tried to replace. */
static void renew_failed(struct sched__ctx *c, const struct store_lineage *l,
			 const struct store_job *j, const char *why)
{
	struct aclm_err err = { 0 };
	char object[300], dedupe[40];
	json_t *detail = json_pack("{s:s, s:I, s:I, s:i, s:s}", "lineage", l->name, "cert_id",
				   (json_int_t)l->cert_id, "job", (json_int_t)j->id, "attempt",
				   j->attempts, "error", why);

	snprintf(object, sizeof(object), "lineage:%s", l->name);
	snprintf(dedupe, sizeof(dedupe), "cert:%lld", (long long)l->cert_id);
	if (sched__alert(c, "renew_failed", object, dedupe, "high", detail, &err,
			 "renewal of %s failed (attempt %d of %d): %s", l->name, j->attempts,
			 j->max_attempts, why) != ACLM_OK)
		log_error("renew %s: %s", l->name, err.msg);
	json_decref(detail);
}

/* Pushes the new certificate to the targets bound to the lineage. A
 * failure alerts "deploy_failed" once per certificate; the renewal stays
 * done (retrying would order again), the deploy engine rolled back. */
static void deploy_new(struct sched__ctx *c, const char *lineage, int64_t cert_id,
		       json_t *result)
{
	struct aclm_err err = { 0 };
	json_t *results = NULL, *detail;
	char object[300], dedupe[40];

	if (deploy_lineage(&c->inv, lineage, &results, &err) == ACLM_OK) {
		json_object_set_new(result, "deployments", results != NULL ? results : json_array());
		return;
	}
	snprintf(object, sizeof(object), "lineage:%s", lineage);
	snprintf(dedupe, sizeof(dedupe), "cert:%lld", (long long)cert_id);
	detail = json_pack("{s:s, s:I, s:s, s:O?}", "lineage", lineage, "cert_id",
			   (json_int_t)cert_id, "error", err.msg, "deployments", results);
	if (sched__alert(c, "deploy_failed", object, dedupe, "high", detail, &err,
			 "deploying the renewed certificate of %s failed: %s", lineage, err.msg) !=
	    ACLM_OK)
		log_error("deploy %s: %s", lineage, err.msg);
	json_object_set_new(result, "deployments", results != NULL ? results : json_array());
	json_decref(detail);
}

aclm_status sched__renew_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			     struct aclm_err *err)
{
	const char *name = aclm_json_str(j->payload, "lineage");
	int64_t planned = aclm_json_int(j->payload, "cert_id", 0);
	struct store_lineage *l = NULL;
	struct client_conn *conn = NULL;
	struct client_result res = { 0 };
	aclm_status st;

	*result = NULL;
	if (name == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "renew job without a lineage");
	st = store_lineage_get(c->store, c->inv.tenant_id, name, &l, err);
	if (st != ACLM_OK)
		goto out;
	if (l->cert_id != planned) {
		/* Renewed since it was planned (by `aclm renew`, or by this
		 * job before a crash lost its "done"). */
		*result = json_pack("{s:s, s:I}", "skipped", "already renewed", "cert_id",
				    (json_int_t)l->cert_id);
		goto out;
	}
	st = client_renew_one(&c->inv, c->home, l, &conn, &res, err);
	if (res.cert_id != 0 && (st == ACLM_OK || res.deploy_hook_failed))
		*result = json_pack("{s:I, s:s, s:s, s:s}", "cert_id", (json_int_t)res.cert_id,
				    "fingerprint", res.fingerprint, "not_after", res.not_after,
				    "replaces", res.replaced);
	if (st == ACLM_OK) {
		log_info("renew %s: certificate %lld, expires %s", name, (long long)res.cert_id,
			 res.not_after);
		if (*result != NULL)
			deploy_new(c, name, res.cert_id, *result);
	}
	else
		renew_failed(c, l, j, err->msg);
	/* With a failed hook the certificate is issued and stored: a retry
	 * would order again. The alert above tells; the job is done. */
	if (st != ACLM_OK && res.deploy_hook_failed)
		st = ACLM_OK;
out:
	client_conn_close(conn);
	store_lineage_free(l);
	return st;
}
