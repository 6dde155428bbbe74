/* store/: the sched area's calls (store_sched.h), forwarded to the backend's
 * sched ops table; a backend without one answers "unsupported". */
#include <stdlib.h>

#include "store/store_int.h"
#include "store/store_sched.h"

/* The backend's entry, or NULL when it lacks the area or this call. */
#define SCHED_OP(s, name) (store__ops(s)->sched != NULL ? store__ops(s)->sched->name : NULL)

void store_job_free(struct store_job *j)
{
	if (j == NULL)
		return;
	free(j->kind);
	free(j->key);
	free(j->state);
	json_decref(j->payload);
	json_decref(j->result);
	free(j->lease_owner);
	free(j->last_error);
	free(j);
}

void store_alert_free(struct store_alert *a)
{
	if (a == NULL)
		return;
	free(a->kind);
	free(a->object);
	free(a->dedupe);
	free(a->severity);
	free(a->message);
	json_decref(a->detail);
	free(a);
}

void store_scanrun_free(struct store_scanrun *r)
{
	if (r == NULL)
		return;
	free(r->state);
	json_decref(r->summary);
	free(r->error);
	free(r);
}

void store_scandef_free(struct store_scandef *d)
{
	if (d == NULL)
		return;
	free(d->name);
	json_decref(d->targets);
	json_decref(d->options);
	free(d->origin);
	free(d);
}

aclm_status store_job_enqueue(struct store *s, const struct store_job *j, int64_t now, int64_t *id,
			      bool *created, struct aclm_err *err)
{
	if (SCHED_OP(s, job_enqueue) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_enqueue)(store__enter(s), j, now, id, created, err));
}

aclm_status store_job_claim(struct store *s, int64_t tenant, int64_t now, const char *owner,
			    int64_t lease_until, struct store_job **out, struct aclm_err *err)
{
	*out = NULL;
	if (SCHED_OP(s, job_claim) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_claim)(store__enter(s), tenant, now, owner, lease_until, out, err));
}

aclm_status store_job_heartbeat(struct store *s, int64_t tenant, int64_t id, const char *owner,
				int64_t now, int64_t lease_until, struct aclm_err *err)
{
	if (SCHED_OP(s, job_heartbeat) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_heartbeat)(store__enter(s), tenant, id, owner, now, lease_until, err));
}

aclm_status store_job_finish(struct store *s, int64_t tenant, int64_t id, const char *owner,
			     int64_t now, const char *result_json, struct aclm_err *err)
{
	if (SCHED_OP(s, job_finish) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_finish)(store__enter(s), tenant, id, owner, now, result_json, err));
}

aclm_status store_job_fail(struct store *s, int64_t tenant, int64_t id, const char *owner,
			   int64_t now, const char *error, int64_t retry_at, struct aclm_err *err)
{
	if (SCHED_OP(s, job_fail) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_fail)(store__enter(s), tenant, id, owner, now, error, retry_at, err));
}

aclm_status store_job_retry(struct store *s, int64_t tenant, int64_t id, int64_t now,
			    struct aclm_err *err)
{
	if (SCHED_OP(s, job_retry) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_retry)(store__enter(s), tenant, id, now, err));
}

aclm_status store_job_get(struct store *s, int64_t tenant, int64_t id, struct store_job **out,
			  struct aclm_err *err)
{
	*out = NULL;
	if (SCHED_OP(s, job_get) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_get)(store__enter(s), tenant, id, out, err));
}

aclm_status store_job_last(struct store *s, int64_t tenant, const char *kind, const char *key,
			   struct store_job **out, struct aclm_err *err)
{
	*out = NULL;
	if (SCHED_OP(s, job_last) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_last)(store__enter(s), tenant, kind, key, out, err));
}

aclm_status store_job_list(struct store *s, int64_t tenant, const char *job_state, int64_t limit,
			   store_job_cb cb, void *arg, struct aclm_err *err)
{
	if (SCHED_OP(s, job_list) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_list)(store__enter(s), tenant, job_state, limit, cb, arg, err));
}

aclm_status store_job_counts(struct store *s, int64_t tenant, store_job_count_cb cb, void *arg,
			     struct aclm_err *err)
{
	if (SCHED_OP(s, job_counts) == NULL)
		return store__unsupported(s, "jobs", err);
	return store__leave(s, SCHED_OP(s, job_counts)(store__enter(s), tenant, cb, arg, err));
}

aclm_status store_alert_raise(struct store *s, const struct store_alert *a, int64_t *id,
			      bool *created, struct aclm_err *err)
{
	if (SCHED_OP(s, alert_raise) == NULL)
		return store__unsupported(s, "alerts", err);
	return store__leave(s, SCHED_OP(s, alert_raise)(store__enter(s), a, id, created, err));
}

aclm_status store_alert_get(struct store *s, int64_t tenant, int64_t id, struct store_alert **out,
			    struct aclm_err *err)
{
	*out = NULL;
	if (SCHED_OP(s, alert_get) == NULL)
		return store__unsupported(s, "alerts", err);
	return store__leave(s, SCHED_OP(s, alert_get)(store__enter(s), tenant, id, out, err));
}

aclm_status store_alert_list(struct store *s, int64_t tenant, int64_t limit, store_alert_cb cb,
			     void *arg, struct aclm_err *err)
{
	if (SCHED_OP(s, alert_list) == NULL)
		return store__unsupported(s, "alerts", err);
	return store__leave(s, SCHED_OP(s, alert_list)(store__enter(s), tenant, limit, cb, arg, err));
}

aclm_status store_scandef_put(struct store *s, const struct store_scandef *d, int64_t now,
			      int64_t *id, struct aclm_err *err)
{
	if (SCHED_OP(s, scandef_put) == NULL)
		return store__unsupported(s, "scan definitions", err);
	return store__leave(s, SCHED_OP(s, scandef_put)(store__enter(s), d, now, id, err));
}

aclm_status store_scanrun_start(struct store *s, int64_t tenant, int64_t scan_id, int64_t now,
				int64_t *id, struct aclm_err *err)
{
	if (SCHED_OP(s, scanrun_start) == NULL)
		return store__unsupported(s, "scan runs", err);
	return store__leave(s, SCHED_OP(s, scanrun_start)(store__enter(s), tenant, scan_id, now, id, err));
}

aclm_status store_scanrun_finish(struct store *s, const struct store_scanrun *r,
				 struct aclm_err *err)
{
	if (SCHED_OP(s, scanrun_finish) == NULL)
		return store__unsupported(s, "scan runs", err);
	return store__leave(s, SCHED_OP(s, scanrun_finish)(store__enter(s), r, err));
}

aclm_status store_scanrun_list(struct store *s, int64_t tenant, int64_t scan_id, int64_t limit,
			       store_scanrun_cb cb, void *arg, struct aclm_err *err)
{
	if (SCHED_OP(s, scanrun_list) == NULL)
		return store__unsupported(s, "scan runs", err);
	return store__leave(s, SCHED_OP(s, scanrun_list)(store__enter(s), tenant, scan_id, limit, cb, arg, err));
}

aclm_status store_scandef_get(struct store *s, int64_t tenant, int64_t id, const char *name,
			      struct store_scandef **out, struct aclm_err *err)
{
	*out = NULL;
	if (SCHED_OP(s, scandef_get) == NULL)
		return store__unsupported(s, "scan definition look-ups", err);
	return store__leave(s, SCHED_OP(s, scandef_get)(store__enter(s), tenant, id, name, out, err));
}

aclm_status store_scandef_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			       store_scandef_cb cb, void *arg, struct aclm_err *err)
{
	if (SCHED_OP(s, scandef_page) == NULL)
		return store__unsupported(s, "scan definition listing", err);
	return store__leave(s, SCHED_OP(s, scandef_page)(store__enter(s), tenant, after_id, limit, cb, arg, err));
}

aclm_status store_job_page(struct store *s, int64_t tenant, const char *job_state,
			   int64_t before_id, int64_t limit, store_job_cb cb, void *arg,
			   struct aclm_err *err)
{
	if (SCHED_OP(s, job_page) == NULL)
		return store__unsupported(s, "job pages", err);
	return store__leave(s, SCHED_OP(s, job_page)(store__enter(s), tenant, job_state, before_id, limit, cb, arg,
				     err));
}

aclm_status store_alert_page(struct store *s, int64_t tenant, int64_t before_id, int64_t limit,
			     store_alert_cb cb, void *arg, struct aclm_err *err)
{
	if (SCHED_OP(s, alert_page) == NULL)
		return store__unsupported(s, "alert pages", err);
	return store__leave(s, SCHED_OP(s, alert_page)(store__enter(s), tenant, before_id, limit, cb, arg, err));
}
