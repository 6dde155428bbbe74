/* api/h_alerts: /api/v1/alerts: the alerts raised for the caller's tenant
 * (expiry, overdue, renew_failed, deploy_failed, unknown_cert, job_dead),
 * newest first, in cursor pages. */
#include "api/api_int.h"


#include "core/json.h"
#include "store/store_sched.h"

static aclm_status alert_row(const struct store_alert *a, void *arg)
{
	struct api__idpage *pg = arg;
	json_t *o;

	if (api__idpage_full(pg))
		return ACLM_OK;
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:O}", "id", (json_int_t)a->id, "kind",
		      a->kind, "object", a->object, "dedupe", a->dedupe, "severity", a->severity,
		      "message", a->message, "detail", a->detail != NULL ? a->detail : json_null());
	if (o != NULL && api__json_time(o, "created_at", a->created_at) != 0) {
		json_decref(o);
		o = NULL;
	}
	return api__idpage_add(pg, a->id, o);
}

/* Newest first; the cursor is the last id shown, the next page older. */
void api__h_alert_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_alert_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1, alert_row,
			      &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}
