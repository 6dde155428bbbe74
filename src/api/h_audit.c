/* api/h_audit: GET /api/v1/audit (the caller's tenant's audit events, cursor
 * pages) and GET /api/v1/reports/summary (the inventory summary). */
#include "api/api_int.h"

#include <string.h>

#include "core/json.h"
#include "core/time.h"

struct audit_ctx {
	json_t *items;
	int64_t limit, n, last_id;
	bool more;
};

static aclm_status audit_row(const struct store_audit_row *a, void *arg)
{
	struct audit_ctx *c = arg;
	char at[ACLM_TIME_RFC3339_LEN];
	json_t *detail = NULL, *o;

	if (c->n == c->limit) {
		c->more = true;
		return ACLM_OK;
	}
	if (a->detail != NULL)
		detail = json_loads(a->detail, 0, NULL);
	o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o?, s:s}", "id", (json_int_t)a->id, "at",
		      aclm_time_fmt(a->at, at), "actor", a->actor != NULL ? a->actor : "",
		      "action", a->action != NULL ? a->action : "", "object", a->object, "detail",
		      detail, "hash", a->hash != NULL ? a->hash : "");
	if (o == NULL || json_array_append_new(c->items, o) != 0)
		return ACLM_ERR_NOMEM;
	c->n++;
	c->last_id = a->id;
	return ACLM_OK;
}

void api__h_audit_list(struct api__req *r)
{
	struct audit_ctx c = { .items = json_array() };
	struct aclm_err err = { 0 };
	char cursor[API__CURSOR_MAX];
	struct api__cursor after, next = { 0 };

	if (!api__page(r, &c.limit, &after))
		goto out;
	if (after.has_key) {
		api__problem(r, 400, "invalid-parameter", "cursor: not a cursor of this list");
		goto out;
	}
	if (c.items == NULL || store_audit_list(r->w->store, r->p.tenant_id, after.id, c.limit + 1,
						audit_row, &c, &err) != ACLM_OK) {
		if (err.code == ACLM_OK)
			aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		api__problem_err(r, &err);
		goto out;
	}
	next.id = c.last_id;
	api__cursor_encode(&next, cursor);
	api__reply_json(r, 200, json_pack("{s:O, s:s?}", "items", c.items, "next_cursor",
					  c.more ? cursor : NULL));
out:
	json_decref(c.items);
}

void api__h_report_summary(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *out = NULL;

	if (inventory_summary(&r->inv, r->now, &out, &err) != ACLM_OK)
		api__problem_err(r, &err);
	else
		api__reply_json(r, 200, out);
}
