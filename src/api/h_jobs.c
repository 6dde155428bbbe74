/* api/h_jobs: /api/v1/jobs: the caller's tenant's scheduler jobs (what
 * POST .../run, orders and deployments queued), newest first, and one job
 * with its result. Leases stay internal. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "store/store_sched.h"

json_t *api__job_json(const struct store_job *j)
{
	json_t *o = json_object();
	char id[24];

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	if (aclm_json_set_str(o, "id", id) != 0 || aclm_json_set_str(o, "kind", j->kind) != 0 ||
	    json_object_set_new(o, "key", j->key != NULL ? json_string(j->key) : json_null()) != 0 ||
	    aclm_json_set_str(o, "state", j->state) != 0 ||
	    json_object_set(o, "payload", j->payload != NULL ? j->payload : json_null()) != 0 ||
	    json_object_set(o, "result", j->result != NULL ? j->result : json_null()) != 0 ||
	    api__json_time(o, "run_at", j->run_at) != 0 ||
	    aclm_json_set_int(o, "attempts", j->attempts) != 0 ||
	    aclm_json_set_int(o, "max_attempts", j->max_attempts) != 0 ||
	    json_object_set_new(o, "last_error", j->last_error != NULL ? json_string(j->last_error)
								      : json_null()) != 0 ||
	    api__json_time(o, "created_at", j->created_at) != 0 ||
	    api__json_time(o, "updated_at", j->updated_at) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static aclm_status list_row(const struct store_job *j, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, j->id, api__job_json(j));
}

/* Newest first; the cursor is the last id shown, the next page older. */
void api__h_job_list(struct api__req *r)
{
	static const char *const states[] = { "queued", "running", "done", "dead" };
	const char *state = api__query(r, "state");
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	bool known = state == NULL;
	aclm_status st;

	for (size_t i = 0; !known && i < sizeof(states) / sizeof(states[0]); i++)
		known = strcmp(state, states[i]) == 0;
	if (!known) {
		api__problem(r, 400, "invalid-parameter", "state: queued, running, done or dead");
		return;
	}
	if (!api__idpage_begin(r, &pg))
		return;
	st = store_job_page(r->w->store, r->p.tenant_id, state, pg.after_id, pg.limit + 1,
			    list_row, &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}

void api__h_job_get(struct api__req *r)
{
	struct store_job *j = NULL;
	struct aclm_err err = { 0 };
	json_t *o;
	int64_t id;

	if (!api__param_id(r, 0, "job", &id))
		return;
	if (store_job_get(r->w->store, r->p.tenant_id, id, &j, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "job");
		return;
	}
	o = api__job_json(j);
	if (o == NULL)
		api__problem(r, 500, "internal", "out of memory");
	else
		api__reply_json(r, 200, o);
	store_job_free(j);
}
