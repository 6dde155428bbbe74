/* store/: the sched area: the durable job table (claimed with a lease),
 * alerts (each fires once per dedupe key), scan definitions and their runs;
 * rows, backend ops, store_* calls.
 * The tenant list the scheduler walks is store_tenant_list (store_auth.h). */
#ifndef ACLM_STORE_SCHED_H
#define ACLM_STORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "store/store.h"

/* One job. Returned rows own their strings and JSON (store_job_free); on
 * enqueue they are borrowed. state: queued|running|done|dead. */
struct store_job {
	int64_t id;
	int64_t tenant_id;
	char *kind;                /* "renew", "notify", "scan", ... */
	char *key;                 /* dedupe key among queued and running jobs, or NULL */
	char *state;
	json_t *payload;           /* object or NULL */
	json_t *result;            /* object once done, or NULL */
	int64_t run_at;            /* not claimable before */
	int attempts;              /* claims so far */
	int max_attempts;
	char *lease_owner;         /* while running */
	int64_t lease_until;       /* a running job past this is claimable again */
	int64_t heartbeat_at;
	char *last_error;
	int64_t created_at, updated_at;
};
void store_job_free(struct store_job *j);
typedef aclm_status (*store_job_cb)(const struct store_job *j, void *arg);
/* One (kind, state) count of a tenant's jobs. */
typedef aclm_status (*store_job_count_cb)(const char *kind, const char *state, int64_t n,
					  void *arg);

/* One alert raised. (tenant, kind, object, dedupe) is unique: raising the
 * same again is a no-op, which is what makes an alert fire once. */
struct store_alert {
	int64_t id;
	int64_t tenant_id;
	char *kind;                /* expiry|overdue|renew_failed|deploy_failed|unknown_cert|job_dead */
	char *object;              /* "cert:ID", "lineage:NAME", "job:ID", ... */
	char *dedupe;              /* threshold "30d", a UTC date, a job attempt, ... */
	char *severity;            /* critical|high|medium|low|info */
	char *message;
	json_t *detail;            /* object or NULL */
	int64_t created_at;
};
void store_alert_free(struct store_alert *a);
typedef aclm_status (*store_alert_cb)(const struct store_alert *a, void *arg);

/* A scan definition (scans table): the [scan.NAME] sections of the
 * configuration (origin "config") or the API's (origin "api"). */
struct store_scandef {
	int64_t id;
	int64_t tenant_id;
	char *name;
	json_t *targets;           /* array of target words */
	json_t *options;           /* object: ports, sni, checks */
	int64_t interval_s;        /* 0: on demand only */
	char *origin;
	int64_t created_at, updated_at;
};
void store_scandef_free(struct store_scandef *d);
typedef aclm_status (*store_scandef_cb)(const struct store_scandef *d, void *arg);
/* One run of a scan (scan_runs table). state: running|done|failed. */
struct store_scanrun {
	int64_t id;
	int64_t tenant_id;
	int64_t scan_id;           /* 0: the definition is gone */
	char *state;
	int64_t started_at, finished_at;
	int64_t endpoints, reachable, findings;
	json_t *summary;           /* object or NULL */
	char *error;
};
void store_scanrun_free(struct store_scanrun *r);
typedef aclm_status (*store_scanrun_cb)(const struct store_scanrun *r, void *arg);

struct store_sched_ops {
	aclm_status (*job_enqueue)(void *state, const struct store_job *j, int64_t now, int64_t *id,
				   bool *created, struct aclm_err *err);
	aclm_status (*job_claim)(void *state, int64_t tenant, int64_t now, const char *owner,
				 int64_t lease_until, struct store_job **out, struct aclm_err *err);
	aclm_status (*job_heartbeat)(void *state, int64_t tenant, int64_t id, const char *owner,
				     int64_t now, int64_t lease_until, struct aclm_err *err);
	aclm_status (*job_finish)(void *state, int64_t tenant, int64_t id, const char *owner,
				  int64_t now, const char *result_json, struct aclm_err *err);
	aclm_status (*job_fail)(void *state, int64_t tenant, int64_t id, const char *owner,
				int64_t now, const char *error, int64_t retry_at,
				struct aclm_err *err);
	aclm_status (*job_retry)(void *state, int64_t tenant, int64_t id, int64_t now,
				 struct aclm_err *err);
	aclm_status (*job_get)(void *state, int64_t tenant, int64_t id, struct store_job **out,
			       struct aclm_err *err);
	aclm_status (*job_last)(void *state, int64_t tenant, const char *kind, const char *key,
				struct store_job **out, struct aclm_err *err);
	aclm_status (*job_list)(void *state, int64_t tenant, const char *job_state, int64_t limit,
				store_job_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*job_counts)(void *state, int64_t tenant, store_job_count_cb cb, void *arg,
				  struct aclm_err *err);
	aclm_status (*alert_raise)(void *state, const struct store_alert *a, int64_t *id,
				   bool *created, struct aclm_err *err);
	aclm_status (*alert_get)(void *state, int64_t tenant, int64_t id, struct store_alert **out,
				 struct aclm_err *err);
	aclm_status (*alert_list)(void *state, int64_t tenant, int64_t limit, store_alert_cb cb,
				  void *arg, struct aclm_err *err);
	aclm_status (*scandef_put)(void *state, const struct store_scandef *d, int64_t now,
				   int64_t *id, struct aclm_err *err);
	aclm_status (*scanrun_start)(void *state, int64_t tenant, int64_t scan_id, int64_t now,
				     int64_t *id, struct aclm_err *err);
	aclm_status (*scanrun_finish)(void *state, const struct store_scanrun *r,
				      struct aclm_err *err);
	aclm_status (*scanrun_list)(void *state, int64_t tenant, int64_t scan_id, int64_t limit,
				    store_scanrun_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*scandef_get)(void *state, int64_t tenant, int64_t id, const char *name,
				   struct store_scandef **out, struct aclm_err *err);
	aclm_status (*scandef_page)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				    store_scandef_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*job_page)(void *state, int64_t tenant, const char *job_state,
				int64_t before_id, int64_t limit, store_job_cb cb, void *arg,
				struct aclm_err *err);
	aclm_status (*alert_page)(void *state, int64_t tenant, int64_t before_id, int64_t limit,
				  store_alert_cb cb, void *arg, struct aclm_err *err);
};

/* Inserts j (tenant_id, kind, key, payload, run_at, max_attempts) as
 * queued, unless a queued or running job of the same (tenant, kind, key)
 * exists: then *id is that job's and *created false. */
aclm_status store_job_enqueue(struct store *s, const struct store_job *j, int64_t now, int64_t *id,
			      bool *created, struct aclm_err *err);
/* Atomically takes the tenant's next claimable job (queued with run_at <=
 * now, or running with an expired lease: its owner died): state running,
 * lease_owner owner, lease_until, attempts + 1. *out NULL when none. */
aclm_status store_job_claim(struct store *s, int64_t tenant, int64_t now, const char *owner,
			    int64_t lease_until, struct store_job **out, struct aclm_err *err);
/* Extends owner's lease; ACLM_ERR_NOTFOUND when owner no longer holds it
 * (the lease expired and another worker took the job). */
aclm_status store_job_heartbeat(struct store *s, int64_t tenant, int64_t id, const char *owner,
				int64_t now, int64_t lease_until, struct aclm_err *err);
/* running -> done with result (JSON text or NULL); ACLM_ERR_NOTFOUND when
 * owner no longer holds the job. */
aclm_status store_job_finish(struct store *s, int64_t tenant, int64_t id, const char *owner,
			     int64_t now, const char *result_json, struct aclm_err *err);
/* running -> queued at retry_at with last_error, or -> dead when retry_at
 * < 0; ACLM_ERR_NOTFOUND when owner no longer holds the job. */
aclm_status store_job_fail(struct store *s, int64_t tenant, int64_t id, const char *owner,
			   int64_t now, const char *error, int64_t retry_at, struct aclm_err *err);
/* dead -> queued now with attempts 0; ACLM_ERR_NOTFOUND when no such dead
 * job, ACLM_ERR_EXISTS when a job of the same key is already active. */
aclm_status store_job_retry(struct store *s, int64_t tenant, int64_t id, int64_t now,
			    struct aclm_err *err);
aclm_status store_job_get(struct store *s, int64_t tenant, int64_t id, struct store_job **out,
			  struct aclm_err *err);
/* The newest job of (kind, key) in any state; ACLM_ERR_NOTFOUND if none. */
aclm_status store_job_last(struct store *s, int64_t tenant, const char *kind, const char *key,
			   struct store_job **out, struct aclm_err *err);
/* Newest first; job_state NULL: every state; limit 0: no limit. */
aclm_status store_job_list(struct store *s, int64_t tenant, const char *job_state, int64_t limit,
			   store_job_cb cb, void *arg, struct aclm_err *err);
aclm_status store_job_counts(struct store *s, int64_t tenant, store_job_count_cb cb, void *arg,
			     struct aclm_err *err);

/* Inserts a unless its (tenant, kind, object, dedupe) exists; *created
 * says which, *id (may be NULL) is the new row's (0 when not created). */
aclm_status store_alert_raise(struct store *s, const struct store_alert *a, int64_t *id,
			      bool *created, struct aclm_err *err);
aclm_status store_alert_get(struct store *s, int64_t tenant, int64_t id, struct store_alert **out,
			    struct aclm_err *err);
/* Newest first; limit 0: no limit. */
aclm_status store_alert_list(struct store *s, int64_t tenant, int64_t limit, store_alert_cb cb,
			     void *arg, struct aclm_err *err);

/* Inserts or updates (by tenant + name) a scan definition; *id is its row. */
aclm_status store_scandef_put(struct store *s, const struct store_scandef *d, int64_t now,
			      int64_t *id, struct aclm_err *err);
/* A new run of scan_id (0: none), state "running", started now. */
aclm_status store_scanrun_start(struct store *s, int64_t tenant, int64_t scan_id, int64_t now,
				int64_t *id, struct aclm_err *err);
/* Records the end of run r->id: state, finished_at, counts, summary, error. */
aclm_status store_scanrun_finish(struct store *s, const struct store_scanrun *r,
				 struct aclm_err *err);
/* Newest first; scan_id 0: every scan's runs; limit 0: no limit. */
aclm_status store_scanrun_list(struct store *s, int64_t tenant, int64_t scan_id, int64_t limit,
			       store_scanrun_cb cb, void *arg, struct aclm_err *err);
/* One of the tenant's scan definitions by id, or by name when name is not
 * NULL; ACLM_ERR_NOTFOUND when absent (or another tenant's). The caller
 * frees *out with store_scandef_free. */
aclm_status store_scandef_get(struct store *s, int64_t tenant, int64_t id, const char *name,
			      struct store_scandef **out, struct aclm_err *err);
/* The tenant's scan definitions in id order: ids above after_id, at most
 * limit (0: no limit). */
aclm_status store_scandef_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			       store_scandef_cb cb, void *arg, struct aclm_err *err);
/* Pages newest first for the API's cursor lists: ids below before_id (0:
 * from the newest), at most limit (> 0); job_state NULL: every state. */
aclm_status store_job_page(struct store *s, int64_t tenant, const char *job_state,
			   int64_t before_id, int64_t limit, store_job_cb cb, void *arg,
			   struct aclm_err *err);
aclm_status store_alert_page(struct store *s, int64_t tenant, int64_t before_id, int64_t limit,
			     store_alert_cb cb, void *arg, struct aclm_err *err);

#endif
