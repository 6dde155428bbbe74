/* Internals shared by the files of sched/: the worker context a job runs
 * in, the job kinds, the rules (backoff, jitter, renewal point, alerts)
 * as pure functions the unit tests call. */
#ifndef ACLM_SCHED_INT_H
#define ACLM_SCHED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/status.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "sched/sched.h"
#include "store/store.h"
#include "store/store_auth.h"
#include "store/store_sched.h"

#define SCHED__BACKOFF_BASE 30          /* s: the first retry's delay */
#define SCHED__BACKOFF_CAP (6 * 3600)   /* s: no retry waits longer */
#define SCHED__JITTER_CAP 3600          /* s: default renewal jitter cap */
#define SCHED__MAX_THRESHOLDS 16
#define SCHED__DAILY_BELOW (3 * 86400)  /* below this, expiry alerts repeat daily */

/* What one worker (or the planner) works with: its own store connection
 * and keystore; inv.tenant_id and tenant name follow the job at hand. */
struct sched__hb;
struct sched__ctx {
	struct store *store;
	struct keystore *ks;
	struct inventory inv;
	char tenant[128];
	const char *home;
	const struct aclm_config *cfg;
	const char *owner;         /* lease owner */
	int64_t lease_s;
	int64_t backoff_s;         /* base of the backoff; 0 = SCHED__BACKOFF_BASE */
	struct sched__hb *hb;      /* heartbeats of running jobs, or NULL */
};

aclm_status sched__ctx_open(struct sched__ctx *c, const char *db, const char *home,
			    struct aclm_err *err);
void sched__ctx_close(struct sched__ctx *c);
/* Points c's inventory at tenant (id, name) for the job at hand. */
void sched__ctx_tenant(struct sched__ctx *c, int64_t id, const char *name);

/* A job kind's handler: does the work of j (idempotent: it may run again
 * after a crash), *result (may stay NULL) is recorded with the job. */
typedef aclm_status (*sched__handler)(struct sched__ctx *c, const struct store_job *j,
				      json_t **result, struct aclm_err *err);
struct sched__kind {
	const char *name;
	sched__handler run;
	/* ACLM_ERR_CONFIG from run is final: the job dies without retries.
	 * Only for kinds nothing re-queues on its own (a notify job is queued
	 * once per alert and channel; a renew job the planner would queue again
	 * at once, and then again). */
	bool config_error_is_final;
};
const struct sched__kind *sched__kind_find(const char *name);
aclm_status sched__renew_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			     struct aclm_err *err);
aclm_status sched__notify_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			      struct aclm_err *err);
aclm_status sched__scan_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			    struct aclm_err *err);
aclm_status sched__issue_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			     struct aclm_err *err);
aclm_status sched__deploy_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			      struct aclm_err *err);

/* Delay before retry number `attempts` (attempts >= 1 failed so far):
 * base * 2^(attempts-1), capped at SCHED__BACKOFF_CAP, then scaled by a
 * factor in [0.8, 1.2] drawn from rnd. base 0 = SCHED__BACKOFF_BASE. */
int64_t sched__backoff(int attempts, int64_t base, uint64_t rnd);
/* A stable 64-bit hash of (tenant, name, n): the same lineage and
 * certificate get the same jitter on every run (FNV-1a). */
uint64_t sched__hash(int64_t tenant, const char *name, int64_t n);

/* [renew] settings as parsed. */
struct sched__renew_cfg {
	bool ari;                  /* use the CA's window when the lineage keeps one */
	bool fraction_set;         /* remaining_fraction given (else the client's rule) */
	double fraction;           /* share of the lifetime left when due, (0, 1) */
	bool jitter_pct;           /* jitter is a share of the remaining time ... */
	double jitter_share;       /* ... this share, capped at SCHED__JITTER_CAP */
	int64_t jitter_max;        /* or at most this many seconds */
};
aclm_status sched__renew_cfg(const struct aclm_config *cfg, struct sched__renew_cfg *out,
			     struct aclm_err *err);
/* "1/3" or "0.33" -> a share in (0, 1); false when neither. */
bool sched__fraction_parse(const char *s, double *out);
/* When a certificate (not_before, not_after) stops being fresh by the
 * lifetime rule: the configured fraction, else the client's (1/3 left,
 * 1/2 for lifetimes of 10 days or less). */
int64_t sched__renew_point(const struct sched__renew_cfg *rc, int64_t not_before,
			   int64_t not_after);
/* The delay after the renewal point: stable per (tenant, lineage, cert). */
int64_t sched__jitter(const struct sched__renew_cfg *rc, int64_t due_at, int64_t not_after,
		      uint64_t hash);

/* ---- alert rules (alerts.c) ---- */
struct sched__cert_view {
	int64_t not_before, not_after;
	int64_t renew_point;       /* ARI window end or the lifetime fraction */
	bool has_successor;        /* a newer certificate replaces it */
	bool is_ca;                /* CA certificates are not renewed on a schedule: no overdue */
};
struct sched__alert_want {
	const char *kind;          /* "expiry" | "overdue" */
	char dedupe[32];
	const char *severity;
	char message[160];
};
/* The expiry and overdue alerts one certificate calls for at now (at most
 * 2): overdue past its renewal point without successor; expiry at the
 * tightest threshold crossed (days, descending list) once less than 1/3
 * of its lifetime is left, daily below 3 days, once when expired. A
 * certificate with a successor calls for none. */
size_t sched__alert_rules(const struct sched__cert_view *v, const int *thresholds, size_t nthr,
			  int64_t now, struct sched__alert_want out[2]);
/* "30,14,7,3,1" -> days, descending; ACLM_ERR_CONFIG naming the bad item. */
aclm_status sched__thresholds_parse(const char *s, int *out, size_t *n, struct aclm_err *err);

/* Records an alert for c's tenant; when it is new (not a repeat of its
 * dedupe key), enqueues one notify job per [alerts] channels entry. */
aclm_status sched__alert(struct sched__ctx *c, const char *kind, const char *object,
			 const char *dedupe, const char *severity, const json_t *detail,
			 struct aclm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* The planner's alert pass over c's tenant at now. */
aclm_status sched__alerts_plan(struct sched__ctx *c, int64_t now, struct aclm_err *err);

/* ---- planner.c ---- */
/* One planner pass over every tenant: renew jobs, alerts, scan jobs. */
aclm_status sched__plan(struct sched__ctx *c, int64_t now, struct aclm_err *err);

/* ---- jobs.c ---- */
/* Claims and runs at most one due job of tenant; *ran says whether one
 * was claimed. The job's outcome is recorded, not returned: the status is
 * a store failure. */
aclm_status sched__run_one(struct sched__ctx *c, int64_t tenant, const char *tenant_name,
			   int64_t now, bool *ran, struct aclm_err *err);

/* The heartbeat registry (engine.c): a running job's lease is extended
 * every lease_s / 3 by a thread with its own connection. */
void sched__hb_add(struct sched__hb *hb, int64_t tenant, int64_t id);
void sched__hb_remove(struct sched__hb *hb, int64_t tenant, int64_t id);

#endif
