/* api/h_alerts: /api/v1/alerts: the alerts raised for the caller's tenant
 * (expiry, overdue, renew_failed, deploy_failed, unknown_cert, job_dead),
 * newest first, in cursor pages. */
#include "api/api_int.h"


#include "core/json.h"
#include "store/store_sched.h"

struct alert_page {
	json_t *items;
	int64_t limit, n, last_id;
	bool more;
};

static aclm_status alert_row(const struct store_alert *a, void *arg)
{
	struct alert_page *pg = arg;
	json_t *o;

	if (pg->n == pg->limit) {
		pg->more = true;
		return ACLM_OK;
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:O}", "id", (json_int_t)a->id, "kind",
		      a->kind, "object", a->object, "dedupe", a->dedupe, "severity", a->severity,
		      "message", a->message, "detail", a->detail != NULL ? a->detail : json_null());
	if (o == NULL || api__json_time(o, "created_at", a->created_at) != 0 ||
	    json_array_append_new(pg->items, o) != 0) {
		json_decref(o);
		return ACLM_ERR_NOMEM;
	}
	pg->n++;
	pg->last_id = a->id;
	return ACLM_OK;
}

/* Newest first; the cursor is the last id shown, the next page older. */
void api__h_alert_list(struct api__req *r)
{
	struct alert_page pg = { .items = json_array() };
	struct aclm_err err = { 0 };
	struct api__cursor after, next = { 0 };
	char cursor[API__CURSOR_MAX];

	if (!api__page(r, &pg.limit, &after))
		goto out;
	if (after.has_key) {
		api__problem(r, 400, "invalid-parameter", "cursor: not a cursor of this list");
		goto out;
	}
	if (pg.items == NULL || store_alert_page(r->w->store, r->p.tenant_id, after.id,
						 pg.limit + 1, alert_row, &pg, &err) != ACLM_OK) {
		if (err.code == ACLM_OK)
			aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		api__problem_err(r, &err);
		goto out;
	}
	next.id = pg.last_id;
	api__cursor_encode(&next, cursor);
	api__reply_json(r, 200, json_pack("{s:O, s:s?}", "items", pg.items, "next_cursor",
					  pg.more ? cursor : NULL));
out:
	json_decref(pg.items);
}
