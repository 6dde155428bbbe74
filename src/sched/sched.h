/* sched/: the durable scheduler of `aclm serve`. A job table in the store
 * (claimed with a lease and a heartbeat, retried with exponential backoff
 * and jitter, dead-lettered with an alert after max_attempts), the job
 * kinds (renew, scan, notify, deploy, ...), and the planner that turns the
 * inventory into jobs and alerts: renewals at the ARI window or the lifetime
 * fraction with jitter, overdue and expiry alerts, scheduled scans. A crash
 * at any point loses no job: an expired lease makes a job claimable again,
 * and every handler is safe to run twice (the ACME client resumes its
 * stored order instead of ordering again). */
#ifndef ACLM_SCHED_H
#define ACLM_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/status.h"
#include "store/store.h"

/* Adds a job unless one of the same (tenant, kind, key) is queued or
 * running (then *id is that job's and *created false). key may be NULL (no
 * dedupe). max_attempts 0 = 5. */
aclm_status sched_enqueue(struct store *s, int64_t tenant_id, const char *kind, const char *key,
			  const json_t *payload, int64_t run_at, int max_attempts, int64_t *id,
			  bool *created, struct aclm_err *err);

struct sched;

struct sched_opts {
	const char *home;          /* state directory */
	const char *db;            /* store URL; every worker opens its own connection */
	const struct aclm_config *cfg; /* [renew], [alerts], [notify.*], [scan.*], [acme] */
	int workers;               /* job threads; 0 = 2 */
	int64_t lease_s;           /* 0 = 300; the heartbeat renews it every lease_s / 3 */
	int64_t tick_s;            /* planner period; 0 = 60 */
	const char *owner;         /* lease owner id ("host:pid"); NULL = computed */
};

aclm_status sched_new(const struct sched_opts *o, struct sched **out, struct aclm_err *err);
/* Starts the planner and the workers (threads). */
aclm_status sched_start(struct sched *s, struct aclm_err *err);
/* Takes a new configuration (SIGHUP). The caller validated it with
 * sched_config_check first; the running one stays on failure. A job in
 * progress may still read the previous configuration: free that one only
 * after sched_stop. workers, lease_s and tick_s keep their start values. */
aclm_status sched_reload(struct sched *s, const struct aclm_config *cfg, struct aclm_err *err);
/* Stops claiming, lets running jobs finish (up to their lease), joins. */
void sched_stop(struct sched *s);
void sched_free(struct sched *s);
/* `aclm jobs run --once`: one planner pass, then every job due now, one
 * after the other in the calling thread (a heartbeat thread keeps their
 * leases), until none is claimable; *ran counts the jobs run. A job's
 * failure is recorded on the job (retry or dead), not returned. Not with
 * sched_start. */
aclm_status sched_run_once(struct sched *s, int *ran, struct aclm_err *err);

/* Checks the scheduler's sections of cfg: [renew], [alerts] thresholds,
 * [notify.NAME] (through notify_check), [scan.NAME] targets and ports;
 * errors name section, key and reason. */
aclm_status sched_config_check(const struct aclm_config *cfg, struct aclm_err *err);

/* Counts for /metrics and /readyz. */
struct sched_stats {
	int64_t queued, running, dead;
	int64_t done_total[8], failed_total[8]; /* by kind, see sched_kind_names */
	/* (failed_total counts the kind's dead jobs: retried attempts that
	 * later succeeded are not failures) */
};
extern const char *const sched_kind_names[]; /* NULL-terminated: "renew", "scan", ... */
aclm_status sched_stats_get(struct store *s, int64_t tenant_id, struct sched_stats *out,
			    struct aclm_err *err);

#endif
